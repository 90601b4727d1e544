package store

import "testing"

// TestSafeName: whatever a bundle id or a node name claims, it stays one path segment.
func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"ip-10-0-1-2.ec2.internal": "ip-10-0-1-2.ec2.internal",
		"../../etc/passwd":         ".._.._etc_passwd",
		"..":                       "unknown",
		".":                        "unknown",
		"":                         "unknown",
		"a/b":                      "a_b",
		`a\b`:                      "a_b",
	} {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
}
