package detect

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"

	"github.com/nodediag/nodediag/internal/detect/literal"
)

// Matcher runs a compiled catalog over blocks of log lines. It is safe for concurrent use:
// per-call scratch space comes from a pool, so steady-state scanning does not allocate.
type Matcher struct {
	cat      *Catalog
	rules    []compiled
	set      *literal.Set
	litRules [][]int32 // literal id → indexes of the rules that gave it, ascending
	// vocab are the words whose presence ScanPresence records (CompileWith); litWord maps a
	// literal id to its word's index, or -1.
	vocab   []literal.Literal
	litWord []int32

	plans   map[string]*plan // per file type
	all     *plan            // fileType "": every rule
	unknown *plan            // a file type no rule names: only rules without logTypes
	pool    sync.Pool
}

type compiled struct {
	rule *Rule
	re   *regexp.Regexp
	ex   *regexp.Regexp
	// exNeed lists strings one of which every line the exclude matches contains: most matched
	// lines contain none, and a few bytes.Contains calls are far cheaper than the regex.
	exNeed [][]byte
	// literalOnly: the pattern matches exactly the lines containing one of the rule's
	// literals, so a prefilter hit needs no regex, only a check that the literal it found is in
	// the message rather than the prefix; lits are those literals.
	literalOnly bool
	lits        [][]byte
	// split, when set, is an equivalent faster form of re for patterns "HEAD.*REST".
	split *splitRE
}

// splitRE matches a pattern of the form HEAD.*REST, where HEAD is a plain string or a small
// set of them: the line matches when it contains a HEAD and REST matches anywhere after the
// HEAD occurrence that ends first. Go's backtracker spends microseconds walking ".*" back
// across a log line; an index per HEAD and an unanchored search for REST (which usually
// starts with a literal Go can skip to) take a fraction of that.
type splitRE struct {
	heads [][]byte
	rest  *regexp.Regexp
}

func (s *splitRE) Match(line []byte) bool {
	end := -1
	for _, h := range s.heads {
		if i := bytes.Index(line, h); i >= 0 && (end < 0 || i+len(h) < end) {
			end = i + len(h)
		}
	}
	return end >= 0 && s.rest.Match(line[end:])
}

// newSplit returns the split form of expr, or nil when expr does not have that shape or the
// split could change its meaning. Searching REST only after the earliest-ending HEAD is exact:
// any later HEAD leaves a shorter suffix to search. REST may not use line or text anchors,
// since the search starts mid-line; word-boundary assertions keep their meaning only when
// every HEAD ends in a non-word byte (the context Go assumes at the start of searched text).
func newSplit(expr string, fold bool) *splitRE {
	if fold {
		return nil
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat {
		return nil
	}
	star := -1
	for i, sub := range re.Sub {
		if sub.Op == syntax.OpStar && sub.Sub[0].Op == syntax.OpAnyCharNotNL {
			star = i
			break
		}
	}
	if star < 1 || star == len(re.Sub)-1 {
		return nil
	}
	head := &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: re.Sub[:star]}
	heads, ok := expandFinite(head, false, 8)
	if !ok {
		return nil
	}
	rest := &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: re.Sub[star+1:]}
	anchors, bounds := assertions(rest)
	if anchors {
		return nil
	}
	s := &splitRE{}
	for _, h := range heads {
		if h == "" || (bounds && syntax.IsWordChar(rune(h[len(h)-1]))) {
			return nil
		}
		s.heads = append(s.heads, []byte(h))
	}
	if s.rest, err = regexp.Compile(rest.String()); err != nil {
		return nil
	}
	return s
}

// assertions reports whether re uses begin/end anchors and whether it uses word boundaries.
func assertions(re *syntax.Regexp) (anchors, bounds bool) {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpEndLine, syntax.OpEndText:
		anchors = true
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		bounds = true
	}
	for _, sub := range re.Sub {
		a, b := assertions(sub)
		anchors, bounds = anchors || a, bounds || b
	}
	return anchors, bounds
}

// plan says which rules apply to a file type; precomputed so Scan does no string work per line.
type plan struct {
	applies []bool
	// For mixed files: the rules that apply to a line whose source is the key.
	bySource map[string][]bool
}

type scratch struct {
	lit   *literal.Scanner
	cands []int32
}

// Compile builds the prefilter and compiles every pattern.
func (c *Catalog) Compile() (*Matcher, error) { return c.CompileWith(nil) }

// CompileWith is Compile with a vocabulary: words the prefilter also looks for, without a rule,
// so that ScanPresence can record which of them a block holds (a search index answers from it
// which blocks a query cannot match in). A word that is also a rule's literal shares its id.
func (c *Catalog) CompileWith(vocab []literal.Literal) (*Matcher, error) {
	m := &Matcher{cat: c, rules: make([]compiled, len(c.Rules))}
	var lits []literal.Literal
	litID := map[literal.Literal]int32{}
	// intern gives a literal its id, the same for a rule's literal and a vocabulary word.
	intern := func(l literal.Literal) int32 {
		id, ok := litID[l]
		if !ok {
			id = int32(len(lits))
			litID[l] = id
			lits = append(lits, l)
			m.litRules = append(m.litRules, nil)
		}
		return id
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		re, err := compileRule(r.Pattern, r.CaseInsensitive)
		if err != nil {
			return nil, &FieldError{Rule: r.ID, Field: "pattern", Err: err}
		}
		cr := compiled{rule: r, re: re}
		if r.Exclude != "" {
			if cr.ex, err = compileRule(r.Exclude, r.CaseInsensitive); err != nil {
				return nil, &FieldError{Rule: r.ID, Field: "exclude", Err: err}
			}
			if !r.CaseInsensitive {
				if re, err := syntax.Parse(r.Exclude, syntax.Perl); err == nil {
					if need, ok := requiredAny(re.Simplify()); ok {
						for _, n := range need {
							cr.exNeed = append(cr.exNeed, []byte(n))
						}
					}
				}
			}
		}
		if len(r.Literals) == 0 {
			return nil, &FieldError{Rule: r.ID, Field: "literals", Err: errors.New("missing")}
		}
		// Case-folded literals would need a folding search of the message: the regex is as good.
		cr.literalOnly = !r.CaseInsensitive && patternIsLiterals(r.Pattern, false, r.Literals)
		if cr.literalOnly {
			for _, l := range r.Literals {
				cr.lits = append(cr.lits, []byte(l))
			}
		}
		cr.split = newSplit(r.Pattern, r.CaseInsensitive)
		m.rules[i] = cr
		for _, text := range r.Literals {
			id := intern(literal.Literal{Text: text, Fold: r.CaseInsensitive})
			if !slices.Contains(m.litRules[id], int32(i)) {
				m.litRules[id] = append(m.litRules[id], int32(i))
			}
		}
	}
	m.vocab = slices.Clone(vocab)
	wordOf := map[int32]int32{}
	for w, l := range vocab {
		id := intern(l)
		if _, dup := wordOf[id]; dup {
			return nil, fmt.Errorf("vocabulary word %q is given twice", l.Text)
		}
		wordOf[id] = int32(w)
	}
	m.litWord = make([]int32, len(lits))
	for id := range m.litWord {
		m.litWord[id] = -1
		if w, ok := wordOf[int32(id)]; ok {
			m.litWord[id] = w
		}
	}
	// Healthy-node chatter is what most scanned bytes look like, so it outweighs the catalog's
	// own lines, which are mostly the rare errors the literals are taken from.
	set, err := literal.New(lits, literal.WithSample(noise, 20), literal.WithSample(c.exampleText(), 1))
	if err != nil {
		return nil, fmt.Errorf("compile literals: %w", err)
	}
	m.set = set
	m.buildPlans()
	m.pool.New = func() any {
		return &scratch{lit: m.set.NewScanner(), cands: make([]int32, 0, 16)}
	}
	return m, nil
}

func (m *Matcher) applies(pred func(r *Rule) bool) []bool {
	a := make([]bool, len(m.rules))
	for i, cr := range m.rules {
		a[i] = pred(cr.rule)
	}
	return a
}

func (m *Matcher) buildPlans() {
	m.plans = map[string]*plan{}
	m.all = &plan{applies: m.applies(func(*Rule) bool { return true })}
	m.unknown = &plan{applies: m.applies(func(r *Rule) bool { return len(r.LogTypes) == 0 })}
	for _, ft := range LogTypes {
		p := &plan{applies: m.applies(func(r *Rule) bool { return r.AppliesTo(ft) })}
		if slices.Contains(MixedLogTypes, ft) {
			p.bySource = map[string][]bool{}
			for _, src := range LogTypes {
				p.bySource[src] = m.applies(func(r *Rule) bool { return r.AppliesTo(ft) || r.AppliesTo(src) })
			}
		}
		m.plans[ft] = p
	}
}

func (m *Matcher) planFor(fileType string) *plan {
	if fileType == "" {
		return m.all
	}
	if p, ok := m.plans[fileType]; ok {
		return p
	}
	return m.unknown
}

// noise holds lines typical of healthy nodes. With the catalog's own example lines it is the
// text the prefilter ranks literal grams against, so that each literal is probed where it is
// rarest in real logs.
//
//go:embed noise.txt
var noise []byte

// HealthySample returns text typical of a healthy node: the noise sample the prefilter is tuned
// on and the examples of info rules (routine starts, clean exits). A word found in it is too
// common to be worth indexing. Near-misses are left out: they are written to resemble failures.
func (c *Catalog) HealthySample() []byte {
	b := bytes.NewBuffer(slices.Clone(noise))
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Severity != Info {
			continue
		}
		for _, l := range r.Examples {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func (c *Catalog) exampleText() []byte {
	var b bytes.Buffer
	for i := range c.Rules {
		for _, l := range slices.Concat(c.Rules[i].Examples, c.Rules[i].NearMisses) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Catalog returns the catalog the matcher was compiled from.
func (m *Matcher) Catalog() *Catalog { return m.cat }

// LiteralCount is the number of distinct prefilter literals.
func (m *Matcher) LiteralCount() int { return m.set.Len() }

// Scan calls hit for every (rule, line) pair in block, in line order and, within a line, in
// catalog order. block holds whole lines separated by '\n' (the last may lack it);
// block[lineStart:lineEnd] is the line without its '\n', block[msgStart:lineEnd] its message,
// the part the rules read (the line without its syslog prefix and kernel stamps).
//
// fileType is the file's log type and selects the rules that apply: those whose logTypes
// include it or are empty. In mixed files (MixedLogTypes: "messages", "journal") a rule also
// applies to a line when its logTypes include the line's own source (LineSource), so a kubelet
// rule fires on "kubelet:" lines of var_log/messages. fileType "" applies every rule; a type
// that is not in LogTypes applies only rules without logTypes.
func (m *Matcher) Scan(block []byte, fileType string, hit func(rule *Rule, lineStart, lineEnd, msgStart int)) {
	m.ScanPresence(block, fileType, hit, nil)
}

// Vocabulary returns the words ScanPresence records, in bit order.
func (m *Matcher) Vocabulary() []literal.Literal { return m.vocab }

// ScanPresence is Scan that also sets, in present (one bit per vocabulary word, at least
// len(Vocabulary()) bits; nil records nothing), the bit of every word that occurs in block, in
// any ASCII case when the word folds. The scanner verifies every literal of every line it
// reports, so a word whose bit stays clear does not occur in the block.
func (m *Matcher) ScanPresence(block []byte, fileType string, hit func(rule *Rule, lineStart, lineEnd, msgStart int), present []uint64) {
	pl := m.planFor(fileType)
	sc := m.pool.Get().(*scratch)
	sc.lit.Reset(block)
	for {
		ls, le, ids, ok := sc.lit.Next()
		if !ok {
			break
		}
		if present != nil {
			for _, id := range ids {
				if w := m.litWord[id]; w >= 0 {
					present[w>>6] |= 1 << (uint(w) & 63)
				}
			}
		}
		cands := sc.cands[:0]
		for _, id := range ids {
			for _, ri := range m.litRules[id] {
				cands = insertUnique(cands, ri)
			}
		}
		sc.cands = cands
		if len(cands) == 0 {
			continue // a vocabulary word alone: no rule to run
		}
		line := block[ls:le]
		// Rules read the message, so no prefix form can hide or fake a match; the identifier
		// routes lines of mixed files.
		ident, msg, stamped := splitLine(line)
		applies := pl.applies
		if pl.bySource != nil {
			if a, ok := pl.bySource[sourceOf(ident, msg, stamped)]; ok {
				applies = a
			}
		}
		for _, ri := range cands {
			if !applies[ri] {
				continue
			}
			cr := &m.rules[ri]
			if !cr.matches(msg) {
				continue
			}
			if cr.ex != nil && cr.excluded(msg) {
				continue
			}
			hit(cr.rule, ls, le, le-len(msg))
		}
	}
	sc.lit.Reset(nil)
	m.pool.Put(sc)
}

// matches runs the rule's pattern (not its exclude) on a line's message the cheapest exact way.
func (cr *compiled) matches(msg []byte) bool {
	switch {
	case cr.literalOnly:
		// The prefilter found one of the literals on the line; it must be in the message.
		for _, l := range cr.lits {
			if bytes.Contains(msg, l) {
				return true
			}
		}
		return false
	case cr.split != nil:
		return cr.split.Match(msg)
	}
	return cr.re.Match(msg)
}

// insertUnique adds v to the ascending list s unless present.
func insertUnique(s []int32, v int32) []int32 {
	i := len(s)
	for i > 0 && s[i-1] > v {
		i--
	}
	if i > 0 && s[i-1] == v {
		return s
	}
	s = append(s, 0)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

// patternIsLiterals reports whether expr matches a line exactly when the line contains one of
// lits: expr must be a finite alternation of plain strings equal, as a set, to lits.
func patternIsLiterals(expr string, fold bool, lits []string) bool {
	flags := syntax.Perl
	if fold {
		flags |= syntax.FoldCase
	}
	re, err := syntax.Parse(expr, flags)
	if err != nil {
		return false
	}
	strs, ok := expandFinite(re, fold, 64)
	if !ok {
		return false
	}
	norm := func(ss []string) []string {
		out := make([]string, 0, len(ss))
		for _, s := range ss {
			if fold {
				s = strings.ToLower(s)
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(strs), norm(lits))
}

// expandFinite lists the strings a regex matches when it is a small finite set of plain
// strings; anything with anchors, repetition or wide classes reports false.
func expandFinite(re *syntax.Regexp, fold bool, limit int) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if (re.Flags&syntax.FoldCase != 0) != fold {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpCapture:
		return expandFinite(re.Sub[0], fold, limit)
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) >= limit {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := expandFinite(sub, fold, limit)
			if !ok || len(out)+len(s) > limit {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			s, ok := expandFinite(sub, fold, limit)
			if !ok || len(out)*len(s) > limit {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(s))
			for _, a := range out {
				for _, b := range s {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// excluded runs the rule's false-positive guard, skipping the regex when none of the strings it
// needs is on the line.
func (cr *compiled) excluded(line []byte) bool {
	if cr.exNeed != nil {
		found := false
		for _, n := range cr.exNeed {
			if bytes.Contains(line, n) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return cr.ex.Match(line)
}

// minNeedLen keeps required strings selective enough to be worth checking.
const minNeedLen = 4

// requiredAny returns strings at least one of which occurs in every match of re, or false
// when it cannot tell (case folding, or a branch with no literal of minNeedLen bytes).
func requiredAny(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(string(re.Rune)) < minNeedLen {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCapture, syntax.OpPlus:
		return requiredAny(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredAny(re.Sub[0])
		}
		return nil, false
	case syntax.OpConcat:
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			set, ok := requiredAny(sub)
			if !ok {
				continue
			}
			shortest := len(set[0])
			for _, v := range set {
				shortest = min(shortest, len(v))
			}
			if shortest > bestLen {
				best, bestLen = set, shortest
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			set, ok := requiredAny(sub)
			if !ok {
				return nil, false
			}
			all = append(all, set...)
		}
		return all, true
	}
	return nil, false
}
