package diagnose

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodediag/nodediag/internal/apperr"
	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/workload"
)

// crash is what classify found: the class, its detail and the facts that prove it.
type crash struct {
	idx *index.Index
	t   target

	// exit code and where it came from
	code       *int
	reason     string // lastState.terminated.reason or the exit fact's reason
	message    string // lastState.terminated.message
	codeSource string // "pod status" or the file:line of the exit fact
	status     *corev1.ContainerStatus
	spec       *corev1.Container
	events     []corev1.Event

	// the target's facts by kind, time-ordered
	exits, ooms, taskOOMs, segvs, execs, configs, probes, kills, backoffs []*facts.Fact
	daemonOOMs                                                            []*facts.Fact // kubelet/containerd OOM kills, whoever the target is

	class, detail, level, meaning string
	confidence                    string
	gaps                          []string
	crossRef                      []string
	escalation                    []string
	prevLines                     []Line        // the previous log's lines that carry the error that ended the process
	app                           apperr.Report // that error, as apperr read it

	corr *correlate.Result
	freq *correlate.Frequency

	cites     citations         // the lines each claim stands on
	fileTypes map[string]string // bundle path → log type, for componentAt
	memTime   time.Time         // when the global OOM kill whose Mem-Info report is read happened
}

// classify gathers the target's facts and decides the root cause. It is the only place a
// class is chosen: Diagnose, QuickTriage and Summarize all call it.
func classify(ctx context.Context, idx *index.Index, in Input, t target) (*crash, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diagnose: %w", err)
	}
	c := &crash{idx: idx, t: t}
	c.cites.comp = c.componentAt
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if f.Kind == facts.OOMKill && isNodeDaemon(f) {
			c.daemonOOMs = append(c.daemonOOMs, f)
			continue
		}
		if !t.owns(f) {
			continue
		}
		switch f.Kind {
		case facts.ContainerExit:
			c.exits = append(c.exits, f)
		case facts.OOMKill:
			c.ooms = append(c.ooms, f)
		case facts.TaskOOM:
			c.taskOOMs = append(c.taskOOMs, f)
		case facts.Segfault:
			c.segvs = append(c.segvs, f)
		case facts.ExecFailure:
			c.execs = append(c.execs, f)
		case facts.ConfigMissing:
			c.configs = append(c.configs, f)
		case facts.ProbeFailure:
			c.probes = append(c.probes, f)
		case facts.Killing:
			c.kills = append(c.kills, f)
		case facts.BackOff:
			c.backoffs = append(c.backoffs, f)
		}
	}
	if p := in.PodStatus; p != nil {
		c.status = kube.Status(p, t.container)
		c.spec = kube.Spec(p, t.container)
		c.events = kube.EventsFor(in.Events, p, t.container)
	} else {
		c.events = in.Events
	}
	var err error
	if c.corr, c.freq, err = crashFrequency(ctx, idx, t); err != nil {
		return nil, err
	}
	c.exitCode()
	c.prevLines, c.app = previousErrors(in.PreviousLog)
	if in.PreviousLog == "" && in.Entry != nil {
		if c.prevLines, c.app, err = c.previousFromBundle(ctx, in); err != nil {
			return nil, err
		}
	}
	c.decide(in)
	c.guardrails(in)
	return c, nil
}

// exitCode takes the exit code from the pod status when there is one (the runbook's FIRST
// step), else from the newest exit line of the target in the node's logs.
func (c *crash) exitCode() {
	if term := kube.Terminated(c.status); term != nil {
		code := int(term.ExitCode)
		c.code, c.reason, c.message, c.codeSource = &code, term.Reason, term.Message, "pod status lastState.terminated"
		return
	}
	var last *facts.Fact
	for _, f := range c.exits {
		if f.ExitCode == nil {
			continue
		}
		// The newest exit is what lastState.terminated would say, clean or not.
		if last == nil || !f.Ref.Time.Before(last.Ref.Time) {
			last = f
		}
	}
	if last != nil {
		code := *last.ExitCode
		c.code, c.reason, c.codeSource = &code, last.Reason, last.Ref.String()
		c.cites.facts(ClaimExitCode, last)
		return
	}
	if len(c.execs) > 0 {
		// containerd's start error: the task never ran, kubelet reports 128 (StartError).
		c.codeSource = "none: the container never started"
	}
}

var (
	rePermission = regexp.MustCompile(`(?i)permission denied|access denied|EACCES|operation not permitted`)
	reExecFormat = regexp.MustCompile(`(?i)exec format error`)
	reNotFound   = regexp.MustCompile(`(?i)executable file not found|no such file or directory|command not found|not found in \$PATH`)
	// reShellNotFound names the missing command of a shell's "script: line 7: curl: command not
	// found" (bash), "/bin/sh: 1: curl: not found" (dash) or "/bin/sh: curl: not found" (busybox).
	reShellNotFound = regexp.MustCompile(`: (?:exec: )?([^\s:]+): (?:command )?not found$`)
	reErrorLine     = regexp.MustCompile(`(?i)(error|exception)\b|\b(fatal|panic|traceback|failed|refused|denied|cannot|unable)\b`)
)

// previousErrors reads the previous container's log, the runbook's primary source for an
// application exit, for the error that ended the process (apperr), and returns the lines that
// show it, named previous.log:N.
func previousErrors(log string) ([]Line, apperr.Report) {
	return previousErrorsAt(log, func(i int) string { return fmt.Sprintf("previous.log:%d", i) })
}

// previousErrorsAt is previousErrors with refOf naming line i (1-based) of the log.
func previousErrorsAt(log string, refOf func(i int) string) ([]Line, apperr.Report) {
	if strings.TrimSpace(log) == "" {
		return nil, apperr.Report{}
	}
	r := apperr.Find(log)
	out := make([]Line, 0, len(r.Lines))
	for _, l := range r.Lines {
		out = append(out, Line{Ref: refOf(l.No), Text: strings.TrimSpace(l.Text)})
	}
	return out, r
}

// appError is the application's own error in one line: apperr's summary, or the log's last line
// when nothing in it was recognised as the error.
func (c *crash) appError() string {
	if c.app.Recognised && c.app.Summary != "" {
		return c.app.Summary
	}
	return lastLine(c.prevLines)
}

func (c *crash) prevText() string {
	var b strings.Builder
	for _, l := range c.prevLines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func (c *crash) set(class, meaning, level, detail string) {
	c.class, c.meaning, c.level, c.detail = class, meaning, level, detail
}

// decide follows the runbook's Phase 2 branches by exit code, letting a fact that proves a
// cause (an OOM kill, a segfault, an exec failure, a missing ConfigMap) speak when the exit
// code is not known.
func (c *crash) decide(in Input) {
	code := -1
	if c.code != nil {
		code = *c.code
	}
	prev := c.prevText()
	msg := c.message + "\n" + prev
	for _, f := range c.execs {
		msg += "\n" + f.Message
	}
	switch {
	case code == 137 || c.reason == "OOMKilled" || (code < 0 && (len(c.ooms) > 0 || len(c.taskOOMs) > 0)):
		c.decideOOM()
	case code == 139 || (code < 0 && len(c.segvs) > 0):
		c.decideSegfault()
	// An image for another CPU architecture is the runbook's 126 family whatever code the
	// runtime reports for it: 126 from a shell, 128 StartError from containerd, 255 or 1 from
	// runc's init after the container started.
	case code == 126 || code == 127 || len(c.execs) > 0 || reExecFormat.MatchString(msg) ||
		(code == 128 && reNotFound.MatchString(c.message)):
		c.decideExec(code, msg)
	case len(c.configs) > 0:
		c.decideConfig()
	case code == 143:
		c.decideTermination(code)
	case code > 128 && code < 160:
		c.decideSignal(code)
	case code == 255 && len(c.prevLines) == 0:
		c.citeIncidentExit(ClaimRootCause)
		c.set(RuntimeError, "Unknown", LevelNone, "exit code 255 (unknown error): check containerd's runtime errors")
		c.gaps = append(c.gaps, "exit code 255 carries no cause of its own; the node logs name none for this container")
	case code > 0:
		c.decideAppError(code, prev)
	default:
		c.decideQuiet()
	}
}

func (c *crash) decideOOM() {
	c.meaning = "OOMKilled"
	var global, cgroup []*facts.Fact
	for _, f := range c.ooms {
		if f.Scope == "global" || strings.Contains(f.Constraint, "NONE") {
			global = append(global, f)
		} else {
			cgroup = append(cgroup, f)
		}
	}
	limit := ""
	if c.spec != nil {
		if q, ok := c.spec.Resources.Limits[corev1.ResourceMemory]; ok {
			limit = q.String()
		}
	}
	switch {
	case len(global) > 0:
		evs := oomEvents(global)
		ev := evs[len(evs)-1]
		f := ev.holder
		c.cites.facts(ClaimRootCause, ev.kills...)
		c.cites.facts(ClaimRootCause, c.exitsOf(f.ContainerID)...)
		c.cites.facts(ClaimMemory, f)
		// The kubelet's view of the same memory: its system OOM event and the pressure before it.
		c.citeFindingsNear(ClaimMemory, f.Ref.Time, "kubelet-system-oom", "kubelet-memory-pressure", "kubelet-eviction-reclaim")
		d := fmt.Sprintf("%s killed %s by the global OOM killer (last pid %d, anon-rss %s)", f.Process, times(len(evs)), f.PID, facts.KiB(f.AnonRSSKB))
		if limit == "" {
			d += "; the container has no memory limit"
		} else {
			d += "; its own limit is " + limit + ", so the node ran out first"
		}
		c.set(NodeOOM, "OOMKilled", LevelNode, d)
		c.addCrossRef("G2: node-level OOM (system memory exhausted), not just the container's limit", f)
		c.gaps = append(c.gaps, "node memory figures (MemTotal, MemAvailable at the time of the OOM) are not in the kernel's OOM-kill lines; search MemAvailable|MemFree for them")
	case len(cgroup) > 0:
		evs := oomEvents(cgroup)
		ev := evs[len(evs)-1]
		f := ev.holder
		c.cites.facts(ClaimRootCause, ev.kills...)
		c.cites.facts(ClaimRootCause, c.exitsOf(f.ContainerID)...)
		c.cites.facts(ClaimRootCause, sameInstance(c.taskOOMs, f.ContainerID)...)
		c.cites.facts(ClaimMemory, f)
		level := oomLevel(f)
		d := fmt.Sprintf("%s killed %s at its %s memory limit (last pid %d: usage %s, anon-rss %s)", f.Process, times(len(evs)), facts.KiB(f.LimitKB), f.PID, facts.KiB(f.UsageKB), facts.KiB(f.AnonRSSKB))
		if others := ev.others(); others != "" {
			d += "; the same kill took " + others + " (memory.oom.group)"
		}
		if limit != "" {
			d += "; resources.limits.memory " + limit
		}
		if level != LevelContainer {
			d += "; the limit hit is the " + level + " memcg " + f.Memcg
		}
		c.set(ContainerOOM, "OOMKilled", level, d)
	case c.reason == "OOMKilled" || len(c.taskOOMs) > 0:
		if e := c.citeIncidentExit(ClaimRootCause); e != nil {
			c.cites.facts(ClaimRootCause, sameInstance(c.taskOOMs, e.ContainerID)...)
		} else if n := len(c.taskOOMs); n > 0 {
			c.cites.facts(ClaimRootCause, c.taskOOMs[n-1])
		}
		d := "OOM-killed at its memory limit"
		if limit != "" {
			d += " (resources.limits.memory " + limit + ")"
		}
		if c.reason == "OOMKilled" {
			d += "; the pod status says OOMKilled"
		} else {
			d += "; containerd reported " + times(len(c.taskOOMs)) + " an OOM event for it"
		}
		c.set(ContainerOOM, "OOMKilled", LevelContainer, d)
		c.gaps = append(c.gaps, "no kernel OOM-kill line for this container: the kernel log is missing or its ring buffer rotated, so usage against the limit is not shown")
	case c.systemOOMEvent():
		c.citeIncidentExit(ClaimRootCause)
		c.set(NodeOOM, "OOMKilled", LevelNode, "the node's events report a System OOM for this container's process; no kernel OOM-kill line is in the bundle")
		c.addCrossRef("G2: node-level OOM (system memory exhausted), not just the container's limit")
		c.gaps = append(c.gaps, "no kernel OOM-kill line in the bundle: the kernel log is missing or its ring buffer rotated")
	case len(c.kills) > 0 || len(c.probes) > 0:
		c.decideTermination(137)
	default:
		c.citeIncidentExit(ClaimRootCause)
		c.set(RuntimeError, "SIGKILL", LevelNone, "SIGKILL (exit 137) without an OOM kill or a kubelet kill in the node's logs: something outside the container killed it")
		c.gaps = append(c.gaps, "nothing in the bundle names who sent the SIGKILL")
	}
}

// oomEvent is one decision of the OOM killer: every process one report killed. With
// memory.oom.group set (kubelet sets it on cgroup v2) the kernel kills the whole container, so a
// tini or a shell wrapper dies beside the process that held the memory.
type oomEvent struct {
	kills  []*facts.Fact
	holder *facts.Fact // the victim with the largest resident set: the process that held the memory
}

// others names the other victims of the event, "tini (pid 4100, anon-rss 388KiB)".
func (e oomEvent) others() string {
	var out []string
	for _, f := range e.kills {
		if f != e.holder {
			out = append(out, fmt.Sprintf("%s (pid %d, anon-rss %s)", f.Process, f.PID, facts.KiB(f.AnonRSSKB)))
		}
	}
	return strings.Join(out, ", ")
}

// oomEvents groups kills, in time order, into the reports they came from: kills of one report
// share its "invoked oom-killer" line (the first line of their block), or, without one, its
// time and cgroup.
func oomEvents(kills []*facts.Fact) []oomEvent {
	var out []oomEvent
	for _, f := range kills {
		if n := len(out); n > 0 && sameReport(out[n-1].kills[0], f) {
			e := &out[n-1]
			e.kills = append(e.kills, f)
			if rss(f) > rss(e.holder) {
				e.holder = f
			}
			continue
		}
		out = append(out, oomEvent{kills: []*facts.Fact{f}, holder: f})
	}
	return out
}

// sameInstance returns the facts of fs about one container instance.
func sameInstance(fs []*facts.Fact, containerID string) []*facts.Fact {
	var out []*facts.Fact
	for _, f := range fs {
		if containerID != "" && f.ContainerID == containerID {
			out = append(out, f)
		}
	}
	return out
}

func sameReport(a, b *facts.Fact) bool {
	if len(a.Block) > 0 && len(b.Block) > 0 {
		return a.Block[0] == b.Block[0]
	}
	d := b.Ref.Time.Sub(a.Ref.Time)
	return a.Ref.File == b.Ref.File && d >= 0 && d < time.Second && a.Memcg == b.Memcg && a.ContainerID == b.ContainerID
}

func rss(f *facts.Fact) int64 { return f.AnonRSSKB + f.FileRSSKB }

// systemOOMEvent tells whether the events report a System OOM (kubelet's node event).
func (c *crash) systemOOMEvent() bool {
	for _, e := range c.events {
		if e.Reason == "SystemOOM" {
			return true
		}
	}
	return false
}

// oomLevel tells which memcg's limit the kernel hit, from the victim's memcg (the container's)
// and the memcg whose limit fired.
func oomLevel(f *facts.Fact) string {
	m, task := strings.TrimSuffix(f.Memcg, "/"), strings.TrimSuffix(f.TaskMemcg, "/")
	last := m[strings.LastIndex(m, "/")+1:]
	switch {
	case m == "" || m == task || (f.ContainerID != "" && strings.Contains(last, f.ContainerID)):
		return LevelContainer
	case strings.Contains(last, "-pod") || strings.HasPrefix(last, "pod"): // systemd kubepods-…-pod<uid>.slice, cgroupfs pod<uid>
		return LevelPod
	case strings.HasPrefix(last, "kubepods") || last == "burstable" || last == "besteffort":
		return LevelNodeAllocatable
	}
	return LevelContainer
}

func (c *crash) decideSegfault() {
	if len(c.segvs) == 0 {
		c.citeIncidentExit(ClaimRootCause)
		if f := c.unjoinedSegfault(); f != nil {
			c.cites.facts(ClaimRootCause, f)
			c.set(Segfault, "Segfault", LevelNone, fmt.Sprintf("SIGSEGV (exit 139); the kernel logged %s[%d] segfaulting at %s (%s) just before one of this container's exits, but no line ties that pid to the container",
				f.Process, f.PID, f.Ref.Time.UTC().Format("15:04:05"), f.Ref))
			c.gaps = append(c.gaps, fmt.Sprintf("segfault matched by time only: %s has pid %d, which no containerd exit event carries, and no single container's exit 139 follows it", f.Ref, f.PID))
			return
		}
		c.set(Segfault, "Segfault", LevelNone, "SIGSEGV (exit 139); the kernel's segfault line is not in the bundle")
		c.gaps = append(c.gaps, "no kernel segfault line for this container: no faulting address, ip or library (the kernel log is missing, rotated, or print-fatal-signals is off)")
		return
	}
	f := c.segvs[len(c.segvs)-1]
	c.cites.facts(ClaimRootCause, f)
	if same := c.exitsOf(f.ContainerID); len(same) > 0 {
		c.cites.facts(ClaimRootCause, same...)
	} else {
		c.citeIncidentExit(ClaimRootCause)
	}
	d := fmt.Sprintf("%s segfault at %s ip %s", f.Process, f.Addr, f.IP)
	if f.Object != "" {
		d += " in " + f.Object
	}
	d += ", " + times(len(c.segvs))
	if f.Addr != "" && strings.Trim(f.Addr, "0x") == "" {
		d += " (NULL pointer dereference)"
	}
	c.set(Segfault, "Segfault", LevelNone, d)
}

// unjoinedSegfault returns the latest segfault no line tied to any container that the kernel
// logged within a few seconds before one of the target's exits with 139: evidence worth naming,
// with the join it lacks, rather than calling the line absent.
func (c *crash) unjoinedSegfault() *facts.Fact {
	var best *facts.Fact
	for i := range c.idx.Facts {
		f := &c.idx.Facts[i]
		if f.Kind != facts.Segfault || f.ContainerID != "" || f.Pod != "" || f.Ref.Time.IsZero() {
			continue
		}
		for _, e := range c.exits {
			if e.ExitCode == nil || *e.ExitCode != 128+11 || e.Ref.Time.IsZero() {
				continue
			}
			if d := e.Ref.Time.Sub(f.Ref.Time); d >= -time.Second && d <= 10*time.Second {
				if best == nil || f.Ref.Time.After(best.Ref.Time) {
					best = f
				}
			}
		}
	}
	return best
}

func (c *crash) decideExec(code int, msg string) {
	kind := ""
	var f *facts.Fact
	if n := len(c.execs); n > 0 {
		f = c.execs[n-1]
		kind = f.FailureKind
	}
	switch {
	case reExecFormat.MatchString(msg):
		kind = "exec-format"
	case kind == "" && reNotFound.MatchString(msg):
		kind = "not-found"
	case kind == "" && rePermission.MatchString(msg):
		kind = "permission"
	case kind == "" && code == 127:
		kind = "not-found"
	case kind == "" && code == 126:
		kind = "permission"
	}
	c.citeNewestPerSource(ClaimRootCause, c.execs)
	c.citeIncidentExit(ClaimRootCause)
	c.citePrevious(ClaimRootCause)
	path := ""
	if f != nil {
		path = f.Path
	}
	if path == "" && c.spec != nil && len(c.spec.Command) > 0 {
		path = c.spec.Command[0]
	}
	switch kind {
	case "not-found":
		d := "the entrypoint is not in the image"
		if path != "" {
			d = fmt.Sprintf("entrypoint %q is not in the image", path)
		}
		if f != nil && f.Message != "" {
			d += ": " + f.Message
		} else if m := reShellNotFound.FindStringSubmatch(c.app.Summary); c.app.Runtime == apperr.Shell && m != nil {
			// The entrypoint ran; a command it calls is missing (exit 127 from the shell).
			d = fmt.Sprintf("command %q is not in the image: %s", m[1], c.app.Summary)
		}
		c.set(CommandNotFound, "CommandNotFound", LevelNone, d)
	case "exec-format":
		d := "architecture mismatch: the binary is built for another CPU architecture (exec format error)"
		for _, l := range c.prevLines {
			if reExecFormat.MatchString(l.Text) {
				d += ": " + l.Text
				break
			}
		}
		c.set(PermissionDenied, "PermissionDenied", LevelNone, d)
	default:
		d := "the binary exists but cannot be executed (permission denied)"
		if path != "" {
			d = fmt.Sprintf("%q exists but cannot be executed (permission denied)", path)
		}
		c.set(PermissionDenied, "PermissionDenied", LevelNone, d)
	}
	if code == 128 {
		// The meaning stays one of the Output Format's words; the detail says why it is not 127.
		c.detail += " (exit 128: containerd's StartError, the task never ran)"
	}
	if len(c.execs) == 0 && len(c.prevLines) == 0 {
		c.gaps = append(c.gaps, "neither containerd's start error nor the previous log is available: the exit code alone says "+c.meaning)
	}
}

func (c *crash) decideConfig() {
	f := c.configs[len(c.configs)-1]
	c.citeNewestPerSource(ClaimRootCause, c.configs)
	n := 0
	for _, g := range c.configs {
		n += 1 + g.Repeats
	}
	what := f.FailureKind
	if what == "" {
		what = "object"
	}
	d := fmt.Sprintf("%s %q not found (%d lines)", what, f.Name, n)
	if f.Message != "" {
		d += ": " + f.Message
	}
	c.set(MissingConfig, meaningOf(c.code), LevelNone, d)
}

// decideTermination explains a container kubelet stopped: SIGTERM (exit 143), or SIGKILL (exit
// 137) when the process outlived its grace period, with no OOM kill anywhere. Liveness (or
// startup) probe failures before the kill make it the application's failure to answer, K2's
// subject; a kill without them (deletion, rollout, preemption) is not a crash of the container.
func (c *crash) decideTermination(code int) {
	failed, kinds, msg := c.livenessFailures()
	after := "SIGTERM (exit 143)"
	if code == 137 {
		after = "SIGTERM, then SIGKILL when it outlived its grace period"
		if g := c.gracePeriod(); g > 0 {
			after = fmt.Sprintf("SIGTERM, then SIGKILL after its %ds grace period (exit 137, no OOM kill in the node's logs)", g)
		}
	}
	var kill *facts.Fact
	if n := len(c.kills); n > 0 {
		kill = c.kills[n-1]
	}
	exit := c.citeIncidentExit(ClaimRootCause)
	var probes []*facts.Fact
	if kill != nil {
		probes = before(c.probes, time.Time{}, kill.Ref.Time, 3)
		c.cites.facts(ClaimRootCause, probes...)
		c.cites.facts(ClaimRootCause, kill)
	} else if exit != nil {
		probes = before(c.probes, c.previousExit(exit), exit.Ref.Time, 3)
		c.cites.facts(ClaimRootCause, probes...)
	}
	if failed > 0 {
		c.addCrossRef("K2: probe failures are causing the restarts (not application crashes)", probes...)
		d := fmt.Sprintf("%s probe failed %s and kubelet stopped the container with %s", kinds, times(failed), after)
		if msg != "" {
			d += ": " + msg
		}
		c.set(AppError, "SIGTERM", LevelNone, d)
		return
	}
	if len(c.kills) > 0 {
		why := c.kills[len(c.kills)-1].Message
		d := "kubelet stopped the container with " + after + " without a failed probe before it"
		if why != "" {
			d += ": " + why
		}
		c.set(RuntimeError, "SIGTERM", LevelNone, d+" (a deletion, rollout or eviction, not a crash of the container)")
		return
	}
	c.set(RuntimeError, "SIGTERM", LevelNone, "SIGTERM (exit 143) without a probe kill: something outside the container stopped it (graceful shutdown, not a crash)")
}

// livenessFailures counts the liveness and startup probe failures that precede a kill, with the
// newest failure's output; kubelet's "will be restarted" line is the verdict on failures
// already counted, not another one.
func (c *crash) livenessFailures() (n int, kinds, msg string) {
	var seen []string
	for _, f := range c.probes {
		if (f.FailureKind == "liveness" || f.FailureKind == "startup") && !strings.Contains(f.Message, "will be restarted") {
			n += 1 + f.Repeats
			msg = f.Message
			if !slices.Contains(seen, f.FailureKind) {
				seen = append(seen, f.FailureKind)
			}
		}
	}
	if n == 0 {
		for _, e := range c.events {
			for _, k := range []string{"Liveness", "Startup"} {
				if e.Reason == "Unhealthy" && strings.Contains(e.Message, k) {
					n, msg, seen = int(max(e.Count, 1)), e.Message, []string{strings.ToLower(k)}
				}
			}
		}
	}
	slices.Sort(seen)
	return n, strings.Join(seen, " and "), msg
}

// gracePeriod is the newest kill's grace period in seconds, or 0 when no line states it.
func (c *crash) gracePeriod() int {
	for i := len(c.kills) - 1; i >= 0; i-- {
		if g := c.kills[i].GracePeriod; g != nil {
			return *g
		}
	}
	return 0
}

// selfSignals are the signals a process raises against itself when it crashes (abort(),
// a bad instruction, a bus or arithmetic fault, a trap): the application's own failure.
var selfSignals = map[int]bool{4: true, 5: true, 6: true, 7: true, 8: true, 31: true}

// decideSignal explains an exit by a signal other than SIGKILL, SIGSEGV and SIGTERM, naming it.
func (c *crash) decideSignal(code int) {
	sig := code - 128
	name := signalName(sig)
	if !selfSignals[sig] {
		c.set(RuntimeError, "Unknown", LevelNone, fmt.Sprintf("killed by %s (exit %d), a signal sent from outside the process", name, code))
		return
	}
	d := fmt.Sprintf("the process died of %s (exit %d)", name, code)
	if sig == 6 {
		d = fmt.Sprintf("the process aborted itself (%s, exit %d): an assertion or a runtime's fatal error", name, code)
	}
	c.citeIncidentExit(ClaimRootCause)
	c.citePrevious(ClaimRootCause)
	for i := len(c.segvs) - 1; i >= 0; i-- {
		if f := c.segvs[i]; f.Signal == sig {
			c.cites.facts(ClaimRootCause, f)
			d += fmt.Sprintf("; the kernel logged %s[%d] %s", f.Process, f.PID, f.Message)
			if f.Object != "" {
				d += " in " + f.Object
			}
			break
		}
	}
	if l := c.appError(); l != "" {
		d += ": " + l
	}
	c.set(AppError, "ApplicationError", LevelNone, d)
}

func (c *crash) decideAppError(code int, prev string) {
	c.citeIncidentExit(ClaimRootCause)
	c.citePrevious(ClaimRootCause)
	switch {
	case rePermission.MatchString(prev):
		c.set(PermissionDenied, "PermissionDenied", LevelNone, "the application failed on a permission error: "+c.appError())
	case len(c.prevLines) > 0:
		c.set(AppError, meaningOf(c.code), LevelNone, fmt.Sprintf("exit %d: %s", code, c.appError()))
		if !c.app.Recognised {
			c.gaps = append(c.gaps, "the previous log shows no exception, panic or fatal line: its last lines are quoted instead")
		}
	default:
		c.set(AppError, meaningOf(c.code), LevelNone, fmt.Sprintf("the application exits %d; its own error is in `kubectl logs --previous`, which was not given", code))
		c.gaps = append(c.gaps, "no previous container log: the application's own error message is not available (pass --previous-log)")
	}
}

// decideQuiet handles a target without a failing exit: a crash loop on clean exits, a node
// daemon's OOM kill (which is the node's root cause whatever pod was asked about), or nothing.
func (c *crash) decideQuiet() {
	switch {
	case len(c.backoffs) > 0 || (c.status != nil && c.status.State.Waiting != nil && c.status.State.Waiting.Reason == "CrashLoopBackOff"):
		c.citeIncidentExit(ClaimRootCause)
		c.cites.facts(ClaimRootCause, c.backoffs[max(0, len(c.backoffs)-1):]...)
		c.set(AppError, meaningOf(c.code), LevelNone, "the container exits with code 0 and is restarted (restartPolicy Always runs a process that finishes)")
	case len(c.daemonOOMs) > 0:
		f := c.daemonOOMs[len(c.daemonOOMs)-1]
		c.cites.facts(ClaimRootCause, f)
		c.cites.facts(ClaimExitCode, f)
		code137 := 137
		c.code, c.codeSource = &code137, f.Ref.String()
		d := fmt.Sprintf("%s (pid %d) OOM-killed %s", f.Process, f.PID, times(len(c.daemonOOMs)))
		if f.LimitKB > 0 {
			d += fmt.Sprintf(" at the %s limit of %s (usage %s)", facts.KiB(f.LimitKB), f.Memcg, facts.KiB(f.UsageKB))
		}
		d += ": the node's own daemon ran out of memory"
		c.set(NodeOOM, "OOMKilled", LevelNode, d)
		c.addCrossRef(fmt.Sprintf("A1: %s itself is OOM-killed (node NotReady)", f.Process), f)
		c.addCrossRef("G2: node-level OOM and system-reserved/kube-reserved memory", f)
	default:
		c.set("", meaningOf(c.code), LevelNone, "")
	}
}

// guardrails adds the runbook's escalation conditions.
func (c *crash) guardrails(in Input) {
	if sop, what, ok := systemPod(c.t.ns, c.t.pod); ok && c.class != "" {
		c.addEscalation(fmt.Sprintf("system pod %s/%s is crash-looping: cluster-wide impact", c.t.ns, c.t.pod), c.newestExit())
		c.addCrossRef(fmt.Sprintf("%s: %s", sop, what), c.newestExit())
	}
	if n := len(c.daemonOOMs); n > 0 {
		f := c.daemonOOMs[n-1]
		c.addEscalation(fmt.Sprintf("%s OOM-killed %s (last at %s): escalate to A1", f.Process, times(n), f.Ref.String()), f)
		if !slices.ContainsFunc(c.crossRef, func(x string) bool { return strings.HasPrefix(x, "A1:") }) {
			c.addCrossRef(fmt.Sprintf("A1: %s itself is OOM-killed, which takes the node NotReady", f.Process), f)
		}
	}
	if c.class == Segfault {
		for _, f := range c.segvs {
			if isSystemPod(f.Namespace, f.Pod) || f.Namespace == "kube-system" {
				c.addEscalation("segfault in a system component: possible kernel or runtime bug", f)
				break
			}
		}
	}
	if e := clusterWide(in); e != "" {
		c.addEscalation(e)
	}
	for _, e := range c.peerEscalations(in.Peers, in.PodStatus) {
		c.addEscalation(e, c.newestExit())
	}
}

// peerEscalations states what the fleet view says about the target's workload: the same
// signature (workload, container, class) on other nodes means the cause travels with the
// workload — its image, config or limits — or with what the nodes share, so replacing this
// node fixes nothing; the workload crash-looping elsewhere with another class is still the
// runbook's "multiple pods on multiple nodes". Other workloads' crash loops on other nodes are
// not counted: in a large fleet something always crash-loops somewhere.
func (c *crash) peerEscalations(peers []Peer, pod *corev1.Pod) []string {
	if c.t.pod == "" || c.class == "" || len(peers) == 0 {
		return nil
	}
	own := ownerOf(c.t.pod, pod)
	var same, other []string
	var classes []string
	for _, p := range peers {
		// The name decides, not the kind: a name alone cannot tell a DaemonSet's pod from a
		// Job's, and the pod's ownerReference, when given, can.
		if p.Workload != own.Name || p.Container != c.t.container || (p.Namespace != "" && c.t.ns != "" && p.Namespace != c.t.ns) {
			continue
		}
		if p.Class == c.class {
			same = append(same, p.Nodes...)
			continue
		}
		other = append(other, p.Nodes...)
		if !slices.Contains(classes, p.Class) {
			classes = append(classes, p.Class)
		}
	}
	var out []string
	if same = uniqSorted(same); len(same) > 0 {
		out = append(out, fmt.Sprintf("the same signature (workload %s container %s class %s) is on %d other %s: %s — widespread: escalate, and look at the workload (image, config, limits), not the node",
			own, c.t.container, c.class, len(same), plural(len(same), "node"), nodeList(same)))
	}
	if other = slices.DeleteFunc(uniqSorted(other), func(n string) bool { return slices.Contains(same, n) }); len(other) > 0 {
		slices.Sort(classes)
		out = append(out, fmt.Sprintf("workload %s container %s also crash-loops on %d other %s, as %s: %s — CrashLoopBackOff across multiple pods on multiple nodes: possible cluster-wide issue",
			own, c.t.container, len(other), plural(len(other), "node"), strings.Join(classes, ", "), nodeList(other)))
	}
	return out
}

// ownerOf is the workload of the target pod: its controller reference when the pod's status
// came from the API, else inferred from its name.
func ownerOf(name string, pod *corev1.Pod) workload.Owner {
	if pod != nil && pod.Name == name {
		for _, r := range pod.OwnerReferences {
			if r.Controller != nil && *r.Controller {
				return workload.FromReference(r.Kind, r.Name)
			}
		}
	}
	return workload.Infer(name)
}

func uniqSorted(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// nodeList names up to five nodes; the rest are counted.
func nodeList(nodes []string) string {
	const most = 5
	if len(nodes) <= most {
		return strings.Join(nodes, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(nodes[:most], ", "), len(nodes)-most)
}

// clusterWide states the runbook's "CrashLoopBackOff across multiple pods on multiple nodes"
// when the cluster view shows crash loops on at least two nodes. Other pods backing off on this
// node prove nothing about the cluster: the node's own logs cannot see another node.
func clusterWide(in Input) string {
	nodes := map[string]bool{}
	var pods []string
	for _, p := range in.ClusterCrashLoops {
		if p.Node != "" {
			nodes[p.Node] = true
		}
		pods = append(pods, p.Namespace+"/"+p.Name)
	}
	if len(nodes) < 2 || len(pods) < 2 {
		return ""
	}
	slices.Sort(pods)
	if len(pods) > 5 {
		pods = append(pods[:5], fmt.Sprintf("and %d more", len(pods)-5))
	}
	return fmt.Sprintf("CrashLoopBackOff in %d pods on %d nodes (%s): possible cluster-wide issue", len(in.ClusterCrashLoops), len(nodes), strings.Join(pods, ", "))
}

// meaningOf names an exit code the way the Output Format does.
func meaningOf(code *int) string {
	if code == nil {
		return "Unknown"
	}
	switch *code {
	case 0:
		return "Completed"
	case 1:
		return "ApplicationError"
	case 126:
		return "PermissionDenied"
	case 127:
		return "CommandNotFound"
	case 137:
		return "OOMKilled"
	case 139:
		return "Segfault"
	case 143:
		return "SIGTERM"
	case 255:
		return "Unknown"
	}
	if *code > 128 && *code < 160 {
		return fmt.Sprintf("Signal%d", *code-128)
	}
	return "ApplicationError"
}

func signalName(n int) string {
	names := map[int]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
		9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"}
	if s, ok := names[n]; ok {
		return s
	}
	return fmt.Sprintf("signal %d", n)
}

func lastLine(ls []Line) string {
	if len(ls) == 0 {
		return ""
	}
	return ls[len(ls)-1].Text
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
