package regex

import (
	"encoding/binary"
	"regexp/syntax"
	"slices"
)

// Transition table entries: a state's offset into the table (its index times the stride), or one
// of these. Every value at or above tagged leaves the inner loop.
const (
	tagged  uint32 = 1 << 31
	bail    uint32 = 0xFFFFFFFC // not valid UTF-8 here: the stdlib answers for this text
	matched uint32 = 0xFFFFFFFD // a match ended before this byte
	dead    uint32 = 0xFFFFFFFE // no match can follow
	unknown uint32 = 0xFFFFFFFF // not computed yet
)

// flags is the context of the position a DFA state stands at, kept only when a pending
// empty-width condition of the state needs it.
type flags uint8

const (
	fBeginText flags = 1 << iota
	fBeginLine
	fPrevWord
)

// program is what every cache of one Matcher shares: the NFA and its byte classes.
type program struct {
	n       *nfa
	classes [256]uint8
	reps    []byte     // a byte of each class
	context [256]uint8 // the restart context after each byte
	eot     uint32     // the class of the end of the text
	stride  uint32     // classes and the end of the text, padded so special values never collide
}

func newProgram(prog *syntax.Prog) (*program, error) {
	n, err := newNFA(prog)
	if err != nil {
		return nil, err
	}
	p := &program{n: n}
	p.classes, p.reps = n.byteClasses()
	p.eot = uint32(len(p.reps))
	for b := range p.context {
		switch {
		case isWordByte(byte(b)):
			p.context[b] = afterWord
		case b == '\n':
			p.context[b] = afterNewline
		}
	}
	p.stride = max(p.eot+1, 4)
	return p, nil
}

// dstate is a DFA state: the NFA nodes that consume the next byte, test an empty-width
// condition, or match, and the context the conditions need.
type dstate struct {
	nodes []uint32
	flags flags
}

// Memory limits of one cache, overridden by tests.
var (
	defaultMaxMem = 4 << 20
	// minClears is how many times the cache may fill before a slow rate of new states makes the
	// Matcher give the expression to the stdlib.
	minClears = 3
)

// stateOverhead approximates what a state costs besides its row and node list: the map entry
// and the slice headers.
const stateOverhead = 96

// cache is the lazily built DFA of one goroutine.
type cache struct {
	p      *program
	trans  []uint32
	states []dstate // state i has the row at i*stride
	index  map[string]uint32
	start  uint32
	mem    int
	maxMem int

	// scanned counts the bytes given since the cache last filled; clears how often it filled,
	// gen changes each time.
	scanned int
	clears  int
	gen     int
	gaveUp  bool

	// restarts are the states of an unanchored search starting after a word byte, a newline, or
	// another byte; rec the states of runSplit's guess.
	restarts [3]uint32
	rec      [maxLanes][meetWithin]uint32

	set          sparseSet
	stack, nodes []uint32
	live         []uint32
	key          []byte
	unknownRow   []uint32
}

func newCache(p *program, maxMem int) *cache {
	c := &cache{p: p, maxMem: maxMem, start: unknown, index: map[string]uint32{}}
	c.restarts = [3]uint32{unknown, unknown, unknown}
	c.set = newSparseSet(len(p.n.nodes))
	c.unknownRow = make([]uint32, p.stride)
	for i := range c.unknownRow {
		c.unknownRow[i] = unknown
	}
	return c
}

// Verdicts of run.
const (
	noMatch   = 0
	isMatch   = 1
	useStdlib = -1
)

// run reports whether b matches, or useStdlib when b is not valid UTF-8 where the DFA needed it
// to be or the DFA gave up.
func (c *cache) run(b []byte) int {
	c.scanned += len(b)
	start := c.start
	if start == unknown {
		if start = c.startState(); start >= tagged {
			return verdict(start)
		}
	}
	if !c.p.n.anchored {
		switch {
		case len(b) >= 4*minLane:
			return c.runSplit(b, start, 4)
		case len(b) >= 2*minLane:
			return c.runSplit(b, start, 2)
		}
	}
	return c.runPlain(b, start)
}

func (c *cache) runPlain(b []byte, start uint32) int {
	s, stop := c.scan(start, b, nil)
	if stop < len(b) {
		return verdict(s)
	}
	return verdict(c.end(s))
}

// scan runs the DFA from state s over text and returns the state after it, or the special value
// that stopped it and where. rec receives the states after the first bytes, as many as it holds.
func (c *cache) scan(s uint32, text []byte, rec []uint32) (uint32, int) {
	trans, cls := c.trans, &c.p.classes
	for i, x := range text {
		next := trans[s+uint32(cls[x])]
		if next >= tagged {
			if next = c.slow(s, uint32(cls[x])); next >= tagged {
				return next, i
			}
			trans = c.trans
		}
		if i < len(rec) {
			rec[i] = next
		}
		s = next
	}
	return s, len(text)
}

// end is the transition of s on the end of the text.
func (c *cache) end(s uint32) uint32 {
	if next := c.trans[s+c.p.eot]; next != unknown {
		return next
	}
	return c.slow(s, c.p.eot)
}

// again reads b from its start after the cache was cleared under runSplit, which then held
// states that no longer exist.
func (c *cache) again(b []byte) int {
	s := c.start
	if s == unknown {
		if s = c.startState(); s >= tagged {
			return verdict(s)
		}
	}
	return c.runPlain(b, s)
}

func verdict(s uint32) int {
	switch s {
	case matched:
		return isMatch
	case dead:
		return noMatch
	}
	return useStdlib
}

// slow computes the transition the table does not hold yet.
func (c *cache) slow(from, cl uint32) uint32 {
	if next := c.trans[from+cl]; next != unknown {
		return next
	}
	st := c.states[from/c.p.stride]
	nodes, f, special := c.step(st, cl)
	if special != 0 {
		c.trans[from+cl] = special
		return special
	}
	next, ok := c.add(nodes, f)
	if !ok {
		// Full: start over with the state we stand in, as RE2 does, unless that happens so
		// often that the stdlib is faster.
		st.nodes = slices.Clone(st.nodes)
		nodes = slices.Clone(nodes)
		if !c.clear() {
			return bail
		}
		if from, ok = c.add(st.nodes, st.flags); !ok {
			c.gaveUp = true
			return bail
		}
		if next, ok = c.add(nodes, f); !ok {
			c.gaveUp = true
			return bail
		}
	}
	c.trans[from+cl] = next
	return next
}

// startState builds the state at the beginning of the text.
func (c *cache) startState() uint32 {
	s := c.entry(true, afterOther)
	if s == bail {
		c.gaveUp = true // even an empty cache has no room for it
	}
	if s < tagged {
		c.start = s
	}
	return s
}

// Contexts of a restart: what the byte before it was, as far as empty-width conditions care.
const (
	afterOther = iota
	afterWord
	afterNewline
)

// restart builds the state of an unanchored search that starts after a byte of context ctx.
func (c *cache) restart(ctx uint8) uint32 {
	s := c.entry(false, ctx)
	if s < tagged {
		c.restarts[ctx] = s
	}
	return s
}

// entry builds the state where a search begins: at the beginning of the text, or after a byte
// of context ctx. It is dead when an anchored pattern cannot start there.
func (c *cache) entry(atStart bool, ctx uint8) uint32 {
	n := c.p.n
	c.set.clear()
	c.nodes = c.nodes[:0]
	c.closure(n.loop)
	if n.anchored && atStart {
		c.closure(n.start)
	}
	if n.anchored && c.onlyValidator(c.nodes) {
		return dead
	}
	var f flags
	needs := c.needs(c.nodes)
	if needs&syntax.EmptyBeginText != 0 && atStart {
		f |= fBeginText
	}
	if needs&syntax.EmptyBeginLine != 0 && (atStart || ctx == afterNewline) {
		f |= fBeginLine
	}
	if needs&(syntax.EmptyWordBoundary|syntax.EmptyNoWordBoundary) != 0 && ctx == afterWord {
		f |= fPrevWord
	}
	slices.Sort(c.nodes)
	s, ok := c.add(c.nodes, f)
	if !ok {
		return bail
	}
	return s
}

// step is the transition of st on class cl: matched if a match ends before the byte, else the
// nodes and flags of the next state, or a special value when there is no next state.
func (c *cache) step(st dstate, cl uint32) (nodes []uint32, f flags, special uint32) {
	n := c.p.n
	eot := cl == c.p.eot
	var b byte
	if !eot {
		b = c.p.reps[cl]
	}
	if c.resolve(st, posFlags(st.flags, b, eot)) {
		return nil, 0, matched
	}
	if eot {
		for _, id := range st.nodes {
			if n.mid[id] {
				// The text ends inside an encoding the DFA cannot decode as the stdlib does.
				return nil, 0, bail
			}
		}
		return nil, 0, dead
	}
	// The byte.
	c.set.clear()
	c.nodes = c.nodes[:0]
	for _, id := range c.live {
		if nd := &n.nodes[id]; nd.lo <= b && b <= nd.hi {
			c.closure(nd.out)
		}
	}
	if len(c.nodes) == 0 {
		// Even the validator died: b is not valid UTF-8 here.
		return nil, 0, bail
	}
	if n.anchored && c.onlyValidator(c.nodes) {
		// Dead once the validator ends a rune: until then the pattern's threads may have died
		// only because the DFA read the bytes as the start of a valid encoding, and if that
		// fails the stdlib reads them as U+FFFD instead.
		return nil, 0, dead
	}
	needs := c.needs(c.nodes)
	if needs&syntax.EmptyBeginLine != 0 && b == '\n' {
		f |= fBeginLine
	}
	if needs&(syntax.EmptyWordBoundary|syntax.EmptyNoWordBoundary) != 0 && isWordByte(b) {
		f |= fPrevWord
	}
	slices.Sort(c.nodes)
	return c.nodes, f, 0
}

// resolve follows the empty-width moves of st's nodes that hold at a position of context pos,
// collecting into c.live the nodes that consume the next byte. It reports whether a match ends
// there.
func (c *cache) resolve(st dstate, pos syntax.EmptyOp) bool {
	n := c.p.n
	c.set.clear()
	c.live = c.live[:0]
	c.stack = append(c.stack[:0], st.nodes...)
	for len(c.stack) > 0 {
		id := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		if c.set.has(id) {
			continue
		}
		c.set.add(id)
		switch nd := &n.nodes[id]; nd.op {
		case opMatch:
			return true
		case opByte:
			c.live = append(c.live, id)
		case opSplit:
			c.stack = append(c.stack, nd.outs...)
		case opEmpty:
			if pos&nd.empty == nd.empty {
				c.stack = append(c.stack, nd.out)
			}
		}
	}
	return false
}

// closure adds to c.nodes the nodes reachable from id by splits alone: the empty-width
// conditions wait for the next byte, which decides them.
func (c *cache) closure(id uint32) {
	n := c.p.n
	c.stack = append(c.stack[:0], id)
	for len(c.stack) > 0 {
		id := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		if c.set.has(id) {
			continue
		}
		c.set.add(id)
		if nd := &n.nodes[id]; nd.op == opSplit {
			for i := len(nd.outs) - 1; i >= 0; i-- {
				c.stack = append(c.stack, nd.outs[i])
			}
		} else {
			c.nodes = append(c.nodes, id)
		}
	}
}

func (c *cache) needs(nodes []uint32) syntax.EmptyOp {
	var ops syntax.EmptyOp
	for _, id := range nodes {
		ops |= c.p.n.needs[id]
	}
	return ops
}

// onlyValidator reports whether nodes hold nothing but the validator between two runes.
func (c *cache) onlyValidator(nodes []uint32) bool {
	for _, id := range nodes {
		if !c.p.n.validator[id] || c.p.n.mid[id] {
			return false
		}
	}
	return true
}

// posFlags is the context of the position before byte b (or the end of the text), the way
// syntax.EmptyOpContext computes it from the runes either side.
func posFlags(f flags, b byte, eot bool) syntax.EmptyOp {
	var op syntax.EmptyOp
	if f&fBeginText != 0 {
		op |= syntax.EmptyBeginText
	}
	if f&fBeginLine != 0 {
		op |= syntax.EmptyBeginLine
	}
	nextWord := false
	switch {
	case eot:
		op |= syntax.EmptyEndText | syntax.EmptyEndLine
	case b == '\n':
		op |= syntax.EmptyEndLine
	default:
		nextWord = isWordByte(b)
	}
	if (f&fPrevWord != 0) != nextWord {
		op |= syntax.EmptyWordBoundary
	} else {
		op |= syntax.EmptyNoWordBoundary
	}
	return op
}

// add returns the offset of the state, adding it if new; false when the cache has no room.
func (c *cache) add(nodes []uint32, f flags) (uint32, bool) {
	c.key = append(c.key[:0], byte(f))
	for _, id := range nodes {
		c.key = binary.LittleEndian.AppendUint32(c.key, id)
	}
	if off, ok := c.index[string(c.key)]; ok {
		return off, true
	}
	cost := len(c.key) + 4*len(nodes) + 4*int(c.p.stride) + stateOverhead
	if c.mem+cost > c.maxMem || uint64(len(c.trans))+uint64(c.p.stride) >= uint64(tagged) {
		return 0, false
	}
	off := uint32(len(c.trans))
	c.trans = append(c.trans, c.unknownRow...)
	c.states = append(c.states, dstate{nodes: slices.Clone(nodes), flags: f})
	c.index[string(c.key)] = off
	c.mem += cost
	return off, true
}

// clear empties the full cache; false (and gaveUp) when it fills so fast, fewer than 10 bytes
// read per state built, that the DFA costs more than it saves.
func (c *cache) clear() bool {
	c.clears++
	if c.clears > minClears && c.scanned < 10*len(c.states) {
		c.gaveUp = true
		return false
	}
	c.gen++
	c.scanned = 0
	c.restarts = [3]uint32{unknown, unknown, unknown}
	c.trans = c.trans[:0]
	c.states = c.states[:0]
	clear(c.index)
	c.mem = 0
	c.start = unknown
	return true
}

// sparseSet is a set of node ids that clears in constant time.
type sparseSet struct {
	dense, sparse []uint32
}

func newSparseSet(n int) sparseSet {
	return sparseSet{dense: make([]uint32, 0, n), sparse: make([]uint32, n)}
}

func (s *sparseSet) has(i uint32) bool {
	j := s.sparse[i]
	return j < uint32(len(s.dense)) && s.dense[j] == i
}

func (s *sparseSet) add(i uint32) {
	s.sparse[i] = uint32(len(s.dense))
	s.dense = append(s.dense, i)
}

func (s *sparseSet) clear() { s.dense = s.dense[:0] }
