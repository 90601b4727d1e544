package mcpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/fleet"
)

const (
	// defaultFleetSignatures keeps a fleet answer to what an agent reads at once: the top of
	// the list (most nodes first) is the answer; the tail is one-node noise.
	defaultFleetSignatures = 20
	maxFleetSignatures     = 500
	// conciseNodes of a signature's instance ids are listed; node_count says how many there are.
	conciseNodes = 10
)

func (s *server) registerFleet(r *registry) {
	addTool(r, SetFleet, s.store != nil, &mcp.Tool{Name: "fleet_crashloops", Annotations: readOnly("Crash signatures across nodes"),
		Description: "Groups the failing containers of every node's newest stored bundle by signature — workload (inferred " +
			"from pod names), namespace, container, class as diagnose_crashloop classifies it, exit code — with the nodes " +
			"(instance ids) each is on, crash count, first and last crash; most nodes first. A signature on many nodes " +
			"(the K3 guardrail: CrashLoopBackOff on multiple nodes) is the workload's problem or one the nodes share, not one " +
			"node's. min_nodes keeps those on at least that many nodes (default 1); maxResults default 20. Concise (default) " +
			"lists 10 instance ids per signature; response_format=detailed all, with pod names."}, s.fleetCrashloops)
	addTool(r, SetFleet, s.store != nil, &mcp.Tool{Name: "compare_nodes", Annotations: readOnly("Compare a failing node with a healthy one"),
		Description: "Sets the newest bundle of a failing node (failingInstanceId) against a healthy node's (healthyInstanceId): " +
			"findings (by rule), crash signatures and crash-fact kinds only one of them has. What only the failing node has " +
			"is where to look; what both have is not the cause."}, s.compareNodes)
}

// FleetIn is the fleet_crashloops tool's input.
type FleetIn struct {
	MinNodes       int    `json:"min_nodes,omitempty" jsonschema:"keep signatures on at least this many nodes (default 1)"`
	MaxResults     int    `json:"maxResults,omitempty" jsonschema:"signatures to list (default 20, cap 500)"`
	ResponseFormat string `json:"response_format,omitempty" jsonschema:"concise (default) or detailed"`
}

// FleetSignature is one signature as fleet_crashloops answers it.
type FleetSignature struct {
	Workload     string    `json:"workload"`
	WorkloadKind string    `json:"workload_kind"`
	Namespace    string    `json:"namespace"`
	Container    string    `json:"container"`
	Class        string    `json:"class"`
	ExitCode     *int      `json:"exit_code"`
	NodeCount    int       `json:"node_count"`
	Nodes        []string  `json:"nodes"`
	Pods         []string  `json:"pods,omitempty"`
	Count        int       `json:"count"`
	First        time.Time `json:"first,omitzero"`
	Last         time.Time `json:"last,omitzero"`
}

// FleetOut is the fleet_crashloops tool's answer.
type FleetOut struct {
	Nodes      int              `json:"nodes"` // bundles read, one per instance
	Total      int              `json:"total"` // signatures passing min_nodes
	Signatures []FleetSignature `json:"signatures"`
	Problems   []string         `json:"problems,omitempty"`
	Notes      []string         `json:"notes,omitempty"`
	Hint       string           `json:"hint"`
}

func (s *server) fleetCrashloops(ctx context.Context, _ *mcp.CallToolRequest, in FleetIn) (*mcp.CallToolResult, FleetOut, error) {
	var out FleetOut
	if s.store == nil {
		return nil, out, fmt.Errorf("no bundle store is configured for this server: start it with --store DIR")
	}
	detailed, err := responseFormat(in.ResponseFormat)
	if err != nil {
		return nil, out, err
	}
	limit := in.MaxResults
	switch {
	case limit < 0 || limit > maxFleetSignatures:
		return nil, out, fmt.Errorf("maxResults %d: want 1 to %d (default %d)", limit, maxFleetSignatures, defaultFleetSignatures)
	case limit == 0:
		limit = defaultFleetSignatures
	}
	res, err := app.Fleet(ctx, s.store, app.FleetRequest{MinNodes: in.MinNodes, Names: app.MCPFleetNames})
	if err != nil {
		return nil, out, err
	}
	out = FleetOut{Nodes: res.Nodes, Total: len(res.Signatures), Signatures: []FleetSignature{}, Problems: res.Problems, Notes: res.Notes}
	for _, g := range res.Signatures[:min(limit, len(res.Signatures))] {
		out.Signatures = append(out.Signatures, fleetSignature(g, detailed))
	}
	out.Hint = "diagnose_crashloop(namespace, pod, instanceId) on one of a signature's nodes explains it; compare_nodes(failingInstanceId, healthyInstanceId) shows what a failing node has that a healthy one lacks"
	if out.Total > len(out.Signatures) {
		out.Hint = fmt.Sprintf("%d of %d signatures listed: raise maxResults or min_nodes; ", len(out.Signatures), out.Total) + out.Hint
	}
	return nil, out, nil
}

func fleetSignature(g fleet.Group, detailed bool) FleetSignature {
	fs := FleetSignature{Workload: g.Workload, WorkloadKind: g.WorkloadKind, Namespace: g.Namespace, Container: g.Container,
		Class: g.Class, ExitCode: g.ExitCode, NodeCount: len(g.Nodes), Nodes: g.Nodes, Count: g.Count, First: g.First, Last: g.Last}
	if detailed {
		fs.Pods = g.Pods
	} else {
		fs.Nodes = g.Nodes[:min(conciseNodes, len(g.Nodes))]
	}
	return fs
}

// CompareIn is the compare_nodes tool's input.
type CompareIn struct {
	FailingInstanceID string `json:"failingInstanceId" jsonschema:"the EC2 instance id of the failing node; its newest stored bundle is read"`
	HealthyInstanceID string `json:"healthyInstanceId" jsonschema:"the EC2 instance id of a healthy node to compare with"`
}

// CompareOut is the compare_nodes tool's answer.
type CompareOut struct {
	fleet.Comparison
	Hint string `json:"hint"`
}

func (s *server) compareNodes(ctx context.Context, _ *mcp.CallToolRequest, in CompareIn) (*mcp.CallToolResult, CompareOut, error) {
	if s.store == nil {
		return nil, CompareOut{}, fmt.Errorf("no bundle store is configured for this server: start it with --store DIR")
	}
	c, err := app.CompareNodes(ctx, s.store, app.CompareRequest{Failing: in.FailingInstanceID, Healthy: in.HealthyInstanceID, Names: app.MCPFleetNames})
	if err != nil {
		return nil, CompareOut{}, err
	}
	return nil, CompareOut{Comparison: c, Hint: "errors(instanceId, severity) and search on the failing node for what only it has; " +
		"diagnose_crashloop for a signature only it has"}, nil
}
