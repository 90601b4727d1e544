package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/fleet"
	"github.com/nodediag/nodediag/internal/store"
)

// FleetNames are the fleet requests' parameters as a face spells them, for its errors.
type FleetNames struct{ MinNodes, Failing, Healthy string }

// CLIFleetNames and MCPFleetNames are the two faces' spellings.
var (
	CLIFleetNames = FleetNames{MinNodes: "--min-nodes", Failing: "FAILING", Healthy: "HEALTHY"}
	MCPFleetNames = FleetNames{MinNodes: "min_nodes", Failing: "failingInstanceId", Healthy: "healthyInstanceId"}
)

// FleetRequest asks for the crash signatures across every node's newest bundle in the store.
type FleetRequest struct {
	MinNodes int // keep signatures on at least this many nodes; 0 means 1
	Names    FleetNames
}

// FleetResult is the signatures, most nodes first, and what could not be read.
type FleetResult struct {
	Nodes      int           `json:"nodes" yaml:"nodes"` // bundles read: one per instance, its newest
	Signatures []fleet.Group `json:"signatures" yaml:"signatures"`
	Problems   []string      `json:"problems,omitempty" yaml:"problems,omitempty"`
	Notes      []string      `json:"notes,omitempty" yaml:"notes,omitempty"`
}

// Fleet answers "which workloads crash-loop, how, and on how many nodes" from the bundles'
// summaries (derived and kept at first use).
func Fleet(ctx context.Context, st *store.Store, req FleetRequest) (FleetResult, error) {
	if req.MinNodes < 0 {
		return FleetResult{}, badf("%s %d: want 1 or more", req.Names.MinNodes, req.MinNodes)
	}
	sums, problems, err := fleet.Newest(ctx, st)
	if err != nil {
		return FleetResult{}, err
	}
	res := FleetResult{Nodes: len(sums), Signatures: fleet.Crashloops(sums, max(1, req.MinNodes)), Problems: problems}
	if res.Nodes == 0 {
		res.Notes = append(res.Notes, "the store holds no bundle: import or collect one per node")
	}
	if slices.ContainsFunc(res.Signatures, func(g fleet.Group) bool { return g.Inferred }) {
		res.Notes = append(res.Notes, "workloads are inferred from pod names (<deployment>-<hash>-<5>, <statefulset>-<n>, <daemonset or job>-<5>): a bundle names no owner")
	}
	return res, nil
}

// CompareRequest names a failing node and a healthy one by instance id; each one's newest
// bundle is compared.
type CompareRequest struct {
	Failing, Healthy string
	Names            FleetNames
}

// CompareNodes sets the failing node's newest bundle against the healthy one's: findings,
// signatures and crash-fact kinds only one of them has.
func CompareNodes(ctx context.Context, st *store.Store, req CompareRequest) (fleet.Comparison, error) {
	n := req.Names
	switch {
	case req.Failing == "" || req.Healthy == "":
		return fleet.Comparison{}, badf("%s and %s are required: the instance ids of a failing node and of a healthy one", n.Failing, n.Healthy)
	case req.Failing == req.Healthy:
		return fleet.Comparison{}, badf("%s and %s are the same instance (%s): compare two nodes", n.Failing, n.Healthy, req.Failing)
	}
	var sums [2]*fleet.Summary
	for i, id := range []string{req.Failing, req.Healthy} {
		e, err := st.Resolve(id, "")
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fleet.Comparison{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
			}
			return fleet.Comparison{}, err
		}
		s, err := fleet.Load(ctx, st, e)
		if err != nil {
			return fleet.Comparison{}, err
		}
		sums[i] = s
	}
	return fleet.Compare(sums[0], sums[1]), nil
}

// WithPeers gives in the fleet view (Peers of in.Entry). A store whose other bundles cannot be
// read is a gap to state, not a failure: the diagnosis stands without the view and says what it
// could not check. problems names the bundles left out of the view.
func WithPeers(ctx context.Context, st *store.Store, in *diagnose.Input) (gaps, problems []string) {
	peers, problems, err := Peers(ctx, st, in.Entry)
	if err != nil {
		return []string{fmt.Sprintf("other nodes' bundles in the store not read (%v): whether the crash is on other nodes too is unknown", err)}, problems
	}
	in.Peers = peers
	return nil, problems
}

// Peers are the crash signatures of every other node's newest bundle, for a diagnosis of
// self's (diagnose.Input.Peers): the runbook's multi-node guardrail. A store holding only
// self's node gives none. Bundles whose summary cannot be had are named in problems.
func Peers(ctx context.Context, st *store.Store, self *store.Entry) (peers []diagnose.Peer, problems []string, err error) {
	if st == nil || self == nil {
		return nil, nil, nil
	}
	sums, problems, err := fleet.Newest(ctx, st)
	if err != nil {
		return nil, problems, err
	}
	others := slices.DeleteFunc(sums, func(s *fleet.Summary) bool { return s.InstanceID == self.Manifest.InstanceID })
	for _, g := range fleet.Crashloops(others, 1) {
		peers = append(peers, diagnose.Peer{Namespace: g.Namespace, Workload: g.Workload,
			Container: g.Container, Class: g.Class, Nodes: g.Nodes})
	}
	return peers, problems, nil
}
