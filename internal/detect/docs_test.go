package detect

import (
	"flag"
	"github.com/nodediag/nodediag/internal/golden"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md from the catalog")

// TestRulesDocIsCurrent fails when docs/rules.md differs from what the catalog generates.
func TestRulesDocIsCurrent(t *testing.T) {
	c, _ := catalog(t)
	golden.Check(t, filepath.Join("..", "..", filepath.FromSlash(DocsPath)), RenderMarkdown(c), *update, "go generate ./internal/detect/")
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
