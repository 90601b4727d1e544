// Package querylit reads, from an RE2 regular expression, literal strings that every match must
// contain: the prefilter a search runs before the regex, and what a block index can answer. When
// the expression is a finite set of strings (a word, an alternation of words) the set itself is
// returned, and a verified hit is a match.
package querylit

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nodediag/nodediag/internal/detect/literal"
)

// Limits of the extraction. A cross product of alternations grows fast ((a|b)(c|d)(e|f)…), and a
// prefilter of hundreds of literals is slower than a few short ones, so sets are capped.
const (
	maxExactSet   = 32 // strings a node may match exactly before we stop enumerating them
	maxExactBytes = 64 // longest exact string we enumerate
	maxRequired   = 64 // literals in a final any-of set
	minLiteralLen = 2  // a one-byte literal hits nearly every line: not worth a prefilter pass
	maxClassRunes = 10 // a class like [._-] or \d still yields exact strings; [a-z] does not
)

// lit is one string a match contains, ASCII case-insensitive when fold is set.
type lit struct {
	s    string
	fold bool
}

// info is what one regex node tells about its matches.
//
// exact, when not nil, is every string the node can match (including "" when it can match
// empty). required, when not nil, is an any-of set: every match of the node contains at least
// one of its literals. Both nil means nothing is known (e.g. \d+).
type info struct {
	exact    []lit
	required []lit
}

// Required returns literals such that every line the regex matches contains at least one
// of them, or nil when no such set is worth a prefilter (the caller then runs the regex on every
// line). re must be parsed with the flags the regex is compiled with.
func Required(re *syntax.Regexp) []literal.Literal {
	return spell(best(analyze(re.Simplify())), false)
}

// Query returns the prefilter's literals for re and whether they decide a match on their
// own: when re matches a finite set of strings without anchors , the set itself is
// the prefilter, and a verified hit is a match.
func Query(re *syntax.Regexp) (lits []literal.Literal, exact bool) {
	simple := re.Simplify()
	if !hasEmptyWidth(simple) {
		if set, ok := finiteSet(simple); ok && !hasEmpty(set) {
			if lits := spell(set, true); lits != nil {
				return lits, true
			}
		}
	}
	return Required(re), false
}

// spell turns an any-of set into the prefilter's literals, every case spelling included, or nil
// when one member has no usable spelling (too short, or a fold the prefilter cannot make). With
// whole set, a member may not be cut down to a piece: the literals must spell the strings
// themselves.
func spell(set []lit, whole bool) []literal.Literal {
	if set == nil {
		return nil
	}
	out := make([]literal.Literal, 0, len(set))
	for _, l := range set {
		spellings, ok := foldSafe(l)
		if !ok {
			// One alternative without a usable literal makes the whole set incomplete.
			return nil
		}
		for _, sp := range spellings {
			if whole && utf8.RuneCountInString(sp.s) != utf8.RuneCountInString(l.s) {
				return nil
			}
			if len(sp.s) < minLiteralLen {
				return nil
			}
			if sp.fold {
				// The parser keeps folded literals in upper case; lower case reads better in
				// output and folds the same.
				sp.s = asciiLower(sp.s)
			}
			out = append(out, literal.Literal{Text: sp.s, Fold: sp.fold})
		}
	}
	slices.SortFunc(out, func(a, b literal.Literal) int {
		if a.Text != b.Text {
			if a.Text < b.Text {
				return -1
			}
			return 1
		}
		if a.Fold == b.Fold {
			return 0
		}
		if a.Fold {
			return 1
		}
		return -1
	})
	return dropCovered(slices.Compact(out))
}

// best picks the any-of set to use for a node: its exact strings when it has some and none is
// empty, else its required set.
func best(in info) []lit {
	if in.exact != nil && !hasEmpty(in.exact) {
		if in.required == nil || score(in.exact) >= score(in.required) {
			return in.exact
		}
	}
	return in.required
}

func hasEmpty(set []lit) bool {
	for _, l := range set {
		if l.s == "" {
			return true
		}
	}
	return false
}

// score ranks any-of sets by selectivity: a set is as weak as its shortest literal, and among
// equally long ones fewer literals mean fewer candidate lines.
func score(set []lit) int {
	if set == nil {
		return -1
	}
	short := maxExactBytes + 1
	for _, l := range set {
		short = min(short, len(l.s))
	}
	return short*100 - len(set)
}

func analyze(re *syntax.Regexp) info {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if len(s) > maxExactBytes {
			// Too long to enumerate in products, but the literal itself is required.
			return info{required: []lit{{s, fold}}}
		}
		return info{exact: []lit{{s, fold}}}
	case syntax.OpCharClass:
		var set []lit
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1]-re.Rune[i]) + 1
			if n > maxClassRunes {
				return info{}
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				set = append(set, lit{string(r), false})
			}
		}
		return info{exact: set}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		// Zero-width: contributes the empty string to a concatenation.
		return info{exact: []lit{{"", false}}}
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpQuest:
		sub := analyze(re.Sub[0])
		if sub.exact != nil && len(sub.exact) < maxExactSet {
			return info{exact: append(slices.Clone(sub.exact), lit{"", false})}
		}
		return info{}
	case syntax.OpStar:
		return info{}
	case syntax.OpPlus:
		// At least one copy: whatever one copy requires, the whole requires.
		return info{required: best(analyze(re.Sub[0]))}
	case syntax.OpRepeat:
		if re.Min < 1 {
			return info{}
		}
		return info{required: best(analyze(re.Sub[0]))}
	case syntax.OpConcat:
		return analyzeConcat(re.Sub)
	case syntax.OpAlternate:
		var ex, req []lit
		exactOK, reqOK := true, true
		for _, s := range re.Sub {
			si := analyze(s)
			if si.exact == nil {
				exactOK = false
			} else {
				ex = append(ex, si.exact...)
			}
			b := best(si)
			if b == nil {
				reqOK = false
			} else {
				req = append(req, b...)
			}
		}
		var out info
		if exactOK && len(ex) <= maxExactSet {
			out.exact = ex
		}
		if reqOK && len(req) <= maxRequired {
			out.required = req
		}
		return out
	}
	// OpAnyChar, OpAnyCharNotNL, OpNoMatch and anything new: no knowledge.
	return info{}
}

// analyzeConcat joins runs of children with exact strings into longer exact strings (cross
// product) and keeps the most selective any-of set among the runs and the other children.
func analyzeConcat(subs []*syntax.Regexp) info {
	subs = flattenConcat(nil, subs)
	var cands [][]lit
	run := []lit{{"", false}} // exact strings of the current run of exact children
	allExact := true
	flush := func() {
		if !hasEmpty(run) {
			cands = append(cands, run)
		}
		run = []lit{{"", false}}
	}
	for _, s := range subs {
		si := analyze(s)
		if si.exact != nil {
			if p, ok := product(run, si.exact); ok {
				run = p
				if si.required != nil {
					cands = append(cands, si.required)
				}
				continue
			}
			// The run outgrew the caps: keep it as a candidate and restart from this child.
			flush()
			run = si.exact
			continue
		}
		allExact = false
		flush()
		if si.required != nil {
			cands = append(cands, si.required)
		}
	}
	var out info
	if allExact && len(cands) == 0 {
		// Every child was exact and the product stayed small: the concatenation is exact.
		out.exact = run
		return out
	}
	flush()
	for _, c := range cands {
		if score(c) > score(out.required) {
			out.required = c
		}
	}
	return out
}

// flattenConcat inlines nested concatenations (Simplify turns \d{4} into one inside its parent),
// so that a run of exact children spans them: E\d{4} yields E0…E9, not E and 0…9 apart.
func flattenConcat(out, subs []*syntax.Regexp) []*syntax.Regexp {
	for _, s := range subs {
		for s.Op == syntax.OpCapture && s.Sub[0].Op == syntax.OpConcat {
			s = s.Sub[0]
		}
		if s.Op == syntax.OpConcat {
			out = flattenConcat(out, s.Sub)
			continue
		}
		out = append(out, s)
	}
	return out
}

// product concatenates every string of a with every string of b, or reports false when the
// result would exceed the caps.
func product(a, b []lit) ([]lit, bool) {
	if len(a)*len(b) > maxExactSet {
		return nil, false
	}
	out := make([]lit, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if len(x.s)+len(y.s) > maxExactBytes {
				return nil, false
			}
			// A folded part makes the whole folded: folding only widens what the prefilter
			// accepts, so candidates stay complete.
			out = append(out, lit{x.s + y.s, x.fold || y.fold})
		}
	}
	return out, true
}

// maxFoldVariants caps the spellings of one literal that differ in the runes below.
const maxFoldVariants = 8

// foldSafe returns the spellings the prefilter must look for so that it finds every line RE2
// matches. The prefilter folds ASCII only, but RE2's (?i) also matches 'k' against the Kelvin sign
// K and 's' against the long s ſ: each such letter doubles the spellings (up to maxFoldVariants;
// past that the literal keeps its longest piece without those letters). Non-ASCII letters fold in
// ways the prefilter cannot follow at all, so they split the literal and its longest piece is
// kept, since any match still contains every piece. '\n' splits too: a line never contains it.
func foldSafe(l lit) ([]lit, bool) {
	piece := longestPiece(l.s, func(r rune) bool { return r == '\n' || (l.fold && r >= utf8.RuneSelf && unicode.SimpleFold(r) != r) })
	if piece == "" {
		return nil, false
	}
	if !l.fold || !hasLetter(piece) {
		return []lit{{piece, false}}, true
	}
	out := []lit{{"", true}}
	for _, r := range piece {
		alts := []string{string(r)}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if r < utf8.RuneSelf && f >= utf8.RuneSelf {
				alts = append(alts, string(f))
			}
		}
		if len(out)*len(alts) > maxFoldVariants {
			p := longestPiece(piece, func(r rune) bool { return r < utf8.RuneSelf && unsafeFold(r) })
			if p == "" {
				return nil, false
			}
			return []lit{{p, true}}, true
		}
		next := make([]lit, 0, len(out)*len(alts))
		for _, o := range out {
			for _, a := range alts {
				next = append(next, lit{o.s + a, true})
			}
		}
		out = next
	}
	return out, true
}

// longestPiece returns the longest run of s between runes for which split is true.
func longestPiece(s string, split func(rune) bool) string {
	best, start := "", 0
	for i, r := range s {
		if split(r) {
			if i-start > len(best) {
				best = s[start:i]
			}
			start = i + utf8.RuneLen(r)
		}
	}
	if len(s)-start > len(best) {
		best = s[start:]
	}
	return best
}

// unsafeFold reports a rune whose case-fold orbit leaves ASCII.
func unsafeFold(r rune) bool {
	if r >= utf8.RuneSelf {
		return true
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// dropCovered removes literals that contain another literal of the set: a line holding the longer
// one holds the shorter, so the longer adds nothing but a shorter stride to the prefilter.
func dropCovered(set []literal.Literal) []literal.Literal {
	var out []literal.Literal
	for i, a := range set {
		covered := false
		for j, b := range set {
			if i == j || len(b.Text) > len(a.Text) || (len(b.Text) == len(a.Text) && j > i) {
				continue
			}
			if b.Fold {
				covered = strings.Contains(asciiLower(a.Text), asciiLower(b.Text))
			} else {
				covered = !a.Fold && strings.Contains(a.Text, b.Text)
			}
			if covered {
				break
			}
		}
		if !covered {
			out = append(out, a)
		}
	}
	return out
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// finiteSet enumerates the strings re matches when they are few and it has no repeat.
func finiteSet(re *syntax.Regexp) ([]lit, bool) {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpLiteral:
		return []lit{{string(re.Rune), fold}}, true
	case syntax.OpCapture:
		return finiteSet(re.Sub[0])
	case syntax.OpCharClass:
		in := analyze(re)
		return in.exact, in.exact != nil
	case syntax.OpAlternate:
		var out []lit
		for _, sub := range re.Sub {
			set, ok := finiteSet(sub)
			if !ok || len(out)+len(set) > maxExactSet {
				return nil, false
			}
			out = append(out, set...)
		}
		return out, true
	case syntax.OpConcat:
		out := []lit{{"", fold}}
		for _, sub := range re.Sub {
			set, ok := finiteSet(sub)
			if !ok || len(out)*len(set) > maxExactSet {
				return nil, false
			}
			var next []lit
			for _, a := range out {
				for _, b := range set {
					next = append(next, lit{a.s + b.s, a.fold || b.fold})
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

func hasEmptyWidth(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpEmptyMatch:
		return true
	}
	for _, s := range re.Sub {
		if hasEmptyWidth(s) {
			return true
		}
	}
	return false
}
