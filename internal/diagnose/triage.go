package diagnose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// topFindings is how many findings quick_triage lists: enough to show the incident, few enough
// to read at a glance.
const topFindings = 10

// FindingRef is a finding as triage and summaries cite it.
type FindingRef struct {
	ID       string    `json:"id" yaml:"id"`
	Rule     string    `json:"rule" yaml:"rule"`
	Title    string    `json:"title" yaml:"title"`
	Severity string    `json:"severity" yaml:"severity"`
	Count    int       `json:"count" yaml:"count"`
	First    time.Time `json:"first,omitzero" yaml:"first,omitempty"`
	Last     time.Time `json:"last,omitzero" yaml:"last,omitempty"`
	Example  *Line     `json:"example,omitempty" yaml:"example,omitempty"`
	SOPs     []string  `json:"sops,omitempty" yaml:"sops,omitempty"`
}

// FactCount counts one kind of crash fact for one workload.
type FactCount struct {
	Kind      facts.Kind `json:"kind" yaml:"kind"`
	Namespace string     `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Pod       string     `json:"pod,omitempty" yaml:"pod,omitempty"`
	Container string     `json:"container,omitempty" yaml:"container,omitempty"`
	Count     int        `json:"count" yaml:"count"`
	Last      string     `json:"last" yaml:"last"` // file:line of the newest
}

// Triage is quick_triage's overview of a bundle.
type Triage struct {
	BundleID    string       `json:"bundleId" yaml:"bundleId"`
	InstanceID  string       `json:"instanceId" yaml:"instanceId"`
	TopFindings []FindingRef `json:"top_findings" yaml:"top_findings"`
	CrashFacts  []FactCount  `json:"crash_facts" yaml:"crash_facts"`
	RootCause   string       `json:"root_cause" yaml:"root_cause"`
	Confidence  string       `json:"confidence" yaml:"confidence"`
	Escalation  []string     `json:"escalation,omitempty" yaml:"escalation,omitempty"`
	SOPs        []string     `json:"sops" yaml:"sops"`
	// Diagnosis is the full K3 diagnosis of the container the root cause is about.
	Diagnosis *Diagnosis `json:"diagnosis" yaml:"diagnosis"`
}

// QuickTriage gives the fast overview: the most severe findings, the crash facts per workload,
// and the most likely root cause — the diagnosis of the busiest crash-looping container (or of
// the node's own daemons), from the node's logs alone.
func QuickTriage(ctx context.Context, idx *index.Index) (*Triage, error) {
	return QuickTriageAcross(ctx, idx, nil)
}

// QuickTriageAcross is QuickTriage with other nodes' crash signatures (Input.Peers), so its
// escalations include the runbook's multi-node guardrail as Diagnose's do.
func QuickTriageAcross(ctx context.Context, idx *index.Index, peers []Peer) (*Triage, error) {
	if idx == nil {
		return nil, fmt.Errorf("%w: no index given (import the bundle and load its index first)", ErrInput)
	}
	d, err := Diagnose(ctx, idx, Input{Peers: peers})
	if err != nil {
		return nil, err
	}
	tr := &Triage{BundleID: idx.BundleID, InstanceID: idx.InstanceID, RootCause: d.RootCause, Confidence: d.Confidence,
		Escalation: d.Escalation, Diagnosis: d, CrashFacts: countFacts(idx), TopFindings: []FindingRef{}}
	ranked := rankFindings(idx, nil)
	for _, f := range ranked[:min(topFindings, len(ranked))] {
		if index.SeverityRank(f.Severity) > index.SeverityRank("medium") {
			break
		}
		tr.TopFindings = append(tr.TopFindings, findingRef(f))
	}
	tr.SOPs = mergeSOPs(d.SOPs, ranked)
	return tr, nil
}

// rankFindings orders findings most severe first, then most hits; ids, when given, select them.
func rankFindings(idx *index.Index, ids []string) []*index.Finding {
	var out []*index.Finding
	for i := range idx.Findings {
		f := &idx.Findings[i]
		if ids == nil || slices.Contains(ids, f.ID) {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b *index.Finding) int {
		return cmp.Or(cmp.Compare(index.SeverityRank(a.Severity), index.SeverityRank(b.Severity)), cmp.Compare(b.Count, a.Count))
	})
	return out
}

func findingRef(f *index.Finding) FindingRef {
	r := FindingRef{ID: f.ID, Rule: f.Rule, Title: f.Title, Severity: f.Severity, Count: f.Count, First: f.First, Last: f.Last, SOPs: f.SOPs}
	if len(f.Samples) > 0 {
		s := f.Samples[0]
		r.Example = &Line{Ref: s.LineRef.String(), Text: quote(s.Text)}
	}
	return r
}

// countFacts counts crash facts by kind and workload; join data and clean exits are left out.
func countFacts(idx *index.Index) []FactCount {
	type key struct {
		kind           facts.Kind
		ns, pod, contr string
	}
	m := map[key]*FactCount{}
	var order []key
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if !crashFact(f) && f.Kind != facts.ProbeFailure && f.Kind != facts.Killing && f.Kind != facts.ImagePull {
			continue
		}
		k := key{f.Kind, f.Namespace, f.Pod, f.Container}
		c := m[k]
		if c == nil {
			c = &FactCount{Kind: f.Kind, Namespace: f.Namespace, Pod: f.Pod, Container: f.Container}
			m[k] = c
			order = append(order, k)
		}
		c.Count += 1 + f.Repeats
		c.Last = f.Ref.String()
		if f.LastRef != nil {
			c.Last = f.LastRef.String()
		}
	}
	out := make([]FactCount, 0, len(order))
	for _, k := range order {
		out = append(out, *m[k])
	}
	return out
}

// mergeSOPs lists the diagnosis's runbooks first, then those the findings name, once each.
func mergeSOPs(first []string, fs []*index.Finding) []string {
	out := slices.Clone(first)
	for _, f := range fs {
		if index.SeverityRank(f.Severity) > index.SeverityRank("medium") {
			continue
		}
		for _, s := range f.SOPs {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Claim is one statement of a summary with what it stands on.
type Claim struct {
	Text     string   `json:"text" yaml:"text"`
	Findings []string `json:"findings,omitempty" yaml:"findings,omitempty"`
	Lines    []Line   `json:"lines" yaml:"lines"`
}

// Summary is summarize's grounded account of a set of findings.
type Summary struct {
	RootCause       string       `json:"root_cause" yaml:"root_cause"`
	Confidence      string       `json:"confidence" yaml:"confidence"`
	Claims          []Claim      `json:"claims" yaml:"claims"`
	Critical        []FindingRef `json:"critical_findings" yaml:"critical_findings"` // critical and high among those asked about
	Components      []string     `json:"components" yaml:"components"`
	Recommendations []string     `json:"recommendations" yaml:"recommendations"`
	SOPs            []string     `json:"sops" yaml:"sops"`
}

// Summarize explains the given findings (all findings at medium or above when none are given):
// one claim per finding with its sample lines, the root cause from the same classifier as
// Diagnose with its evidence lines, the critical and high findings, the components involved,
// recommendations and runbooks.
func Summarize(ctx context.Context, idx *index.Index, findingIDs []string) (*Summary, error) {
	if idx == nil {
		return nil, fmt.Errorf("%w: no index given (import the bundle and load its index first)", ErrInput)
	}
	known := make([]string, 0, len(idx.Findings))
	for _, f := range idx.Findings {
		known = append(known, f.ID)
	}
	for _, id := range findingIDs {
		if !slices.Contains(known, id) {
			return nil, fmt.Errorf("%w: no finding %q in bundle %s (it has %s)", ErrInput, id, idx.BundleID, idRange(known))
		}
	}
	var chosen []*index.Finding
	if len(findingIDs) > 0 {
		chosen = rankFindings(idx, findingIDs)
	} else {
		for _, f := range rankFindings(idx, nil) {
			if index.SeverityRank(f.Severity) <= index.SeverityRank("medium") {
				chosen = append(chosen, f)
			}
		}
	}
	d, err := Diagnose(ctx, idx, Input{})
	if err != nil {
		return nil, err
	}
	s := &Summary{RootCause: d.RootCause, Confidence: d.Confidence, Critical: []FindingRef{}, Claims: []Claim{}}
	if d.RootCause != "" {
		c := Claim{Text: "root cause: " + d.RootCause, Lines: d.CitedLines(ClaimRootCause)}
		for _, f := range chosen {
			if findingSupports(f, d) {
				c.Findings = append(c.Findings, f.ID)
			}
		}
		s.Claims = append(s.Claims, c)
		if d.CrashFrequency != "" {
			s.Claims = append(s.Claims, Claim{Text: "crash frequency: " + d.CrashFrequency, Lines: d.CitedLines(ClaimCrashFrequency)})
		}
	}
	logType := map[string]string{}
	for _, f := range idx.Files {
		logType[f.Path] = f.LogType
	}
	comps := map[string]bool{}
	for _, f := range chosen {
		c := Claim{Text: fmt.Sprintf("%s: %d %s between %s and %s", f.Title, f.Count, plural(f.Count, "hit"), stamp(f.First), stamp(f.Last)),
			Findings: []string{f.ID}, Lines: []Line{}}
		for _, smp := range f.Samples[:min(2, len(f.Samples))] {
			c.Lines = append(c.Lines, Line{Ref: smp.LineRef.String(), Text: quote(smp.Text)})
		}
		s.Claims = append(s.Claims, c)
		if index.SeverityRank(f.Severity) <= index.SeverityRank("high") {
			s.Critical = append(s.Critical, findingRef(f))
		}
		for file := range f.Files {
			if t := logType[file]; t != "" {
				comps[t] = true
			}
		}
	}
	for c := range comps {
		s.Components = append(s.Components, c)
	}
	slices.Sort(s.Components)
	if d.RootCause != "" {
		s.Recommendations = append(s.Recommendations, d.Mitigation.Immediate)
		if d.Mitigation.LongTerm != "" {
			s.Recommendations = append(s.Recommendations, d.Mitigation.LongTerm)
		}
	}
	s.Recommendations = append(s.Recommendations, d.Escalation...)
	if s.Recommendations == nil {
		s.Recommendations = []string{}
	}
	s.SOPs = mergeSOPs(d.SOPs, chosen)
	return s, nil
}

// findingSupports tells whether a finding's rule speaks to the diagnosed class: the rule's
// words (oom, segfault, exec, configmap, probe, crashloop, exit) against the class.
func findingSupports(f *index.Finding, d *Diagnosis) bool {
	r := f.Rule
	switch {
	case strings.Contains(r, "crashloop") || strings.Contains(r, "exit"):
		return true
	case strings.Contains(r, "oom"):
		return d.Class == ContainerOOM || d.Class == NodeOOM
	case strings.Contains(r, "segfault") || strings.Contains(r, "trap"):
		return d.Class == Segfault
	case strings.Contains(r, "exec") || strings.Contains(r, "not-found") || strings.Contains(r, "permission"):
		return d.Class == CommandNotFound || d.Class == PermissionDenied
	case strings.Contains(r, "configmap") || strings.Contains(r, "secret") || strings.Contains(r, "mount"):
		return d.Class == MissingConfig
	case strings.Contains(r, "probe") || strings.Contains(r, "liveness"):
		return d.ExitCodeMeaning == "SIGTERM"
	}
	return false
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func idRange(ids []string) string {
	switch len(ids) {
	case 0:
		return "no findings"
	case 1:
		return ids[0]
	}
	return ids[0] + "…" + ids[len(ids)-1]
}

// quote is a sample's text as an answer shows it: a kernel OOM summary line runs past 600 bytes
// and a claim needs its meaning, not all of it; the ref reads the rest.
func quote(text string) string {
	q, _ := evidence.Quote([]byte(text), evidence.QuoteBytes)
	return q
}
