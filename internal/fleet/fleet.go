package fleet

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nodediag/nodediag/internal/store"
)

// Newest returns the summary of every instance's newest bundle in the store, in instance
// order. A bundle whose summary cannot be had is left out and named in problems; the others
// still answer. Missing summaries are derived several at a time (each loads an index).
func Newest(ctx context.Context, st *store.Store) (sums []*Summary, problems []string, err error) {
	all, err := st.List()
	if err != nil {
		return nil, nil, fmt.Errorf("list the store: %w", err)
	}
	seen := map[string]bool{}
	var newest []*store.Entry
	for _, e := range all { // newest capture first
		if id := e.Manifest.InstanceID; !seen[id] {
			seen[id] = true
			newest = append(newest, e)
		}
	}
	sums = make([]*Summary, len(newest))
	errs := make([]error, len(newest))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range newest {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			sums[i], errs[i] = Load(ctx, st, newest[i])
			return nil
		})
	}
	_ = g.Wait() // each bundle's error is its own, in errs
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("fleet: %w", err)
	}
	out := sums[:0]
	for i, s := range sums {
		if errs[i] != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", newest[i].Manifest.InstanceID, newest[i].Manifest.ID, errs[i]))
			continue
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Summary) int { return cmp.Compare(a.InstanceID, b.InstanceID) })
	return out, problems, nil
}

// Group is one crash signature across nodes: a workload's container failing with one class
// and exit code.
type Group struct {
	Workload     string    `json:"workload" yaml:"workload"`           // the owner's name
	WorkloadKind string    `json:"workload_kind" yaml:"workload_kind"` // Deployment, StatefulSet, DaemonSet/Job, CronJob, Pod
	Inferred     bool      `json:"inferred" yaml:"inferred"`           // the owner was read from pod names, not from Kubernetes
	Namespace    string    `json:"namespace" yaml:"namespace"`
	Container    string    `json:"container" yaml:"container"`
	Class        string    `json:"class" yaml:"class"`
	ExitCode     *int      `json:"exit_code" yaml:"exit_code"`
	Nodes        []string  `json:"nodes" yaml:"nodes"` // instance ids
	Pods         []string  `json:"pods" yaml:"pods"`
	Count        int       `json:"count" yaml:"count"`
	First        time.Time `json:"first,omitzero" yaml:"first,omitempty"`
	Last         time.Time `json:"last,omitzero" yaml:"last,omitempty"`
}

// Key is the signature's identity: what must match for two nodes to fail the same way.
func (g *Group) Key() string {
	code := "-"
	if g.ExitCode != nil {
		code = fmt.Sprint(*g.ExitCode)
	}
	return strings.Join([]string{g.Namespace, g.WorkloadKind + "/" + g.Workload, g.Container, g.Class, code}, " ")
}

func (s *Signature) group() Group {
	return Group{Workload: s.Workload.Name, WorkloadKind: s.Workload.Kind, Inferred: s.Workload.Inferred,
		Namespace: s.Namespace, Container: s.Container, Class: s.Class, ExitCode: s.ExitCode}
}

// Crashloops groups the summaries' signatures across nodes and keeps those on at least
// minNodes nodes: most nodes first, then most crashes.
func Crashloops(sums []*Summary, minNodes int) []Group {
	byKey := map[string]*Group{}
	for _, s := range sums {
		for i := range s.Signatures {
			sig := &s.Signatures[i]
			g0 := sig.group()
			k := g0.Key()
			g := byKey[k]
			if g == nil {
				g = &g0
				byKey[k] = g
			}
			if !slices.Contains(g.Nodes, s.InstanceID) {
				g.Nodes = append(g.Nodes, s.InstanceID)
			}
			if !slices.Contains(g.Pods, sig.Pod) {
				g.Pods = append(g.Pods, sig.Pod)
			}
			// Inferred from any node's pod name means inferred: one guess taints the group.
			g.Inferred = g.Inferred || sig.Workload.Inferred
			g.Count += sig.Count
			g.First, g.Last = earlier(g.First, sig.First), later(g.Last, sig.Last)
		}
	}
	out := make([]Group, 0, len(byKey))
	for _, g := range byKey {
		if len(g.Nodes) < minNodes {
			continue
		}
		slices.Sort(g.Nodes)
		slices.Sort(g.Pods)
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int {
		return cmp.Or(cmp.Compare(len(b.Nodes), len(a.Nodes)), cmp.Compare(b.Count, a.Count), strings.Compare(a.Key(), b.Key()))
	})
	return out
}
