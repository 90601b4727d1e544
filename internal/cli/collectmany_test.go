package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/collect"
)

// TestCollectManyCLI: a node group through the CLI and the real SDK: every running node of the
// group starts, a stopped one gets a row saying so and exit 3, and status --batch --wait in a
// later call follows the rest to their bundles, indexed.
func TestCollectManyCLI(t *testing.T) {
	acct := fakeAccount(t)
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	group := []string{"i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"}
	for i, id := range group {
		state := "running"
		if i == 2 {
			state = "stopped"
		}
		acct.AddInstance(awsfake.Instance{ID: id, Region: "us-west-2", State: state,
			Tags: map[string]string{"eks:cluster-name": "prod", "eks:nodegroup-name": "ng-web"}})
		acct.SetBundle(id, data)
	}
	st := t.TempDir()
	out, stderr, code := run(t, "--store", st, "collect", "--nodegroup", "ng-web", "--cluster", "prod", "--bucket", "eks-logs", "-o", "json")
	if code != ExitPartial {
		t.Fatalf("exit %d (%s); want %d for the stopped node", code, stderr, ExitPartial)
	}
	var b batchView
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if b.Batch == nil || len(b.Nodes) != len(group) || b.Started != 2 || b.NotStarted != 1 {
		t.Fatalf("batch %+v; want the group's 3 nodes, 2 started", b.Batch)
	}
	for _, n := range b.Nodes {
		if n.InstanceID == group[2] && !strings.Contains(n.Error, "stopped") {
			t.Errorf("stopped node's row %+v: want why it cannot be collected", n)
		}
	}
	out, _, code = run(t, "--store", st, "status", "--batches", "-o", "json")
	var rows []batchRow
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
		t.Fatalf("status --batches: exit %d, %v\n%s", code, err, out)
	}
	if len(rows) != 1 || rows[0].ID != b.ID || rows[0].Nodes != len(group) || rows[0].NotStarted != 1 || !strings.Contains(rows[0].Source, "ng-web") {
		t.Errorf("status --batches: %+v; want the one batch of the group's 3 nodes, 1 not started", rows)
	}
	out, stderr, code = run(t, "--store", st, "status", "--batch", b.ID, "--wait", "--poll-interval", "1ms", "-o", "json")
	if code != ExitPartial {
		t.Fatalf("status exit %d (%s); want %d: one node never started", code, stderr, ExitPartial)
	}
	var s app.BatchStatus
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if s.BatchID != b.ID || s.Indexed != 2 || s.Counts[collect.StateCompleted] != 2 || s.Counts[app.StateNotStarted] != 1 {
		t.Errorf("status %+v; want 2 completed and indexed, 1 not started", s)
	}
	out, _, code = run(t, "--store", st, "bundles", "-o", "json")
	if code != 0 || !strings.Contains(out, group[0]) || !strings.Contains(out, group[1]) {
		t.Errorf("bundles (exit %d):\n%s\nwant both collected nodes' bundles", code, out)
	}
}
