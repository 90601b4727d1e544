package diagnose

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/logtime"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// fact builds a fact of the shop/api-1 pod's api container, n seconds after t0, on line n of a
// file named after its component.
func fact(kind facts.Kind, source string, n int, mod func(*facts.Fact)) facts.Fact {
	file := map[string]string{"kernel": "kernel/dmesg.human.current", "kubelet": "kubelet/kubelet.log", "containerd": "containerd/containerd-log.txt"}[strings.SplitN(source, "-", 2)[0]]
	f := facts.Fact{Kind: kind, Source: source, Namespace: "shop", Pod: "api-1", PodUID: "u-1", Container: "api",
		Ref: evidence.LineRef{File: file, Line: n, Time: t0.Add(time.Duration(n) * time.Second), TimeQuality: logtime.Exact}}
	if mod != nil {
		mod(&f)
	}
	return f
}

func exit(code, n int, id string) facts.Fact {
	return fact(facts.ContainerExit, "kubelet-pleg", n, func(f *facts.Fact) { f.ExitCode = &code; f.ContainerID = id })
}

func probe(kind string, n int) facts.Fact {
	return fact(facts.ProbeFailure, "kubelet-probe", n, func(f *facts.Fact) { f.FailureKind = kind; f.Message = "HTTP probe failed with statuscode: 500" })
}

func killing(grace, n int) facts.Fact {
	return fact(facts.Killing, "kubelet-killing", n, func(f *facts.Fact) { f.GracePeriod = &grace })
}

func backoff(delay string, n int) facts.Fact {
	return fact(facts.BackOff, "kubelet-backoff", n, func(f *facts.Fact) { f.Delay = delay })
}

// podWith builds the api-1 pod whose api container last terminated with code and reason.
func podWith(code int32, reason, memLimit string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "shop", UID: "u-1"}}
	c := corev1.Container{Name: "api"}
	if memLimit != "" {
		c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memLimit)}
	}
	p.Spec.Containers = []corev1.Container{c}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "api", RestartCount: 3,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}}
	return p
}

func TestClassifyHandBuilt(t *testing.T) {
	const memcgPod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podu_1.slice"
	tests := []struct {
		name      string
		facts     []facts.Fact
		in        Input
		class     string
		level     string
		meaning   string
		detail    string // a word the root cause must contain
		gap       string // a gap that must be listed
		escalates string // a word an escalation must contain
		xref      string // a prefix a cross-reference must start with
	}{
		{
			// No probe failed before the kill: a deletion or rollout, not the container's crash.
			name:  "137 with a kubelet kill and no OOM is a termination, not OOM",
			facts: []facts.Fact{fact(facts.Killing, "kubelet-killing", 1, nil), exit(137, 2, "c1"), exit(137, 5, "c2"), backoff("10s", 6)},
			class: RuntimeError, level: LevelNone, meaning: "SIGTERM", detail: "outlived its grace period without a failed probe",
		},
		{
			name: "137 after liveness failures and a kill is the probe's kill (K2), not OOM",
			facts: []facts.Fact{probe("liveness", 1), probe("liveness", 2), probe("liveness", 3), killing(30, 4), exit(137, 35, "c1"),
				probe("liveness", 40), probe("liveness", 41), probe("liveness", 42), killing(30, 43), exit(137, 74, "c2"), backoff("10s", 75)},
			class: AppError, level: LevelNone, meaning: "SIGTERM", detail: "liveness probe failed 6 times and kubelet stopped the container with SIGTERM, then SIGKILL after its 30s grace period",
			xref: "K2:",
		},
		{
			name:  "137 with nothing that names a killer",
			facts: []facts.Fact{exit(137, 2, "c1")},
			class: RuntimeError, level: LevelNone, meaning: "SIGKILL", gap: "nothing in the bundle names who sent the SIGKILL",
		},
		{
			name:  "pod status OOMKilled without a kernel line: container OOM, with the gap said",
			facts: []facts.Fact{backoff("10s", 6)},
			in:    Input{PodStatus: podWith(137, "OOMKilled", "256Mi")},
			class: ContainerOOM, level: LevelContainer, meaning: "OOMKilled", detail: "256Mi", gap: "no kernel OOM-kill line",
		},
		{
			name: "the pod's memcg limit, not the container's",
			facts: []facts.Fact{fact(facts.OOMKill, "kernel-oom-kill", 1, func(f *facts.Fact) {
				f.Scope, f.Process, f.PID, f.Memcg, f.TaskMemcg, f.LimitKB, f.UsageKB = "cgroup", "java", 42, memcgPod, memcgPod+"/cri-containerd-c1.scope", 1<<20, 1<<20
				f.ContainerID = "c1"
			}), exit(137, 2, "c1")},
			class: ContainerOOM, level: LevelPod, meaning: "OOMKilled", detail: "1GiB",
		},
		{
			name: "the kubepods limit is node allocatable",
			facts: []facts.Fact{fact(facts.OOMKill, "kernel-oom-kill", 1, func(f *facts.Fact) {
				f.Scope, f.Process, f.Memcg, f.TaskMemcg, f.LimitKB = "cgroup", "java", "/kubepods.slice", memcgPod+"/cri-containerd-c1.scope", 8<<20
			}), exit(137, 2, "c1")},
			class: ContainerOOM, level: LevelNodeAllocatable, meaning: "OOMKilled",
		},
		{
			name: "a global OOM kill is node level",
			facts: []facts.Fact{fact(facts.OOMKill, "kernel-oom-kill", 1, func(f *facts.Fact) {
				f.Scope, f.Constraint, f.Process, f.AnonRSSKB = "global", "CONSTRAINT_NONE", "python3", 7<<20
			}), exit(137, 2, "c1")},
			class: NodeOOM, level: LevelNode, meaning: "OOMKilled", detail: "7GiB",
		},
		{
			name:  "139 without the kernel's line",
			facts: []facts.Fact{exit(139, 2, "c1")},
			class: Segfault, level: LevelNone, meaning: "Segfault", gap: "no kernel segfault line",
		},
		{
			// The kernel's line is there but unjoined (no containerd exit with its pid, and two
			// containers exited 139): name it, and say that only the time ties it.
			name: "139 with an unjoined segfault just before it",
			facts: []facts.Fact{fact(facts.Segfault, "kernel-segfault", 1, func(f *facts.Fact) {
				f.Namespace, f.Pod, f.PodUID, f.Container, f.Process, f.PID, f.Addr, f.IP = "", "", "", "", "imgcodec", 4121, "0", "00007f0c1d2e3f40"
			}), exit(139, 2, "c1")},
			class: Segfault, level: LevelNone, meaning: "Segfault", detail: "imgcodec[4121]", gap: "segfault matched by time only",
		},
		{
			name:  "255 is unknown",
			facts: []facts.Fact{exit(255, 2, "c1")},
			class: RuntimeError, meaning: "Unknown", level: LevelNone,
		},
		{
			// The process raised SIGABRT against itself: the application's failure, named.
			name:  "134 is SIGABRT, the application aborting itself",
			facts: []facts.Fact{exit(134, 2, "c1")},
			class: AppError, meaning: "ApplicationError", level: LevelNone, detail: "aborted itself (SIGABRT, exit 134)",
		},
		{
			name:  "130 is SIGINT, sent from outside",
			facts: []facts.Fact{exit(130, 2, "c1")},
			class: RuntimeError, meaning: "Unknown", level: LevelNone, detail: "SIGINT (exit 130), a signal sent from outside",
		},
		{
			// runc's init fails to exec an arm64 binary after the container started: 255, not 126.
			name:  "255 with exec format error in the previous log is the 126 family",
			facts: []facts.Fact{exit(255, 2, "c1")},
			in:    Input{PreviousLog: "exec /app/server: exec format error\n"},
			class: PermissionDenied, meaning: "PermissionDenied", level: LevelNone, detail: "architecture mismatch",
		},
		{
			name:  "exit 1 with a permission error in the previous log",
			facts: []facts.Fact{exit(1, 2, "c1")},
			in:    Input{PreviousLog: "starting\nopen /data/db.lock: permission denied\n"},
			class: PermissionDenied, meaning: "PermissionDenied", level: LevelNone, detail: "/data/db.lock",
		},
		{
			name:  "exit 1 without a previous log",
			facts: []facts.Fact{exit(1, 2, "c1")},
			class: AppError, meaning: "ApplicationError", level: LevelNone, gap: "no previous container log: the application's own error",
		},
		{
			name:  "127 from the pod status with nothing else",
			in:    Input{PodStatus: podWith(127, "Error", "")},
			class: CommandNotFound, meaning: "CommandNotFound", level: LevelNone, gap: "neither containerd's start error nor the previous log",
		},
		{
			name:  "143 without a probe kill",
			facts: []facts.Fact{exit(143, 2, "c1")},
			class: RuntimeError, meaning: "SIGTERM", level: LevelNone, detail: "without a probe kill",
		},
		{
			name:  "a missing Secret",
			facts: []facts.Fact{fact(facts.ConfigMissing, "kubelet-config-missing", 1, func(f *facts.Fact) { f.FailureKind, f.Name, f.Repeats = "secret", "db-creds", 4 })},
			class: MissingConfig, level: LevelNone, meaning: "Unknown", detail: `secret "db-creds" not found (5 lines)`,
		},
		{
			name: "containerd OOM-killed escalates to A1 whatever the pod",
			facts: []facts.Fact{exit(1, 2, "c1"), fact(facts.OOMKill, "kernel-oom-kill", 3, func(f *facts.Fact) {
				f.Namespace, f.Pod, f.PodUID, f.Container, f.Process, f.Scope = "", "", "", "", "containerd", "global"
			})},
			class: AppError, level: LevelNone, meaning: "ApplicationError", escalates: "A1", xref: "A1:",
		},
		{
			name: "a crash-looping coredns escalates",
			facts: []facts.Fact{fact(facts.ContainerExit, "kubelet-pleg", 2, func(f *facts.Fact) {
				code := 1
				f.ExitCode, f.Namespace, f.Pod, f.Container = &code, "kube-system", "coredns-6b9575c64c-8xk2p", "coredns"
			})},
			in:    Input{Namespace: "kube-system", Pod: "coredns-6b9575c64c-8xk2p"},
			class: AppError, level: LevelNone, meaning: "ApplicationError", escalates: "system pod",
		},
		{
			// Many crash loops on one node are one node's trouble, not the cluster's.
			name: "two other pods backing off on this node do not escalate",
			facts: []facts.Fact{exit(1, 2, "c1"),
				fact(facts.BackOff, "kubelet-backoff", 3, func(f *facts.Fact) { f.Pod, f.PodUID = "web-1", "u-2" }),
				fact(facts.BackOff, "kubelet-backoff", 4, func(f *facts.Fact) { f.Pod, f.PodUID = "web-2", "u-3" })},
			in:    Input{Namespace: "shop", Pod: "api-1"},
			class: AppError, level: LevelNone, meaning: "ApplicationError",
		},
		{
			name:  "crash loops the cluster view shows on other nodes escalate",
			facts: []facts.Fact{exit(1, 2, "c1")},
			in: Input{Namespace: "shop", Pod: "api-1", ClusterCrashLoops: []kube.CrashLoop{
				{Namespace: "shop", Name: "api-1", Node: "ip-10-0-1-1"}, {Namespace: "shop", Name: "api-2", Node: "ip-10-0-1-2"}, {Namespace: "web", Name: "ui-0", Node: "ip-10-0-1-3"}}},
			class: AppError, level: LevelNone, meaning: "ApplicationError", escalates: "on 3 nodes",
		},
		{
			name:  "clean exits and a back-off are still a crash loop",
			facts: []facts.Fact{exit(0, 2, "c1"), backoff("10s", 3)},
			class: AppError, level: LevelNone, meaning: "Completed", detail: "exits with code 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := &index.Index{BundleID: "b", Facts: tt.facts}
			d, err := Diagnose(context.Background(), idx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Class != tt.class || d.OOMLevel != tt.level || d.ExitCodeMeaning != tt.meaning {
				t.Errorf("class %q level %q meaning %q; want %q %q %q (root cause %q)", d.Class, d.OOMLevel, d.ExitCodeMeaning, tt.class, tt.level, tt.meaning, d.RootCause)
			}
			if tt.detail != "" && !strings.Contains(d.RootCause, tt.detail) {
				t.Errorf("root cause %q lacks %q", d.RootCause, tt.detail)
			}
			if tt.gap != "" && !hasGap(d, tt.gap) {
				t.Errorf("gaps %q lack %q", d.Gaps, tt.gap)
			}
			found := tt.escalates == ""
			for _, e := range d.Escalation {
				found = found || strings.Contains(e, tt.escalates)
			}
			if !found {
				t.Errorf("escalations %q lack %q", d.Escalation, tt.escalates)
			}
			if tt.escalates == "" && len(d.Escalation) > 0 {
				t.Errorf("unexpected escalations %q", d.Escalation)
			}
			if tt.xref != "" && !slices.ContainsFunc(d.CrossReference, func(x string) bool { return strings.HasPrefix(x, tt.xref) }) {
				t.Errorf("cross-references %q lack %q", d.CrossReference, tt.xref)
			}
		})
	}
}

// TestGapsHandBuilt: the gaps follow from what the index and the input lack.
func TestGapsHandBuilt(t *testing.T) {
	dmesg := func(first time.Time) []index.File {
		return []index.File{{Path: "kernel/dmesg.current", LogType: "dmesg", First: first}, {Path: "kubelet/kubelet.log", LogType: "kubelet", First: t0}}
	}
	tests := []struct {
		name  string
		files []index.File
		in    Input
		want  []string // gap prefixes that must be present
		not   []string // and absent
	}{
		{"ring buffer rotated after the first exit", dmesg(t0.Add(3 * time.Second)), Input{}, []string{"the kernel log starts at 2026-11-20 10:00:03Z"}, []string{"no kernel log"}},
		{"kernel log covers the exits", dmesg(t0), Input{}, nil, []string{"the kernel log starts", "no kernel log"}},
		{"no kernel log at all", []index.File{{Path: "kubelet/kubelet.log", LogType: "kubelet"}}, Input{}, []string{"no kernel log in the bundle"}, nil},
		{"the Kubernetes input's own gaps are kept", dmesg(t0), Input{Gaps: []string{"previous container log not read: 400"}}, []string{"previous container log not read"}, nil},
		{"pod status and events given", dmesg(t0), Input{PodStatus: podWith(137, "Error", ""), Events: []corev1.Event{}}, nil, []string{"no pod status", "no pod events"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := &index.Index{Files: tt.files, Facts: []facts.Fact{exit(137, 2, "c1"), exit(137, 9, "c2")}}
			d, err := Diagnose(context.Background(), idx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !hasGap(d, w) {
					t.Errorf("gaps %q lack %q", d.Gaps, w)
				}
			}
			for _, n := range tt.not {
				if hasGap(d, n) {
					t.Errorf("gaps %q hold %q", d.Gaps, n)
				}
			}
		})
	}
}

func TestDiagnoseInputErrors(t *testing.T) {
	idx := &index.Index{BundleID: "b"}
	tests := []struct {
		name string
		idx  *index.Index
		in   Input
	}{
		{"no index", nil, Input{}},
		{"container without pod", idx, Input{Container: "api"}},
		{"pod flag disagrees with the pod JSON", idx, Input{Pod: "other", PodStatus: podWith(1, "Error", "")}},
		{"namespace disagrees with the pod JSON", idx, Input{Namespace: "prod", PodStatus: podWith(1, "Error", "")}},
		{"container absent from the pod JSON", idx, Input{Container: "sidecar", PodStatus: podWith(1, "Error", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Diagnose(context.Background(), tt.idx, tt.in); !errors.Is(err, ErrInput) {
				t.Fatalf("err = %v, want ErrInput", err)
			}
		})
	}
}

// TestDiagnoseUnknownPod: a pod no line of the bundle names is refused, with the pods that do
// crash-loop there, most crash lines first; a pod that is there but healthy is diagnosed.
func TestDiagnoseUnknownPod(t *testing.T) {
	one := 1
	exit := func(ns, pod string, repeats int) facts.Fact {
		return facts.Fact{Kind: facts.ContainerExit, Namespace: ns, Pod: pod, Container: "app", ExitCode: &one, Repeats: repeats}
	}
	idx := &index.Index{BundleID: "b", Facts: []facts.Fact{exit("shop", "api-1", 3), exit("kube-system", "coredns-x", 0)},
		Containers: []index.ContainerInfo{{ContainerID: "c1", Container: "web", Namespace: "shop", Pod: "healthy-0"}}}
	_, err := Diagnose(context.Background(), idx, Input{Namespace: "payments", Pod: "no-such-pod"})
	if !errors.Is(err, ErrInput) {
		t.Fatalf("err = %v, want ErrInput", err)
	}
	for _, s := range []string{"payments/no-such-pod", "not in this bundle", "shop/api-1 (4 crash lines), kube-system/coredns-x (1 crash line)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not say %q", err, s)
		}
	}
	if _, err := Diagnose(context.Background(), idx, Input{Namespace: "shop", Pod: "healthy-0"}); err != nil {
		t.Errorf("a pod the bundle names but that never crashed: %v", err)
	}
	if _, err := Diagnose(context.Background(), &index.Index{BundleID: "b"}, Input{Pod: "x"}); err == nil || !strings.Contains(err.Error(), "no pod crash-loops") {
		t.Errorf("an empty bundle: %v", err)
	}
}

func TestDiagnoseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Diagnose(ctx, &index.Index{Facts: []facts.Fact{exit(1, 1, "c1")}}, Input{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestPreviousErrors(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want []string // refs
	}{
		{"empty", "  \n", nil},
		// The traceback ended the process; the warning printed after it did not.
		{"a traceback, not the warning after it", "ok\nTraceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\nValueError: bad\nWARNING: error reporter disabled\n",
			[]string{"previous.log:2", "previous.log:3", "previous.log:4"}},
		{"nothing recognised: the last lines", "starting\nlistening on :8080\n", []string{"previous.log:1", "previous.log:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			lines, _ := previousErrors(tt.log)
			for _, l := range lines {
				got = append(got, l.Ref)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("refs %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMeaningOf(t *testing.T) {
	tests := []struct {
		code *int
		want string
	}{
		{nil, "Unknown"}, {intp(0), "Completed"}, {intp(1), "ApplicationError"}, {intp(2), "ApplicationError"},
		{intp(126), "PermissionDenied"}, {intp(127), "CommandNotFound"}, {intp(137), "OOMKilled"},
		{intp(139), "Segfault"}, {intp(143), "SIGTERM"}, {intp(255), "Unknown"}, {intp(130), "Signal2"},
	}
	for _, tt := range tests {
		if got := meaningOf(tt.code); got != tt.want {
			t.Errorf("meaningOf(%v) = %q, want %q", ptr(tt.code), got, tt.want)
		}
	}
}

func intp(n int) *int { return &n }
