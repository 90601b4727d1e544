package correlate

import (
	"sync"
	"testing"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
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
	entry, idx, truth := scenariotest.Import(t, dir, s, layout)
	im := &imported{entry: entry, idx: idx, truth: truth}
	importCache[key] = im
	return im
}
