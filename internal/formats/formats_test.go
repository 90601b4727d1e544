package formats

import (
	"context"
	"flag"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nodediag/nodediag/internal/corpus"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/golden"
)

var update = flag.Bool("update", false, "rewrite docs/formats.md")

func load(t *testing.T) *Matrix {
	t.Helper()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRowsHold runs every row's example through the indexer as a bundle file of the row's log
// type: the rules the row names must fire, its extractor must yield a fact, and a benign row
// must raise neither a crash fact nor a high or critical finding.
func TestRowsHold(t *testing.T) {
	m := load(t)
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Rows() {
		t.Run(r.ID, func(t *testing.T) {
			for _, id := range r.Rules {
				if cat.Rule(id) == nil {
					t.Fatalf("rule %q is not in the catalog", id)
				}
			}
			if r.Extract != "" && !slices.Contains(facts.Names(), r.Extract) {
				t.Fatalf("extractor %q does not exist", r.Extract)
			}
			v, err := corpus.Check(context.Background(), cat, r.LogType, nil, r.Example)
			if err != nil {
				t.Fatal(err)
			}
			got := v.Rules()
			for _, id := range r.Rules {
				if !slices.Contains(got, id) {
					t.Errorf("rule %s does not fire (fired: %v) on\n%s", id, got, r.Example)
				}
			}
			if r.Extract != "" {
				if _, ok := facts.Extract(r.Extract, []byte(r.Example)); !ok {
					t.Errorf("extractor %s yields no fact from\n%s", r.Extract, r.Example)
				}
			}
			if r.Benign && v.Alarm() {
				t.Errorf("benign row raises %v and facts %v on\n%s", got, v.Facts, r.Example)
			}
		})
	}
}

// TestEveryRuleHasARow: a rule whose wording no row records is a wording we cannot say we
// read from any producer.
func TestEveryRuleHasARow(t *testing.T) {
	m := load(t)
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, r := range m.Rows() {
		for _, id := range r.Rules {
			covered[id] = true
		}
	}
	for _, r := range cat.Rules {
		if !covered[r.ID] {
			t.Errorf("rule %s: no format-matrix row names it", r.ID)
		}
	}
}

// TestRuleExamplesNameRows: every example line of the rule catalog names the row that records its
// wording, and that row names the rule, so each example is tied to a producer and the version
// and upstream file that write it.
func TestRuleExamplesNameRows(t *testing.T) {
	m := load(t)
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat.Rules {
		for i, id := range r.ExampleRows {
			row := m.Row(id)
			switch {
			case row == nil:
				t.Errorf("rule %s example %d: row %q is not in the matrix", r.ID, i, id)
			case !slices.Contains(row.Rules, r.ID):
				t.Errorf("rule %s example %d: row %s does not name the rule (it names %v)", r.ID, i, id, row.Rules)
			}
		}
	}
}

// TestDocIsCurrent keeps docs/formats.md generated from the matrix.
func TestDocIsCurrent(t *testing.T) {
	golden.Check(t, filepath.Join("..", "..", DocsPath), RenderMarkdown(load(t)), *update, "go generate ./internal/formats/")
}
