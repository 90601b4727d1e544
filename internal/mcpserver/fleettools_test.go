package mcpserver

import (
	"slices"
	"testing"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/workload"
)

// TestFleetTools: over a generated fleet, fleet_crashloops with min_nodes=2 answers the planted
// multi-node incidents, and compare_nodes of a node with the shared OOM incident against a
// healthy node gives that signature, and OOM kills, as the failing node's alone.
func TestFleetTools(t *testing.T) {
	plan, err := scenario.PlanFleet(18) // 10 nodes share incidents, 6 have one each, 2 are healthy
	if err != nil {
		t.Fatal(err)
	}
	st := scenariotest.ImportFleet(t, t.TempDir(), plan, 200)
	opts := Options{Store: st, Version: "test", Toolsets: []string{SetFleet}}
	f := &fixture{cs: connect(t, opts)}

	names, size := listed(t, f.cs)
	if !slices.Equal(names, []string{"compare_nodes", "fleet_crashloops"}) {
		t.Errorf("toolset fleet lists %v", names)
	}
	t.Logf("tools/list: %d bytes with fleet", size)

	var out FleetOut
	f.call(t, "fleet_crashloops", map[string]any{"min_nodes": 2}, &out, false)
	want := map[string][]string{}
	for _, sh := range plan.Shared {
		want[sh.Truth.Namespace+" "+workload.Infer(sh.Truth.Pod).Name+" "+sh.Truth.Container] = slices.Sorted(slices.Values(sh.Instances))
	}
	got := map[string][]string{}
	for _, s := range out.Signatures {
		got[s.Namespace+" "+s.Workload+" "+s.Container] = s.Nodes
		if s.NodeCount != len(s.Nodes) {
			t.Errorf("%s/%s: node_count %d, %d nodes listed (fewer than 10: all)", s.Workload, s.Container, s.NodeCount, len(s.Nodes))
		}
	}
	if len(got) != len(want) || out.Total != len(want) || out.Nodes != len(plan.Nodes) {
		t.Errorf("fleet_crashloops: %d signatures (total %d) over %d nodes, want %d over %d", len(got), out.Total, out.Nodes, len(want), len(plan.Nodes))
	}
	for k, nodes := range want {
		if !slices.Equal(got[k], nodes) {
			t.Errorf("%s: nodes %v, want %v", k, got[k], nodes)
		}
	}

	// A node of the shared OOM incident against a healthy one.
	oom := plan.Shared[0]
	if oom.Truth.RootCause != "container_oom" {
		t.Fatalf("the first shared incident is %s; the test expects the OOM one", oom.Truth.RootCause)
	}
	healthy := ""
	for _, n := range plan.Nodes {
		if n.Scenario == "healthy" {
			healthy = n.InstanceID
			break
		}
	}
	if healthy == "" {
		t.Fatal("the plan has no healthy node")
	}
	var cmp CompareOut
	f.call(t, "compare_nodes", map[string]any{"failingInstanceId": oom.Instances[0], "healthyInstanceId": healthy}, &cmp, false)
	if len(cmp.Failing.Signatures) != 1 || cmp.Failing.Signatures[0].Container != oom.Truth.Container || cmp.Failing.Signatures[0].Class != "container_oom" {
		t.Errorf("failing node's own signatures %+v, want only %s container_oom", cmp.Failing.Signatures, oom.Truth.Container)
	}
	if len(cmp.Healthy.Signatures) != 0 || cmp.SharedSignatures != 0 {
		t.Errorf("healthy node's own signatures %+v, shared %d; want none", cmp.Healthy.Signatures, cmp.SharedSignatures)
	}
	if cmp.Failing.FactKinds[facts.OOMKill] == 0 || cmp.Healthy.FactKinds[facts.OOMKill] != 0 {
		t.Errorf("OOM kills only on the failing node: failing %v, healthy %v", cmp.Failing.FactKinds, cmp.Healthy.FactKinds)
	}
	if len(cmp.Failing.Findings) == 0 {
		t.Error("no finding only on the failing node: its OOM kills are findings a healthy node lacks")
	}

	// The same node twice, or an instance the store does not hold, is the caller's to fix.
	f.call(t, "compare_nodes", map[string]any{"failingInstanceId": healthy, "healthyInstanceId": healthy}, nil, true)
	f.call(t, "compare_nodes", map[string]any{"failingInstanceId": "i-0000000000000dead", "healthyInstanceId": healthy}, nil, true)
}
