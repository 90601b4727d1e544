// Package scenario writes realistic EKS worker-node log bundles in which the truth is known:
// one crash incident (a container OOM, a segfault, a missing ConfigMap, …) planted among days
// of ordinary node chatter, in the exact layouts and line formats of the bundle producers
// (the EKS log collector on AL2 and AL2023, Bottlerocket's logdog, the node monitoring agent).
//
// nodediag's parsers, detectors and diagnosis are tested against these bundles, so everything
// here serves one aim: a bundle must look like one taken from a real node, including the
// traps a real node sets (year-less stamps, dmesg seconds since boot, exitCode=0 lines, error
// lines that mean nothing), while its Truth says what a perfect diagnosis finds. The Truth is
// written by hand per scenario; the generator only fills in the identifiers it drew (container
// IDs, host PIDs) and refuses to write a bundle whose planted events disagree with it.
//
// Output is a pure function of (scenario, layout, Options): a seeded math/rand/v2 stream, no
// wall clock, no map iteration in anything written.
package scenario

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
)

// Layout names a bundle producer and the node it ran on.
type Layout string

const (
	AL2          Layout = "al2"          // eks-log-collector.sh on Amazon Linux 2
	AL2023       Layout = "al2023"       // eks-log-collector.sh on AL2023
	Bottlerocket Layout = "bottlerocket" // logdog
	NMA          Layout = "nma"          // EKS node monitoring agent (NodeDiagnostic) on AL2023
)

// Layouts lists every layout, in a fixed order.
func Layouts() []Layout { return []Layout{AL2, AL2023, Bottlerocket, NMA} }

// Scenario is one incident and what a perfect diagnosis of it finds.
type Scenario struct {
	Name, Description string
	Layout            Layout // the layout the scenario is most typical of; every layout renders it
	Truth             Truth  // for Layout; identifiers and PIDs are filled in by Write

	legacy bool                // AL2 rendering uses the older kernel/containerd/kubelet generation
	plan   plan                // plants the incident
	adjust func(*Truth, *node) // layout-dependent truth (e.g. TaskOOM exists only where containerd reports it)
}

// Truth is what a perfect diagnosis of the bundle finds.
type Truth struct {
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Container string `json:"container,omitempty"`
	PodUID    string `json:"podUID,omitempty"`
	// RootCause is one of container_oom, node_oom, app_error, segfault, command_not_found,
	// permission_denied, missing_config, sigterm, kubelet_oom, runtime_error, none.
	RootCause string `json:"rootCause"`
	// NodeLogsRootCause is what the node's logs alone prove, when the cause is stated only by the
	// container's own output (kubectl logs --previous), which a bundle does not hold for
	// application pods. Empty: the same as RootCause.
	NodeLogsRootCause string `json:"nodeLogsRootCause,omitempty"`
	// ExitCode is the exit code the Pod API reports for the last termination (for kubelet_oom:
	// 137, the SIGKILL of the kubelet process itself).
	ExitCode int `json:"exitCode"`
	// Facts lists every planted crash event once, in the order they happened, however many files
	// show it and however often kubelet repeats it (a back-off logged at every sync is one fact).
	Facts []TruthFact `json:"facts,omitempty"`
	// BackOffs are the CrashLoopBackOff delays, one per back-off period, in order.
	BackOffs []string `json:"backOffs,omitempty"`
	// CrossRefs are the runbooks a perfect diagnosis cross-references (SOP ids, K3 aside), and
	// Escalate whether the runbook's guardrails call for escalation.
	CrossRefs []string `json:"crossRefs,omitempty"`
	Escalate  bool     `json:"escalate,omitempty"`
	// KeyEvidence are the lines a careful engineer cites to prove the root cause, as regular
	// expressions over a line's text: each must match a line the diagnosis cites. They hold
	// with the pod's status, events and previous log at hand.
	KeyEvidence []string  `json:"keyEvidence,omitempty"`
	CaptureTime time.Time `json:"captureTime,omitzero"`
}

// TruthFact is one planted crash event. ContainerID and PID are filled in by Write.
type TruthFact struct {
	Kind        facts.Kind `json:"kind"`
	Container   string     `json:"container,omitempty"`
	ContainerID string     `json:"containerID,omitempty"`
	PID         int        `json:"pid,omitempty"`
	Process     string     `json:"process,omitempty"`
	ExitCode    *int       `json:"exitCode,omitempty"`
	Delay       string     `json:"delay,omitempty"`
	Name        string     `json:"name,omitempty"` // ConfigMissing: the ConfigMap's name
}

// Options tunes a bundle. The zero value is valid.
type Options struct {
	Capture    time.Time // when the bundle was taken; default DefaultCapture (or YearTurnCapture)
	Seed       uint64
	NoiseLines int  // ordinary lines per big log; default DefaultNoiseLines
	YearTurn   bool // capture on 2027-01-02 so the logs start in December 2026 (when Capture is zero)
	// Containerd is the containerd release the node runs, e.g. "1.6.36" or "2.2.1"; empty keeps
	// the layout's own (AL2 1.7.27, legacy AL2 1.4.13, AL2023 and NMA 2.1.4, Bottlerocket
	// 2.1.4+bottlerocket). It decides the wording and level of every containerd line, and so
	// which crash facts the containerd log holds. ContainerdReleases lists the releases on
	// either side of each change.
	Containerd string
	// InstanceID is the node's EC2 instance id, in the archive's name and the bundle's
	// instance-id file; empty keeps i-0a1b2c3d4e5f60718. A simulated fleet gives each node its own.
	InstanceID string
}

// Defaults for Options. The capture times match the benchmark bundle's (shared/bench).
var (
	DefaultCapture  = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	YearTurnCapture = time.Date(2027, 1, 2, 0, 20, 0, 0, time.UTC)
)

// DefaultNoiseLines is the number of ordinary lines per big log when Options leave it zero.
const DefaultNoiseLines = 2000

func (o Options) withDefaults() Options {
	if o.Capture.IsZero() {
		o.Capture = DefaultCapture
		if o.YearTurn {
			o.Capture = YearTurnCapture
		}
	}
	o.Capture = o.Capture.UTC()
	if o.NoiseLines <= 0 {
		o.NoiseLines = DefaultNoiseLines
	}
	return o
}

// plan plants an incident starting at origin. It returns the time of its last event and how
// long before the capture that event must lie (so that, say, the last back-off is still running).
// The truth gives the pod's identity and how many times it dies.
type plan func(b *builder, t Truth, origin time.Time) (end time.Time, gap time.Duration)

// All returns every scenario, in a fixed order. Callers get copies: changing one changes
// nothing the package holds.
func All() []Scenario {
	out := make([]Scenario, len(registry))
	for i, s := range registry {
		out[i] = s.clone()
	}
	return out
}

// Lookup finds a scenario by name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range registry {
		if s.Name == name {
			return s.clone(), true
		}
	}
	return Scenario{}, false
}

func (s Scenario) clone() Scenario {
	s.Truth.Facts = slices.Clone(s.Truth.Facts)
	s.Truth.BackOffs = slices.Clone(s.Truth.BackOffs)
	s.Truth.CrossRefs = slices.Clone(s.Truth.CrossRefs)
	s.Truth.KeyEvidence = slices.Clone(s.Truth.KeyEvidence)
	return s
}

// result is one rendered bundle with what is written beside it.
type result struct {
	root   string // folder name the archive unpacks to (or the archive's own top folder)
	arch   string // archive file name
	files  []file
	truth  Truth
	pod    []byte
	events []byte
	prev   string
}

func validLayout(l Layout) bool { return slices.Contains(Layouts(), l) }

func streamKey(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// build renders a scenario in a layout.
func build(s Scenario, l Layout, opt Options) (*result, error) {
	if s.plan == nil {
		return nil, fmt.Errorf("scenario %q: not a registered scenario", s.Name)
	}
	if !validLayout(l) {
		return nil, fmt.Errorf("scenario %q: unknown layout %q (want one of %v)", s.Name, l, Layouts())
	}
	opt = opt.withDefaults()
	var ctrd *ctrdRelease
	if opt.Containerd != "" {
		r, err := parseContainerd(opt.Containerd)
		if err != nil {
			return nil, fmt.Errorf("scenario %q: %w", s.Name, err)
		}
		ctrd = &r
	}
	n := newNode(l, opt.Capture, s.legacy && l == AL2, ctrd)
	if opt.InstanceID != "" {
		n.instance = opt.InstanceID
	}

	// The incident's draws come from their own stream, so changing the amount of noise never
	// moves a planted event.
	seed := streamKey(s.Name, string(l))
	src := rand.NewPCG(opt.Seed, seed)
	dry := *src
	dn := *n
	dn.kubeletPIDs = slices.Clone(n.kubeletPIDs)
	db := &builder{n: &dn, g: ids{rand.New(&dry)}}
	end0, gap := s.plan(db, s.Truth, opt.Capture)
	origin := opt.Capture.Add(-gap - end0.Sub(opt.Capture))

	b := &builder{n: n, g: ids{rand.New(src)}}
	if end, _ := s.plan(b, s.Truth, origin); !end.Equal(opt.Capture.Add(-gap)) {
		return nil, fmt.Errorf("scenario %q: plan is not deterministic (ends %s, want %s)", s.Name, end, opt.Capture.Add(-gap))
	}

	truth := s.clone().Truth
	if s.adjust != nil {
		s.adjust(&truth, n)
	}
	if err := fillTruth(&truth, b.planted); err != nil {
		return nil, fmt.Errorf("scenario %q in layout %s: %w", s.Name, l, err)
	}
	truth.CaptureTime = opt.Capture

	noise := &builder{n: n, g: ids{rand.New(rand.NewPCG(opt.Seed, streamKey("noise", string(l))))}}
	genNoise(noise, b.pod, opt.NoiseLines)
	b.recs = append(b.recs, noise.recs...)
	b.cri = append(b.cri, noise.cri...)
	kept := b.recs[:0]
	for _, r := range b.recs {
		if r.t.Before(n.capture) { // the bundle cannot hold what happened after it was taken
			kept = append(kept, r)
		}
	}
	b.recs = kept
	sortRecs(b.recs)

	res := &result{truth: truth, prev: b.prev}
	res.root, res.arch = names(n)
	res.files = render(b, noise)
	var err error
	if res.pod, err = podJSON(b); err != nil {
		return nil, fmt.Errorf("scenario %q: pod.json: %w", s.Name, err)
	}
	if res.events, err = eventsJSON(b); err != nil {
		return nil, fmt.Errorf("scenario %q: events.json: %w", s.Name, err)
	}
	return res, nil
}

// fillTruth copies the identifiers the generator drew into the hand-written truth, after
// checking that the generator planted exactly the events the truth lists.
func fillTruth(t *Truth, planted []TruthFact) error {
	if len(planted) != len(t.Facts) {
		return fmt.Errorf("planted %d crash facts, the truth lists %d", len(planted), len(t.Facts))
	}
	for i, p := range planted {
		w := t.Facts[i]
		if p.Kind != w.Kind || p.Container != w.Container || p.Delay != w.Delay || p.Name != w.Name || (w.Process != "" && p.Process != w.Process) ||
			(w.ExitCode == nil) != (p.ExitCode == nil) || (w.ExitCode != nil && *w.ExitCode != *p.ExitCode) {
			return fmt.Errorf("planted fact %d is %+v, the truth says %+v", i, p, w)
		}
		t.Facts[i].ContainerID = p.ContainerID
		t.Facts[i].PID = p.PID
		if t.Facts[i].Process == "" {
			t.Facts[i].Process = p.Process
		}
	}
	return nil
}

// names returns the folder a bundle unpacks to and the producer's archive name.
func names(n *node) (root, archive string) {
	switch n.layout {
	case Bottlerocket:
		return "bottlerocket-logs", "bottlerocket-logs.tar.gz"
	case NMA:
		return n.host + "-logs", n.host + "-logs.tar.gz"
	}
	base := fmt.Sprintf("eks_%s_%s-UTC_0.7.9", n.instance, n.capture.Format("2006-01-02_1504"))
	return base, base + ".tar.gz"
}
