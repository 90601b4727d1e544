package regex

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sync"
	"sync/atomic"
)

// Matcher reports whether a line matches an RE2 expression, exactly as regexp.Regexp.Match does.
type Matcher struct {
	re     *regexp.Regexp // the stdlib's compilation: the reference, and the fallback
	p      *program
	caches sync.Pool
	// stdlib is set once a cache filled too fast: the stdlib answers from then on.
	stdlib atomic.Bool
	maxMem int
}

// Compile compiles expr with Go's regexp syntax (the same flags: (?i), (?s), …) and fails with
// the stdlib's error where regexp.Compile fails.
func Compile(expr string) (*Matcher, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	m := &Matcher{re: re, maxMem: defaultMaxMem}
	if m.p, err = build(expr); err != nil {
		// Too big for the DFA (errTooBig), or a program it does not know: the stdlib's.
		m.stdlib.Store(true)
		return m, nil
	}
	m.caches.New = func() any { return newCache(m.p, m.maxMem) }
	return m, nil
}

// build takes the steps regexp.Compile takes, to get the program the stdlib runs, and builds
// the DFA's program from it.
func build(expr string) (*program, error) {
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	return newProgram(prog)
}

// MustCompile is Compile for expressions known to be valid; it panics otherwise.
func MustCompile(expr string) *Matcher {
	m, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return m
}

// Match reports whether b contains a match of the expression. It is safe for concurrent use; a
// goroutine that matches many lines saves a little per line with its own Scanner.
func (m *Matcher) Match(b []byte) bool {
	if m.stdlib.Load() {
		return m.re.Match(b)
	}
	c := m.caches.Get().(*cache)
	v := c.run(b)
	if c.gaveUp {
		m.stdlib.Store(true)
	} else {
		m.caches.Put(c)
	}
	if v == useStdlib {
		return m.re.Match(b)
	}
	return v == isMatch
}

// Scanner is one goroutine's handle on a Matcher: it owns a DFA cache, so it needs no pool and
// is not safe for concurrent use.
type Scanner struct {
	m *Matcher
	c *cache
}

// Scanner returns a handle for one goroutine.
func (m *Matcher) Scanner() *Scanner {
	if m.p == nil {
		return &Scanner{m: m}
	}
	return &Scanner{m: m, c: newCache(m.p, m.maxMem)}
}

// Match reports whether b contains a match of the expression, as Matcher.Match does.
func (s *Scanner) Match(b []byte) bool {
	if s.m.stdlib.Load() || s.c.gaveUp {
		return s.m.re.Match(b)
	}
	v := s.c.run(b)
	if s.c.gaveUp {
		s.m.stdlib.Store(true)
	}
	if v == useStdlib {
		return s.m.re.Match(b)
	}
	return v == isMatch
}
