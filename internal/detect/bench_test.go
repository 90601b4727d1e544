package detect

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	coregx "github.com/coregx/ahocorasick"
	petar "github.com/petar-dambovaliev/aho-corasick"

	"github.com/nodediag/nodediag/internal/benchdata"
	"github.com/nodediag/nodediag/internal/detect/literal"
)

// Benchmarks run on the 256 MiB benchmark bundle, which internal/benchdata finds or writes:
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/detect/

const benchBlock = 1 << 20 // the indexer streams files in blocks of about this size

type benchFile struct {
	logType string
	blocks  [][]byte
}

var (
	benchOnce  sync.Once
	benchFiles []benchFile
	benchBytes int64
	benchErr   error
)

// benchLogType classifies a file of the EKS log collector's layout, as internal/bundle does.
func benchLogType(rel string) string {
	switch {
	case strings.HasPrefix(rel, "kubelet/"):
		return "kubelet"
	case strings.HasPrefix(rel, "containerd/"):
		return "containerd"
	case strings.HasPrefix(rel, "kernel/dmesg"):
		return "dmesg"
	case rel == "var_log/messages":
		return "messages"
	case strings.HasPrefix(rel, "var_log/aws-routed-eni/"):
		return "ipamd"
	case strings.HasPrefix(rel, "var_log/") && strings.HasSuffix(rel, ".log"):
		return "pods"
	case strings.HasPrefix(rel, "system/"):
		return "system"
	}
	return "config"
}

// splitBlocks cuts data into blocks of about size bytes that end at line boundaries.
func splitBlocks(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(size, len(data))
		if n < len(data) {
			if i := bytes.LastIndexByte(data[:n], '\n'); i >= 0 {
				n = i + 1
			} else if j := bytes.IndexByte(data[n:], '\n'); j >= 0 {
				n += j + 1
			} else {
				n = len(data)
			}
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

func loadBench(b testing.TB) ([]benchFile, int64) {
	b.Helper()
	dir := benchdata.Folder(b, 256)
	benchOnce.Do(func() {
		benchErr = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".tar.gz") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			rel = filepath.ToSlash(rel)
			if i := strings.IndexByte(rel, '/'); i >= 0 && strings.HasPrefix(rel, "eks_") {
				rel = rel[i+1:]
			}
			benchFiles = append(benchFiles, benchFile{benchLogType(rel), splitBlocks(data, benchBlock)})
			benchBytes += int64(len(data))
			return nil
		})
	})
	if benchErr != nil || benchBytes == 0 {
		b.Skipf("no benchmark bundle in %s (%v): run python3 /work/shared/bench/mkbundle.py --out %s --size-mb 256", dir, benchErr, dir)
	}
	return benchFiles, benchBytes
}

// BenchmarkScan is the full matcher: prefilter, line-source routing and regex confirmation, on
// every file of the bundle, one core.
func BenchmarkScan(b *testing.B) {
	files, total := loadBench(b)
	_, m := catalog(b)
	hits := 0
	fn := func(*Rule, int, int, int) { hits++ }
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		hits = 0
		for _, f := range files {
			for _, blk := range f.blocks {
				m.Scan(blk, f.logType, fn)
			}
		}
	}
	b.ReportMetric(float64(hits), "hits")
}

// ---------------------------------------------------------------------------------------------
// Prefilter candidates. Each reports, per line holding at least one literal, the sorted ids of
// all literals on it (overlaps included); TestPrefilterCandidatesAgree proves they agree.

type prefilter interface {
	scan(block []byte, emit func(start, end int, ids []int32))
}

func catalogLiterals(m *Matcher) []literal.Literal {
	lits := make([]literal.Literal, m.set.Len())
	for i := range lits {
		lits[i] = m.set.Literal(i)
	}
	return lits
}

// sampledPF is the engine nodediag uses (package literal).
type sampledPF struct{ sc *literal.Scanner }

func (p *sampledPF) scan(block []byte, emit func(int, int, []int32)) {
	p.sc.Reset(block)
	for {
		s, e, ids, ok := p.sc.Next()
		if !ok {
			return
		}
		emit(s, e, ids)
	}
}

// lineGrouper turns matches, reported in order of their end offset, into per-line id sets.
type lineGrouper struct {
	block      []byte
	start, end int
	ids        []int32
	emit       func(int, int, []int32)
}

func (g *lineGrouper) reset(block []byte, emit func(int, int, []int32)) {
	g.block, g.start, g.end, g.ids, g.emit = block, -1, -1, g.ids[:0], emit
}

func (g *lineGrouper) add(pos int, id int32) {
	if pos >= g.end {
		g.flush()
		g.start = bytes.LastIndexByte(g.block[:pos], '\n') + 1
		if i := bytes.IndexByte(g.block[pos:], '\n'); i >= 0 {
			g.end = pos + i
		} else {
			g.end = len(g.block)
		}
	}
	i, found := slices.BinarySearch(g.ids, id)
	if !found {
		g.ids = slices.Insert(g.ids, i, id)
	}
}

func (g *lineGrouper) flush() {
	if len(g.ids) > 0 {
		g.emit(g.start, g.end, g.ids)
	}
	g.ids = g.ids[:0]
}

// foldInto lower-cases src into dst (ASCII), so automata without case folding can serve
// case-insensitive literals.
func foldInto(dst, src []byte) []byte {
	dst = slices.Grow(dst[:0], len(src))[:len(src)]
	for i, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

// coregxPF runs github.com/coregx/ahocorasick. It has no case folding, so it searches a
// lower-cased copy of the block for lower-cased literals and re-checks case-sensitive ones.
type coregxPF struct {
	lits   []literal.Literal
	ac     *coregx.Automaton
	folded []byte
	g      lineGrouper
}

func newCoregx(lits []literal.Literal) (*coregxPF, error) {
	pats := make([][]byte, len(lits))
	for i, l := range lits {
		pats[i] = []byte(strings.ToLower(l.Text))
	}
	ac, err := coregx.NewBuilder().AddPatterns(pats).Build()
	if err != nil {
		return nil, err
	}
	return &coregxPF{lits: lits, ac: ac}, nil
}

func (p *coregxPF) scan(block []byte, emit func(int, int, []int32)) {
	p.folded = foldInto(p.folded, block)
	p.g.reset(block, emit)
	for _, mt := range p.ac.FindAllOverlapping(p.folded) {
		l := p.lits[mt.PatternID]
		if !l.Fold && string(block[mt.Start:mt.End]) != l.Text {
			continue
		}
		p.g.add(mt.Start, int32(mt.PatternID))
	}
	p.g.flush()
}

// coregxRawPF is coregx on the raw block with the literals as written: it misses other
// spellings of case-insensitive literals, so it is only a lower bound on coregx's cost and is
// left out of the agreement test.
type coregxRawPF struct {
	ac *coregx.Automaton
	g  lineGrouper
}

func newCoregxRaw(lits []literal.Literal) (*coregxRawPF, error) {
	pats := make([][]byte, len(lits))
	for i, l := range lits {
		pats[i] = []byte(l.Text)
	}
	ac, err := coregx.NewBuilder().AddPatterns(pats).Build()
	if err != nil {
		return nil, err
	}
	return &coregxRawPF{ac: ac}, nil
}

func (p *coregxRawPF) scan(block []byte, emit func(int, int, []int32)) {
	p.g.reset(block, emit)
	for _, mt := range p.ac.FindAllOverlapping(block) {
		p.g.add(mt.Start, int32(mt.PatternID))
	}
	p.g.flush()
}

// petarPF runs github.com/petar-dambovaliev/aho-corasick with ASCII case folding built into the
// automaton (DFA, standard semantics for overlapping matches) and re-checks case-sensitive
// literals.
type petarPF struct {
	lits []literal.Literal
	ac   petar.AhoCorasick
	g    lineGrouper
}

func newPetar(lits []literal.Literal) *petarPF {
	pats := make([]string, len(lits))
	for i, l := range lits {
		pats[i] = l.Text
	}
	b := petar.NewAhoCorasickBuilder(petar.Opts{AsciiCaseInsensitive: true, MatchKind: petar.StandardMatch, DFA: true})
	return &petarPF{lits: lits, ac: b.Build(pats)}
}

func (p *petarPF) scan(block []byte, emit func(int, int, []int32)) {
	p.g.reset(block, emit)
	it := p.ac.IterOverlappingByte(block)
	for mt := it.Next(); mt != nil; mt = it.Next() {
		l := p.lits[mt.Pattern()]
		if !l.Fold && string(block[mt.Start():mt.End()]) != l.Text {
			continue
		}
		p.g.add(mt.Start(), int32(mt.Pattern()))
	}
	p.g.flush()
}

// indexPF searches each literal with bytes.Index over the whole block (SIMD-accelerated per
// literal), case-insensitive ones in a lower-cased copy, then sorts the hits into lines.
type indexPF struct {
	lits   []literal.Literal
	lower  [][]byte
	folded []byte
	hits   []posID
	g      lineGrouper
}

type posID struct {
	pos int
	id  int32
}

func newIndex(lits []literal.Literal) *indexPF {
	p := &indexPF{lits: lits}
	for _, l := range lits {
		p.lower = append(p.lower, []byte(strings.ToLower(l.Text)))
	}
	return p
}

func (p *indexPF) scan(block []byte, emit func(int, int, []int32)) {
	p.hits = p.hits[:0]
	folded := false
	for id, l := range p.lits {
		hay, needle := block, []byte(l.Text)
		if l.Fold {
			if !folded {
				p.folded = foldInto(p.folded, block)
				folded = true
			}
			hay, needle = p.folded, p.lower[id]
		}
		for off := 0; ; {
			i := bytes.Index(hay[off:], needle)
			if i < 0 {
				break
			}
			p.hits = append(p.hits, posID{off + i, int32(id)})
			off += i + 1
		}
	}
	slices.SortFunc(p.hits, func(a, b posID) int { return a.pos - b.pos })
	p.g.reset(block, emit)
	for _, h := range p.hits {
		p.g.add(h.pos, h.id)
	}
	p.g.flush()
}

func candidates(t testing.TB, m *Matcher) map[string]prefilter {
	t.Helper()
	lits := catalogLiterals(m)
	cg, err := newCoregx(lits)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]prefilter{
		"sampled":    &sampledPF{sc: m.set.NewScanner()},
		"coregx":     cg,
		"petar":      newPetar(lits),
		"bytesIndex": newIndex(lits),
	}
}

type lineIDs struct {
	Start, End int
	IDs        []int32
}

func collect(p prefilter, block []byte) []lineIDs {
	var out []lineIDs
	p.scan(block, func(s, e int, ids []int32) { out = append(out, lineIDs{s, e, slices.Clone(ids)}) })
	return out
}

// TestPrefilterCandidatesAgree checks that the benchmarked candidates compute the same thing
// on every example and near-miss of the catalog (mixed into one block with noise, and with
// case changes that only case-insensitive literals survive).
func TestPrefilterCandidatesAgree(t *testing.T) {
	c, m := catalog(t)
	var b bytes.Buffer
	for i := range c.Rules {
		for _, l := range slices.Concat(c.Rules[i].Examples, c.Rules[i].NearMisses) {
			b.WriteString(l + "\n" + strings.ToUpper(l) + "\nnoise line\n")
		}
	}
	block := b.Bytes()
	cands := candidates(t, m)
	want := collect(cands["sampled"], block)
	if len(want) < len(c.Rules) {
		t.Fatalf("only %d lines with literals", len(want))
	}
	for name, p := range cands {
		if diff := diffLines(want, collect(p, block)); diff != "" {
			t.Errorf("%s disagrees with sampled: %s", name, diff)
		}
	}
}

func diffLines(a, b []lineIDs) string {
	for i := range min(len(a), len(b)) {
		if a[i].Start != b[i].Start || a[i].End != b[i].End || !slices.Equal(a[i].IDs, b[i].IDs) {
			return fmt.Sprintf("line %d: want %+v, got %+v", i, a[i], b[i])
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("%d lines, want %d", len(b), len(a))
	}
	return ""
}

// BenchmarkPrefilter compares the multi-literal candidates alone (no regex confirmation) over
// the whole bundle with the catalog's literals.
func BenchmarkPrefilter(b *testing.B) {
	files, total := loadBench(b)
	_, m := catalog(b)
	cands := candidates(b, m)
	raw, err := newCoregxRaw(catalogLiterals(m))
	if err != nil {
		b.Fatal(err)
	}
	cands["coregx-nofold"] = raw
	for _, name := range []string{"sampled", "coregx", "coregx-nofold", "petar", "bytesIndex"} {
		p := cands[name]
		b.Run(name, func(b *testing.B) {
			lines := 0
			fn := func(int, int, []int32) { lines++ }
			b.SetBytes(total)
			for range b.N {
				lines = 0
				for _, f := range files {
					for _, blk := range f.blocks {
						p.scan(blk, fn)
					}
				}
			}
			b.ReportMetric(float64(lines), "lines")
		})
	}
}

// BenchmarkLoadCompile is the start-up cost of every command: parse and self-check the
// embedded catalog, then compile it.
func BenchmarkLoadCompile(b *testing.B) {
	for range b.N {
		c, err := Load()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Compile(); err != nil {
			b.Fatal(err)
		}
	}
}
