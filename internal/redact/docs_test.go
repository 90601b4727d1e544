package redact

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/nodediag/nodediag/internal/golden"
)

var update = flag.Bool("update", false, "rewrite docs/redaction.md from the catalog")

// TestDocIsCurrent fails when docs/redaction.md differs from what the catalog generates.
func TestDocIsCurrent(t *testing.T) {
	golden.Check(t, filepath.Join("..", "..", filepath.FromSlash(DocsPath)), Markdown(), *update, "go test ./internal/redact -run Doc -update")
}
