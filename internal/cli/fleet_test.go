package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/workload"
)

// TestFleetJSON: `fleet --min-nodes 2 -o json` gives, for each planted multi-node incident, the
// fields the issue names — workload, namespace, container, class, exit_code, nodes, count,
// first, last — and a table lists most nodes first; --min-nodes 0 is a usage error.
func TestFleetJSON(t *testing.T) {
	plan, err := scenario.PlanFleet(13)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	scenariotest.ImportFleet(t, dir, plan, 200)
	storeDir := filepath.Join(dir, "store")

	out, errOut, code := run(t, "--store", storeDir, "fleet", "--min-nodes", "2", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Nodes      int              `json:"nodes"`
		Signatures []map[string]any `json:"signatures"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Nodes != len(plan.Nodes) || len(res.Signatures) != len(plan.Shared) {
		t.Fatalf("%d signatures over %d nodes, want %d over %d:\n%s", len(res.Signatures), res.Nodes, len(plan.Shared), len(plan.Nodes), out)
	}
	for _, sig := range res.Signatures {
		for _, k := range []string{"workload", "namespace", "container", "class", "exit_code", "nodes", "count", "first", "last"} {
			if _, ok := sig[k]; !ok {
				t.Errorf("signature %v has no %q", sig, k)
			}
		}
	}
	for i, sh := range plan.Shared { // the plan lists them most nodes first, as fleet sorts
		sig := res.Signatures[i]
		var nodes []string
		for _, n := range sig["nodes"].([]any) {
			nodes = append(nodes, n.(string))
		}
		if sig["workload"] != workload.Infer(sh.Truth.Pod).Name || sig["container"] != sh.Truth.Container ||
			!slices.Equal(nodes, slices.Sorted(slices.Values(sh.Instances))) {
			t.Errorf("signature %d: %v, want %s's workload on %v", i, sig, sh.Scenario, sh.Instances)
		}
	}

	table, _, code := run(t, "--store", storeDir, "fleet")
	if code != 0 || !strings.HasPrefix(table, "NODES") || !strings.Contains(strings.Split(table, "\n")[1], "checkout") {
		t.Errorf("exit %d, table:\n%s\nwant the 5-node checkout signature first", code, table)
	}
	if _, _, code := run(t, "--store", storeDir, "fleet", "--min-nodes", "0"); code != 2 {
		t.Errorf("--min-nodes 0: exit %d, want 2", code)
	}
}
