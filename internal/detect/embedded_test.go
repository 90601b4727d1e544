package detect

import "testing"

// TestEmbeddedCatalog is the proof Load skips at run time: every rule of the embedded catalog
// matches its examples and none of its near-misses, through the compiled matcher.
func TestEmbeddedCatalog(t *testing.T) {
	c, err := Parse(embeddedRules)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if v := Version(); v != c.Version || v == "" {
		t.Errorf("Version() = %q, the parsed catalog says %q", v, c.Version)
	}
	if loaded.Version != c.Version || len(loaded.Rules) != len(c.Rules) {
		t.Fatalf("Load gives version %s with %d rules, Parse %s with %d", loaded.Version, len(loaded.Rules), c.Version, len(c.Rules))
	}
	m, err := loaded.Matcher()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := loaded.Matcher(); again != m {
		t.Error("Load's catalog compiled its matcher twice")
	}
	if err := m.CheckExamples(); err != nil {
		t.Error(err)
	}
}
