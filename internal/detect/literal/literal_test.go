package literal

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lineHit is one reported line: its bounds and the literal ids on it.
type lineHit struct {
	Start, End int
	IDs        []int32
}

func scanAll(s *Set, block []byte) []lineHit {
	return scanWith(s.NewScanner(), block)
}

// scanSampled scans as a set too large for the direct search does, sampling grams.
func scanSampled(s *Set, block []byte) []lineHit {
	sc := s.NewScanner()
	sc.direct, sc.at = false, nil
	return scanWith(sc, block)
}

func scanWith(sc *Scanner, block []byte) []lineHit {
	sc.Reset(block)
	var out []lineHit
	for {
		st, en, ids, ok := sc.Next()
		if !ok {
			return out
		}
		out = append(out, lineHit{st, en, slices.Clone(ids)})
	}
}

// naive is the specification: split into lines, test every literal on every line.
func naive(lits []Literal, block []byte) []lineHit {
	var out []lineHit
	start := 0
	for start <= len(block) {
		end := bytes.IndexByte(block[start:], '\n')
		if end < 0 {
			end = len(block)
		} else {
			end += start
		}
		line := block[start:end]
		var ids []int32
		for i, l := range lits {
			if containsLit(line, l) {
				ids = append(ids, int32(i))
			}
		}
		if len(ids) > 0 {
			out = append(out, lineHit{start, end, ids})
		}
		if end == len(block) {
			break
		}
		start = end + 1
	}
	return out
}

func containsLit(line []byte, l Literal) bool {
	if !l.Fold {
		return bytes.Contains(line, []byte(l.Text))
	}
	return bytes.Contains(asciiLower(line), asciiLower([]byte(l.Text)))
}

func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = lower(c)
	}
	return out
}

func TestScanTable(t *testing.T) {
	tests := []struct {
		name  string
		lits  []Literal
		block string
		want  []lineHit
	}{
		{
			name:  "overlapping literals are both reported",
			lits:  []Literal{{Text: "Killed process"}, {Text: "Out of memory: Killed process"}},
			block: "noise line\n[ 1.0] Out of memory: Killed process 12 (java)\n[ 2.0] Killed process 13 (java)\n",
			want: []lineHit{
				{11, 11 + len("[ 1.0] Out of memory: Killed process 12 (java)"), []int32{0, 1}},
				{12 + len("[ 1.0] Out of memory: Killed process 12 (java)"), 12 + len("[ 1.0] Out of memory: Killed process 12 (java)[ 2.0] Killed process 13 (java)"), []int32{0}},
			},
		},
		{
			name:  "case-insensitive literal matches any spelling, case-sensitive only its own",
			lits:  []Literal{{Text: "eviction manager: attempting", Fold: true}, {Text: "NodeHasDiskPressure"}},
			block: "\"Eviction manager: attempting to reclaim\"\nnodehasdiskpressure\nEVICTION MANAGER: ATTEMPTING",
			want: []lineHit{
				{0, 41, []int32{0}},
				{62, 62 + 28, []int32{0}},
			},
		},
		{
			name:  "literal at the very start and very end of a block without final newline",
			lits:  []Literal{{Text: "segfault at"}},
			block: "segfault at 0\nxx\nsegfault at",
			want:  []lineHit{{0, 13, []int32{0}}, {17, 28, []int32{0}}},
		},
		{
			name:  "a literal never spans lines",
			lits:  []Literal{{Text: "oom-kill:constraint"}},
			block: "oom-kill:\nconstraint\n",
			want:  nil,
		},
		{
			name:  "duplicate literal text keeps both ids",
			lits:  []Literal{{Text: "SERVFAIL"}, {Text: "SERVFAIL"}},
			block: "a SERVFAIL b",
			want:  []lineHit{{0, 12, []int32{0, 1}}},
		},
		{
			name:  "short literals shrink the gram",
			lits:  []Literal{{Text: "ab"}, {Text: "xyz123"}},
			block: "zzzz\nzab\nzzxyz123",
			want:  []lineHit{{5, 8, []int32{0}}, {9, 17, []int32{1}}},
		},
		{
			name:  "empty block",
			lits:  []Literal{{Text: "anything"}},
			block: "",
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.lits)
			if err != nil {
				t.Fatal(err)
			}
			got := scanAll(s, []byte(tt.block))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Scan (-want +got):\n%s", diff)
			}
			// The hand-written expectation and the naive definition must agree too.
			if diff := cmp.Diff(tt.want, naive(tt.lits, []byte(tt.block))); diff != "" {
				t.Errorf("naive (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	for _, lits := range [][]Literal{nil, {{Text: ""}}, {{Text: "a\nb"}}} {
		if _, err := New(lits); err == nil {
			t.Errorf("New(%+v) succeeded, want error", lits)
		}
	}
}

// randomCase builds a block from literal fragments, whole literals in random case, and noise,
// so that near-misses, overlaps and line ends all occur often.
func randomCase(r *rand.Rand, lits []Literal) []byte {
	var b bytes.Buffer
	alphabet := "abcAB:- \n\"0"
	for b.Len() < 2000 {
		switch r.IntN(4) {
		case 0:
			l := lits[r.IntN(len(lits))].Text
			if r.IntN(2) == 0 {
				l = strings.ToUpper(l)
			}
			b.WriteString(l)
		case 1:
			l := lits[r.IntN(len(lits))].Text
			i, j := r.IntN(len(l)+1), r.IntN(len(l)+1)
			b.WriteString(l[min(i, j):max(i, j)])
		default:
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
	}
	return b.Bytes()
}

func TestScanMatchesNaiveOnRandomBlocks(t *testing.T) {
	sets := [][]Literal{
		{{Text: "abc"}, {Text: "bcA"}, {Text: "cab:"}, {Text: "ab", Fold: true}},
		{{Text: "oom-kill:"}, {Text: "Killed process"}, {Text: "out of memory: Killed process", Fold: true}, {Text: "a\"0b-"}},
		{{Text: "aaaaaaaaaaaa"}, {Text: "aaaaaaab"}, {Text: "BAAAAAAA", Fold: true}},
		// Small enough for the direct search: one or two literals, folded or not, non-ASCII.
		{{Text: "error", Fold: true}},
		{{Text: "ab"}},
		{{Text: "cab:", Fold: true}, {Text: "b\"0", Fold: true}},
		{{Text: "\u017fab", Fold: true}, {Text: "aB"}},
		{{Text: "a"}, {Text: "A", Fold: true}},
	}
	for si, lits := range sets {
		s, err := New(lits)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(si), 7))
		for i := 0; i < 300; i++ {
			block := randomCase(r, lits)
			want := naive(lits, block)
			if diff := cmp.Diff(want, scanAll(s, block)); diff != "" {
				t.Fatalf("set %d block %d %q:\n%s", si, i, block, diff)
			}
			if diff := cmp.Diff(want, scanSampled(s, block)); diff != "" {
				t.Fatalf("set %d block %d %q, sampling grams:\n%s", si, i, block, diff)
			}
		}
	}
}

func TestLongLineWithoutNewline(t *testing.T) {
	s, err := New([]Literal{{Text: "needle-literal"}})
	if err != nil {
		t.Fatal(err)
	}
	block := bytes.Repeat([]byte("x"), 1<<20)
	copy(block[len(block)-20:], "needle-literal")
	got := scanAll(s, block)
	want := []lineHit{{0, 1 << 20, []int32{0}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestScannerReuseDoesNotAllocate(t *testing.T) {
	s, err := New([]Literal{{Text: "segfault at"}, {Text: "Killed process", Fold: true}})
	if err != nil {
		t.Fatal(err)
	}
	block := []byte(strings.Repeat("noise noise noise\n[1.0] app[1]: segfault at 0 ip 0 killed process 9\n", 100))
	sc := s.NewScanner()
	lines := 0
	allocs := testing.AllocsPerRun(20, func() {
		sc.Reset(block)
		lines = 0
		for {
			if _, _, _, ok := sc.Next(); !ok {
				break
			}
			lines++
		}
	})
	if lines != 100 {
		t.Fatalf("lines = %d, want 100", lines)
	}
	if allocs != 0 {
		t.Errorf("allocs per block = %v, want 0", allocs)
	}
}

func TestVariants(t *testing.T) {
	got := variants("a:B", true)
	var want []uint32
	for _, g := range []string{"a:b", "A:b", "a:B", "A:B"} {
		want = append(want, gramValue(g))
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("x Killed process y\nOut of memory: Killed process\n"), "Killed process", "of memory", true)
	f.Add([]byte("ab\nAB\naB"), "ab", "b", false)
	f.Add([]byte(""), "zz", "zzz", true)
	f.Fuzz(func(t *testing.T, block []byte, a, b string, fold bool) {
		if a == "" || b == "" || strings.ContainsRune(a, '\n') || strings.ContainsRune(b, '\n') {
			return
		}
		for _, lits := range [][]Literal{{{Text: a}, {Text: b, Fold: fold}}, {{Text: b, Fold: fold}}} {
			s, err := New(lits)
			if err != nil {
				t.Fatal(err)
			}
			want := naive(lits, block)
			if diff := cmp.Diff(want, scanAll(s, block)); diff != "" {
				t.Fatalf("%v %q\n%s", lits, block, diff)
			}
			if diff := cmp.Diff(want, scanSampled(s, block)); diff != "" {
				t.Fatalf("%v %q, sampling grams:\n%s", lits, block, diff)
			}
		}
	})
}

func TestWindowAvoidsGramsCommonInSample(t *testing.T) {
	// "kube" letters are unremarkable one by one, but a sample full of kubelet lines makes the
	// window that avoids them the better probe.
	lit := "failed to run kubelet"
	noSample := bestWindow(lit, 4, 4, newEstimator(nil, 4))
	sample := []sample{{[]byte(strings.Repeat("kubelet[3187]: I1120 kubelet.go:2485] kubernetes\n", 50)), 1}}
	withSample := bestWindow(lit, 4, 4, newEstimator(sample, 4))
	win := lit[withSample : withSample+7]
	if strings.Contains(win, "kube") || strings.Contains(win, "ubel") {
		t.Errorf("with a kubelet sample the window is %q (offset %d, without sample %d)", win, withSample, noSample)
	}
}

func TestSampleChangesNothingButSpeed(t *testing.T) {
	lits := []Literal{{Text: "failed to run kubelet", Fold: true}, {Text: "Killed process"}}
	plain, err := New(lits)
	if err != nil {
		t.Fatal(err)
	}
	tuned, err := New(lits, WithSample([]byte("kubelet kubelet Killed Killed"), 10))
	if err != nil {
		t.Fatal(err)
	}
	block := []byte("x FAILED TO RUN KUBELET\nKilled process 1\nkilled process\nkubelet\n")
	if diff := cmp.Diff(scanAll(plain, block), scanAll(tuned, block)); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff(naive(lits, block), scanAll(tuned, block)); diff != "" {
		t.Error(diff)
	}
}
