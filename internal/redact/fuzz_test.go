package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzString: redaction never panics, is idempotent (a marker is never redacted again, and
// nothing a rule would take survives a pass), and Terminal leaves no control character.
func FuzzString(f *testing.F) {
	for _, r := range Catalog {
		for _, ex := range append(r.Examples, r.NearMisses...) {
			f.Add(ex)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := String(s)
		if twice := String(once); twice != once {
			t.Errorf("not idempotent:\n  %q\n→ %q\n→ %q", s, once, twice)
		}
		out := Terminal(once)
		if utf8.ValidString(s) && needsEscape(out) {
			t.Errorf("Terminal left a control character in %q", out)
		}
		if !strings.Contains(s, "[REDACTED:") && strings.Count(once, "[REDACTED:") > len(s) {
			t.Errorf("more markers than bytes: %q", once)
		}
	})
}
