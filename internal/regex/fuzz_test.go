package regex

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzMatch compares Match with the stdlib on any expression the stdlib accepts and any input.
func FuzzMatch(f *testing.F) {
	for i, expr := range exprs {
		f.Add(expr, []byte(inputs[i%len(inputs)]))
		f.Add(expr, []byte(inputs[(i*7+3)%len(inputs)]))
		f.Add(expr, []byte(strings.Repeat(inputs[(i*5+1)%len(inputs)], 3)+inputs[(i*3+2)%len(inputs)]))
	}
	f.Fuzz(func(t *testing.T, expr string, input []byte) {
		if len(expr) > 256 || len(input) > 4096 {
			t.Skip("large cases make the fuzzer slow without finding more")
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			if _, err := Compile(expr); err == nil {
				t.Fatalf("Compile(%q) succeeds where the stdlib fails", expr)
			}
			t.Skip("the stdlib rejects it")
		}
		m, err := Compile(expr)
		if err != nil {
			t.Fatalf("Compile(%q): %v", expr, err)
		}
		want := re.Match(input)
		if got := m.Match(input); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", expr, input, got, want)
		}
		if got := m.Scanner().Match(input); got != want {
			t.Fatalf("Scanner.Match(%q, %q) = %v, want %v", expr, input, got, want)
		}
		if m.p == nil || m.p.n.anchored || len(input) < 16 {
			return
		}
		// The lanes on short inputs too, where their boundaries crowd together.
		for _, k := range []int{2, 4} {
			c := newCache(m.p, defaultMaxMem)
			if v := c.runSplit(input, c.startOrBuild(), k); v != useStdlib && (v == isMatch) != want {
				t.Fatalf("%d lanes: %q on %q = %v, want %v", k, expr, input, v == isMatch, want)
			}
		}
	})
}
