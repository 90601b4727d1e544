package evidence

import "testing"

func TestQuote(t *testing.T) {
	for _, c := range []struct {
		line string
		max  int
		want string
		cut  bool
	}{
		{"short", 10, "short", false},
		{"exactly10!", 10, "exactly10!", false},
		{"0123456789abc", 10, "0123456789 …[cut: 3 more bytes]", true},
		// A cut never splits a rune: "é" is two bytes, the cut moves back to its start.
		{"012345678é", 10, "012345678 …[cut: 2 more bytes]", true},
	} {
		got, cut := Quote([]byte(c.line), c.max)
		if got != c.want || cut != c.cut {
			t.Errorf("Quote(%q, %d) = %q, %v; want %q, %v", c.line, c.max, got, cut, c.want, c.cut)
		}
	}
}
