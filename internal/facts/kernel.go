package facts

import (
	"bytes"
	"strings"

	"github.com/nodediag/nodediag/internal/logtime"
)

// kernelPayload is a kernel record's text without whatever precedes it: any syslog, journal
// or RFC 5424 prefix, the printk level, the raw or --ctime dmesg stamp and the printk caller
// field, in any combination (logtime.Message).
func kernelPayload(line []byte) []byte { return logtime.Message(line) }

// commOf trims what should be a task comm. The kernel truncates comm to 15 bytes; a longer
// string means a prefix was not recognised, and its last word is the best guess.
func commOf(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 15 {
		if i := bytes.LastIndexAny(b, " \t"); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// wordAfter returns the token that follows key.
func wordAfter(b []byte, key string) []byte {
	i := index(b, key)
	if i < 0 {
		return nil
	}
	return firstWord(b[i+len(key):])
}

// firstWord returns b up to its first space, tab or comma.
func firstWord(b []byte) []byte {
	if j := bytes.IndexAny(b, " \t,"); j >= 0 {
		return b[:j]
	}
	return b
}

// objectAfter reads the mapping the faulting ip fell in: " in libc.so.6[7f…+1a000]".
func objectAfter(b []byte) string {
	i := index(b, " in ")
	if i < 0 {
		return ""
	}
	rest := b[i+len(" in "):]
	j := bytes.IndexByte(rest, '[')
	if j <= 0 {
		return ""
	}
	return string(rest[:j])
}

func extractOOMInvoked(line []byte) (Fact, bool) {
	p := kernelPayload(line)
	i := index(p, " invoked oom-killer")
	if i <= 0 {
		return Fact{}, false
	}
	// The invoking task is the one that failed to allocate, not necessarily the victim.
	return Fact{Kind: OOMPart, Source: ExtOOMInvoked, Process: commOf(p[:i])}, true
}

// extractMemcgUsage reads "memory: usage 524288kB, limit 524288kB, failcnt 31" and none of the
// "memory+swap:", "swap:" or "kmem:" lines that follow it.
func extractMemcgUsage(line []byte) (Fact, bool) {
	p := kernelPayload(line)
	i := index(p, "memory: usage ")
	if i < 0 || i > 0 && p[i-1] != ' ' {
		return Fact{}, false
	}
	rest := p[i+len("memory: usage "):]
	usage, ok := leadingInt(rest)
	if !ok {
		return Fact{}, false
	}
	lim := wordAfter(rest, "limit ")
	limit, ok := leadingInt(lim)
	if !ok || !bytes.HasSuffix(lim, bs("kB")) {
		return Fact{}, false
	}
	return Fact{Kind: OOMPart, Source: ExtMemcgUsage, UsageKB: usage, LimitKB: limit}, true
}

// extractOOMTaskIn reads cgroup v1's "Task in <victim cgroup> killed as a result of limit of
// <cgroup whose limit was hit>".
func extractOOMTaskIn(line []byte) (Fact, bool) {
	i := index(line, "Task in ")
	if i < 0 {
		return Fact{}, false
	}
	rest := line[i+len("Task in "):]
	const mid = " killed as a result of limit of "
	j := index(rest, mid)
	if j <= 0 {
		return Fact{}, false
	}
	f := Fact{Kind: OOMPart, Source: ExtOOMTaskIn, TaskMemcg: string(rest[:j])}
	f.Memcg = string(bytes.TrimSpace(rest[j+len(mid):]))
	f.PodUID, f.ContainerID, _ = DecodeCgroup(f.TaskMemcg)
	return f, true
}

// extractOOMGroup reads "Tasks in <cgroup> are going to be killed due to memory.oom.group set":
// the cgroup every further victim of the block belongs to.
func extractOOMGroup(line []byte) (Fact, bool) {
	i := index(line, "Tasks in ")
	if i < 0 {
		return Fact{}, false
	}
	rest := line[i+len("Tasks in "):]
	j := index(rest, " are going to be killed due to memory.oom.group")
	if j <= 0 {
		return Fact{}, false
	}
	f := Fact{Kind: OOMPart, Source: ExtOOMGroup, TaskMemcg: string(rest[:j])}
	f.PodUID, f.ContainerID, _ = DecodeCgroup(f.TaskMemcg)
	return f, true
}

// extractOOMKill reads the one-line summary kernels since 4.19 print before a kill:
// oom-kill:constraint=…,nodemask=…,cpuset=…,mems_allowed=…,(oom_memcg=…|global_oom),task_memcg=…,task=…,pid=…,uid=…
// The task (comm) may itself hold commas, so it is cut at the last ",pid=".
func extractOOMKill(line []byte) (Fact, bool) {
	i := index(line, "oom-kill:")
	if i < 0 {
		return Fact{}, false
	}
	s := line[i+len("oom-kill:"):]
	k := keyAt(s, "task_memcg=")
	if k < 0 {
		return Fact{}, false
	}
	e := index(s[k:], ",task=")
	if e < 0 {
		return Fact{}, false
	}
	f := Fact{Kind: OOMKill, Source: srcOOMKill, TaskMemcg: string(s[k : k+e])}
	t := s[k+e+len(",task="):]
	pe := bytes.LastIndex(t, bs(",pid="))
	if pe < 0 {
		return Fact{}, false
	}
	f.Process = string(t[:pe])
	pid, ok := atoi(bareToken(t[pe+len(",pid="):]))
	if !ok || pid <= 0 {
		return Fact{}, false
	}
	f.PID = pid
	head := s[:k]
	if v, ok := value(head, "constraint="); ok {
		f.Constraint = string(v)
	}
	if v, ok := value(head, "oom_memcg="); ok {
		f.Memcg = string(v)
	}
	f.Scope = "cgroup"
	if has(head, "global_oom") || f.Memcg == "" || f.Constraint != "CONSTRAINT_MEMCG" {
		f.Scope = "global"
	}
	f.PodUID, f.ContainerID, _ = DecodeCgroup(f.TaskMemcg)
	if f.ContainerID == "" {
		// cpuset= is the basename of the task's cpuset cgroup: often the container's scope.
		if v, ok := value(head, "cpuset="); ok {
			_, f.ContainerID, _ = DecodeCgroup(string(v))
		}
	}
	return f, true
}

// extractOOMKilledProcess reads "Memory cgroup out of memory: Killed process N (comm) total-vm:…kB,
// anon-rss:…kB, file-rss:…kB, …", its global form "Out of memory: Killed process …", the old bare
// "Killed process …", and the v1 victim choice "… Kill process N (comm) score S or sacrifice child"
// (a fragment: the child actually killed is on the next "Killed process" line).
func extractOOMKilledProcess(line []byte) (Fact, bool) {
	f := Fact{Kind: OOMKill, Source: srcOOMKill}
	i := index(line, "Killed process ")
	rest := []byte(nil)
	if i >= 0 {
		rest = line[i+len("Killed process "):]
	} else if i = index(line, "Kill process "); i >= 0 {
		rest = line[i+len("Kill process "):]
		f.Kind, f.Source = OOMPart, srcOOMSelect
		if !has(rest, "sacrifice child") {
			return Fact{}, false
		}
	} else {
		return Fact{}, false
	}
	pid, ok := leadingInt(rest)
	if !ok || pid <= 0 {
		return Fact{}, false
	}
	f.PID = int(pid)
	rest = rest[len(firstWord(rest)):]
	// RHEL 6-era kernels put the uid before the command: "Killed process 11726, UID 498, (mysqld)".
	if bytes.HasPrefix(rest, bs(", UID ")) {
		if j := index(rest, ", ("); j >= 0 {
			rest = rest[j+1:]
		}
	}
	if !bytes.HasPrefix(rest, bs(" (")) {
		return Fact{}, false
	}
	rest = rest[2:]
	end := index(rest, ") total-vm:")
	if end < 0 {
		end = index(rest, ") score")
	}
	if end < 0 {
		end = bytes.IndexByte(rest, ')')
	}
	if end < 0 {
		return Fact{}, false
	}
	f.Process = string(rest[:end])
	stats := rest[end:]
	f.TotalVMKB, _ = leadingInt(wordAfter(stats, "total-vm:"))
	f.AnonRSSKB, _ = leadingInt(wordAfter(stats, "anon-rss:"))
	f.FileRSSKB, _ = leadingInt(wordAfter(stats, "file-rss:"))
	before := line[:i]
	switch {
	case has(before, "Memory cgroup out of memory"):
		f.Scope = "cgroup"
	case has(before, "Out of memory"):
		f.Scope = "global"
	}
	return f, true
}

// Signals the kernel delivers for user faults (x86 arch/x86/kernel/traps.c, arch/x86/mm/fault.c).
const (
	sigILL  = 4
	sigTRAP = 5
	sigBUS  = 7
	sigFPE  = 8
	sigSEGV = 11
)

// trapSignal is the signal x86 sends for a "traps:" line's kind, as do_trap/do_error_trap pair
// them: the container's exit code is 128 plus it when the faulting process is its init.
func trapSignal(kind string) int {
	switch {
	case strings.HasPrefix(kind, "general protection"):
		return sigSEGV
	case strings.HasPrefix(kind, "invalid opcode"):
		return sigILL
	case strings.HasPrefix(kind, "divide error"):
		return sigFPE
	case strings.HasPrefix(kind, "int3"):
		return sigTRAP
	case strings.HasPrefix(kind, "stack segment"), strings.HasPrefix(kind, "alignment check"):
		return sigBUS
	}
	return 0
}

// taskReport reads the "comm[pid]" the kernel puts before marker (which starts with the closing
// "]") in its reports of a faulting task, and returns what follows the marker.
func taskReport(p []byte, marker string) (comm string, pid int, rest []byte, ok bool) {
	i := index(p, marker)
	if i < 0 {
		return "", 0, nil, false
	}
	head := p[:i]
	lb := bytes.LastIndexByte(head, '[')
	if lb < 0 {
		return "", 0, nil, false
	}
	if pid, ok = atoi(head[lb+1:]); !ok || pid <= 0 {
		return "", 0, nil, false
	}
	return commOf(head[:lb]), pid, p[i+len(marker):], true
}

// extractSegfault reads x86's "comm[pid]: segfault at ADDR ip IP sp SP error N in obj[base+size]"
// (newer kernels append " likely on CPU …").
func extractSegfault(line []byte) (Fact, bool) {
	comm, pid, rest, ok := taskReport(kernelPayload(line), "]: segfault at ")
	if !ok {
		return Fact{}, false
	}
	f := Fact{Kind: Segfault, Source: ExtSegfault, Process: comm, PID: pid, Signal: sigSEGV}
	f.Addr = string(firstWord(rest))
	f.IP = pointerAfter(rest, " ip ")
	f.SP = pointerAfter(rest, " sp ")
	f.ErrorCode = string(wordAfter(rest, " error "))
	f.Object = objectAfter(rest)
	return f, true
}

// pointerAfter reads a %p value after key. Kernels before 4.15 print a NULL pointer as "(null)"
// right-aligned in the pointer's 16 columns ("ip           (null)"), which is address 0.
func pointerAfter(b []byte, key string) string {
	i := index(b, key)
	if i < 0 {
		return ""
	}
	v := bytes.TrimLeft(b[i+len(key):], " ")
	if bytes.HasPrefix(v, []byte("(null)")) {
		return "0"
	}
	return string(firstWord(v))
}

// extractArm64Fault reads the arm64 report of an unhandled user fault: "comm[pid]: unhandled level
// 3 translation fault (11) at 0x8, esr 0x92000007, in obj[…]" (4.14, the signal in parentheses)
// and "comm[pid]: unhandled exception: DABT (lower EL), ESR 0x92000007, level 3 translation
// fault in obj[…]" (5.10 and later, arch/arm64/mm/fault.c). An alignment fault is SIGBUS, every
// other data or instruction abort SIGSEGV.
func extractArm64Fault(line []byte) (Fact, bool) {
	comm, pid, rest, ok := taskReport(kernelPayload(line), "]: unhandled ")
	if !ok {
		return Fact{}, false
	}
	f := Fact{Kind: Segfault, Source: ExtArm64Fault, Process: comm, PID: pid, Signal: sigSEGV}
	if has(rest, "alignment fault") {
		f.Signal = sigBUS
	}
	if j := index(rest, " fault ("); j >= 0 {
		if n, ok := leadingInt(rest[j+len(" fault ("):]); ok && n > 0 && n < 65 {
			f.Signal = int(n)
		}
	}
	kind := rest
	if j := index(kind, " in "); j >= 0 {
		kind = kind[:j]
	}
	if j := index(kind, " at 0x"); j >= 0 {
		f.Addr = string(firstWord(kind[j+len(" at "):]))
		kind = kind[:j]
	}
	f.Message = strings.TrimPrefix(string(kind), "exception: ")
	f.Object = objectAfter(rest)
	return f, true
}

// extractTrap reads "traps: comm[pid] general protection fault ip:… sp:… error:0 in obj[…]" and
// the "trap invalid opcode" / "trap divide error" / "trap int3" forms; the kind goes in Message.
func extractTrap(line []byte) (Fact, bool) {
	p := kernelPayload(line)
	i := index(p, "traps: ")
	if i < 0 {
		return Fact{}, false
	}
	rest := p[i+len("traps: "):]
	j := index(rest, "] ")
	if j < 0 {
		return Fact{}, false
	}
	head := rest[:j]
	lb := bytes.LastIndexByte(head, '[')
	if lb < 0 {
		return Fact{}, false
	}
	pid, ok := atoi(head[lb+1:])
	if !ok || pid <= 0 {
		return Fact{}, false
	}
	after := rest[j+2:]
	k := index(after, " ip:")
	if k <= 0 {
		return Fact{}, false
	}
	f := Fact{Kind: Segfault, Source: ExtTrap, Process: commOf(head[:lb]), PID: pid}
	f.Message = strings.TrimPrefix(string(after[:k]), "trap ")
	f.Signal = trapSignal(f.Message)
	f.IP = string(wordAfter(after, " ip:"))
	f.SP = string(wordAfter(after, " sp:"))
	f.ErrorCode = string(wordAfter(after, " error:"))
	f.Object = objectAfter(after)
	return f, true
}
