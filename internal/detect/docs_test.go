package detect

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md from the catalog")

// TestRulesDocIsCurrent fails when docs/rules.md differs from what the catalog generates.
func TestRulesDocIsCurrent(t *testing.T) {
	c, _ := catalog(t)
	want := RenderMarkdown(c)
	path := filepath.Join("..", "..", filepath.FromSlash(DocsPath))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v\nregenerate it with: go generate ./internal/detect/", DocsPath, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not current with internal/detect/rules.yaml\nregenerate it with: go generate ./internal/detect/", DocsPath)
	}
}

func TestRenderMarkdownContents(t *testing.T) {
	c, _ := catalog(t)
	doc := string(RenderMarkdown(c))
	for i := range c.Rules {
		r := &c.Rules[i]
		if !strings.Contains(doc, "\n### "+r.ID+"\n") {
			t.Errorf("no section for %s", r.ID)
		}
		if !strings.Contains(doc, "["+r.ID+"](#"+r.ID+")") {
			t.Errorf("no contents entry for %s", r.ID)
		}
		for _, ex := range r.Examples {
			if !strings.Contains(doc, ex+"\n") {
				t.Errorf("%s: example missing from docs: %s", r.ID, ex)
			}
		}
	}
	if !strings.Contains(doc, "Catalog version `"+c.Version+"`") {
		t.Error("version missing")
	}
}
