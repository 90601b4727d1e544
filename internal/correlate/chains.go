package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// Link statuses.
const (
	Proven        = "proven"         // a line states it and an equal identifier ties it to the chain
	Missing       = "missing"        // the link should exist but no line proves it; Why says what was looked for
	NotApplicable = "not-applicable" // the link does not exist for this death, and a line shows why
)

// Link steps, in the order they happen.
const (
	StepExecFailure   = "exec-failure"
	StepConfigMissing = "config-missing"
	StepKernelOOM     = "kernel-oom-kill"
	StepSegfault      = "kernel-segfault"
	StepProbe         = "probe-failure"
	StepKilling       = "kubelet-killing"
	StepTaskOOM       = "containerd-task-oom"
	StepContainerd    = "containerd-exit"
	StepKubelet       = "kubelet-exit"
	StepBackOff       = "back-off"
)

// Chain is the causal chain of one container death (or of one failure to start), each link
// joined to the chain by an equal identifier, never by time proximity alone.
type Chain struct {
	Cause       string    `json:"cause" yaml:"cause"` // oom, segfault, killed (by kubelet), sigkill, exec-failure, config-missing, exit
	Time        time.Time `json:"time,omitzero" yaml:"time,omitempty"`
	Namespace   string    `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Pod         string    `json:"pod,omitempty" yaml:"pod,omitempty"`
	PodUID      string    `json:"podUID,omitempty" yaml:"podUID,omitempty"`
	Container   string    `json:"container,omitempty" yaml:"container,omitempty"`
	ContainerID string    `json:"containerID,omitempty" yaml:"containerID,omitempty"`
	PID         int       `json:"pid,omitempty" yaml:"pid,omitempty"`
	ExitCode    *int      `json:"exitCode,omitempty" yaml:"exitCode,omitempty"`
	Links       []Link    `json:"links" yaml:"links"`
	Complete    bool      `json:"complete" yaml:"complete"` // no link is Missing
	Unproven    []string  `json:"unproven,omitempty" yaml:"unproven,omitempty"`
}

// Link is one step of a chain with the line that proves it, or why none does.
type Link struct {
	Step     string            `json:"step" yaml:"step"`
	Status   string            `json:"status" yaml:"status"`
	JoinedBy string            `json:"joinedBy,omitempty" yaml:"joinedBy,omitempty"` // the identifier that ties it to the previous links
	Time     time.Time         `json:"time,omitzero" yaml:"time,omitempty"`
	Summary  string            `json:"summary,omitempty" yaml:"summary,omitempty"`
	Ref      *evidence.LineRef `json:"ref,omitempty" yaml:"ref,omitempty"`
	Why      string            `json:"why,omitempty" yaml:"why,omitempty"`
}

// death gathers the facts about one container ID.
type death struct {
	id                       string
	oom, taskOOM, segv       *facts.Fact
	ctrdExit, kubeExit, exec *facts.Fact
	first                    time.Time
}

func (d *death) any() *facts.Fact {
	for _, f := range []*facts.Fact{d.kubeExit, d.ctrdExit, d.oom, d.segv, d.taskOOM, d.exec} {
		if f != nil {
			return f
		}
	}
	return nil
}

func (d *death) note(f *facts.Fact) {
	if t := f.Ref.Time; !t.IsZero() && (d.first.IsZero() || t.Before(d.first)) {
		d.first = t
	}
}

func nonZeroExit(f *facts.Fact) bool {
	return f.Kind == facts.ContainerExit && f.ExitCode != nil && *f.ExitCode != 0
}

func isContainerd(f *facts.Fact) bool { return strings.HasPrefix(f.Source, "containerd-") }
func isKubelet(f *facts.Fact) bool    { return strings.HasPrefix(f.Source, "kubelet-") }

// sources says which kinds of evidence the bundle holds, to explain a missing link.
type sources struct{ kernel, containerd, kubelet bool }

func bundleSources(idx *index.Index) sources {
	var s sources
	for _, f := range idx.Files {
		switch f.LogType {
		case "dmesg", "messages":
			s.kernel = true
		case "journal":
			s.kernel, s.containerd, s.kubelet = true, true, true
		case "containerd":
			s.containerd = true
		case "kubelet":
			s.kubelet = true
		}
	}
	return s
}

// chains builds one chain per container death (and per failure to start) whose facts touch a
// window.
func chains(idx *index.Index, scoped []*facts.Fact, windows []span) []Chain {
	src := bundleSources(idx)
	deaths, starts := groupDeaths(scoped)
	inWin := func(t time.Time) bool {
		for _, w := range windows {
			if !t.Before(w.from) && !t.After(w.to) {
				return true
			}
		}
		return false
	}
	backOffs := ofKind(scoped, facts.BackOff)
	kills, probes := ofKind(scoped, facts.Killing), ofKind(scoped, facts.ProbeFailure)
	lives := newLives(deaths, starts)

	var out []Chain
	for _, d := range deaths {
		if d.first.IsZero() || !inWin(d.first) {
			continue
		}
		// kubelet's own kill of the container (liveness probe, preStop, eviction) and the probe
		// failure that decided it, within this life of the container.
		var kill, probe *facts.Fact
		if f := d.any(); f.PodUID != "" && f.Container != "" {
			since := lives.prev(f.PodUID+"/"+f.Container, d.first)
			if kill = latest(kills, f.PodUID, f.Container, since, d.first); kill != nil {
				probe = latest(probes, f.PodUID, f.Container, since, kill.Ref.Time)
			}
		}
		out = append(out, deathChain(d, kill, probe, src, backOffs, lives.next))
	}
	for _, f := range starts {
		if f.Ref.Time.IsZero() || !inWin(f.Ref.Time) {
			continue
		}
		out = append(out, startChain(f, backOffs, lives.next))
	}
	slices.SortStableFunc(out, func(a, b Chain) int { return a.Time.Compare(b.Time) })
	return out
}

// groupDeaths gathers the facts of each container death by container id, in time order, and
// the failures to start that have no death of their own.
func groupDeaths(scoped []*facts.Fact) (deaths []*death, starts []*facts.Fact) {
	byID := map[string]*death{}
	var order []string
	get := func(id string) *death {
		d := byID[id]
		if d == nil {
			d = &death{id: id}
			byID[id] = d
			order = append(order, id)
		}
		return d
	}
	// Containerd exits by pid: the only join for a segfault the indexer could not tie to a
	// container itself.
	exitByPID := map[int]*facts.Fact{}
	for _, f := range scoped {
		if nonZeroExit(f) && isContainerd(f) && f.PID > 0 {
			exitByPID[f.PID] = f
		}
	}
	for _, f := range scoped {
		id := f.ContainerID
		if id == "" && f.Kind == facts.Segfault && f.PID > 0 {
			if e := exitByPID[f.PID]; e != nil {
				id = e.ContainerID
			}
		}
		if f.Kind == facts.ExecFailure || f.Kind == facts.ConfigMissing {
			if id != "" && byID[id] != nil {
				byID[id].exec = f
			} else {
				starts = append(starts, f)
			}
			continue
		}
		if id != "" {
			addToDeath(get, id, f)
		}
	}
	// Exec failures that name a container ID whose exit comes later in the list.
	kept := starts[:0]
	for _, f := range starts {
		if d := byID[f.ContainerID]; f.ContainerID != "" && d != nil {
			d.exec = f
			continue
		}
		kept = append(kept, f)
	}
	starts = kept

	deaths = make([]*death, 0, len(order))
	for _, id := range order {
		d := byID[id]
		// A lone TaskOOM or OOM kill of a container that did not die (a child process was the
		// victim) is not a death; a nonzero exit, from either side, is what makes one.
		if d.ctrdExit == nil && d.kubeExit == nil && d.segv == nil && d.oom == nil {
			continue
		}
		deaths = append(deaths, d)
	}
	slices.SortStableFunc(deaths, func(a, b *death) int { return a.first.Compare(b.first) })
	return deaths, starts
}

// addToDeath files a fact of container id under its death, when it is one a death is made of.
func addToDeath(get func(string) *death, id string, f *facts.Fact) {
	switch {
	case f.Kind == facts.OOMKill:
		d := get(id)
		if d.oom == nil {
			d.oom = f
		}
		d.note(f)
	case f.Kind == facts.TaskOOM:
		d := get(id)
		if d.taskOOM == nil {
			d.taskOOM = f
		}
		d.note(f)
	case f.Kind == facts.Segfault:
		d := get(id)
		if d.segv == nil {
			d.segv = f
		}
		d.note(f)
	case nonZeroExit(f):
		d := get(id)
		if isContainerd(f) && d.ctrdExit == nil {
			d.ctrdExit = f
		} else if isKubelet(f) && d.kubeExit == nil {
			d.kubeExit = f
		}
		d.note(f)
	}
}

func ofKind(fs []*facts.Fact, k facts.Kind) []*facts.Fact {
	out := make([]*facts.Fact, 0)
	for _, f := range fs {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// lives are the failures of each container (pod UID and name), by time: the next one bounds a
// death's back-off search (a back-off after it belongs to that one), the previous one where
// this life of the container began.
type lives []failure

type failure struct {
	key string
	t   time.Time
}

func newLives(deaths []*death, starts []*facts.Fact) lives {
	var fails lives
	for _, d := range deaths {
		if f := d.any(); f.PodUID != "" && f.Container != "" {
			fails = append(fails, failure{f.PodUID + "/" + f.Container, d.first})
		}
	}
	for _, f := range starts {
		if f.PodUID != "" && f.Container != "" {
			fails = append(fails, failure{f.PodUID + "/" + f.Container, f.Ref.Time})
		}
	}
	return fails
}

// next is the first failure of key after t.
func (l lives) next(key string, after time.Time) (time.Time, bool) {
	var best time.Time
	for _, x := range l {
		if x.key == key && x.t.After(after) && (best.IsZero() || x.t.Before(best)) {
			best = x.t
		}
	}
	return best, !best.IsZero()
}

// prev is the last failure of key before t, or zero.
func (l lives) prev(key string, before time.Time) time.Time {
	var best time.Time
	for _, x := range l {
		if x.key == key && x.t.Before(before) && x.t.After(best) {
			best = x.t
		}
	}
	return best
}

// latest is the newest fact of list about the pod UID and container in (after, until].
func latest(list []*facts.Fact, uid, ctr string, after, until time.Time) *facts.Fact {
	var best *facts.Fact
	for _, f := range list {
		t := f.Ref.Time
		if f.PodUID != uid || f.Container != ctr || t.IsZero() || !t.After(after) || t.After(until) {
			continue
		}
		if best == nil || t.After(best.Ref.Time) {
			best = f
		}
	}
	return best
}

func refOf(f *facts.Fact) *evidence.LineRef {
	r := f.Ref
	return &r
}

func proven(step, joined string, f *facts.Fact) Link {
	return Link{Step: step, Status: Proven, JoinedBy: joined, Time: f.Ref.Time, Summary: summarize(f), Ref: refOf(f)}
}

func deathChain(d *death, kill, probe *facts.Fact, src sources, backOffs []*facts.Fact, next func(string, time.Time) (time.Time, bool)) Chain {
	c := Chain{ContainerID: d.id, Time: d.first}
	for _, f := range []*facts.Fact{d.kubeExit, d.ctrdExit, d.oom, d.segv, d.taskOOM, d.exec} {
		if f == nil {
			continue
		}
		fillStr(&c.Namespace, f.Namespace)
		fillStr(&c.Pod, f.Pod)
		fillStr(&c.PodUID, f.PodUID)
		fillStr(&c.Container, f.Container)
		if c.ExitCode == nil && nonZeroExit(f) {
			c.ExitCode = f.ExitCode
		}
	}
	if d.ctrdExit != nil {
		c.PID = d.ctrdExit.PID
	}
	c.Cause = d.cause(c.ExitCode, kill)
	c.Links = append(d.causeLinks(c.Cause, kill, probe, src), d.containerdLink(src), d.kubeletLink(src),
		backOffLink(c.PodUID, c.Container, d.first, backOffs, next))
	finish(&c)
	return c
}

// cause is what ended the container, from the strongest record there is: the kernel's OOM or
// segfault, the runtime's exec failure, kubelet's kill, and only then the exit code.
func (d *death) cause(exitCode *int, kill *facts.Fact) string {
	code := 0
	if exitCode != nil {
		code = *exitCode
	}
	reasonOOM := (d.kubeExit != nil && d.kubeExit.Reason == "OOMKilled") || (d.ctrdExit != nil && d.ctrdExit.Reason == "OOMKilled")
	switch {
	case d.oom != nil || d.taskOOM != nil || reasonOOM:
		return "oom"
	case d.segv != nil || code == 139:
		return "segfault"
	case d.exec != nil && d.exec.Kind == facts.ExecFailure:
		return "exec-failure"
	case kill != nil:
		return "killed"
	case code == 137:
		return "sigkill"
	}
	return "exit"
}

// causeLinks are the chain's first links: the record of what killed the container.
func (d *death) causeLinks(cause string, kill, probe *facts.Fact, src sources) []Link {
	var links []Link
	if d.exec != nil {
		step := StepExecFailure
		if d.exec.Kind == facts.ConfigMissing {
			step = StepConfigMissing
		}
		links = append(links, proven(step, "container ID", d.exec))
	}
	switch cause {
	case "oom":
		links = append(links, kernelLink(StepKernelOOM, d.oom, d.ctrdExit, src, "kernel OOM"))
		if d.taskOOM != nil {
			links = append(links, proven(StepTaskOOM, "container ID", d.taskOOM))
		}
	case "segfault":
		links = append(links, kernelLink(StepSegfault, d.segv, d.ctrdExit, src, "segfault"))
	case "killed":
		if probe != nil {
			links = append(links, proven(StepProbe, "pod UID + container name", probe))
		}
		links = append(links, proven(StepKilling, "pod UID + container name", kill))
	case "sigkill":
		// 137 is SIGKILL: the OOM killer is the usual sender, but without its record the kill
		// cannot be attributed.
		l := kernelLink(StepKernelOOM, nil, d.ctrdExit, src, "OOM")
		l.Why = "exit 137 (SIGKILL) with no kubelet kill logged: " + l.Why + ", or the process was killed from outside"
		links = append(links, l)
	}
	return links
}

// containerdLink is containerd's exit event, or why there is none.
func (d *death) containerdLink(src sources) Link {
	switch {
	case d.ctrdExit != nil:
		joined := "container ID"
		if k := firstNonNil(d.oom, d.segv); k != nil && k.PID > 0 && k.PID == d.ctrdExit.PID {
			joined = "container ID + pid"
		}
		return proven(StepContainerd, joined, d.ctrdExit)
	case d.exec != nil && d.exec.Kind == facts.ExecFailure:
		// The task never started, so containerd has no exit to report; the runtime's failure line is the record.
		return Link{Step: StepContainerd, Status: NotApplicable,
			Why: "the task never started: the runtime reported the exec failure at " + d.exec.Ref.String() + " instead of an exit"}
	case !src.containerd:
		return Link{Step: StepContainerd, Status: Missing, Why: "no containerd log in the bundle"}
	}
	return Link{Step: StepContainerd, Status: Missing,
		Why: "no containerd exit event for container " + short(d.id) + ": the containerd log may have rotated past it"}
}

// kubeletLink is kubelet's PLEG exit, or why there is none; a code that differs from
// containerd's is said.
func (d *death) kubeletLink(src sources) Link {
	switch {
	case d.kubeExit != nil:
		l := proven(StepKubelet, "container ID", d.kubeExit)
		if d.ctrdExit != nil && d.ctrdExit.ExitCode != nil && d.kubeExit.ExitCode != nil && *d.ctrdExit.ExitCode != *d.kubeExit.ExitCode {
			l.Why = fmt.Sprintf("kubelet reports exit code %d, containerd %d", *d.kubeExit.ExitCode, *d.ctrdExit.ExitCode)
		}
		return l
	case !src.kubelet:
		return Link{Step: StepKubelet, Status: Missing, Why: "no kubelet log in the bundle"}
	}
	return Link{Step: StepKubelet, Status: Missing,
		Why: "no kubelet PLEG exit for container " + short(d.id) + ": kubelet's journal may have rotated past it"}
}

// kernelLink is the kernel's record of the kill, joined to the container by the container ID
// the indexer read from its cgroup path; a pid that differs from containerd's is said, because
// then the victim was a child of the container's main process.
func kernelLink(step string, k, ctrd *facts.Fact, src sources, what string) Link {
	if k == nil {
		why := "no kernel " + what + " record for this container: ring buffer rotated before capture"
		if !src.kernel {
			why = "no kernel " + what + " record: dmesg and syslog are absent from the bundle"
		}
		return Link{Step: step, Status: Missing, Why: why}
	}
	joined := "container ID (cgroup)"
	if k.ContainerID == "" {
		joined = "pid"
	}
	l := proven(step, joined, k)
	if ctrd != nil && ctrd.PID > 0 && k.PID > 0 {
		if ctrd.PID == k.PID {
			if k.ContainerID != "" {
				l.JoinedBy += " + pid"
			}
		} else {
			l.Why = fmt.Sprintf("killed pid %d is not the container's main pid %d (a child process)", k.PID, ctrd.PID)
		}
	}
	return l
}

func firstNonNil(fs ...*facts.Fact) *facts.Fact {
	for _, f := range fs {
		if f != nil {
			return f
		}
	}
	return nil
}

// backOffLink finds the back-off of the same pod UID and container after the failure and
// before that container's next failure.
func backOffLink(uid, ctr string, after time.Time, backOffs []*facts.Fact, next func(string, time.Time) (time.Time, bool)) Link {
	if uid == "" || ctr == "" {
		return Link{Step: StepBackOff, Status: Missing, Why: "pod UID or container name unknown: no line ties this container to a pod, so no back-off can be joined"}
	}
	key := uid + "/" + ctr
	until, hasNext := next(key, after)
	for _, b := range backOffs {
		t := b.Ref.Time
		if b.PodUID != uid || b.Container != ctr || t.IsZero() || !t.After(after) || (hasNext && !t.Before(until)) {
			continue
		}
		return proven(StepBackOff, "pod UID + container name", b)
	}
	if hasNext {
		return Link{Step: StepBackOff, Status: NotApplicable,
			Why: "no back-off logged before the next failure at " + until.Format(time.RFC3339) + ": kubelet restarted the container at once"}
	}
	return Link{Step: StepBackOff, Status: Missing,
		Why: "no back-off logged after this failure for pod UID " + uid + " container " + ctr + ": the bundle may end before kubelet's next sync, or the pod was deleted"}
}

func startChain(f *facts.Fact, backOffs []*facts.Fact, next func(string, time.Time) (time.Time, bool)) Chain {
	c := Chain{Time: f.Ref.Time, Namespace: f.Namespace, Pod: f.Pod, PodUID: f.PodUID, Container: f.Container, ContainerID: f.ContainerID}
	step := StepExecFailure
	c.Cause = "exec-failure"
	if f.Kind == facts.ConfigMissing {
		step, c.Cause = StepConfigMissing, "config-missing"
	}
	c.Links = append(c.Links, proven(step, "", f))
	l := backOffLink(f.PodUID, f.Container, f.Ref.Time, backOffs, next)
	if f.Kind == facts.ConfigMissing && l.Status == Missing {
		// A container whose config cannot be built never starts, so it cannot crash: kubelet
		// reports CreateContainerConfigError (or, for a volume, keeps the pod in
		// ContainerCreating) and retries at every sync without a CrashLoopBackOff.
		l.Status = NotApplicable
		l.Why = "the container never started: kubelet retries at every sync without a back-off (CreateContainerConfigError or ContainerCreating)"
		if f.Repeats > 0 && f.LastRef != nil {
			l.Why += fmt.Sprintf("; the failure repeats %d more times until %s", f.Repeats, f.LastRef)
		}
	}
	c.Links = append(c.Links, l)
	finish(&c)
	return c
}

func finish(c *Chain) {
	c.Complete = true
	for _, l := range c.Links {
		if l.Status == Missing {
			c.Complete = false
			c.Unproven = append(c.Unproven, l.Step+": "+l.Why)
		}
	}
}

func fillStr(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
