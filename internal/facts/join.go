package facts

import "time"

// pidJoinWindow bounds how far apart a kernel kill or segfault and containerd's exit event for the
// same host pid may be. They are milliseconds apart in fact; the slack covers dmesg seconds
// anchored to wall time through an integer boot time, and sched_clock drift over long uptimes.
const pidJoinWindow = 10 * time.Second

// uniq records the one value a key maps to, or that the lines disagree (then it is not used).
type uniq[V comparable] map[string]struct {
	v        V
	conflict bool
}

func (u uniq[V]) add(k string, v V) {
	if k == "" {
		return
	}
	old, ok := u[k]
	if !ok {
		u[k] = struct {
			v        V
			conflict bool
		}{v: v}
		return
	}
	if old.v != v {
		old.conflict = true
		u[k] = old
	}
}

func (u uniq[V]) get(k string) (V, bool) {
	e, ok := u[k]
	if !ok || e.conflict {
		var zero V
		return zero, false
	}
	return e.v, true
}

type podName struct{ ns, name string }

type createdCtr struct {
	name, sandbox string
	attempt       *int
}

// Join fills the names of pods and containers across the facts of all files, in place, and
// returns all. Every filled field comes from a line that states the link:
//   - container ID → container name, attempt, sandbox (containerd CreateContainer);
//   - sandbox ID → pod, namespace, pod UID (containerd RunPodSandbox);
//   - pod UID → namespace/name (kubelet lines that print both: PLEG events, back-off, Killing, …);
//   - container ID → pod UID (PLEG finished and events, Killing, a kernel cgroup path);
//   - kernel OOM/segfault pid → container ID, through containerd's exit event for the same host pid
//     within pidJoinWindow (both lines must have a time);
//   - failing that, a kernel segfault (or OOM kill) → the one container whose exit with code
//     128+signal (kubelet's PLEG or containerd) follows it within pidJoinWindow: containerd
//     1.6.0–1.6.36 and 1.7.0–1.7.23 log exit events only at debug level, so on most nodes no line
//     carries the container's pid;
//   - a container exit whose container had a TaskOOM gets reason OOMKilled, as containerd's CRI
//     status reports it.
//
// Container exits and PLEG events whose ID is a known sandbox (RunPodSandbox returned it, or
// containerd logged a sandbox exit for it) are re-labelled as sandbox events.
// Join and Dedupe may run in either order: Dedupe ignores the fields Join fills when it compares.
func Join(all []Fact) []Fact {
	j := newJoiner()
	for i := range all {
		j.learn(&all[i])
	}
	j.indexExits(all)
	for i := range all {
		j.fill(&all[i])
	}
	return all
}

// joiner is what the facts of a bundle say about each other: the sandboxes and containers
// created, which IDs are sandboxes, pod names by UID, and container exits by pid and code.
type joiner struct {
	sandboxes map[string]*Fact
	created   map[string]createdCtr
	pods      uniq[podName]
	ctrPod    uniq[string]
	ctrName   uniq[string]
	oomed     map[string]bool
	// isSandbox holds every ID a line proves to be a pod sandbox: RunPodSandbox returned it, or
	// containerd logged its exit as a sandbox's.
	isSandbox   map[string]bool
	exitsByPID  map[int][]pidExit
	exitsByCode map[int][]pidExit
}

func newJoiner() *joiner {
	return &joiner{sandboxes: map[string]*Fact{}, created: map[string]createdCtr{}, pods: uniq[podName]{},
		ctrPod: uniq[string]{}, ctrName: uniq[string]{}, oomed: map[string]bool{}, isSandbox: map[string]bool{},
		exitsByPID: map[int][]pidExit{}, exitsByCode: map[int][]pidExit{}}
}

// learn records what one fact says about sandboxes, containers and pods.
func (j *joiner) learn(f *Fact) {
	switch f.Kind {
	case SandboxCreated:
		if _, ok := j.sandboxes[f.SandboxID]; !ok {
			j.sandboxes[f.SandboxID] = f
		}
		j.isSandbox[f.SandboxID] = true
	case ContainerCreated:
		if _, ok := j.created[f.ContainerID]; !ok {
			j.created[f.ContainerID] = createdCtr{name: f.Container, sandbox: f.SandboxID, attempt: f.Attempt}
		}
	case TaskOOM:
		j.oomed[f.ContainerID] = true
	case SandboxExit:
		j.isSandbox[f.SandboxID] = true
	}
	if f.PodUID != "" && f.Pod != "" && f.Namespace != "" {
		j.pods.add(f.PodUID, podName{f.Namespace, f.Pod})
	}
	if f.ContainerID != "" && f.PodUID != "" {
		j.ctrPod.add(f.ContainerID, f.PodUID)
	}
	if f.ContainerID != "" && f.Container != "" && f.Kind != ContainerCreated {
		j.ctrName.add(f.ContainerID, f.Container)
	}
}

// indexExits files the timed container exits (not sandboxes') by pid and by signal exit code,
// for the kernel's reports to find their container.
func (j *joiner) indexExits(all []Fact) {
	for i := range all {
		f := &all[i]
		if f.Kind != ContainerExit || f.ContainerID == "" || f.Ref.Time.IsZero() || j.isSandbox[f.ContainerID] {
			continue
		}
		if f.Source == ExtTaskExit && f.PID > 0 {
			j.exitsByPID[f.PID] = append(j.exitsByPID[f.PID], pidExit{f.ContainerID, f.Ref.Time})
		}
		if f.ExitCode != nil && *f.ExitCode > 128 {
			j.exitsByCode[*f.ExitCode] = append(j.exitsByCode[*f.ExitCode], pidExit{f.ContainerID, f.Ref.Time})
		}
	}
}

// fill completes one fact from what the others said.
func (j *joiner) fill(f *Fact) {
	if f.ContainerID != "" && j.isSandbox[f.ContainerID] {
		switch f.Kind {
		case ContainerExit:
			f.Kind = SandboxExit
			f.SandboxID, f.ContainerID = f.ContainerID, ""
		case ContainerDied, ContainerStarted:
			f.SandboxID, f.ContainerID = f.ContainerID, ""
		}
	}
	if f.Kind == OOMKill || f.Kind == Segfault {
		joinKernel(f, j.exitsByPID, j.exitsByCode)
	}
	if id := f.ContainerID; id != "" {
		j.fillContainer(f, id)
	}
	if s := j.sandboxes[f.SandboxID]; s != nil && f.SandboxID != "" {
		fill(&f.PodUID, s.PodUID)
		if f.PodUID == s.PodUID {
			fill(&f.Pod, s.Pod)
			fill(&f.Namespace, s.Namespace)
		}
	}
	if f.PodUID != "" && (f.Pod == "" || f.Namespace == "") {
		if p, ok := j.pods.get(f.PodUID); ok && (f.Pod == "" || f.Pod == p.name) {
			fill(&f.Pod, p.name)
			fill(&f.Namespace, p.ns)
		}
	}
}

// fillContainer completes a fact of container id: its name, sandbox and attempt from its
// creation, its pod UID, and an exit's OOMKilled reason from containerd's OOM event.
func (j *joiner) fillContainer(f *Fact, id string) {
	if c, ok := j.created[id]; ok {
		fill(&f.Container, c.name)
		fill(&f.SandboxID, c.sandbox)
		if f.Attempt == nil {
			f.Attempt = c.attempt
		}
	} else if n, ok := j.ctrName.get(id); ok {
		fill(&f.Container, n)
	}
	if u, ok := j.ctrPod.get(id); ok {
		fill(&f.PodUID, u)
	}
	if f.Kind == ContainerExit && f.Reason == "" && j.oomed[id] {
		f.Reason = "OOMKilled"
	}
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// pidExit is a containerd exit event of a container's init process.
type pidExit struct {
	containerID string
	t           time.Time
}

// joinKernel ties a kernel OOM kill or segfault to its container: by the cgroup its report
// names, else by containerd's exit event of the same pid, else by the one exit with the code its
// signal gives that follows it.
func joinKernel(f *Fact, byPID, byCode map[int][]pidExit) {
	switch {
	case f.ContainerID != "":
		if f.JoinedBy == "" {
			f.JoinedBy = "cgroup"
		}
		return
	case f.PID > 0:
		if id := containerByPID(byPID[f.PID], f.Ref.Time); id != "" {
			f.ContainerID, f.JoinedBy = id, "pid"
			return
		}
	}
	sig := f.Signal
	if f.Kind == OOMKill {
		sig = 9
	}
	if sig <= 0 {
		return
	}
	if id := onlyExitAfter(byCode[128+sig], f.Ref.Time); id != "" {
		f.ContainerID, f.JoinedBy = id, "exit code"
	}
}

// onlyExitAfter returns the container of the exits that follow t (allowing for a second of clock
// skew) within pidJoinWindow, when they are all the same container; "" when none or several.
func onlyExitAfter(exits []pidExit, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	found := ""
	for _, e := range exits {
		d := e.t.Sub(t)
		if d < -time.Second || d > pidJoinWindow {
			continue
		}
		if found != "" && found != e.containerID {
			return ""
		}
		found = e.containerID
	}
	return found
}

// containerByPID returns the container of the exit event closest in time to t and within
// pidJoinWindow, or "".
func containerByPID(exits []pidExit, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	best, bestD := "", pidJoinWindow+1
	for _, e := range exits {
		d := e.t.Sub(t)
		if d < 0 {
			d = -d
		}
		if d <= pidJoinWindow && d < bestD {
			best, bestD = e.containerID, d
		}
	}
	return best
}
