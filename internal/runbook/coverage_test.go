package runbook

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/detect"
)

// TestEveryRuleReachesItsRunbooks: a finding names runbooks in its sops, and an agent then follows
// them. Every id a rule names must be a runbook, and that runbook must search for what the rule
// detects: one of its search queries (steps or Examples; case-insensitive, as the search tool runs
// them) finds every example line of the rule, with log types that include the rule's.
func TestEveryRuleReachesItsRunbooks(t *testing.T) {
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	type query struct {
		re       *regexp.Regexp
		logTypes []string
		line     int
	}
	queries := map[string][]query{}
	for _, rb := range c.List() {
		calls := slices.Clone(rb.ExampleCalls)
		for _, ph := range rb.Phases {
			for _, st := range ph.Steps {
				calls = append(calls, st.ToolCalls...)
			}
		}
		for _, call := range calls {
			if call.Tool != "search" {
				continue
			}
			var q query
			q.line = call.Line
			for _, p := range call.Params {
				switch p.Name {
				case "query":
					if p.Value != "" {
						re, err := regexp.Compile("(?i)" + p.Value)
						if err != nil {
							t.Errorf("%s line %d: query %q does not compile: %v", rb.ID, call.Line, p.Value, err)
							continue
						}
						q.re = re
					}
				case "logTypes":
					for lt := range strings.SplitSeq(p.Value, ",") {
						if lt = strings.TrimSpace(lt); lt != "" {
							q.logTypes = append(q.logTypes, lt)
						}
					}
				}
			}
			if q.re != nil {
				queries[rb.ID] = append(queries[rb.ID], q)
			}
		}
	}
	for _, r := range cat.Rules {
		for _, id := range r.SOPs {
			if _, ok := c.Get(id); !ok {
				t.Errorf("rule %s names runbook %s, which does not exist (runbooks: %s)", r.ID, id, strings.Join(c.IDs(), ", "))
				continue
			}
			for _, ex := range r.Examples {
				found := slices.ContainsFunc(queries[id], func(q query) bool {
					if !q.re.MatchString(ex) {
						return false
					}
					// A query bound to log types must include one the rule reads.
					return len(q.logTypes) == 0 || len(r.LogTypes) == 0 || slices.ContainsFunc(q.logTypes, func(lt string) bool { return slices.Contains(r.LogTypes, lt) })
				})
				if !found {
					t.Errorf("rule %s names %s, but no search in %s finds its example %q", r.ID, id, id, ex)
				}
			}
		}
	}
}
