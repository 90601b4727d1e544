package regex

import (
	"testing"
	"unicode/utf8"
)

// TestUTF8Sequences enumerates every string each range's sequences accept and checks that it is
// the whole encoding of a rune of the range, and that every encodable rune of the range is
// accepted exactly once.
func TestUTF8Sequences(t *testing.T) {
	tests := []struct{ lo, hi rune }{
		{0, utf8.MaxRune},
		{'a', 'z'},
		{0x7F, 0x80},
		{0x7FF, 0x800},
		{0x800, 0xFFFF},
		{0xD7FF, 0xE000},
		{0xD800, 0xDFFF},
		{0xFFFD, 0xFFFD},
		{0xFFFF, 0x10000},
		{0x1234, 0x5678},
		{0x10FFFE, utf8.MaxRune},
		{0x3B1, 0x3C9},
		{0x20AC, 0x20AC},
	}
	for _, tt := range tests {
		seen := map[rune]int{}
		utf8Sequences(tt.lo, tt.hi, func(s byteSeq) {
			each(s, 0, nil, func(p []byte) {
				r, n := utf8.DecodeRune(p)
				if (r == utf8.RuneError && n <= 1) || n != len(p) {
					t.Fatalf("[%#x, %#x]: accepts % x, which is not one whole encoding", tt.lo, tt.hi, p)
				}
				if r < tt.lo || r > tt.hi {
					t.Fatalf("[%#x, %#x]: accepts %#x, outside the range", tt.lo, tt.hi, r)
				}
				seen[r]++
			})
		})
		for r := tt.lo; r <= tt.hi; r++ {
			want := 1
			if r >= 0xD800 && r <= 0xDFFF {
				want = 0
			}
			if seen[r] != want {
				t.Fatalf("[%#x, %#x]: rune %#x accepted %d times, want %d", tt.lo, tt.hi, r, seen[r], want)
			}
		}
	}
}

// each calls f with every string s accepts.
func each(s byteSeq, i int, prefix []byte, f func([]byte)) {
	if i == s.n {
		f(prefix)
		return
	}
	for c := int(s.r[i].lo); c <= int(s.r[i].hi); c++ {
		each(s, i+1, append(prefix, byte(c)), f)
	}
}
