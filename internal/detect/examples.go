package detect

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nodediag/nodediag/internal/detect/literal"
)

// ExampleFileType is the file type a rule's examples are scanned as: its first log type, or ""
// (every rule applies) when it has none.
func ExampleFileType(r *Rule) string {
	if len(r.LogTypes) == 0 {
		return ""
	}
	return r.LogTypes[0]
}

// RulesMatching returns the rules that match a single line of a file of the given type.
func (m *Matcher) RulesMatching(line, fileType string) []*Rule {
	var out []*Rule
	m.Scan([]byte(line), fileType, func(r *Rule, _, _, _ int) { out = append(out, r) })
	return out
}

func (m *Matcher) matches(r *Rule, line, fileType string) bool {
	for _, got := range m.RulesMatching(line, fileType) {
		if got == r {
			return true
		}
	}
	return false
}

// HasLiteral reports whether line contains one of the rule's literals, folding case when the
// rule does.
func HasLiteral(r *Rule, line string) bool {
	for _, l := range r.Literals {
		if r.CaseInsensitive {
			for i := 0; i+len(l) <= len(line); i++ {
				if literal.EqualFold([]byte(line[i:i+len(l)]), l) {
					return true
				}
			}
		} else if strings.Contains(line, l) {
			return true
		}
	}
	return false
}

// CheckExamples proves the catalog against itself through the compiled matcher: each example
// contains one of its rule's literals and matches its rule, and no near-miss matches its rule.
func (m *Matcher) CheckExamples() error {
	var errs []error
	for i := range m.cat.Rules {
		r := &m.cat.Rules[i]
		ft := ExampleFileType(r)
		for j, ex := range r.Examples {
			field := fmt.Sprintf("examples[%d]", j)
			if !HasLiteral(r, ex) {
				errs = append(errs, &FieldError{r.ID, field, fmt.Errorf("%q contains none of the literals %q", ex, r.Literals)})
				continue
			}
			if !m.matches(r, ex, ft) {
				errs = append(errs, &FieldError{r.ID, field, fmt.Errorf("%q does not match (scanned as %q)", ex, ft)})
			}
		}
		for j, nm := range r.NearMisses {
			if m.matches(r, nm, ft) {
				errs = append(errs, &FieldError{r.ID, fmt.Sprintf("nearMisses[%d]", j), fmt.Errorf("%q matches (scanned as %q)", nm, ft)})
			}
		}
	}
	return errors.Join(errs...)
}
