package diagnose

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/store"
)

// Root-cause classes (the K3 runbook's Output Format).
const (
	ContainerOOM     = "container_oom"
	NodeOOM          = "node_oom"
	AppError         = "app_error"
	Segfault         = "segfault"
	CommandNotFound  = "command_not_found"
	PermissionDenied = "permission_denied"
	MissingConfig    = "missing_config"
	RuntimeError     = "runtime_error"
)

// OOM levels.
const (
	LevelContainer       = "container"
	LevelPod             = "pod"
	LevelNodeAllocatable = "node-allocatable"
	LevelNode            = "node"
	LevelNone            = "none"
)

// Evidence types (the K3 runbook's Output Format).
const (
	EvPodState   = "pod_state"
	EvDmesg      = "dmesg_search"
	EvKubelet    = "kubelet_search"
	EvContainerd = "containerd_search"
	EvPodLogs    = "pod_logs"
)

// Input names the container to diagnose and whatever the Kubernetes API said about it. Only the
// index is required: without a pod the busiest crash-looping container of the bundle is taken.
type Input struct {
	Namespace, Pod, Container string
	PodStatus                 *corev1.Pod    // optional: from --pod-json or the API
	Events                    []corev1.Event // optional
	PreviousLog               string         // optional: `kubectl logs --previous`
	// Entry is the bundle the index was built from. When set, evidence lines carry the log
	// line's own text; without it they carry the fact's summary, which is all the index holds.
	Entry *store.Entry
	// Gaps are what the Kubernetes input could not provide (kube.PodInfo.Gaps); they are listed
	// with the diagnosis's own.
	Gaps []string
	// ClusterCrashLoops are the pods in CrashLoopBackOff that a cluster-wide view shows, with
	// their nodes. Crash loops on several nodes are the runbook's "possible cluster-wide issue";
	// many on this node alone are not, so without this view that guardrail stays silent.
	ClusterCrashLoops []kube.CrashLoop
	// Peers are the crash signatures that other nodes' newest bundles in the store hold (the
	// fleet view; this node's own are not among them). The same workload crash-looping on
	// other nodes is the runbook's "multiple pods on multiple nodes": the cause is then in
	// the workload or what all those nodes share, not in this node.
	Peers []Peer
}

// Peer is a crash signature seen on other nodes: a workload's container failing with one
// class.
type Peer struct {
	Namespace string
	Workload  string // the owner's name: "checkout"
	Container string
	Class     string
	Nodes     []string // instance ids
}

// Line is one line of evidence with where it was read.
type Line struct {
	Ref  string `json:"ref" yaml:"ref"` // file:line
	Text string `json:"text" yaml:"text"`
}

// Evidence is one item of the Output Format's evidence list.
type Evidence struct {
	Type    string `json:"type" yaml:"type"`
	Content string `json:"content" yaml:"content"`
	Lines   []Line `json:"lines,omitempty" yaml:"lines,omitempty"`
}

// Mitigation is the Output Format's mitigation block.
type Mitigation struct {
	Immediate string `json:"immediate" yaml:"immediate"`
	LongTerm  string `json:"long_term" yaml:"long_term"`
}

// Diagnosis is the K3 runbook's Output Format, filled in, plus what it rests on.
type Diagnosis struct {
	RootCause       string     `json:"root_cause" yaml:"root_cause"` // "<class> — <detail>"; empty when no crash is found
	ExitCode        *int       `json:"exit_code" yaml:"exit_code"`
	ExitCodeMeaning string     `json:"exit_code_meaning" yaml:"exit_code_meaning"`
	ExitCodeSource  string     `json:"exit_code_source,omitempty" yaml:"exit_code_source,omitempty"` // pod status, or the file:line it was read from
	CrashFrequency  string     `json:"crash_frequency" yaml:"crash_frequency"`
	Evidence        []Evidence `json:"evidence" yaml:"evidence"`
	Severity        string     `json:"severity" yaml:"severity"`
	Mitigation      Mitigation `json:"mitigation" yaml:"mitigation"`
	CrossReference  []string   `json:"cross_reference" yaml:"cross_reference"`
	Confidence      string     `json:"confidence" yaml:"confidence"`
	Gaps            []string   `json:"gaps,omitempty" yaml:"gaps,omitempty"`
	Escalation      []string   `json:"escalation,omitempty" yaml:"escalation,omitempty"`
	// Citations give, for each statement above, the lines it was derived from; the evidence list
	// quotes every one of them.
	Citations []Citation `json:"citations" yaml:"citations"`

	Class     string   `json:"class" yaml:"class"` // the class alone; empty when none
	OOMLevel  string   `json:"oom_level" yaml:"oom_level"`
	Namespace string   `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Pod       string   `json:"pod,omitempty" yaml:"pod,omitempty"`
	Container string   `json:"container,omitempty" yaml:"container,omitempty"`
	Restarts  int      `json:"restarts" yaml:"restarts"`                       // from the logs (distinct non-zero exits)
	BackOffs  []string `json:"back_offs,omitempty" yaml:"back_offs,omitempty"` // the back-off ladder from the logs
	SOPs      []string `json:"sops" yaml:"sops"`                               // runbooks that apply, K3 first
}

// CitedLines returns the lines a claim cites, with their text as the evidence quotes it (never
// nil, so an empty claim renders as an empty list).
func (d *Diagnosis) CitedLines(claim string) []Line {
	text := map[string]string{}
	for _, e := range d.Evidence {
		for _, l := range e.Lines {
			text[l.Ref] = l.Text
		}
	}
	out := []Line{}
	for _, c := range d.Citations {
		if c.Claim != claim {
			continue
		}
		for _, r := range c.Refs {
			out = append(out, Line{Ref: r, Text: text[r]})
		}
	}
	return out
}

// made tells whether the diagnosis states the claim Citation.Claim names.
func (d *Diagnosis) made(claim string) bool {
	switch claim {
	case ClaimRootCause, ClaimMemory:
		return d.RootCause != ""
	case ClaimExitCode:
		return d.ExitCode != nil
	case ClaimCrashFrequency:
		return d.CrashFrequency != ""
	}
	var i int
	if _, err := fmt.Sscanf(claim, "cross_reference[%d]", &i); err == nil {
		return i < len(d.CrossReference)
	}
	if _, err := fmt.Sscanf(claim, "escalation[%d]", &i); err == nil {
		return i < len(d.Escalation)
	}
	return false
}

// ErrInput marks a request that cannot be served as asked; errors.Is tells a CLI to report a
// usage error.
var ErrInput = errors.New("cannot diagnose")

// Diagnose runs the K3 runbook for one container against a bundle's index.
func Diagnose(ctx context.Context, idx *index.Index, in Input) (*Diagnosis, error) {
	if idx == nil {
		return nil, fmt.Errorf("%w: no index given (import the bundle and load its index first)", ErrInput)
	}
	t, err := resolveTarget(idx, in)
	if err != nil {
		return nil, err
	}
	c, err := classify(ctx, idx, in, t)
	if err != nil {
		return nil, err
	}
	return c.report(ctx, in)
}

// Verdict is what Classify decides about one container.
type Verdict struct {
	Class    string // one of the root-cause classes; empty when the logs prove none
	OOMLevel string
	ExitCode *int
	// Restarts are the distinct non-zero exits correlate counts (the copies of one death in
	// kubelet's and containerd's logs count once), as Diagnosis.Restarts.
	Restarts int
}

// Classify decides the class and exit code of one container's crash from the index alone, as
// Diagnose does without Kubernetes input and without the bundle's files, and without building
// the report: the fleet summary of a bundle classifies every failing container of it, reading
// no log line. Where the bundle holds a copy of the container's own log (system pods) Diagnose
// also reads it; that refines the detail of an application error, and a class only that log
// could prove is then missing here (a peer of another class still escalates, as such).
func Classify(ctx context.Context, idx *index.Index, namespace, pod, container string) (Verdict, error) {
	if idx == nil {
		return Verdict{}, fmt.Errorf("%w: no index given", ErrInput)
	}
	in := Input{Namespace: namespace, Pod: pod, Container: container}
	t, err := resolveTarget(idx, in)
	if err != nil {
		return Verdict{}, err
	}
	c, err := classify(ctx, idx, in, t)
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{Class: c.class, OOMLevel: c.level, ExitCode: c.code}
	if c.freq != nil {
		v.Restarts = c.freq.Restarts
	}
	return v, nil
}

// CrashFact tells whether a fact says a container failed: a non-zero exit, a back-off, an OOM
// kill, a segfault, an exec or config failure — not join data, not a clean exit.
func CrashFact(f *facts.Fact) bool { return crashFact(f) }

// target is the container being diagnosed.
type target struct {
	ns, pod, uid, container string
}

func (t target) String() string {
	if t.pod == "" {
		return "(no crash-looping pod found)"
	}
	s := t.pod
	if t.ns != "" {
		s = t.ns + "/" + s
	}
	if t.container != "" {
		s += " container " + t.container
	}
	return s
}

// owns tells whether a fact is about the target. A fact without a container name (kubelet's
// pod-level lines, such as a missing ConfigMap volume) belongs to every container of the pod.
func (t target) owns(f *facts.Fact) bool {
	if t.pod == "" {
		return false
	}
	if t.uid != "" && f.PodUID != "" {
		if f.PodUID != t.uid {
			return false
		}
	} else if f.Pod != t.pod || (t.ns != "" && f.Namespace != "" && f.Namespace != t.ns) {
		return false
	}
	return t.container == "" || f.Container == "" || f.Container == t.container
}

// resolveTarget fills the target from the input, the pod status and, for whatever is left, the
// bundle: the container of the named pod that crashed most, or without a pod the busiest
// crash-looping container of the node.
func resolveTarget(idx *index.Index, in Input) (target, error) {
	t := target{ns: in.Namespace, pod: in.Pod, container: in.Container}
	if p := in.PodStatus; p != nil {
		var err error
		if t, err = t.withPod(p); err != nil {
			return t, err
		}
	}
	// The messages name no flag or parameter: the CLI and the MCP tool both read them.
	if t.container != "" && t.pod == "" {
		return t, fmt.Errorf("%w: container %s needs the pod it belongs to (namespace/name)", ErrInput, t.container)
	}
	if t.pod != "" && t.container != "" {
		return t, nil
	}
	found := t.heaviest(idx)
	if t.pod != "" && !found && in.PodStatus == nil && !mentioned(idx, t.ns, t.pod) {
		return t, fmt.Errorf("%w: pod %s is not in this bundle: no line of the node's logs names it; %s", ErrInput, t, crashLoopers(idx))
	}
	return t, nil
}

// withPod takes the pod, namespace, UID and container from the pod's status, refusing one
// that names another pod than the one asked about.
func (t target) withPod(p *corev1.Pod) (target, error) {
	if t.pod != "" && t.pod != p.Name {
		return t, fmt.Errorf("%w: the pod asked about (%s) is another pod than the pod JSON's (%s/%s)", ErrInput, t.pod, p.Namespace, p.Name)
	}
	if t.ns != "" && p.Namespace != "" && t.ns != p.Namespace {
		return t, fmt.Errorf("%w: namespace %s differs from the pod JSON's (%s)", ErrInput, t.ns, p.Namespace)
	}
	t.pod, t.ns, t.uid = p.Name, p.Namespace, string(p.UID)
	name, err := kube.PickContainer(p, t.container)
	if err != nil {
		return t, fmt.Errorf("%w: %w", ErrInput, err)
	}
	t.container = name
	return t, nil
}

// heaviest completes the target with the container that has the most crash facts (of the pod,
// when one is asked about): the one to explain. It says whether there was one.
func (t *target) heaviest(idx *index.Index) bool {
	type key struct{ ns, pod, uid, ctr string }
	weight := map[key]int{}
	var order []key
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if f.Container == "" || f.Pod == "" || !crashFact(f) {
			continue
		}
		if t.pod != "" && (f.Pod != t.pod || (t.ns != "" && f.Namespace != t.ns)) {
			continue
		}
		k := key{f.Namespace, f.Pod, f.PodUID, f.Container}
		if _, ok := weight[k]; !ok {
			order = append(order, k)
		}
		weight[k] += 1 + f.Repeats
	}
	best := -1
	for i, k := range order {
		if best < 0 || weight[k] > weight[order[best]] {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	k := order[best]
	t.ns, t.pod, t.uid, t.container = k.ns, k.pod, k.uid, k.ctr
	return true
}

// mentioned says whether any fact or container of the bundle names the pod.
func mentioned(idx *index.Index, ns, pod string) bool {
	same := func(fns, fpod string) bool { return fpod == pod && (ns == "" || fns == "" || fns == ns) }
	for i := range idx.Facts {
		if same(idx.Facts[i].Namespace, idx.Facts[i].Pod) {
			return true
		}
	}
	for _, c := range idx.Containers {
		if same(c.Namespace, c.Pod) {
			return true
		}
	}
	return false
}

// crashLoopers names the pods of the bundle with crash facts, most first, for a caller who
// asked about one that is not there.
func crashLoopers(idx *index.Index) string {
	count := map[string]int{}
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if f.Pod == "" || !crashFact(f) {
			continue
		}
		name := f.Pod
		if f.Namespace != "" {
			name = f.Namespace + "/" + f.Pod
		}
		count[name] += 1 + f.Repeats
	}
	if len(count) == 0 {
		return "no pod crash-loops in this bundle"
	}
	names := slices.SortedFunc(maps.Keys(count), func(a, b string) int {
		return cmp.Or(count[b]-count[a], strings.Compare(a, b))
	})
	const most = 5
	parts := make([]string, 0, most)
	for _, n := range names[:min(most, len(names))] {
		parts = append(parts, fmt.Sprintf("%s (%d crash %s)", n, count[n], plural(count[n], "line")))
	}
	more := ""
	if len(names) > most {
		more = fmt.Sprintf(" and %d more", len(names)-most)
	}
	return "the pods that crash-loop in it: " + strings.Join(parts, ", ") + more
}

// crashFact tells whether a fact says a container failed (not join data, not a clean exit).
func crashFact(f *facts.Fact) bool {
	switch f.Kind {
	case facts.ContainerExit:
		return f.ExitCode != nil && *f.ExitCode != 0
	case facts.BackOff, facts.OOMKill, facts.TaskOOM, facts.Segfault, facts.ExecFailure, facts.ConfigMissing:
		return true
	}
	return false
}

// systemPods are the kube-system workloads whose crash loop the runbook escalates, with the
// runbook that owns what they serve: a crash-looping CoreDNS is a DNS outage (D1), a
// crash-looping aws-node or kube-proxy leaves pods without addresses or service routing (N1).
var systemPods = []struct{ name, sop, what string }{
	{"aws-node", "N1", "the VPC CNI is down: new pods get no IP address"},
	{"kube-proxy", "N1", "kube-proxy is down: Service routing on the node goes stale"},
	{"coredns", "D1", "CoreDNS is down: name resolution in the cluster fails"},
}

// systemPod returns the system workload a pod belongs to, or ok false.
func systemPod(ns, pod string) (sop, what string, ok bool) {
	if ns != "" && ns != "kube-system" {
		return "", "", false
	}
	for _, p := range systemPods {
		if pod == p.name || strings.HasPrefix(pod, p.name+"-") {
			return p.sop, p.what, true
		}
	}
	return "", "", false
}

func isSystemPod(ns, pod string) bool {
	_, _, ok := systemPod(ns, pod)
	return ok
}

// nodeDaemons are the processes whose OOM kill takes the node down (A1).
var nodeDaemons = []string{"kubelet", "containerd", "dockerd", "containerd-shim", "containerd-shim-runc-v2"}

func isNodeDaemon(f *facts.Fact) bool {
	for _, d := range nodeDaemons {
		if f.Process == d || strings.Contains(f.TaskMemcg, "/"+d+".service") {
			return true
		}
	}
	return false
}

// crashFrequency asks correlate for the target's restarts and back-off ladder.
func crashFrequency(ctx context.Context, idx *index.Index, t target) (*correlate.Result, *correlate.Frequency, error) {
	if t.pod == "" {
		return nil, nil, nil
	}
	res, err := correlate.Correlate(ctx, idx, correlate.Request{Namespace: t.ns, Pod: t.pod, Container: t.container, MaxEvents: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("diagnose %s: correlate: %w", t, err)
	}
	for i := range res.Frequency {
		fr := &res.Frequency[i]
		if fr.Container == t.container && (t.uid == "" || fr.PodUID == "" || fr.PodUID == t.uid) {
			return res, fr, nil
		}
	}
	return res, nil, nil
}
