package correlate

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

// imported is one scenario bundle in one layout, imported into a temp store.
type imported struct {
	entry *store.Entry
	idx   *index.Index
	truth scenario.Truth
}

var (
	importMu    sync.Mutex
	importCache = map[string]*imported{}
)

// importScenario writes a scenario's archive in a layout and imports it into a fresh store, the
// way internal/store's tests do. Bundles are cached per test binary because several tests read
// the same one and an import costs a fraction of a second.
func importScenario(t testing.TB, name string, layout scenario.Layout) *imported {
	t.Helper()
	key := name + "/" + string(layout)
	importMu.Lock()
	defer importMu.Unlock()
	if im := importCache[key]; im != nil {
		return im
	}
	s, ok := scenario.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	if layout == "" {
		layout = s.Layout
	}
	dir, err := tempDir()
	if err != nil {
		t.Fatal(err)
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
		t.Fatalf("import %s: %v", key, err)
	}
	if res.Partial != nil {
		t.Fatalf("import %s was partial: %v", key, res.Partial)
	}
	if res.Index == nil {
		if res.Index, err = st.Index(context.Background(), res.Entry, false); err != nil {
			t.Fatal(err)
		}
	}
	im := &imported{entry: res.Entry, idx: res.Index, truth: truth}
	importCache[key] = im
	return im
}
