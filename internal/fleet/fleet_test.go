package fleet_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/fleet"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/store"
	"github.com/nodediag/nodediag/internal/workload"
)

// testNoise keeps generated bundles small: the signatures come from the incident, not the chatter.
const testNoise = 200

// TestCrashloopsFindsPlantedSignatures: over a generated fleet, the signatures on two nodes or
// more are exactly the incidents the plan put on several nodes — same namespace, workload (as
// the pod's name reads), container, root cause as the scenario's truth states it, same nodes.
func TestCrashloopsFindsPlantedSignatures(t *testing.T) {
	plan, err := scenario.PlanFleet(14)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Shared) != 3 {
		t.Fatalf("the plan shares %d incidents, want 3: the test needs several", len(plan.Shared))
	}
	dir := t.TempDir()
	st := scenariotest.ImportFleet(t, dir, plan, testNoise)
	ctx := context.Background()

	start := time.Now()
	sums, problems, err := fleet.Newest(ctx, st)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Newest: %v, problems %v", err, problems)
	}
	t.Logf("summaries of %d bundles derived in %v", len(sums), time.Since(start))
	if len(sums) != len(plan.Nodes) {
		t.Fatalf("%d summaries, want one per node (%d)", len(sums), len(plan.Nodes))
	}

	type sig struct {
		ns, workload, container, class, nodes string
		count                                 int
	}
	var want []sig
	for _, sh := range plan.Shared {
		tr := sh.Truth
		class := tr.RootCause
		if tr.NodeLogsRootCause != "" {
			class = tr.NodeLogsRootCause
		}
		nodes := slices.Sorted(slices.Values(sh.Instances))
		deaths := 0 // the planted non-zero exits of one node, each once however many files show it
		for _, f := range tr.Facts {
			if f.Kind == facts.ContainerExit && f.ExitCode != nil && *f.ExitCode != 0 {
				deaths++
			}
		}
		want = append(want, sig{tr.Namespace, workload.Infer(tr.Pod).Name, tr.Container, class, strings.Join(nodes, ","), deaths * len(nodes)})
	}
	var got []sig
	for _, g := range fleet.Crashloops(sums, 2) {
		got = append(got, sig{g.Namespace, g.Workload, g.Container, g.Class, strings.Join(g.Nodes, ","), g.Count})
	}
	less := func(a, b sig) int { return strings.Compare(a.ns+a.workload+a.container, b.ns+b.workload+b.container) }
	slices.SortFunc(want, less)
	slices.SortFunc(got, less)
	if !slices.Equal(got, want) {
		t.Errorf("signatures on 2+ nodes:\n got %v\nwant %v", got, want)
	}

	// Every single incident is a signature on one node; the healthy nodes have none.
	singles := map[string]bool{}
	for _, n := range plan.Nodes {
		if n.Scenario != "healthy" && !slices.ContainsFunc(plan.Shared, func(s scenario.SharedIncident) bool { return s.Scenario == n.Scenario }) {
			singles[n.InstanceID] = true
		}
	}
	for _, g := range fleet.Crashloops(sums, 1) {
		if len(g.Nodes) == 1 && !singles[g.Nodes[0]] {
			t.Errorf("a one-node signature %s on %s, which the plan gave no single incident", g.Key(), g.Nodes[0])
		}
		delete(singles, g.Nodes[0])
	}
	if len(singles) > 0 {
		t.Errorf("single incidents not found on %v", singles)
	}
}

// TestSummaryWrittenOnceAndRebuiltWhenStale: the summary is kept beside the index and read
// back as written; one of another format version, or of an index rebuilt since, is derived
// again.
func TestSummaryWrittenOnceAndRebuiltWhenStale(t *testing.T) {
	s, _ := scenario.Lookup("container-oom-v2")
	dir := t.TempDir()
	e, _, truth := scenariotest.Import(t, dir, s, scenario.AL2023)
	st, err := store.Open(filepath.Join(dir, "store"), nil) // where Import put it
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := filepath.Join(e.IndexDir(), fleet.FileName)
	if _, err := os.Stat(p); err == nil {
		t.Fatal("a summary exists before the first use")
	}
	first, err := fleet.Load(ctx, st, e)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(p)
	if err != nil {
		t.Fatalf("no summary beside the index after the first use: %v", err)
	}
	if len(first.Signatures) != 1 || first.Signatures[0].Pod != truth.Pod || first.Signatures[0].Class != truth.RootCause {
		t.Fatalf("signatures %+v, want one: %s %s", first.Signatures, truth.Pod, truth.RootCause)
	}
	if c := first.Signatures[0].ExitCode; c == nil || *c != truth.ExitCode {
		t.Errorf("exit code %v, want %d", c, truth.ExitCode)
	}
	again, err := fleet.Load(ctx, st, e)
	if err != nil {
		t.Fatal(err)
	}
	if info2, _ := os.Stat(p); !info2.ModTime().Equal(info.ModTime()) || again.Signatures[0].Count != first.Signatures[0].Count {
		t.Error("the second use rewrote the summary or read another")
	}

	// A summary of an older format is rebuilt, not read.
	data, _ := os.ReadFile(p)
	old := strings.Replace(string(data), `"version":1`, `"version":0`, 1)
	old = strings.Replace(old, truth.Pod, "someone-else", -1)
	if err := os.WriteFile(p, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := fleet.Load(ctx, st, e)
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt.Signatures[0].Pod != truth.Pod {
		t.Errorf("an old-format summary was read: pod %s", rebuilt.Signatures[0].Pod)
	}

	// An index rebuilt since takes its old summary with it; the next use derives a new one.
	if _, err := st.Index(ctx, e, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err == nil {
		t.Error("the summary outlived its index's rebuild")
	}
	if _, err := fleet.Load(ctx, st, e); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("no summary after the rebuild's first use: %v", err)
	}
}
