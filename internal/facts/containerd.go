package facts

import "bytes"

// Containerd's CRI plugin prints its task events with %+v (gogo-proto: `&TaskExit{ContainerID:…,
// ID:…,Pid:…,ExitStatus:…,}`) or protobuf-go text (`container_id:"…" id:"…" pid:… exit_status:…`,
// zero fields omitted, one or two spaces between fields). Inside logfmt msg="…" the quotes are
// escaped; value() reads either quoting and keyAt() does not care about spacing.

// taskField reads a field written either way: proto text key (e.g. "exit_status:") or gogo key
// (e.g. "ExitStatus:").
func taskField(line []byte, proto, gogo string) ([]byte, bool) {
	if v, ok := value(line, proto); ok {
		return v, true
	}
	return value(line, gogo)
}

// exitWordings are the lead-ins of every exit event containerd's CRI plugin logs, most specific
// first (containerd/containerd internal/cri/server/events.go, podsandbox/controller.go and
// podsandbox/events.go; pkg/cri/server/events.go before 2.0): 2.0.7+, 2.1.5+ and 2.2 log
// "received container exit event" for containers and "received sandbox container exit event" /
// "received sandbox exit event" for pod sandboxes; 1.6.37+, 1.7.24+, 2.0.0–2.0.6 and 2.1.0–2.1.4
// log "received exit event" for both (1.6.0–1.6.36 and 1.7.0–1.7.23 only at debug level);
// "TaskExit event" is the event handler's line (containerd ≤1.4 for every exit, later on retries);
// "SandboxExit event" is a sandbox's retry (2.x). The podsandbox handler's "TaskExit event in
// podsandbox handler" (2.0.0–2.1.1 at info) copies, for containers and sandboxes alike, an exit
// the CRI monitor also logs there: extractTaskExit reads no fact from it.
var exitWordings = []struct {
	lead    string
	sandbox bool
}{
	{"received sandbox container exit event ", true},
	{"received sandbox exit event ", true},
	{"SandboxExit event ", true},
	{"received container exit event ", false},
	{"received exit event ", false},
	{"TaskExit event ", false},
}

// extractTaskExit reads a containerd exit event in any of its wordings and renderings (gogo-proto
// `&TaskExit{ContainerID:…,Pid:…,ExitStatus:…}` or protobuf-go text `container_id:"…" pid:…
// exit_status:…`, which omits a zero exit status). An event whose exec id differs from the
// container id is an exec'd process (a probe, kubectl exec) ending, not the container: no fact.
// Sandbox wordings give SandboxExit facts. A "failed to handle … exit event" error and the
// podsandbox handler's copy repeat an event containerd logged on arrival: no fact.
func extractTaskExit(line []byte) (Fact, bool) {
	if has(line, "ailed to handle") || has(line, "in podsandbox handler") {
		return Fact{}, false
	}
	var ev []byte
	sandbox := false
	for _, w := range exitWordings {
		if i := index(line, w.lead); i >= 0 {
			ev, sandbox = line[i+len(w.lead):], w.sandbox
			break
		}
	}
	if ev == nil {
		return Fact{}, false
	}
	cv, ok := taskField(ev, "container_id:", "ContainerID:")
	if !ok {
		// A SandboxExit value: 2.0.0–2.0.6 and 2.1.0–2.1.4 log it as "received exit event".
		if cv, ok = taskField(ev, "sandbox_id:", "SandboxID:"); !ok {
			return Fact{}, false
		}
		sandbox = true
	}
	cid := normContainerID(cv)
	if cid == "" {
		return Fact{}, false
	}
	if id, ok := taskField(ev, "id:", "ID:"); ok && normContainerID(id) != cid {
		return Fact{}, false
	}
	f := Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cid}
	if sandbox {
		f.Kind, f.SandboxID, f.ContainerID = SandboxExit, cid, ""
	}
	code := 0 // protobuf-go text omits a zero exit_status
	if v, ok := taskField(ev, "exit_status:", "ExitStatus:"); ok {
		if code, ok = atoi(v); !ok {
			return Fact{}, false
		}
	}
	setExit(&f, code)
	if v, ok := taskField(ev, "pid:", "Pid:"); ok {
		if n, ok := atoi(v); ok && n > 0 {
			f.PID = n
		}
	}
	return f, true
}

// execFailureOther reads the wordings with no `exec: "path"` part: runc 1.1.6–1.1.15's
// "eaccess /app: permission denied", runc ≤1.0's "exec user process caused", and crun's "executable file `x` not found in $PATH",
// "the path `x` exists but it is not executable" and "open executable: Permission denied". It
// returns the span of the wording in line, or -1s.
func execFailureOther(f *Fact, line []byte) (start, end int) {
	if i := index(line, "eaccess /"); i >= 0 {
		rest := line[i+len("eaccess "):]
		if j := index(rest, ": permission denied"); j > 0 && bytes.IndexByte(rest[:j], ' ') < 0 {
			f.FailureKind, f.Path = "permission", string(rest[:j])
			return i, i + len("eaccess ") + j + len(": permission denied")
		}
	}
	for _, w := range [...]struct{ before, after, kind string }{
		{"executable file `", "` not found in $PATH", "not-found"},
		{"the path `", "` exists but it is not executable", "permission"},
	} {
		i := index(line, w.before)
		if i < 0 {
			continue
		}
		rest := line[i+len(w.before):]
		j := index(rest, w.after)
		if j <= 0 || bytes.IndexByte(rest[:j], '`') >= 0 {
			continue
		}
		f.FailureKind, f.Path = w.kind, string(rest[:j])
		return i, i + len(w.before) + j + len(w.after)
	}
	if start, end := loaderFailure(f, line); start >= 0 {
		return start, end
	}
	if i := index(line, "open executable: Permission denied"); i >= 0 {
		f.FailureKind = "permission"
		return i, i + len("open executable: Permission denied")
	}
	// runc ≤1.0 in the container's own output: `exec user process caused "no such file or directory"`.
	if i := index(line, "exec user process caused"); i >= 0 {
		rest := bytes.TrimLeft(line[i+len("exec user process caused"):], `:" \`)
		for _, r := range [...]struct{ text, kind string }{
			{"no such file or directory", "not-found"}, {"permission denied", "permission"}, {"exec format error", "exec-format"},
		} {
			if bytes.HasPrefix(rest, bs(r.text)) {
				f.FailureKind = r.kind
				return i, len(line) - len(rest) + len(r.text)
			}
		}
	}
	return -1, -1
}

// loaderFailure reads the dynamic loader's refusal to start a program, which the container prints
// as its only output before exiting 127 (or 1): glibc's "prog: error while loading shared
// libraries: libx.so.1: cannot open shared object file: No such file or directory" and "prog:
// /lib/libc.so.6: version `GLIBC_2.34' not found (required by prog)", musl's "Error loading
// shared library libx.so.1: No such file or directory (needed by prog)". The image lacks the
// library or was built against a newer one: kind "library", Path the library.
func loaderFailure(f *Fact, line []byte) (start, end int) {
	const glibcMissing, cannotOpen = "error while loading shared libraries: ", ": cannot open shared object file"
	if i := index(line, glibcMissing); i >= 0 {
		rest := line[i+len(glibcMissing):]
		if j := index(rest, cannotOpen); j > 0 && bytes.IndexByte(rest[:j], ' ') < 0 {
			f.FailureKind, f.Path = "library", string(rest[:j])
			return i, i + len(glibcMissing) + j + len(cannotOpen)
		}
	}
	if i := index(line, ": version `"); i > 0 {
		rest := line[i+len(": version `"):]
		if j := index(rest, "' not found (required by "); j > 0 {
			lib := line[:i]
			if k := bytes.LastIndexAny(lib, " \t"); k >= 0 {
				lib = lib[k+1:]
			}
			if len(lib) > 0 {
				f.FailureKind, f.Path = "library", string(lib)
				return i - len(lib), i + len(": version `") + j + len("' not found")
			}
		}
	}
	const muslMissing = "Error loading shared library "
	if i := index(line, muslMissing); i >= 0 {
		rest := line[i+len(muslMissing):]
		if j := index(rest, ": "); j > 0 && bytes.IndexByte(rest[:j], ' ') < 0 {
			if k := index(rest[j:], " (needed by "); k > 0 {
				f.FailureKind, f.Path = "library", string(rest[:j])
				return i, i + len(muslMissing) + j + k
			}
		}
	}
	return -1, -1
}

// extractTaskOOM reads `TaskOOM event container_id:"…"` and `TaskOOM event &TaskOOM{ContainerID:…,}`.
func extractTaskOOM(line []byte) (Fact, bool) {
	i := index(line, "TaskOOM")
	if i < 0 {
		return Fact{}, false
	}
	v, ok := taskField(line[i:], "container_id:", "ContainerID:")
	if !ok {
		return Fact{}, false
	}
	cid := normContainerID(v)
	if cid == "" {
		return Fact{}, false
	}
	return Fact{Kind: TaskOOM, Source: ExtTaskOOM, ContainerID: cid}, true
}

// metaField reads a CRI metadata field printed with %+v: gogo-generated types print
// `&PodSandboxMetadata{Name:p,Uid:u,…,}`, protobuf-go ones print `name:"p" uid:"u"`.
func metaField(meta []byte, gogo, proto string) ([]byte, bool) {
	if v, ok := value(meta, gogo); ok {
		return v, true
	}
	return value(meta, proto)
}

// metaAttempt reads the Attempt field; protobuf-go omits a zero attempt, gogo prints Attempt:0.
func metaAttempt(meta []byte) (int, bool) {
	v, ok := metaField(meta, "Attempt:", "attempt:")
	if !ok {
		return 0, true
	}
	n, ok := atoi(v)
	return n, ok && n >= 0
}

// extractSandboxCreated reads `RunPodSandbox for &PodSandboxMetadata{Name:p,Uid:u,Namespace:ns,
// Attempt:0,} returns sandbox id "S"`. A RunPodSandbox that failed returns no id: no fact.
func extractSandboxCreated(line []byte) (Fact, bool) {
	i := index(line, "RunPodSandbox for ")
	if i < 0 {
		return Fact{}, false
	}
	meta := line[i+len("RunPodSandbox for "):]
	j := index(meta, "returns sandbox id ")
	if j < 0 {
		return Fact{}, false
	}
	sid, _, ok := quotedAfter(meta[j+len("returns sandbox id "):])
	if !ok {
		return Fact{}, false
	}
	f := Fact{Kind: SandboxCreated, Source: ExtSandboxCreated, SandboxID: normContainerID(sid)}
	meta = meta[:j]
	if f.SandboxID == "" {
		return Fact{}, false
	}
	if v, ok := metaField(meta, "Name:", "name:"); ok {
		f.Pod = string(v)
	}
	if v, ok := metaField(meta, "Namespace:", "namespace:"); ok {
		f.Namespace = string(v)
	}
	if v, ok := metaField(meta, "Uid:", "uid:"); ok {
		f.PodUID = normPodUID(v)
	}
	if n, ok := metaAttempt(meta); ok {
		f.Attempt = intp(n)
	}
	return f, true
}

// extractContainerCreated reads `CreateContainer within sandbox "S" for &ContainerMetadata{Name:c,
// Attempt:n,} returns container id "C"`: the only line that names a container ID's container.
func extractContainerCreated(line []byte) (Fact, bool) {
	i := index(line, "CreateContainer within sandbox ")
	if i < 0 {
		return Fact{}, false
	}
	rest := line[i+len("CreateContainer within sandbox "):]
	sid, rest, ok := quotedAfter(rest)
	if !ok {
		return Fact{}, false
	}
	j := index(rest, "returns container id ")
	if j < 0 {
		return Fact{}, false
	}
	cid, _, ok := quotedAfter(rest[j+len("returns container id "):])
	if !ok {
		return Fact{}, false
	}
	f := Fact{Kind: ContainerCreated, Source: ExtContainerCreated, SandboxID: normContainerID(sid), ContainerID: normContainerID(cid)}
	if f.ContainerID == "" {
		return Fact{}, false
	}
	meta := rest[:j]
	if v, ok := metaField(meta, "Name:", "name:"); ok {
		f.Container = string(v)
	}
	if n, ok := metaAttempt(meta); ok {
		f.Attempt = intp(n)
	}
	return f, true
}

// extractExecFailure reads an entrypoint that could not be executed, from runc's error as
// containerd or kubelet relays it: `exec: "x": executable file not found in $PATH` (not-found),
// `exec: "/app": permission denied` (permission), `exec format error` (exec-format), `exec:
// "/app": no such file or directory` (not-found). "permission denied" or "no such file" without
// an exec is some other failure (a mount, a log file) and yields no fact.
func extractExecFailure(line []byte) (Fact, bool) {
	f := Fact{Kind: ExecFailure, Source: ExtExecFailure}
	start, end := -1, -1
	// exec: "path": reason   (runc) — any quoting depth
	if i := index(line, "exec: "); i >= 0 {
		if p, rest, ok := quotedAfter(line[i+len("exec: "):]); ok && bytes.HasPrefix(rest, bs(": ")) {
			f.Path = string(p)
			start = i
			rest = rest[2:]
			// runc 1.2+ names the failed stat: `exec: "/app": stat /app: no such file or directory`.
			if bytes.HasPrefix(rest, bs("stat ")) {
				if k := index(rest, ": "); k > 0 {
					rest = rest[k+2:]
				}
			}
			end = len(line) - len(rest)
			switch {
			case bytes.HasPrefix(rest, bs("executable file not found")):
				f.FailureKind = "not-found"
				end += len("executable file not found in $PATH")
			case bytes.HasPrefix(rest, bs("no such file or directory")):
				f.FailureKind = "not-found"
				end += len("no such file or directory")
			case bytes.HasPrefix(rest, bs("permission denied")):
				f.FailureKind = "permission"
				end += len("permission denied")
			case bytes.HasPrefix(rest, bs("exec format error")):
				f.FailureKind = "exec-format"
				end += len("exec format error")
			}
		}
	}
	// exec /path: reason   (Go's os/exec and newer runc wording)
	if f.FailureKind == "" {
		for off := 0; off < len(line); {
			i := index(line[off:], "exec /")
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			rest := line[i+len("exec "):]
			j := index(rest, ": ")
			if j <= 0 || bytes.IndexByte(rest[:j], ' ') >= 0 {
				continue
			}
			reason := rest[j+2:]
			kind, n := "", 0
			switch {
			case bytes.HasPrefix(reason, bs("exec format error")):
				kind, n = "exec-format", len("exec format error")
			case bytes.HasPrefix(reason, bs("permission denied")):
				kind, n = "permission", len("permission denied")
			case bytes.HasPrefix(reason, bs("no such file or directory")):
				kind, n = "not-found", len("no such file or directory")
			}
			if kind != "" {
				f.FailureKind, f.Path = kind, string(rest[:j])
				start, end = i, i+len("exec ")+j+2+n
				break
			}
		}
	}
	if f.FailureKind == "" {
		start, end = execFailureOther(&f, line)
	}
	if f.FailureKind == "" && has(line, "exec format error") {
		f.FailureKind = "exec-format"
		start = index(line, "exec format error")
		end = start + len("exec format error")
	}
	if f.FailureKind == "" {
		return Fact{}, false
	}
	if end > len(line) {
		end = len(line)
	}
	f.Message = message(line[start:end])
	fillPodKeys(&f, line)
	if v, ok := value(line, "containerID="); ok {
		f.ContainerID = normContainerID(v)
	}
	if v, ok := value(line, "containerName="); ok {
		f.Container = string(v)
	}
	fillContainerRef(&f, line)
	return f, true
}
