package runbook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nodediag/nodediag/internal/detect"
)

// Problem is one thing wrong with a runbook, named by its file and the field or step at fault.
type Problem struct {
	Source  string `json:"source"`
	ID      string `json:"id"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) Error() string {
	return fmt.Sprintf("runbook %s (%s): %s: %s", p.Source, p.ID, p.Field, p.Message)
}

// Statuses and Severities are the values the front matter accepts.
var (
	Statuses   = []string{"active", "draft", "deprecated"}
	Severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}
)

// Check reports what is wrong with one runbook on its own: front matter incomplete or out of its
// vocabulary, triggers that do not compile, phases 1 to 3 or the Output Format missing. It does
// not look at other runbooks or at tools; Lint does.
func Check(rb *Runbook) []Problem {
	var ps []Problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Source: rb.Source, ID: rb.ID, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for _, f := range []struct{ name, value string }{
		{"title", rb.Title}, {"description", rb.Description}, {"status", rb.Status}, {"severity", rb.Severity},
		{"owner", rb.Owner}, {"objective", rb.Objective}, {"context", rb.Context},
	} {
		if f.value == "" {
			bad(f.name, "missing")
		}
	}
	if rb.Status != "" && !slices.Contains(Statuses, rb.Status) {
		bad("status", "%q is not one of %v", rb.Status, Statuses)
	}
	if rb.Severity != "" && !slices.Contains(Severities, rb.Severity) {
		bad("severity", "%q is not one of %v", rb.Severity, Severities)
	}
	if len(rb.Triggers) == 0 {
		bad("triggers", "missing: list at least one regex that finds lines this runbook is for")
	}
	for i, t := range rb.Triggers {
		if strings.TrimSpace(t) == "" {
			bad("triggers", "trigger %d is empty", i+1)
			continue
		}
		if _, err := compileTrigger(t); err != nil {
			bad("triggers", "trigger %d %q does not compile as an RE2 regex: %v", i+1, t, err)
		}
	}
	for n := 1; n <= 3; n++ {
		if !slices.ContainsFunc(rb.Phases, func(p Phase) bool { return p.Number == n }) {
			bad("body", "no section \"## Phase %d — …\" (a runbook has Phase 1 Triage, Phase 2 Enrich, Phase 3 Report)", n)
		}
	}
	for _, p := range rb.Phases {
		if len(p.Steps) == 0 {
			bad(fmt.Sprintf("Phase %d", p.Number), "no step: list steps under MUST:, SHOULD: or MAY:")
		}
	}
	if strings.TrimSpace(rb.OutputFormat) == "" {
		bad("Output Format", "missing: a \"## Output Format\" section with a fenced block")
	}
	return ps
}

// Lint checks every runbook of the catalog: Check's problems, cross-references to ids the
// catalog does not hold, and tool calls (in steps and in the Examples block) to tools that are
// not in KnownTools, with parameters the tool does not take, or with a logTypes value that is not
// one of detect.LogTypes. Problems come sorted by runbook id.
func Lint(c *Catalog) []Problem {
	var ps []Problem
	for _, rb := range c.List() {
		ps = append(ps, Check(rb)...)
		bad := func(field, format string, args ...any) {
			ps = append(ps, Problem{Source: rb.Source, ID: rb.ID, Field: field, Message: fmt.Sprintf(format, args...)})
		}
		for _, ref := range rb.CrossRefs {
			if _, ok := c.Get(ref); !ok {
				bad("cross-reference", "%s is not in the catalog (have %s)", ref, strings.Join(c.IDs(), ", "))
			}
		}
		for _, call := range AllCalls(rb) {
			where := fmt.Sprintf("line %d", call.Line)
			tool, ok := KnownTools[call.Tool]
			if !ok {
				bad(where, "tool %q is not a nodediag or EKS MCP tool (known: %s)", call.Tool, strings.Join(knownToolNames(), ", "))
				continue
			}
			for _, p := range call.Params {
				if !tool.Accepts(p.Name) {
					bad(where, "tool %s has no parameter %q (it takes %s)", call.Tool, p.Name, strings.Join(tool.Params, ", "))
				}
				if p.Name == "logTypes" {
					// A misspelt log type makes search look nowhere and answer "no match".
					for _, lt := range strings.Split(p.Value, ",") {
						if lt = strings.TrimSpace(lt); !slices.Contains(detect.LogTypes, lt) {
							bad(where, "%s logTypes %q is not a log type nodediag knows (%s)", call.Tool, lt, strings.Join(detect.LogTypes, ", "))
						}
					}
				}
			}
		}
	}
	return ps
}

// AllCalls returns the tool calls of every step, then those of the Examples block.
func AllCalls(rb *Runbook) []ToolCall {
	var calls []ToolCall
	for _, p := range rb.Phases {
		for _, s := range p.Steps {
			calls = append(calls, s.ToolCalls...)
		}
	}
	return append(calls, rb.ExampleCalls...)
}

func knownToolNames() []string {
	names := make([]string, 0, len(KnownTools))
	for n := range KnownTools {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
