package search

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
)

// Tiers of the incident order, best first. When every match fits the answer they do not matter:
// all are listed in file and line order. When the answer must be cut, lines are chosen tier by
// tier, nearest the focus first inside a tier, and listed in file and line order again.
const (
	tierFact    = iota // a crash fact's line inside the focus
	tierInside         // another line inside the focus
	tierOutside        // a timed line outside the focus
	tierUntimed        // a line without a time
	tierRoutine        // a routine line: counted, not listed (unless Request.ListRoutine)
)

// rankKey orders the matches of one file; files are merged by the same key.
type rankKey struct {
	tier uint8
	dist time.Duration // from the anchor inside the focus, from its nearer edge outside
	line int
}

// compare runs for every match a file keeps: written out so that it stops at the first field
// that differs.
func (a rankKey) compare(b rankKey) int {
	switch {
	case a.tier != b.tier:
		return cmp.Compare(a.tier, b.tier)
	case a.dist != b.dist:
		return cmp.Compare(a.dist, b.dist)
	}
	return cmp.Compare(a.line, b.line)
}

// Parts of a focus, the index into fileOut.parts.
const (
	partInside = iota
	partBefore
	partAfter
	partUntimed
)

// place says where a time falls relative to the focus, and how far from what matters.
func (p *plan) place(t time.Time) (part int, dist time.Duration) {
	f := p.focus
	switch {
	case t.IsZero():
		return partUntimed, 0
	case !f.From.IsZero() && t.Before(f.From):
		return partBefore, f.From.Sub(t)
	case !f.To.IsZero() && !t.Before(f.To):
		return partAfter, t.Sub(f.To)
	}
	d := t.Sub(f.Anchor)
	if d < 0 {
		d = -d
	}
	return partInside, d
}

// key ranks one match.
func (p *plan) key(part int, dist time.Duration, fact bool, routine string, line int) rankKey {
	k := rankKey{dist: dist, line: line}
	switch {
	case routine != "" && !p.listRoutine:
		k.tier = tierRoutine
	case part == partUntimed:
		k.tier = tierUntimed
	case part != partInside:
		k.tier = tierOutside
	case fact:
		k.tier = tierFact
	default:
		k.tier = tierInside
	}
	return k
}

// kept is a match a file keeps while it is among the file's best. Its text is copied into a
// buffer that stays with the slot: when the newest lines come first, every line of a
// time-ordered file is kept for a while, and a fresh string for each would be garbage.
type kept struct {
	key  rankKey
	m    Match // Text is empty until match() fills it from text
	text []byte
}

func (it *kept) match() Match {
	m := it.m
	m.Text = string(it.text)
	return m
}

// keeper holds the best max matches of one file: a max-heap on the key, the worst on top, so a
// better match replaces it in O(log max). Matches are kept in slots that keep their index while
// they stay, so that context still being read can find its match; the heap holds the keys next
// to their slots so that sifting reads no match.
type keeper struct {
	max   int
	items []kept
	heap  []heapEntry
	bar   *rankKey // a key must be better still to be kept: the file's worst when a unit is read
}

// reset empties the keeper, keeping the text buffers of its slots.
func (k *keeper) reset(max int, bar *rankKey) {
	k.max, k.bar = max, bar
	k.items, k.heap = k.items[:0], k.heap[:0]
}

type heapEntry struct {
	key  rankKey
	slot int32
}

// admits says whether a match with this key would be kept: asked before its text is copied.
func (k *keeper) admits(key rankKey) bool {
	if k.bar != nil && key.compare(*k.bar) >= 0 {
		return false
	}
	return len(k.items) < k.max || key.compare(k.heap[0].key) < 0
}

// put keeps a match the keeper admits, with the text of its line cut to maxLine bytes, and
// returns its slot.
func (k *keeper) put(key rankKey, m Match, line []byte, maxLine int) int {
	slot := k.slot(key)
	it := &k.items[slot]
	it.key, it.m = key, m
	var cut bool
	it.text, cut = appendCut(it.text[:0], line, maxLine)
	it.m.Cut = it.m.Cut || cut
	return slot
}

// keep keeps a match the keeper admits whose text is already cut.
func (k *keeper) keep(key rankKey, m Match, text []byte) {
	it := &k.items[k.slot(key)]
	it.key, it.m = key, m
	it.text = append(it.text[:0], text...)
}

// slot places a key the keeper admits: a new slot while there is room, else the worst's.
func (k *keeper) slot(key rankKey) int {
	slot := len(k.items)
	if slot < k.max {
		if slot < cap(k.items) {
			k.items = k.items[:slot+1] // a slot of an earlier unit, with its text buffer
		} else {
			k.items = append(k.items, kept{})
		}
		k.heap = append(k.heap, heapEntry{key, int32(slot)})
		k.up(len(k.heap) - 1)
		return slot
	}
	slot = int(k.heap[0].slot)
	k.heap[0].key = key
	k.down(0)
	return slot
}

func (k *keeper) worse(i, j int) bool {
	return k.heap[i].key.compare(k.heap[j].key) > 0
}

func (k *keeper) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !k.worse(i, parent) {
			return
		}
		k.heap[i], k.heap[parent] = k.heap[parent], k.heap[i]
		i = parent
	}
}

func (k *keeper) down(i int) {
	n := len(k.heap)
	for {
		w := i
		if l := 2*i + 1; l < n && k.worse(l, w) {
			w = l
		}
		if r := 2*i + 2; r < n && k.worse(r, w) {
			w = r
		}
		if w == i {
			return
		}
		k.heap[i], k.heap[w] = k.heap[w], k.heap[i]
		i = w
	}
}

// Collapsed is a kind of routine line an answer counts instead of listing.
type Collapsed struct {
	// Rule is the catalog rule that reads the wording (or the format-matrix row of one no rule
	// reads); What says what the lines are.
	Rule    string `json:"rule" yaml:"rule"`
	What    string `json:"what" yaml:"what"`
	Count   int    `json:"count" yaml:"count"`
	Summary string `json:"summary" yaml:"summary"`
	// Example is the one nearest the focus.
	Example Example `json:"example" yaml:"example"`
}

// Example is one line with its place and time.
type Example struct {
	evidence.LineRef `yaml:",inline"`
	Text             string `json:"text" yaml:"text"`
	Cut              bool   `json:"cut,omitempty" yaml:"cut,omitempty"`
}

// routineTally counts a file's routine lines of one rule and keeps the best example.
type routineTally struct {
	count int
	key   rankKey
	ex    Example
}

// Next is a request that gets matches an answer did not list: the same request with Offset,
// with a window (From, To) in place of its own, or with ListRoutine.
type Next struct {
	What string `json:"what" yaml:"what"`
	// Matches is what the request reaches: for a window every match in it (the What says how
	// many of them this answer listed), for an offset the matches after this page, for
	// ListRoutine the routine lines. Of the blocks read when the result's total is not exact: a
	// lower bound.
	Matches     int       `json:"matches" yaml:"matches"`
	Offset      int       `json:"offset,omitempty" yaml:"offset,omitempty"`
	From        time.Time `json:"from,omitzero" yaml:"from,omitempty"`
	To          time.Time `json:"to,omitzero" yaml:"to,omitempty"`
	Window      bool      `json:"window,omitempty" yaml:"window,omitempty"` // From and To replace the request's window (zero: open)
	ListRoutine bool      `json:"listRoutine,omitempty" yaml:"listRoutine,omitempty"`
	// Call is the request written in the syntax of the face that answers (MCP tool call, command
	// line); the search package leaves it empty.
	Call string `json:"call,omitempty" yaml:"call,omitempty"`
}

// candidate is a kept match in the incident order of the whole answer.
type candidate struct {
	band int // its rank in its file divided by maxPerFile: no file fills a page before the others had maxPerFile lines
	file int
	it   *kept
}

// choose lists the page of an answer that must be cut: the incident order over every file,
// from p.offset, maxTotal long; and returns how many listable matches there are in all.
func choose(p *plan, outs []fileOut) (page map[int][]Match, listable int) {
	var cands []candidate
	for i := range outs {
		o := &outs[i]
		var mine []*kept
		for j := range o.keep.items {
			if it := &o.keep.items[j]; it.key.tier != tierRoutine {
				mine = append(mine, it)
			}
		}
		slices.SortFunc(mine, func(a, b *kept) int { return a.key.compare(b.key) })
		for r, it := range mine {
			cands = append(cands, candidate{band: r / p.maxPerFile, file: i, it: it})
		}
		listable += o.fm.Total - o.routineTotal() // nothing is tallied with ListRoutine
	}
	slices.SortFunc(cands, compareCandidates)
	page = map[int][]Match{}
	if p.offset < len(cands) {
		for _, c := range cands[p.offset:min(len(cands), p.offset+p.maxTotal)] {
			page[c.file] = append(page[c.file], c.it.match())
		}
	}
	for f := range page {
		slices.SortFunc(page[f], func(a, b Match) int { return cmp.Compare(a.Line, b.Line) })
	}
	return page, listable
}

// compareCandidates is the incident order across files.
func compareCandidates(a, b candidate) int {
	return cmp.Or(cmp.Compare(a.band, b.band), cmp.Compare(a.it.key.tier, b.it.key.tier),
		cmp.Compare(a.it.key.dist, b.it.key.dist), cmp.Compare(a.file, b.file), cmp.Compare(a.it.key.line, b.it.key.line))
}

func (o *fileOut) routineTotal() int {
	n := 0
	for _, t := range o.routine {
		n += t.count
	}
	return n
}

// collapse merges the files' routine tallies into one count per rule, most frequent first.
func collapse(p *plan, outs []fileOut) []Collapsed {
	type acc struct {
		n   int
		key rankKey
		ex  Example
		set bool
	}
	all := map[string]*acc{}
	for i := range outs {
		for rule, t := range outs[i].routine {
			a := all[rule]
			if a == nil {
				a = &acc{}
				all[rule] = a
			}
			a.n += t.count
			if !a.set || t.key.compare(a.key) < 0 {
				a.key, a.ex, a.set = t.key, t.ex, true
			}
		}
	}
	var out []Collapsed
	for rule, a := range all {
		what := p.routine.what[rule]
		out = append(out, Collapsed{Rule: rule, What: what, Count: a.n, Example: a.ex,
			Summary: fmt.Sprintf("%s %s collapsed (%s), e.g. %s", thousands(a.n), what, rule, a.ex.LineRef)})
	}
	slices.SortFunc(out, func(a, b Collapsed) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.Rule, b.Rule)) })
	return out
}
