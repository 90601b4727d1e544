package literal

import (
	"bytes"
	"unsafe"

	"github.com/mhr3/veloz/ascii"
)

// maxDirect is the most literals a set searches one at a time with a vectorized substring
// search instead of sampling grams: ascii.IndexFold and bytes.Index read 8–11 GB/s on node logs
// (AVX2 on amd64, NEON on arm64), the gram sampler 3–4 GB/s whatever the set's size, so up to
// two passes are cheaper than one sampled pass (docs/performance.md). A search for one word
// (`error`, `timeout`) is the common case.
const maxDirect = 2

// index returns the offset in b of the first occurrence of literal id, or -1.
func (s *Set) index(b []byte, id int) int {
	if len(b) == 0 {
		return -1
	}
	l := s.lits[id]
	if !l.Fold {
		return bytes.Index(b, unsafe.Slice(unsafe.StringData(l.Text), len(l.Text)))
	}
	return ascii.IndexFold(unsafe.String(unsafe.SliceData(b), len(b)), l.Text)
}

// nextAt returns where literal id next occurs at or after from, or len(b): the vectorized
// search's answer, confirmed with the same comparison the sampler uses.
func (sc *Scanner) nextAt(id, from int) int {
	b := sc.b
	for from < len(b) {
		i := sc.set.index(b[from:], id)
		if i < 0 {
			break
		}
		at := from + i
		if sc.set.equalAt(b, at, int32(id)) {
			return at
		}
		from = at + 1
	}
	return len(b)
}

// nextDirect is Next for a set searched one literal at a time: each literal keeps where it next
// occurs, the nearest one gives the line, and every literal whose next occurrence is on that
// line is reported with it.
func (sc *Scanner) nextDirect() (start, end int, ids []int32, ok bool) {
	sc.clear()
	b := sc.b
	n := len(b)
	p := n
	for id := range sc.set.lits {
		if sc.at[id] < sc.floor {
			sc.at[id] = sc.nextAt(id, sc.floor)
		}
		p = min(p, sc.at[id])
	}
	if p >= n {
		sc.floor = n
		return 0, 0, nil, false
	}
	start = sc.floor + lastNewline(b[sc.floor:p]) + 1
	end = n
	if i := bytes.IndexByte(b[p:], '\n'); i >= 0 {
		end = p + i
	}
	for id := range sc.set.lits {
		if sc.at[id] < end {
			sc.ids = append(sc.ids, int32(id))
			sc.seen[id>>6] |= 1 << (uint(id) & 63)
		}
	}
	sc.floor = min(end+1, n)
	return start, end, sc.ids, true
}
