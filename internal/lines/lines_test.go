package lines

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type line struct {
	no     int
	offset int64
	text   string
	cut    bool
}

// collect splits every block back into lines with their numbers and offsets.
func collect(t *testing.T, r *Reader) ([]line, error) {
	t.Helper()
	var out []line
	for {
		b, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		no, off := b.FirstLine, b.Offset
		rest := b.Data
		for len(rest) > 0 {
			i := bytes.IndexByte(rest, '\n')
			text := rest
			if i >= 0 {
				text = rest[:i]
				rest = rest[i+1:]
			} else {
				rest = nil
			}
			out = append(out, line{no, off, string(text), false})
			off += int64(len(text) + 1)
			no++
		}
		if b.Cut {
			out[len(out)-1].cut = true
		}
	}
}

func TestReaderSplitsLinesWithNumbersAndOffsets(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name           string
		in             string
		block, maxLine int
		want           []line
		wantCut        int
	}{
		{"empty", "", 16, 8, nil, 0},
		{"one line no newline", "abc", 16, 8, []line{{1, 0, "abc", false}}, 0},
		{"blank lines kept", "a\n\nb\n", 16, 8, []line{{1, 0, "a", false}, {2, 2, "", false}, {3, 3, "b", false}}, 0},
		{"lines across many blocks", "aaaa\nbbbb\ncccc\ndddd\n", 12, 8,
			[]line{{1, 0, "aaaa", false}, {2, 5, "bbbb", false}, {3, 10, "cccc", false}, {4, 15, "dddd", false}}, 0},
		{"long line cut, next line keeps its offset", "ab\n" + long + "\ncd\n", 16, 8,
			[]line{{1, 0, "ab", false}, {2, 3, long[:8], true}, {3, 44, "cd", false}}, 1},
		{"long final line without newline", "ab\n" + long, 16, 8,
			[]line{{1, 0, "ab", false}, {2, 3, long[:8], true}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per Read exercises every refill path.
			r := NewReader(iotest.OneByteReader(strings.NewReader(tc.in)), tc.block, tc.maxLine)
			got, err := collect(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d lines %+v, want %d %+v", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("line %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			if r.CutLines != tc.wantCut {
				t.Errorf("CutLines = %d, want %d", r.CutLines, tc.wantCut)
			}
			// Without line numbers: the same text, offsets and cuts, every number 0.
			u := NewReader(iotest.OneByteReader(strings.NewReader(tc.in)), tc.block, tc.maxLine)
			u.SkipLineNumbers()
			blocks, err := collectBlocks(u)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, b := range blocks {
				if b.FirstLine != 0 {
					t.Errorf("block at %d numbered %d", b.Offset, b.FirstLine)
				}
				if tc.wantCut == 0 && int64(text.Len()) != b.Offset {
					t.Errorf("block at offset %d follows %d bytes", b.Offset, text.Len())
				}
				text.Write(b.Data)
			}
			if tc.wantCut == 0 && text.String() != tc.in {
				t.Errorf("uncounted blocks hold %q, want %q", text.String(), tc.in)
			}
			if u.Lines != 0 || u.CutLines != tc.wantCut {
				t.Errorf("uncounted: Lines %d, CutLines %d (want 0, %d)", u.Lines, u.CutLines, tc.wantCut)
			}
		})
	}
}

func collectBlocks(r *Reader) ([]Block, error) {
	var out []Block
	for {
		b, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b.Data = bytes.Clone(b.Data)
		out = append(out, b)
	}
}

func TestReaderDeliversLinesBeforeAReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	src := io.MultiReader(strings.NewReader("one\ntwo\nthr"), iotest.ErrReader(boom))
	r := NewReader(src, 64, 16)
	got, err := collect(t, r)
	if !errors.Is(err, boom) || !errors.Is(err, ErrShortRead) {
		t.Fatalf("err = %v, want the read error wrapped in ErrShortRead", err)
	}
	if len(got) < 2 || got[0].text != "one" || got[1].text != "two" {
		t.Fatalf("lines before the error lost: %+v", got)
	}
}

func TestCounterAndLineAt(t *testing.T) {
	data := []byte("alpha\nbeta\ngamma\n")
	c := NewCounter(Block{Data: data, FirstLine: 10})
	for _, tc := range []struct {
		pos  int
		line int
		text string
	}{{0, 10, "alpha"}, {7, 11, "beta"}, {11, 12, "gamma"}, {15, 12, "gamma"}} {
		if got := c.LineOf(tc.pos); got != tc.line {
			t.Errorf("LineOf(%d) = %d, want %d", tc.pos, got, tc.line)
		}
		if l, _ := LineAt(data, tc.pos); string(l) != tc.text {
			t.Errorf("LineAt(%d) = %q, want %q", tc.pos, l, tc.text)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), uint8(4), uint8(2))
	f.Add([]byte(strings.Repeat("z", 100)+"\n"), uint8(8), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, block, maxLine uint8) {
		r := NewReader(bytes.NewReader(in), int(block), int(maxLine)+1)
		got, err := collect(t, r)
		if err != nil {
			t.Fatal(err)
		}
		// Every uncut line must be found verbatim at its offset.
		for _, l := range got {
			if l.offset+int64(len(l.text)) > int64(len(in)) || string(in[l.offset:l.offset+int64(len(l.text))]) != l.text {
				t.Fatalf("line %d at %d: %q not in input", l.no, l.offset, l.text)
			}
		}
		if want := bytes.Count(in, []byte{'\n'}); len(in) > 0 && in[len(in)-1] != '\n' {
			want++
			if len(got) != want {
				t.Fatalf("got %d lines, want %d", len(got), want)
			}
		} else if len(got) != want {
			t.Fatalf("got %d lines, want %d", len(got), want)
		}
	})
}
