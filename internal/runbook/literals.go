package runbook

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// requiredLiterals returns lower-case strings of which every match of the trigger contains at
// least one, or nil when it cannot say (then the trigger's regex runs on every text). Match uses
// them to skip the regex — case-insensitive Go regexps cost microseconds per line — on texts
// that cannot match. Literals with non-ASCII letters are refused because Unicode case folding
// (the Kelvin sign folds to k) is not what strings.ToLower does.
func requiredLiterals(trigger string) []string {
	re, err := syntax.Parse(trigger, syntax.Perl)
	if err != nil {
		return nil
	}
	lits, ok := literalsOf(re.Simplify())
	if !ok || slices.Contains(lits, "") {
		return nil
	}
	return lits
}

// literalsOf returns a set of strings one of which every match contains, and whether it found one.
func literalsOf(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if !isASCII(string(re.Rune)) {
			return nil, false
		}
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpCapture:
		return literalsOf(re.Sub[0])
	case syntax.OpPlus:
		return literalsOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalsOf(re.Sub[0])
		}
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits, ok := literalsOf(sub)
			if !ok {
				return nil, false
			}
			all = append(all, lits...)
		}
		return all, true
	case syntax.OpConcat:
		// Any one part's literals are required; take the part whose shortest literal is longest,
		// since a longer literal passes fewer texts (the first such part on a tie).
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			lits, ok := literalsOf(sub)
			if !ok {
				continue
			}
			if n := shortest(lits); n > bestLen {
				best, bestLen = lits, n
			}
		}
		return best, best != nil
	}
	return nil, false
}

func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
