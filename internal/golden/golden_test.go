package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what a check reported instead of failing the real test.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, format)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = true
	r.errors = append(r.errors, format)
}
func (r *recorder) Fatal(args ...any) { r.fatal = true }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "out.txt")

	r := &recorder{TB: t}
	Check(r, path, []byte("one\n"), false, "go test -update")
	if !r.fatal || !strings.Contains(r.errors[0], "write it with") {
		t.Fatalf("a missing golden file must fail and say how to write it; got %v", r.errors)
	}

	r = &recorder{TB: t}
	Check(r, path, []byte("one\n"), true, "go test -update")
	if len(r.errors) > 0 {
		t.Fatalf("update reported %v", r.errors)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "one\n" {
		t.Fatalf("update wrote %q, %v", data, err)
	}

	r = &recorder{TB: t}
	Check(r, path, []byte("one\n"), false, "go test -update")
	if len(r.errors) > 0 {
		t.Fatalf("equal content reported %v", r.errors)
	}

	r = &recorder{TB: t}
	Check(r, path, []byte("two\n"), false, "go test -update")
	if len(r.errors) != 1 || r.fatal {
		t.Fatalf("a difference must be one non-fatal error; got %v (fatal %v)", r.errors, r.fatal)
	}
}

func TestFirstLinesBounds(t *testing.T) {
	got := firstLines("a\nb\nc\nd", 2)
	if got != "a\nb\n…" {
		t.Fatalf("firstLines = %q", got)
	}
	if got := firstLines("a\nb", 5); got != "a\nb" {
		t.Fatalf("firstLines = %q", got)
	}
}
