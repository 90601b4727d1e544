package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/fleet"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/store"
)

// benchReal bundles are generated and imported for real; benchNodes is the fleet the
// benchmark asks about. 1,000 real imports of generated bundles take minutes on two shared
// cores, so the other nodes are replicas of the real ones under other instance ids: their
// manifest and summary rewritten, their index hard-linked (it is only stat'ed: a current
// summary is read without it). What fleet reads per node — a manifest, a stat, a summary — is
// then exactly what it reads for a real one.
const (
	benchReal  = 20
	benchNodes = 1000
)

// BenchmarkFleet answers fleet over 1,000 nodes whose summaries are already written: list the
// store, read every node's newest summary, group the signatures.
func BenchmarkFleet(b *testing.B) {
	st, plan := benchFleet(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		sums, problems, err := fleet.Newest(ctx, st)
		if err != nil || len(problems) > 0 || len(sums) != benchNodes {
			b.Fatalf("%d summaries, %v %v", len(sums), err, problems)
		}
		if gs := fleet.Crashloops(sums, 2); len(gs) < len(plan.Shared) {
			b.Fatalf("%d multi-node signatures, want at least the %d planted", len(gs), len(plan.Shared))
		}
	}
}

// BenchmarkSummaryCold derives one bundle's summary at its first use: load the index,
// classify every failing container, write the file. It is what a fleet question costs per
// node the first time.
func BenchmarkSummaryCold(b *testing.B) {
	dir := b.TempDir()
	s, _ := scenario.Lookup("container-oom-v2")
	e, _, _ := scenariotest.Import(b, dir, s, scenario.AL2023)
	st, err := store.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p := filepath.Join(e.IndexDir(), fleet.FileName)
	for b.Loop() {
		os.Remove(p)
		if _, err := fleet.Load(ctx, st, e); err != nil {
			b.Fatal(err)
		}
	}
	info, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	idx, err := os.Stat(filepath.Join(e.IndexDir(), "index.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.Size()), "summary-bytes")
	b.ReportMetric(float64(idx.Size()), "index-bytes")
}

func benchFleet(b *testing.B) (*store.Store, scenario.Fleet) {
	b.Helper()
	plan, err := scenario.PlanFleet(benchReal)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	start := time.Now()
	st := scenariotest.ImportFleet(b, dir, plan, 0) // the generator's default noise: 2,000 lines per big log
	imported := time.Since(start)
	start = time.Now()
	real, problems, err := fleet.Newest(context.Background(), st)
	if err != nil || len(problems) > 0 {
		b.Fatal(err, problems)
	}
	derived := time.Since(start)
	b.Logf("%d real bundles: imported in %v (%v each), summaries derived in %v (%v each)", benchReal,
		imported.Round(time.Millisecond), (imported / benchReal).Round(time.Millisecond), derived.Round(time.Millisecond), (derived / benchReal).Round(time.Microsecond))
	entries, err := st.List()
	if err != nil {
		b.Fatal(err)
	}
	byInstance := map[string]*store.Entry{}
	for _, e := range entries {
		byInstance[e.Manifest.InstanceID] = e
	}
	for i := benchReal; i < benchNodes; i++ {
		src := real[i%len(real)]
		replicate(b, st, byInstance[src.InstanceID], src, fmt.Sprintf("i-0%016x", 0xbe0c4000+i))
	}
	// What the store's List costs of the answer: fleet reads every manifest through it.
	start = time.Now()
	if all, err := st.List(); err != nil || len(all) != benchNodes {
		b.Fatalf("List: %d bundles, %v", len(all), err)
	}
	b.Logf("List of %d bundles: %v", benchNodes, time.Since(start).Round(time.Millisecond))
	return st, plan
}

// replicate stores e again as the bundle of another instance: a manifest and summary of that
// id, the index hard-linked.
func replicate(b *testing.B, st *store.Store, e *store.Entry, sum *fleet.Summary, instance string) {
	b.Helper()
	dir := filepath.Join(st.Root, "bundles", instance, filepath.Base(e.Dir))
	if err := os.MkdirAll(filepath.Join(dir, "index"), 0o755); err != nil {
		b.Fatal(err)
	}
	man := *e.Manifest
	man.InstanceID = instance
	writeJSON(b, filepath.Join(dir, store.ManifestFile), &man)
	if err := os.Link(filepath.Join(e.IndexDir(), "index.json"), filepath.Join(dir, "index", "index.json")); err != nil {
		b.Fatal(err)
	}
	s := *sum
	s.InstanceID = instance
	writeJSON(b, filepath.Join(dir, "index", fleet.FileName), &s)
}

func writeJSON(b *testing.B, p string, v any) {
	b.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
}
