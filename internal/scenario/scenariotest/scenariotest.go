// Package scenariotest imports scenario bundles into a throwaway store, for the tests of the
// packages that read an index (search, correlate, diagnose). It lives apart from package scenario
// because it needs the store, which the generator must not depend on.
package scenariotest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

// Import writes the scenario's archive in the layout under dir (a new temporary folder when
// empty), imports it into a store beside it and returns the entry, its index and the truth the
// generator planted. Any failure, a partial import included, fails the test.
func Import(t testing.TB, dir string, s scenario.Scenario, layout scenario.Layout) (*store.Entry, *index.Index, scenario.Truth) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	arch, err := scenario.WriteArchive(filepath.Join(dir, "src"), s, layout, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := scenario.ReadTruth(filepath.Join(dir, "src", "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), arch, store.ImportOptions{})
	if err != nil {
		t.Fatalf("import %s/%s: %v", s.Name, layout, err)
	}
	if res.Partial != nil {
		t.Fatalf("import %s/%s was partial: %v", s.Name, layout, res.Partial)
	}
	idx := res.Index
	if idx == nil {
		if idx, err = st.Index(context.Background(), res.Entry, false); err != nil {
			t.Fatal(err)
		}
	}
	return res.Entry, idx, truth
}

// ImportFleet writes each node's archive — its scenario in its layout, carrying its instance
// id, with noise lines per big log (0: the generator's default) — and imports it into a store
// under dir, which it returns.
func ImportFleet(t testing.TB, dir string, f scenario.Fleet, noise int) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range f.Nodes {
		s, _ := scenario.Lookup(n.Scenario)
		arch, err := scenario.WriteArchive(filepath.Join(dir, "src", n.InstanceID), s, n.Layout, scenario.Options{NoiseLines: noise, InstanceID: n.InstanceID})
		if err != nil {
			t.Fatal(err)
		}
		// Bottlerocket's logdog archive names no instance, so the operator names it, as
		// `nodediag import --instance` does.
		res, err := st.Import(context.Background(), arch, store.ImportOptions{InstanceID: n.InstanceID})
		if err != nil {
			t.Fatalf("import %s (%s, %s): %v", n.InstanceID, n.Scenario, n.Layout, err)
		}
		if res.Partial != nil {
			t.Fatalf("import %s was partial: %v", n.InstanceID, res.Partial)
		}
	}
	return st
}
