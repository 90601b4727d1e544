// Package golden compares what a test produced with a file checked in beside it, and rewrites the
// file instead when the test runs with -update: the standard library's golden-file idiom in one
// place, so every package writes, reads and reports a difference the same way.
package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// maxDiffLines bounds the diff a failure prints: a regenerated document can differ in thousands
// of lines, and the first screen says what changed.
const maxDiffLines = 60

// Check compares got with the file at path. With update it writes got there, creating the
// directory, and passes. regenerate is the command that rewrites the file; failures name it.
func Check(t testing.TB, path string, got []byte, update bool, regenerate string) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with: %s)", err, regenerate)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, regenerate it with: %s\n%s", path, regenerate, firstLines(d, maxDiffLines))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
