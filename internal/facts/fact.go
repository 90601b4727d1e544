// Package facts extracts typed crash events (container exits, OOM kills, segfaults, back-offs,
// exec and config failures) from node log lines, and joins them by pod UID, container ID and PID.
//
// The indexer feeds each file's matched lines, in order, to an Assembler (one per file), which
// runs the extractor the matching rule names and merges the lines of a kernel OOM block. Once
// every file is read, Join fills pod and container names across files, Dedupe merges the copies
// of one event that several files hold, and Sort gives the order of every output. Nothing is
// filled in without a line that states it.
package facts

import (
	"fmt"

	"github.com/nodediag/nodediag/internal/evidence"
)

// Kind names a type of crash fact.
type Kind string

const (
	ContainerExit    Kind = "ContainerExit"    // a container's main process ended, with its exit code
	BackOff          Kind = "BackOff"          // kubelet delays a restart (CrashLoopBackOff), with the delay
	OOMKill          Kind = "OOMKill"          // the kernel OOM killer killed a process (cgroup or global scope)
	TaskOOM          Kind = "TaskOOM"          // containerd saw an OOM event for a container
	Segfault         Kind = "Segfault"         // kernel "segfault at" or "traps:" line
	ExecFailure      Kind = "ExecFailure"      // entrypoint not found / permission denied / exec format error
	ConfigMissing    Kind = "ConfigMissing"    // ConfigMap, Secret or volume the pod needs does not exist
	ProbeFailure     Kind = "ProbeFailure"     // liveness/readiness/startup probe failed
	ImagePull        Kind = "ImagePull"        // image pull failed or backed off
	Killing          Kind = "Killing"          // kubelet kills a container with a grace period
	SandboxCreated   Kind = "SandboxCreated"   // containerd RunPodSandbox returned a sandbox id (join data)
	ContainerCreated Kind = "ContainerCreated" // containerd CreateContainer returned a container id (join data)
	ContainerStarted Kind = "ContainerStarted" // kubelet PLEG ContainerStarted (join data)
	ContainerDied    Kind = "ContainerDied"    // kubelet PLEG ContainerDied (join data: pod UID ↔ container or sandbox ID)
	SandboxExit      Kind = "SandboxExit"      // containerd exit event of a pod sandbox (pause), kept apart from container exits

	// OOMPart is one line of a kernel OOM block that is not itself a kill ("invoked oom-killer",
	// "memory: usage", "Task in … killed as a result of limit of …", the memory.oom.group line, a
	// v1 "Kill process … or sacrifice child" selection). Extract returns it so each line can be
	// tested alone; an Assembler folds it into the OOMKill facts of its block and never emits it.
	OOMPart Kind = "OOMPart"
)

// Fact is one typed event read from one line (or a short block of lines) of a bundle.
// Fields that do not apply to a kind stay empty and are omitted from output.
type Fact struct {
	Kind Kind               `json:"kind" yaml:"kind"`
	Ref  evidence.LineRef   `json:"ref" yaml:"ref"`
	Also []evidence.LineRef `json:"also,omitempty" yaml:"also,omitempty"` // the same event seen in other files (dmesg and messages)
	// Block lists the other lines of a kernel OOM report that an OOMKill was completed from, in
	// line order: "invoked oom-killer", "memory: usage … limit …", "Task in …", the
	// "oom-kill:constraint=…" summary and the memory.oom.group line. They prove the cgroup, the
	// usage and the limit the kill line itself does not state, so a diagnosis cites them too.
	Block  []evidence.LineRef `json:"block,omitempty" yaml:"block,omitempty"`
	Source string             `json:"source" yaml:"source"` // which wording it was read from, e.g. "kubelet-pleg", "containerd-exit-event", "kernel-oom-kill"

	Namespace   string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Pod         string `json:"pod,omitempty" yaml:"pod,omitempty"`
	PodUID      string `json:"podUID,omitempty" yaml:"podUID,omitempty"` // always dashed form
	Container   string `json:"container,omitempty" yaml:"container,omitempty"`
	ContainerID string `json:"containerID,omitempty" yaml:"containerID,omitempty"` // 64 hex, no scheme
	SandboxID   string `json:"sandboxID,omitempty" yaml:"sandboxID,omitempty"`
	Attempt     *int   `json:"attempt,omitempty" yaml:"attempt,omitempty"`

	ExitCode *int   `json:"exitCode,omitempty" yaml:"exitCode,omitempty"`
	Reason   string `json:"reason,omitempty" yaml:"reason,omitempty"`
	Signal   int    `json:"signal,omitempty" yaml:"signal,omitempty"` // exit code 128+N → N

	Delay        string  `json:"delay,omitempty" yaml:"delay,omitempty"` // Go duration as logged, "1m20s"
	DelaySeconds float64 `json:"delaySeconds,omitempty" yaml:"delaySeconds,omitempty"`

	Scope      string `json:"scope,omitempty" yaml:"scope,omitempty"` // OOMKill: "cgroup" or "global"
	Constraint string `json:"constraint,omitempty" yaml:"constraint,omitempty"`
	Process    string `json:"process,omitempty" yaml:"process,omitempty"`
	PID        int    `json:"pid,omitempty" yaml:"pid,omitempty"`
	// JoinedBy says how a kernel kill or segfault was tied to its container: "cgroup" (the OOM
	// report names the container's cgroup), "pid" (containerd's exit event of the same host pid)
	// or "exit code" (the only container to exit with 128+signal just after it: the weakest).
	JoinedBy  string `json:"joinedBy,omitempty" yaml:"joinedBy,omitempty"`
	Memcg     string `json:"memcg,omitempty" yaml:"memcg,omitempty"`         // oom_memcg: the cgroup whose limit was hit
	TaskMemcg string `json:"taskMemcg,omitempty" yaml:"taskMemcg,omitempty"` // the victim's cgroup
	AnonRSSKB int64  `json:"anonRssKB,omitempty" yaml:"anonRssKB,omitempty"`
	FileRSSKB int64  `json:"fileRssKB,omitempty" yaml:"fileRssKB,omitempty"`
	TotalVMKB int64  `json:"totalVmKB,omitempty" yaml:"totalVmKB,omitempty"`
	UsageKB   int64  `json:"usageKB,omitempty" yaml:"usageKB,omitempty"`
	LimitKB   int64  `json:"limitKB,omitempty" yaml:"limitKB,omitempty"`

	Addr      string `json:"addr,omitempty" yaml:"addr,omitempty"` // segfault: faulting address
	IP        string `json:"ip,omitempty" yaml:"ip,omitempty"`
	SP        string `json:"sp,omitempty" yaml:"sp,omitempty"`
	ErrorCode string `json:"errorCode,omitempty" yaml:"errorCode,omitempty"`
	Object    string `json:"object,omitempty" yaml:"object,omitempty"` // binary or library the ip fell in

	FailureKind string `json:"failureKind,omitempty" yaml:"failureKind,omitempty"` // ExecFailure: not-found|permission|exec-format|library; ConfigMissing: configmap|secret|volume; ProbeFailure: liveness|readiness|startup
	Path        string `json:"path,omitempty" yaml:"path,omitempty"`
	Name        string `json:"name,omitempty" yaml:"name,omitempty"` // missing ConfigMap/Secret/volume name
	Image       string `json:"image,omitempty" yaml:"image,omitempty"`
	GracePeriod *int   `json:"gracePeriod,omitempty" yaml:"gracePeriod,omitempty"`
	Message     string `json:"message,omitempty" yaml:"message,omitempty"` // short human detail, e.g. probe output or error text

	// Repeats counts the further lines that said the same thing about the same subject (kubelet
	// logs a back-off or a missing ConfigMap at every sync); LastRef is the latest of them.
	Repeats int               `json:"repeats,omitempty" yaml:"repeats,omitempty"`
	LastRef *evidence.LineRef `json:"lastRef,omitempty" yaml:"lastRef,omitempty"`
}

// KiB renders a kernel kB figure in the unit people set limits in: whole GiB when exact, else
// whole MiB (rounded down, as the kernel's own figures are), else KiB. Every output says a
// figure one way: the CLI and the diagnosis once printed the same anon-rss as 496MiB and 497MiB.
func KiB(k int64) string {
	switch {
	case k <= 0:
		return "unknown"
	case k%(1<<20) == 0:
		return fmt.Sprintf("%dGiB", k>>20)
	case k >= 1<<10:
		return fmt.Sprintf("%dMiB", k>>10)
	}
	return fmt.Sprintf("%dKiB", k)
}
