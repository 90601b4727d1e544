// Package literal finds, in a block of many log lines, the lines that contain at least one of a
// set of literal strings, and which of those literals each such line contains.
//
// Most lines of a node log contain none of the detection literals, so the block is scanned as a
// whole instead of line by line, and most of the block is never looked at byte by byte: the
// scanner reads one k-byte gram every S bytes and tests it against a bit filter of grams that
// occur in the literals. The trick that makes sampling complete: for every literal, S
// consecutive grams (a window chosen where the literal's bytes are rarest) are registered, so
// any occurrence of the literal places one of those grams at a sampled position. Filter hits are
// verified against the literals exactly, and only verified lines are reported. Literals may be
// ASCII case-insensitive; their grams are registered in every case variant so the hot loop never
// folds case.
//
// The engine was chosen by benchmark against two Aho-Corasick automata
// (github.com/coregx/ahocorasick, github.com/petar-dambovaliev/aho-corasick) and a per-literal
// bytes.Index loop, all given the catalog's literals over a generated 256 MiB node log bundle;
// see BenchmarkPrefilter in internal/detect.
package literal

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"
)

// Literal is one string to find.
type Literal struct {
	Text string
	Fold bool // ASCII case-insensitive
}

// Tuning limits. A stride wider than maxStride buys little (a few bytes per sample are already
// cheap) and needs longer literal windows; the filter size keeps the bit set in L1/L2 cache.
const (
	maxGram   = 4
	maxStride = 8
	// maxVariants bounds the case variants registered for one gram of a case-insensitive
	// literal: 2^4 for four letters.
	maxVariants = 16
)

// Set is a compiled set of literals. It is immutable and safe for concurrent use; each
// goroutine needs its own Scanner.
type Set struct {
	lits   []Literal
	lens   []int
	k      int    // gram length in bytes (1..4)
	stride int    // distance between sampled positions
	gmask  uint32 // keeps the k low bytes of a little-endian 4-byte load
	hshift uint   // 32 - log2(filter bits)
	filter []uint64

	// Exact gram table: open addressing on the gram value; each slot points at a run of
	// entries in ents.
	tkeys  []uint32
	tused  []bool
	tstart []uint32
	tend   []uint32
	tmask  uint32
	ents   []entry
}

type entry struct {
	lit int32 // literal id
	off int32 // offset of the gram inside the literal
}

// Option tunes a Set.
type Option func(*options)

type options struct {
	samples []sample
}

type sample struct {
	text   []byte
	weight float64
}

// WithSample gives text typical of what will be scanned, counted weight times. Gram rarity
// is then estimated from real gram counts instead of byte frequencies alone, so each literal
// is probed at its rarest window: in kubelet logs "kube" is everywhere although k, u, b and e
// are individually uncommon letters. The option may be repeated; a larger weight suits text
// that is more representative (healthy-node chatter rather than error examples).
func WithSample(text []byte, weight float64) Option {
	return func(o *options) { o.samples = append(o.samples, sample{text, weight}) }
}

// New compiles a set. Every literal must be non-empty and free of '\n' (a literal that spanned
// lines could never be reported against one line). Duplicates are allowed; each keeps its id.
func New(lits []Literal, opts ...Option) (*Set, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(lits) == 0 {
		return nil, errors.New("literal: empty set")
	}
	minLen := math.MaxInt
	for i, l := range lits {
		if l.Text == "" {
			return nil, fmt.Errorf("literal %d: empty", i)
		}
		if strings.IndexByte(l.Text, '\n') >= 0 {
			return nil, fmt.Errorf("literal %d %q: contains a newline", i, l.Text)
		}
		minLen = min(minLen, len(l.Text))
	}
	s := &Set{lits: append([]Literal(nil), lits...)}
	s.lens = make([]int, len(lits))
	for i, l := range lits {
		s.lens[i] = len(l.Text)
	}
	s.k = min(maxGram, minLen)
	s.stride = min(maxStride, minLen-s.k+1)
	if s.k == 4 {
		s.gmask = 0xffffffff
	} else {
		s.gmask = uint32(1)<<(8*s.k) - 1
	}

	est := newEstimator(o.samples, s.k)
	type reg struct {
		gram uint32
		e    entry
	}
	var regs []reg
	for i, l := range lits {
		o := bestWindow(l.Text, s.k, s.stride, est)
		for j := 0; j < s.stride; j++ {
			off := o + j
			g := l.Text[off : off+s.k]
			for _, v := range variants(g, l.Fold) {
				regs = append(regs, reg{gram: v, e: entry{lit: int32(i), off: int32(off)}})
			}
		}
	}
	sort.Slice(regs, func(a, b int) bool {
		if regs[a].gram != regs[b].gram {
			return regs[a].gram < regs[b].gram
		}
		if regs[a].e.lit != regs[b].e.lit {
			return regs[a].e.lit < regs[b].e.lit
		}
		return regs[a].e.off < regs[b].e.off
	})
	// Drop exact duplicates (a literal whose window repeats a gram at the same offset cannot
	// happen, but case variants of non-letters collapse to the same value).
	uniq := regs[:0]
	for i, r := range regs {
		if i > 0 && r == regs[i-1] {
			continue
		}
		uniq = append(uniq, r)
	}
	regs = uniq

	distinct := 0
	for i := range regs {
		if i == 0 || regs[i].gram != regs[i-1].gram {
			distinct++
		}
	}
	// About 64 filter bits per distinct gram keeps random filter hits (hash collisions)
	// near 1.5% of samples while the filter stays within 32 KiB for catalogs of a few thousand
	// grams; never below 2^12 nor above 2^20 bits (128 KiB).
	fbits := bits.Len(uint(distinct*64 - 1))
	fbits = max(12, min(20, fbits))
	s.hshift = uint(32 - fbits)
	s.filter = make([]uint64, (1<<fbits)/64)

	tsize := 1
	for tsize < 2*distinct {
		tsize <<= 1
	}
	s.tkeys = make([]uint32, tsize)
	s.tused = make([]bool, tsize)
	s.tstart = make([]uint32, tsize)
	s.tend = make([]uint32, tsize)
	s.tmask = uint32(tsize - 1)
	s.ents = make([]entry, len(regs))
	for i := 0; i < len(regs); {
		j := i
		for j < len(regs) && regs[j].gram == regs[i].gram {
			s.ents[j] = regs[j].e
			j++
		}
		g := regs[i].gram
		h := s.hash(g)
		s.filter[h>>6] |= 1 << (h & 63)
		slot := g * 0x9E3779B1 >> 7 & s.tmask
		for s.tused[slot] {
			slot = (slot + 1) & s.tmask
		}
		s.tused[slot] = true
		s.tkeys[slot] = g
		s.tstart[slot] = uint32(i)
		s.tend[slot] = uint32(j)
		i = j
	}
	return s, nil
}

// Len is the number of literals.
func (s *Set) Len() int { return len(s.lits) }

// Literal returns literal id.
func (s *Set) Literal(id int) Literal { return s.lits[id] }

// Stride is the distance between sampled positions (for benchmarks and docs).
func (s *Set) Stride() int { return s.stride }

// hashMul spreads grams over the filter; any odd constant with well-mixed high bits works.
const hashMul = 0x2545F491

func (s *Set) hash(g uint32) uint32 { return g * hashMul >> s.hshift }

// lookup returns the entries registered for gram g.
func (s *Set) lookup(g uint32) []entry {
	slot := g * 0x9E3779B1 >> 7 & s.tmask
	for s.tused[slot] {
		if s.tkeys[slot] == g {
			return s.ents[s.tstart[slot]:s.tend[slot]]
		}
		slot = (slot + 1) & s.tmask
	}
	return nil
}

// gramValue packs up to four bytes little-endian, as a 4-byte load of the haystack does.
func gramValue(g string) uint32 {
	var v uint32
	for i := len(g) - 1; i >= 0; i-- {
		v = v<<8 | uint32(g[i])
	}
	return v
}

// variants lists the gram values that can occur in text for gram g: g itself, or every
// ASCII-case spelling when fold is set.
func variants(g string, fold bool) []uint32 {
	if !fold {
		return []uint32{gramValue(g)}
	}
	out := []uint32{0}
	for i := 0; i < len(g); i++ {
		c := g[i]
		lc, uc := lower(c), upper(c)
		next := make([]uint32, 0, min(maxVariants, 2*len(out)))
		for _, v := range out {
			next = append(next, v|uint32(lc)<<(8*i))
			if uc != lc {
				next = append(next, v|uint32(uc)<<(8*i))
			}
		}
		out = next
	}
	return out
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// bestWindow returns the offset o of the window of `stride` consecutive grams (offsets
// o..o+stride-1) whose estimated frequency in log text is lowest: those grams are the ones the
// hot loop probes, so rarer grams mean fewer filter hits to verify.
func bestWindow(lit string, k, stride int, est *estimator) int {
	best, bestCost := 0, math.Inf(1)
	for o := 0; o+stride-1+k <= len(lit); o++ {
		cost := 0.0
		for j := 0; j < stride; j++ {
			cost += est.freq(lit[o+j : o+j+k])
		}
		if cost < bestCost {
			best, bestCost = o, cost
		}
	}
	return best
}

// estimator guesses how often a gram occurs per position of node log text. Counts from a
// sample, when given, dominate; the byte-frequency product is the prior for grams the sample
// lacks. Case does not matter for a case-insensitive literal's ranking: its window is compared
// only with its own other windows.
type estimator struct {
	counts map[uint32]float64
	n      float64
}

func newEstimator(samples []sample, k int) *estimator {
	e := &estimator{counts: map[uint32]float64{}}
	for _, s := range samples {
		t := s.text
		for p := 0; p+k <= len(t); p++ {
			if bytes.IndexByte(t[p:p+k], '\n') >= 0 {
				continue
			}
			e.counts[gramValue(string(t[p:p+k]))] += s.weight
			e.n += s.weight
		}
	}
	return e
}

func (e *estimator) freq(g string) float64 {
	prior := 1.0
	for i := 0; i < len(g); i++ {
		prior *= byteFreq[g[i]]
	}
	if e.n == 0 {
		return prior
	}
	return (e.counts[gramValue(g)] + prior*e.n) / e.n
}

// byteFreq approximates byte frequencies in node logs (kubelet, containerd, syslog, dmesg): hex
// IDs, digits, timestamps and lower-case English dominate; upper case and most punctuation are
// rare. Estimated from generated and sample EKS node logs, rounded into five classes.
var byteFreq = func() [256]float64 {
	var t [256]float64
	for i := range t {
		t[i] = 0.0002 // control bytes and non-ASCII
	}
	set := func(chars string, f float64) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] = f
		}
	}
	set("!#$%&'*;<>?@^`|~", 0.001)
	set("BGHJKQUVWXYZ", 0.001)
	set("xqjz(){}+ILEATNSCORPDFM", 0.004)
	set("clduhmpfg/=,_][bvykw\\", 0.012)
	set(" etaoinsr0123456789\":.-", 0.04)
	return t
}()
