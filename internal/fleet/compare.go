package fleet

import (
	"cmp"
	"slices"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// Comparison is what a failing node's bundle holds that a healthy node's does not, and the
// reverse: the difference is where the failing node's cause is, whatever both share is not it.
type Comparison struct {
	Failing Side `json:"failing" yaml:"failing"`
	Healthy Side `json:"healthy" yaml:"healthy"`
	// Shared counts what both hold: findings by rule, signatures by workload, container and class.
	SharedFindings   int `json:"shared_findings" yaml:"shared_findings"`
	SharedSignatures int `json:"shared_signatures" yaml:"shared_signatures"`
}

// Side is one node's bundle and what only it holds.
type Side struct {
	InstanceID string `json:"instance_id" yaml:"instance_id"`
	BundleID   string `json:"bundle_id" yaml:"bundle_id"`
	// Findings only this node has (by rule), most severe first.
	Findings []Finding `json:"findings" yaml:"findings"`
	// Signatures only this node has (by namespace, workload, container, class and exit code).
	Signatures []Group `json:"signatures" yaml:"signatures"`
	// FactKinds are the kinds of crash fact only this node has, with their counts.
	FactKinds map[facts.Kind]int `json:"fact_kinds,omitempty" yaml:"fact_kinds,omitempty"`
}

// Compare sets a failing node's summary against a healthy one's.
func Compare(failing, healthy *Summary) Comparison {
	c := Comparison{Failing: side(failing), Healthy: side(healthy)}
	c.Failing.Findings, c.Healthy.Findings, c.SharedFindings = onlyFindings(failing.Findings, healthy.Findings)
	c.Failing.Signatures, c.Healthy.Signatures, c.SharedSignatures = onlySignatures(failing, healthy)
	c.Failing.FactKinds, c.Healthy.FactKinds = onlyKinds(failing.FactKinds, healthy.FactKinds), onlyKinds(healthy.FactKinds, failing.FactKinds)
	return c
}

func side(s *Summary) Side { return Side{InstanceID: s.InstanceID, BundleID: s.BundleID} }

func onlyFindings(a, b []Finding) (onlyA, onlyB []Finding, shared int) {
	onlyA, onlyB, shared = only(a, b, func(f Finding) string { return f.Rule })
	bySeverity := func(x, y Finding) int {
		return cmp.Or(cmp.Compare(index.SeverityRank(x.Severity), index.SeverityRank(y.Severity)), cmp.Compare(y.Count, x.Count), cmp.Compare(x.Rule, y.Rule))
	}
	slices.SortFunc(onlyA, bySeverity)
	slices.SortFunc(onlyB, bySeverity)
	return onlyA, onlyB, shared
}

func onlySignatures(a, b *Summary) (onlyA, onlyB []Group, shared int) {
	return only(Crashloops([]*Summary{a}, 1), Crashloops([]*Summary{b}, 1), func(g Group) string { return g.Key() })
}

// only splits two lists by key: the items only a has, those only b has (in their order, never
// nil, for JSON's []), and how many of a's items b has too.
func only[T any](a, b []T, key func(T) string) (onlyA, onlyB []T, shared int) {
	keys := func(xs []T) map[string]bool {
		m := make(map[string]bool, len(xs))
		for _, x := range xs {
			m[key(x)] = true
		}
		return m
	}
	inA, inB := keys(a), keys(b)
	onlyA, onlyB = []T{}, []T{}
	for _, x := range a {
		if inB[key(x)] {
			shared++
		} else {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !inA[key(x)] {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB, shared
}

func onlyKinds(a, b map[facts.Kind]int) map[facts.Kind]int {
	out := map[facts.Kind]int{}
	for k, n := range a {
		if b[k] == 0 {
			out[k] = n
		}
	}
	return out
}
