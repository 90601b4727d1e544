package literal

import (
	"bytes"
	"testing"
)

// BenchmarkProbeLoop measures the sampling loop alone: a block that never passes the filter
// of a small set, so every sample is a miss.
func BenchmarkProbeLoop(b *testing.B) {
	var lits []Literal
	for _, t := range []string{"segfault at", "Killed process", "oom-kill:constraint", "traps: x"} {
		lits = append(lits, Literal{Text: t})
	}
	s, err := New(lits)
	if err != nil {
		b.Fatal(err)
	}
	block := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz0123456789 \"=:.,\n"), 1<<20/43)
	sc := s.NewScanner()
	b.SetBytes(int64(len(block)))
	for range b.N {
		sc.Reset(block)
		for {
			if _, _, _, ok := sc.Next(); !ok {
				break
			}
		}
	}
}
