package literal

import (
	"bytes"
	"unsafe"
)

// Scanner walks one block at a time and yields the lines that contain literals. It is not safe
// for concurrent use; reuse one per goroutine (Reset between blocks) so that scanning does not
// allocate.
type Scanner struct {
	set   *Set
	b     []byte
	p     int // next sampled position to examine
	floor int // first byte not yet returned as part of a line
	seen  []uint64
	ids   []int32
	// at is, for a set searched one literal at a time, where each literal next occurs (len(b)
	// for nowhere); an entry below floor is not known yet.
	at     []int
	direct bool
}

// NewScanner returns a scanner over an empty block.
func (s *Set) NewScanner() *Scanner {
	sc := &Scanner{
		set:  s,
		seen: make([]uint64, (len(s.lits)+63)/64),
		ids:  make([]int32, 0, 16),
	}
	if len(s.lits) <= maxDirect {
		sc.direct = true
		sc.at = make([]int, len(s.lits))
	}
	return sc
}

// Reset starts a new block. The block holds whole lines separated by '\n'; the last may lack
// it. Sampling restarts at the block's first byte, so results never depend on earlier blocks.
func (sc *Scanner) Reset(block []byte) {
	sc.clear()
	sc.b = block
	sc.p = 0
	sc.floor = 0
	for i := range sc.at {
		sc.at[i] = -1
	}
}

func (sc *Scanner) clear() {
	for _, id := range sc.ids {
		sc.seen[id>>6] &^= 1 << (uint(id) & 63)
	}
	sc.ids = sc.ids[:0]
}

// Next returns the next line that contains at least one literal: its bounds in the block
// (end excludes the '\n') and the ids of every literal occurring in it, in increasing order,
// including literals that overlap or contain one another. ids is valid until the next call.
// ok is false when the block is exhausted.
func (sc *Scanner) Next() (start, end int, ids []int32, ok bool) {
	if sc.direct {
		return sc.nextDirect()
	}
	sc.clear()
	s := sc.set
	b := sc.b
	n := len(b)
	lineStart, lineEnd := -1, -1
	p := sc.p
	last := n - 4 // last position a 4-byte load can start at
	for {
		if p <= last {
			p = s.probe(unsafe.Pointer(unsafe.SliceData(b)), p, last)
			if p <= last {
				goto candidate
			}
		}
		// Tail: positions too close to the end for a 4-byte load still hold a whole gram
		// when grams are shorter than four bytes.
		for p+s.k <= n {
			h := s.hash(loadTail(b, p) & s.gmask)
			if s.filter[h>>6]&(1<<(h&63)) != 0 {
				goto candidate
			}
			p += s.stride
		}
		// Block exhausted.
		sc.p = n
		if lineStart >= 0 {
			sc.floor = min(lineEnd+1, n)
			return lineStart, lineEnd, sc.ids, true
		}
		return 0, 0, nil, false

	candidate:
		if lineStart >= 0 && p >= lineEnd {
			// The filter hit lies on a later line: hand out the current one first and
			// examine p again on the next call.
			sc.p = p
			sc.floor = lineEnd + 1
			return lineStart, lineEnd, sc.ids, true
		}
		var g uint32
		if p <= last {
			g = load32(unsafe.Pointer(unsafe.SliceData(b)), p) & s.gmask
		} else {
			g = loadTail(b, p) & s.gmask
		}
		for _, e := range s.lookup(g) {
			id := e.lit
			if sc.seen[id>>6]&(1<<(uint(id)&63)) != 0 {
				continue
			}
			a := p - int(e.off)
			l := s.lens[id]
			if a < 0 || a+l > n || !s.equalAt(b, a, id) {
				continue
			}
			if lineStart < 0 {
				lo := min(sc.floor, p)
				lineStart = lo + lastNewline(b[lo:p]) + 1
				if i := bytes.IndexByte(b[p:], '\n'); i >= 0 {
					lineEnd = p + i
				} else {
					lineEnd = n
				}
			}
			sc.seen[id>>6] |= 1 << (uint(id) & 63)
			sc.insert(id)
		}
		p += s.stride
	}
}

// probe returns the first sampled position from p on (in steps of the stride, up to last)
// whose gram passes the filter, or a position past last. It is the hot loop: one load, one
// multiply and one bit test per sample, kept in a small function so that everything lives in
// registers. base is the block's first byte and last+4 its length, so every load is in bounds;
// the filter index is in bounds because the hash has exactly log2(filter bits) bits.
func (s *Set) probe(base unsafe.Pointer, p, last int) int {
	stride := s.stride
	gmask := s.gmask
	shift := s.hshift & 31
	filter := unsafe.Pointer(unsafe.SliceData(s.filter))
	test := func(q int) bool {
		h := (load32(base, q) & gmask) * hashMul >> shift
		return *(*uint64)(unsafe.Add(filter, uintptr(h>>6)*8))&(1<<(h&63)) != 0
	}
	for ; p+3*stride <= last; p += 4 * stride {
		if test(p) {
			return p
		}
		if test(p + stride) {
			return p + stride
		}
		if test(p + 2*stride) {
			return p + 2*stride
		}
		if test(p + 3*stride) {
			return p + 3*stride
		}
	}
	for ; p <= last; p += stride {
		if test(p) {
			return p
		}
	}
	return p
}

// insert adds id to the sorted id list; lines rarely hold more than a few literals.
func (sc *Scanner) insert(id int32) {
	sc.ids = append(sc.ids, id)
	for i := len(sc.ids) - 1; i > 0 && sc.ids[i-1] > id; i-- {
		sc.ids[i], sc.ids[i-1] = sc.ids[i-1], sc.ids[i]
	}
}

func (s *Set) equalAt(b []byte, a int, id int32) bool {
	lit := s.lits[id]
	w := b[a : a+len(lit.Text)]
	if !lit.Fold {
		return string(w) == lit.Text
	}
	return EqualFold(w, lit.Text)
}

// EqualFold reports whether w equals t under ASCII case folding.
func EqualFold(w []byte, t string) bool {
	if len(w) != len(t) {
		return false
	}
	for i := 0; i < len(t); i++ {
		if w[i] != t[i] && lower(w[i]) != lower(t[i]) {
			return false
		}
	}
	return true
}

// loadTail loads up to four bytes at p, zero past the end of b.
func loadTail(b []byte, p int) uint32 {
	var v uint32
	for i := 0; i < 4 && p+i < len(b); i++ {
		v |= uint32(b[p+i]) << (8 * i)
	}
	return v
}
