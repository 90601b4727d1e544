package detect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var versionLine = regexp.MustCompile(`(?m)^version:.*\n`)

// TestVersionBumpedWithRules fails when rules.yaml changed but its version did not: indexes
// record the version and are rebuilt only when it differs, so an unbumped edit would leave
// stale findings in place. testdata/catalog.sum pairs the version with a hash of the rest of
// the file; after bumping, refresh it with -update.
func TestVersionBumpedWithRules(t *testing.T) {
	c, _ := catalog(t)
	sum := sha256.Sum256(versionLine.ReplaceAll(embeddedRules, nil))
	current := c.Version + " " + hex.EncodeToString(sum[:]) + "\n"
	path := filepath.Join("testdata", "catalog.sum")
	if *update {
		if err := os.WriteFile(path, []byte(current), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	recorded, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run go test ./internal/detect/ -run TestVersionBumpedWithRules -update", err)
	}
	if bytes.Equal(recorded, []byte(current)) {
		return
	}
	recVersion, _, _ := strings.Cut(string(recorded), " ")
	if recVersion == c.Version {
		t.Fatalf("rules.yaml changed but version is still %q: bump `version:` in rules.yaml, then run\n\tgo test ./internal/detect/ -run TestVersionBumpedWithRules -update", c.Version)
	}
	t.Fatalf("version bumped to %q; record it with\n\tgo test ./internal/detect/ -run TestVersionBumpedWithRules -update", c.Version)
}
