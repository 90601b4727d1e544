package literal

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestLastNewline(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{'\n', 'a', 0x0b, 0x09, 0x8a, 0x00, 0xff, 0x7f, 0x0a ^ 0x80}
	for n := 0; n < 70; n++ {
		for range 200 {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			if r.IntN(3) == 0 {
				b = bytes.ReplaceAll(b, []byte("\n"), []byte("x"))
			}
			if got, want := lastNewline(b), bytes.LastIndexByte(b, '\n'); got != want {
				t.Fatalf("lastNewline(%q) = %d, want %d", b, got, want)
			}
		}
	}
}

func BenchmarkLastNewline(b *testing.B) {
	line := append(bytes.Repeat([]byte("x"), 150), '\n')
	block := append(bytes.Repeat([]byte("y"), 100), line...)
	b.Run("swar", func(b *testing.B) {
		for b.Loop() {
			lastNewline(block[:len(block)-1])
			lastNewline(line)
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			bytes.LastIndexByte(block[:len(block)-1], '\n')
			bytes.LastIndexByte(line, '\n')
		}
	})
}
