package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
)

// TestDiagnoseEscalatesWidespreadSignature: diagnosing a node that shares a planted incident
// with other nodes of the store escalates it naming exactly those other nodes; a node whose
// incident is its own does not get that escalation.
func TestDiagnoseEscalatesWidespreadSignature(t *testing.T) {
	plan, err := scenario.PlanFleet(12)
	if err != nil {
		t.Fatal(err)
	}
	st := scenariotest.ImportFleet(t, t.TempDir(), plan, 200)
	ctx := context.Background()

	diag := func(instance string) *diagnose.Diagnosis {
		t.Helper()
		e, err := st.Resolve(instance, "")
		if err != nil {
			t.Fatal(err)
		}
		idx, err := st.Index(ctx, e, false)
		if err != nil {
			t.Fatal(err)
		}
		in := diagnose.Input{Entry: e}
		var problems []string
		if in.Peers, problems, err = Peers(ctx, st, e); err != nil || len(problems) > 0 {
			t.Fatalf("Peers: %v %v", err, problems)
		}
		d, err := diagnose.Diagnose(ctx, idx, in)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	for _, sh := range plan.Shared {
		self := sh.Instances[len(sh.Instances)-1]
		d := diag(self)
		others := slices.DeleteFunc(slices.Clone(sh.Instances), func(s string) bool { return s == self })
		i := slices.IndexFunc(d.Escalation, func(e string) bool { return strings.HasPrefix(e, "the same signature") })
		if i < 0 {
			t.Errorf("%s on %s: no widespread escalation in %q", sh.Scenario, self, d.Escalation)
			continue
		}
		esc := d.Escalation[i]
		for _, o := range others {
			if !strings.Contains(esc, o) {
				t.Errorf("%s: escalation %q does not name %s", sh.Scenario, esc, o)
			}
		}
		if strings.Contains(esc, self) || !strings.Contains(esc, sh.Truth.Container) {
			t.Errorf("%s: escalation %q names the node itself or not the container %s", sh.Scenario, esc, sh.Truth.Container)
		}
	}

	// quick_triage reports the same guardrail.
	first := plan.Shared[0].Instances[0]
	e, err := st.Resolve(first, "")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := st.Index(ctx, e, false)
	if err != nil {
		t.Fatal(err)
	}
	peers, _, err := Peers(ctx, st, e)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := diagnose.QuickTriageAcross(ctx, idx, peers)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tr.Escalation, func(e string) bool { return strings.HasPrefix(e, "the same signature") }) {
		t.Errorf("quick triage of %s escalates %q, not the widespread signature", first, tr.Escalation)
	}

	for _, n := range plan.Nodes {
		if n.Scenario != "app-error" {
			continue
		}
		for _, e := range diag(n.InstanceID).Escalation {
			if strings.Contains(e, "other node") {
				t.Errorf("a node whose incident no other node has escalates %q", e)
			}
		}
	}
}

func TestCompareNodesBadRequest(t *testing.T) {
	plan, err := scenario.PlanFleet(2)
	if err != nil {
		t.Fatal(err)
	}
	st := scenariotest.ImportFleet(t, t.TempDir(), plan, 200)
	a := plan.Nodes[0].InstanceID
	for _, req := range []CompareRequest{{Failing: a, Healthy: a}, {Failing: a}, {Failing: a, Healthy: "i-0nothere"}} {
		req.Names = CLIFleetNames
		if _, err := CompareNodes(context.Background(), st, req); !errors.Is(err, ErrBadRequest) {
			t.Errorf("CompareNodes(%s, %s): %v, want a bad request", req.Failing, req.Healthy, err)
		}
	}
}
