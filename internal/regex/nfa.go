package regex

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

type nodeOp uint8

const (
	opByte  nodeOp = iota // consume one byte in [lo, hi], go to out
	opSplit               // go to every one of outs without consuming
	opEmpty               // go to out if the empty-width conditions hold here
	opMatch               // a match ends here
)

// node is one state of the byte-level NFA. Rune instructions of the syntax.Prog become small
// automata of opByte nodes over their UTF-8 encodings; the other instructions keep their index.
type node struct {
	op     nodeOp
	lo, hi byte
	empty  syntax.EmptyOp
	out    uint32
	outs   []uint32
}

// nfa is the byte-level automaton the DFA is built over. It runs the pattern behind a prefix
// that consumes whole valid UTF-8 encodings (the validator): its loop node starts the pattern
// after every rune, and its nodes die on a byte that is not valid UTF-8 there.
type nfa struct {
	nodes    []node
	start    uint32 // the pattern's first node
	loop     uint32 // the validator after a whole rune
	anchored bool   // every match starts at the beginning of the text: the loop does not restart the pattern
	hasEmpty syntax.EmptyOp
	// validator marks the validator's nodes; mid marks those inside an encoding.
	validator, mid []bool
	// needs is, for an opEmpty node, every condition it or the empty moves after it test.
	needs []syntax.EmptyOp
}

// byteKey identifies an opByte node, so that automata share their suffixes.
type byteKey struct {
	lo, hi byte
	out    uint32
}

type builder struct {
	n      *nfa
	bytes  map[byteKey]uint32
	ranges map[string][]byteSeq // the encodings of each rune set met so far
}

// maxNodes bounds the NFA: a big Unicode class repeated many times (\pL{100}) has hundreds of
// thousands of byte nodes, more than the DFA can save in the time they take to build; the stdlib
// runs such expressions.
const maxNodes = 1 << 16

var errTooBig = errors.New("regex: expression too big for the DFA")

func newNFA(prog *syntax.Prog) (*nfa, error) {
	n := &nfa{nodes: make([]node, len(prog.Inst)), start: uint32(prog.Start)}
	b := &builder{n: n, bytes: map[byteKey]uint32{}, ranges: map[string][]byteSeq{}}
	for i := range prog.Inst {
		if len(n.nodes) > maxNodes {
			return nil, errTooBig
		}
		inst := &prog.Inst[i]
		var nd node
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			nd = node{op: opSplit, outs: []uint32{inst.Out, inst.Arg}}
		case syntax.InstCapture, syntax.InstNop:
			nd = node{op: opSplit, outs: []uint32{inst.Out}}
		case syntax.InstFail:
			nd = node{op: opSplit}
		case syntax.InstMatch:
			nd = node{op: opMatch}
		case syntax.InstEmptyWidth:
			nd = node{op: opEmpty, empty: syntax.EmptyOp(inst.Arg), out: inst.Out}
			n.hasEmpty |= nd.empty
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			nd = node{op: opSplit, outs: b.runes(runeRanges(inst), inst.Out)}
		default:
			return nil, fmt.Errorf("regex: instruction %v not handled", inst.Op)
		}
		n.nodes[i] = nd
	}
	n.anchored = prog.StartCond()&syntax.EmptyBeginText != 0
	b.validator()
	n.needs = make([]syntax.EmptyOp, len(n.nodes))
	for i := range n.nodes {
		if n.nodes[i].op == opEmpty {
			n.needs[i] = n.emptyReach(uint32(i))
		}
	}
	return n, nil
}

// validator adds the prefix loop: any whole rune, then the loop again (and the pattern, unless
// it is anchored at the beginning of the text).
func (b *builder) validator() {
	n := b.n
	n.loop = uint32(len(n.nodes))
	n.nodes = append(n.nodes, node{op: opSplit})
	first := len(n.nodes)
	entries := b.runes([][2]rune{{0, utf8.MaxRune}}, n.loop)
	outs := append([]uint32(nil), entries...)
	if !n.anchored {
		outs = append(outs, n.start)
	}
	n.nodes[n.loop].outs = outs
	n.validator = make([]bool, len(n.nodes))
	n.mid = make([]bool, len(n.nodes))
	for i := first; i < len(n.nodes); i++ {
		n.validator[i], n.mid[i] = true, true
	}
	for _, e := range entries {
		n.mid[e] = false
	}
}

// runes adds the automaton of the UTF-8 encodings of the ranges, ending at out, and returns its
// entry nodes.
func (b *builder) runes(ranges [][2]rune, out uint32) []uint32 {
	key := fmt.Sprint(ranges)
	seqs, ok := b.ranges[key]
	if !ok {
		for _, r := range ranges {
			utf8Sequences(r[0], r[1], func(s byteSeq) { seqs = append(seqs, s) })
		}
		b.ranges[key] = seqs
	}
	entries := make([]uint32, 0, len(seqs))
	for _, s := range seqs {
		next := out
		for j := s.n - 1; j >= 0; j-- {
			next = b.byteNode(s.r[j], next)
		}
		entries = append(entries, next)
	}
	return entries
}

func (b *builder) byteNode(r byteRange, out uint32) uint32 {
	k := byteKey{r.lo, r.hi, out}
	if id, ok := b.bytes[k]; ok {
		return id
	}
	id := uint32(len(b.n.nodes))
	b.n.nodes = append(b.n.nodes, node{op: opByte, lo: r.lo, hi: r.hi, out: out})
	b.bytes[k] = id
	return id
}

// runeRanges is the set of runes a rune instruction matches, as inclusive ranges: the same set
// as syntax.Inst.MatchRune, including the case folding orbit of a single folded rune.
func runeRanges(inst *syntax.Inst) [][2]rune {
	switch inst.Op {
	case syntax.InstRuneAny:
		return [][2]rune{{0, utf8.MaxRune}}
	case syntax.InstRuneAnyNotNL:
		return [][2]rune{{0, '\n' - 1}, {'\n' + 1, utf8.MaxRune}}
	case syntax.InstRune1:
		return [][2]rune{{inst.Rune[0], inst.Rune[0]}}
	}
	rs := inst.Rune
	if len(rs) == 1 {
		r0 := rs[0]
		out := [][2]rune{{r0, r0}}
		if syntax.Flags(inst.Arg)&syntax.FoldCase != 0 {
			for r := unicode.SimpleFold(r0); r != r0; r = unicode.SimpleFold(r) {
				out = append(out, [2]rune{r, r})
			}
		}
		return out
	}
	out := make([][2]rune, 0, len(rs)/2)
	for i := 0; i+1 < len(rs); i += 2 {
		out = append(out, [2]rune{rs[i], rs[i+1]})
	}
	return out
}

// emptyReach is every empty-width condition tested on the empty moves from node id, which all
// happen at one position and so all need that position's context.
func (n *nfa) emptyReach(id uint32) syntax.EmptyOp {
	var ops syntax.EmptyOp
	seen := map[uint32]bool{}
	stack := []uint32{id}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		switch nd := &n.nodes[i]; nd.op {
		case opSplit:
			stack = append(stack, nd.outs...)
		case opEmpty:
			ops |= nd.empty
			stack = append(stack, nd.out)
		}
	}
	return ops
}

// byteClasses partitions the 256 byte values into classes no node tells apart, so the DFA's
// transition rows are short. When the program tests empty-width conditions the newline and the
// word bytes get classes of their own: the DFA decides those conditions from the next byte.
func (n *nfa) byteClasses() (classes [256]uint8, reps []byte) {
	var cut [257]bool
	for i := range n.nodes {
		if nd := &n.nodes[i]; nd.op == opByte {
			cut[nd.lo], cut[int(nd.hi)+1] = true, true
		}
	}
	if n.hasEmpty != 0 {
		for _, c := range []int{'\n', '\n' + 1, '0', '9' + 1, 'A', 'Z' + 1, '_', '_' + 1, 'a', 'z' + 1} {
			cut[c] = true
		}
	}
	id := -1
	for c := range 256 {
		if c == 0 || cut[c] {
			id++
			reps = append(reps, byte(c))
		}
		classes[c] = uint8(id)
	}
	return classes, reps
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
