package search

import (
	"strings"

	"github.com/nodediag/nodediag/internal/detect/literal"
	"github.com/nodediag/nodediag/internal/index"
)

// wordMask is the set of index vocabulary words whose absence from a block proves the query
// cannot match there: every literal of the prefilter contains one of them (a line matching the
// query holds a literal, so it holds the word too). nil when some literal contains none, or the
// index recorded no vocabulary: then every block is read.
type wordMask struct {
	bits []uint64
	// fold: the query folds case, and RE2 folds ſ and K onto s and k, which the index's ASCII
	// folding does not see; a block holding either must be read.
	fold   bool
	exotic int // the index's bit of that mark
}

// skipDisabled makes every search read every block: tests compare the two.
var skipDisabled bool

func newWordMask(vocab []literal.Literal, lits []literal.Literal) *wordMask {
	if skipDisabled || len(vocab) == 0 || len(lits) == 0 {
		return nil
	}
	m := &wordMask{bits: make([]uint64, (len(vocab)+1+63)/64), exotic: len(vocab)}
	for _, l := range lits {
		text := strings.ToLower(asciiFold(l.Text))
		found := false
		for w, v := range vocab {
			if v.Fold && strings.Contains(text, strings.ToLower(v.Text)) {
				m.bits[w>>6] |= 1 << (uint(w) & 63)
				found = true
			}
		}
		if !found {
			return nil
		}
		m.fold = m.fold || l.Fold
	}
	return m
}

// asciiFold maps the two non-ASCII letters RE2 folds onto ASCII ones back to them.
func asciiFold(s string) string {
	return strings.NewReplacer("\u017f", "s", "\u212a", "k").Replace(s)
}

// mayHold reports whether the block of a checkpoint can hold a match.
func (m *wordMask) mayHold(cp index.Checkpoint) bool {
	if m == nil || len(cp.Words) != len(m.bits) {
		return true
	}
	if m.fold && cp.Words[m.exotic>>6]&(1<<(uint(m.exotic)&63)) != 0 {
		return true
	}
	for i, b := range m.bits {
		if cp.Words[i]&b != 0 {
			return true
		}
	}
	return false
}

// readSpan is a run of consecutive blocks of a file to read: from the line and byte where it
// starts to the byte where it stops (-1: the end of the file).
type readSpan struct {
	line, off, stop int64
}

// spans lists what to read of a file: the window's span of its checkpoints, cut further to the
// runs of blocks the query may match in.
func (p *plan) spans(ix *index.File) []readSpan {
	line, off, stop := int64(1), int64(0), int64(-1)
	if p.window && ix != nil {
		line, off, stop = span(ix.Checkpoints, p.from, p.to)
	}
	whole := []readSpan{{line, off, stop}}
	if p.words == nil || ix == nil || len(ix.Checkpoints) == 0 || p.context > 0 {
		return whole
	}
	var out []readSpan
	cps := ix.Checkpoints
	for i, cp := range cps {
		if cp.Offset < off || (stop >= 0 && cp.Offset >= stop) {
			continue
		}
		end := int64(-1)
		if i+1 < len(cps) {
			end = cps[i+1].Offset
		}
		if stop >= 0 && (end < 0 || end > stop) {
			end = stop
		}
		if !p.words.mayHold(cp) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].stop == cp.Offset {
			out[n-1].stop = end // the next block of a run
			continue
		}
		out = append(out, readSpan{cp.Line, cp.Offset, end})
	}
	return out
}
