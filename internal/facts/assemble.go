package facts

import (
	"cmp"
	"slices"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
)

// A kernel OOM block ("invoked oom-killer" … stack … "memory: usage" … task table … "oom-kill:" …
// "Killed process") is printed under the kernel's oom_lock, so two blocks never interleave. What
// lies between its lines is the stack dump and one task-table row per process in scope, which on
// a global OOM can be thousands of lines; in syslog or journal files other daemons' lines
// interleave too. A fragment therefore joins the open block when it is at most blockMaxLines lines
// after the block's previous fragment and, in files that interleave other sources, at most
// blockMaxGap later in time.
const (
	blockMaxLines = 20000
	blockMaxGap   = 10 * time.Second
)

// Assembler collects the facts of one file, fed in line order, and merges the lines of each
// kernel OOM block into OOMKill facts: one per killed process (memory.oom.group kills every
// process of the container in one event), each carrying the block's usage, limit and memcg.
type Assembler struct {
	// Divert, when set, sees each fact before it is kept; returning true takes the fact away
	// (the caller keeps what it needs of it). The indexer uses it for clean exits, which are
	// most of a busy node's facts and matter only for pods in trouble.
	Divert func(f *Fact) bool

	kernelOnly bool // the file holds only kernel records (dmesg): no time check needed for blocks
	facts      []Fact
	blk        oomBlock
	divert     Fact                 // the fact being offered to Divert
	exits      map[exitKey]bool     // the latest exit events kept…
	exitRing   [recentExits]exitKey // …in order, to forget the oldest
	exitN      int
}

// recentExits bounds how far back a repeat is looked for: containerd retries a failed exit within
// its back-off (seconds to minutes), while a busy node logs hundreds of thousands of exits that a
// map of all of them would hold for nothing.
const recentExits = 256

type exitKey struct {
	id        string
	pid, code int
}

// repeatedExit reports whether f repeats one of the latest exit events, and remembers it if not.
func (a *Assembler) repeatedExit(f Fact) bool {
	k := exitKey{id: f.ContainerID, pid: f.PID, code: *f.ExitCode}
	if k.id == "" {
		k.id = f.SandboxID
	}
	if a.exits[k] {
		return true
	}
	if a.exits == nil {
		a.exits = make(map[exitKey]bool, recentExits)
	}
	slot := &a.exitRing[a.exitN%recentExits]
	if a.exitN >= recentExits {
		delete(a.exits, *slot)
	}
	*slot = k
	a.exits[k] = true
	a.exitN++
	return false
}

// oomBlock is the open OOM block.
type oomBlock struct {
	open     bool
	last     evidence.LineRef // ref of the latest fragment: the gap is measured from here
	invoker  string
	invRef   evidence.LineRef // the "invoked oom-killer" line
	usage    *Fact            // "memory: usage" fragment
	taskIn   *Fact            // cgroup v1 "Task in … killed as a result of limit of …"
	group    *Fact            // "Tasks in … memory.oom.group set"
	sel      *Fact            // v1 "Kill process … or sacrifice child"
	summary  *Fact            // "oom-kill:" line
	sumUsed  bool
	killed   []int // pids already reported in this block
	selScope string
}

// NewAssembler returns an Assembler for one file of the given log type (the bundle's
// classification: "dmesg", "kernel", "messages", "kubelet", …). Kernel ring-buffer dumps
// ("dmesg", "kernel") hold nothing but kernel records, so an OOM block there is bounded by line
// distance alone; in other files, where lines of other daemons interleave, by time as well.
func NewAssembler(logType string) *Assembler {
	return &Assembler{kernelOnly: logType == "dmesg" || logType == "kernel"}
}

// Add runs extractor on line and keeps the fact it yields. Unknown extractors and lines that
// carry no event are ignored. When several rules hand over the same line, the first fact of a
// kind from that line wins.
func (a *Assembler) Add(extractor string, ref evidence.LineRef, line []byte) {
	fn := extractors[extractor]
	if fn == nil {
		return
	}
	f, ok := fn(line)
	if !ok {
		return
	}
	f.Ref = ref
	switch {
	case f.Kind == OOMPart:
		a.part(f)
	case extractor == ExtOOMKill:
		a.summary(f)
	case extractor == ExtOOMKilledProcess:
		a.kill(f)
	default:
		a.emit(f)
	}
}

// emit keeps f unless a fact of the same kind was already read from the same line, or f is an
// exit event this file already told: containerd logs an exit again when it retries handling it
// (TaskExit event, SandboxExit event) and, in 2.0.0–2.1.1, once more from the podsandbox handler.
// A task's init process exits once, so the same container, pid and status is the same exit.
func (a *Assembler) emit(f Fact) {
	for i := len(a.facts) - 1; i >= 0 && a.facts[i].Ref.Line == f.Ref.Line; i-- {
		if a.facts[i].Kind == f.Kind {
			return
		}
	}
	if f.Source == ExtTaskExit && a.repeatedExit(f) {
		return
	}
	// f is handed over through a field of the Assembler: a pointer to the parameter would move
	// every fact (hundreds of bytes) to the heap, and most are diverted.
	if a.Divert != nil {
		a.divert = f
		if a.Divert(&a.divert) {
			return
		}
	}
	a.facts = append(a.facts, f)
}

// belongs reports whether a fragment at ref continues the open block.
func (a *Assembler) belongs(ref evidence.LineRef) bool {
	b := &a.blk
	if !b.open || ref.Line < b.last.Line || ref.Line-b.last.Line > blockMaxLines {
		return false
	}
	if a.kernelOnly || ref.Time.IsZero() || b.last.Time.IsZero() {
		return true
	}
	d := ref.Time.Sub(b.last.Time)
	return -blockMaxGap <= d && d <= blockMaxGap
}

// continueOrStart keeps the open block when ref belongs to it and the block has no fragment of
// this sort yet (taken reports that); otherwise it closes the block and opens a new one.
func (a *Assembler) continueOrStart(ref evidence.LineRef, taken bool) {
	if taken || !a.belongs(ref) {
		a.close()
		a.blk = oomBlock{open: true}
	}
	a.blk.last = ref
}

func (a *Assembler) part(f Fact) {
	b := &a.blk
	switch f.Source {
	case ExtOOMInvoked:
		a.continueOrStart(f.Ref, true) // every OOM event prints exactly one
		a.blk.invoker, a.blk.invRef = f.Process, f.Ref
	case ExtMemcgUsage:
		a.continueOrStart(f.Ref, b.usage != nil || b.summary != nil)
		a.blk.usage = &f
	case ExtOOMTaskIn:
		a.continueOrStart(f.Ref, b.taskIn != nil || b.summary != nil)
		a.blk.taskIn = &f
	case srcOOMSelect:
		a.continueOrStart(f.Ref, b.sel != nil || len(b.killed) > 0)
		a.blk.sel, a.blk.selScope = &f, f.Scope
	case ExtOOMGroup:
		a.continueOrStart(f.Ref, b.group != nil)
		a.blk.group = &f
	}
}

func (a *Assembler) summary(f Fact) {
	a.continueOrStart(f.Ref, a.blk.summary != nil)
	a.blk.summary, a.blk.sumUsed = &f, false
}

// kill turns a "Killed process" line into an OOMKill, completed from its block: the summary line
// when it names the same pid, otherwise (a further memory.oom.group victim, a v1 sacrificed
// child) only what the block proves for every victim.
func (a *Assembler) kill(f Fact) {
	b := &a.blk
	if !a.belongs(f.Ref) {
		a.close()
		a.blk = oomBlock{open: true}
		b = &a.blk
	}
	b.last = f.Ref
	if slices.Contains(b.killed, f.PID) {
		return // oom.group may list the first victim again
	}
	b.killed = append(b.killed, f.PID)
	shared := b.summary != nil
	if s := b.summary; s != nil && !b.sumUsed && s.PID == f.PID {
		b.sumUsed = true
		f.Constraint, f.Memcg, f.TaskMemcg = s.Constraint, s.Memcg, s.TaskMemcg
		f.PodUID, f.ContainerID = s.PodUID, s.ContainerID
		if s.Scope != "" {
			f.Scope = s.Scope
		}
	} else if s != nil {
		f.Constraint, f.Memcg = s.Constraint, s.Memcg
		if f.Scope == "" {
			f.Scope = s.Scope
		}
		if g := b.group; g != nil {
			f.TaskMemcg, f.PodUID, f.ContainerID = g.TaskMemcg, g.PodUID, g.ContainerID
		}
	}
	a.completeFromBlock(&f)
	if shared {
		f.Block = appendRef(f.Block, b.summary.Ref)
	}
	if g := b.group; g != nil {
		f.Block = appendRef(f.Block, g.Ref)
	}
	if s := b.sel; s != nil {
		f.Block = appendRef(f.Block, s.Ref)
	}
	slices.SortFunc(f.Block, func(x, y evidence.LineRef) int { return cmp.Compare(x.Line, y.Line) })
	a.emit(f)
}

// appendRef adds r to refs unless it is there already or empty.
func appendRef(refs []evidence.LineRef, r evidence.LineRef) []evidence.LineRef {
	if r.File == "" || slices.ContainsFunc(refs, func(x evidence.LineRef) bool { return x.File == r.File && x.Line == r.Line }) {
		return refs
	}
	return append(refs, r)
}

// completeFromBlock fills what every kill of the block shares and the kill line itself lacks.
func (a *Assembler) completeFromBlock(f *Fact) {
	b := &a.blk
	f.Block = appendRef(f.Block, b.invRef)
	if u := b.usage; u != nil {
		f.UsageKB, f.LimitKB = u.UsageKB, u.LimitKB
		f.Block = appendRef(f.Block, u.Ref)
	}
	if t := b.taskIn; t != nil {
		f.Block = appendRef(f.Block, t.Ref)
		if f.Memcg == "" {
			f.Memcg = t.Memcg
		}
		if f.TaskMemcg == "" {
			f.TaskMemcg, f.PodUID, f.ContainerID = t.TaskMemcg, t.PodUID, t.ContainerID
		}
	}
	if f.Scope == "" {
		switch {
		case b.selScope != "":
			f.Scope = b.selScope
		case b.usage != nil || b.taskIn != nil:
			f.Scope = "cgroup" // only memcg OOMs print a cgroup's usage and limit
		}
	}
	if b.invoker != "" && f.Message == "" {
		f.Message = "oom-killer invoked by " + b.invoker
	}
}

// close ends the open block; an oom-kill summary whose "Killed process" line never came is still a
// kill decision and becomes an OOMKill of its own.
func (a *Assembler) close() {
	b := &a.blk
	if b.open && b.summary != nil && !b.sumUsed {
		f := *b.summary
		b.sumUsed = true
		a.completeFromBlock(&f)
		slices.SortFunc(f.Block, func(x, y evidence.LineRef) int { return cmp.Compare(x.Line, y.Line) })
		a.emit(f)
	}
	a.blk = oomBlock{}
}

// Finish closes the last block and returns the file's facts in line order. The Assembler must
// not be used afterwards.
func (a *Assembler) Finish() []Fact {
	a.close()
	sortFacts(a.facts, func(x, y *Fact) int { return cmp.Compare(x.Ref.Line, y.Ref.Line) })
	out := a.facts
	a.facts = nil
	return out
}
