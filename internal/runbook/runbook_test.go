package runbook

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// head is complete front matter for id with the given triggers; tests append a body.
func head(id string, triggers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: \"%s — test runbook\"\ndescription: d\nstatus: active\nseverity: HIGH\ntriggers:\n", id)
	for _, t := range triggers {
		fmt.Fprintf(&b, "  - %q\n", t)
	}
	b.WriteString("owner: team\nobjective: o\ncontext: >\n  c\n---\n")
	return b.String()
}

// body is a minimal complete body whose phase 1 is given.
func body(phase1 string) string {
	return "## Phase 1 — Triage\n\n" + phase1 +
		"\n## Phase 2 — Enrich\n\nMUST:\n- Use `correlate` tool with instanceId and pivotEvent=`OOMKill`\n" +
		"\n## Phase 3 — Report\n\nMUST:\n- Use `summarize` tool with instanceId and finding_ids from the findings\n" +
		"\n## Output Format\n\n```yaml\nroot_cause: \"<x>\"\n```\n"
}

func TestParseSteps(t *testing.T) {
	tests := []struct {
		name   string
		phase1 string
		want   []Step // Text is not compared
	}{
		{
			name:   "levels and FIRST",
			phase1: "MUST:\n- **FIRST**: look first\n- Use `errors` tool with instanceId\n\nSHOULD:\n- read more\n\nMAY:\n- optional\n",
			want: []Step{
				{Level: First, Line: 16},
				{Level: Must, Line: 17, ToolCalls: []ToolCall{{Tool: "errors", Params: []Param{{Name: "instanceId"}}, Line: 17}}},
				{Level: Should, Line: 20},
				{Level: May, Line: 23},
			},
		},
		{
			name:   "parameters: bare names, backquoted, quoted and bare values; prose after them is not a parameter",
			phase1: "MUST:\n- Use `search` tool with instanceId and query=`a|b c` and logTypes=`kubelet` to find x and y\n- Use EKS MCP `get_cloudwatch_logs` with clusterName, resource_type=\"cluster\", filter_pattern=\"OOMKilled\" to check\n",
			want: []Step{
				{Level: Must, Line: 16, ToolCalls: []ToolCall{{Tool: "search", Line: 16, Params: []Param{{"instanceId", ""}, {"query", "a|b c"}, {"logTypes", "kubelet"}}}}},
				{Level: Must, Line: 17, ToolCalls: []ToolCall{{Tool: "get_cloudwatch_logs", Line: 17, Params: []Param{{"clusterName", ""}, {"resource_type", "cluster"}, {"filter_pattern", "OOMKilled"}}}}},
			},
		},
		{
			name:   "tools in nested lines; without 'with' only name=value counts; plain words are not tools",
			phase1: "MUST:\n- **FIRST**: the pod:\n  - read it (via EKS MCP `read_k8s_resource` kind=Pod) — then `kubelet` lines\n  - `status` tool with executionId and poll until done\n  - `search` tool to find things\n",
			want: []Step{{Level: First, Line: 16, ToolCalls: []ToolCall{
				{Tool: "read_k8s_resource", Line: 17, Params: []Param{{"kind", "Pod"}}},
				{Tool: "status", Line: 18, Params: []Param{{"executionId", ""}}},
				{Tool: "search", Line: 19},
			}}},
		},
		{
			name:   "subsections name their steps",
			phase1: "MUST:\n- a\n\n### Exit Code 1 — App\n\nSHOULD:\n- b\n",
			want:   []Step{{Level: Must, Line: 16}, {Level: Should, Section: "Exit Code 1 — App", Line: 21}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := Parse("X1.md", []byte(head("X1", "x")+body(tt.phase1)))
			if err != nil {
				t.Fatal(err)
			}
			got := rb.Phases[0].Steps
			lines := strings.Split(head("X1", "x")+body(tt.phase1), "\n")
			for i := range got {
				if l := lines[got[i].Line-1]; !strings.HasPrefix(l, "- ") || !strings.Contains(got[i].Text, strings.TrimPrefix(l, "- ")) {
					t.Errorf("step %d says line %d, which is %q, not its bullet", i, got[i].Line, l)
				}
				got[i].Text = ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if len(rb.Phases) != 3 || rb.Phases[1].Title != "Enrich" {
				t.Errorf("phases = %+v, want 3 with phase 2 Enrich", rb.Phases)
			}
			if rb.OutputFormat != "root_cause: \"<x>\"" {
				t.Errorf("OutputFormat = %q", rb.OutputFormat)
			}
		})
	}
}

func TestParseFrontMatterAndRefs(t *testing.T) {
	text := head("Q7", "OOM", "CrashLoop") + body("MUST:\n- see G2 SOP, then escalate to A1\n- nothing about K9s\n") +
		"\n## Examples\n\n```\n# a comment\nsearch(instanceId=\"i-1\", query=\"a, b\", logTypes=\"kubelet\")\nsummarize(instanceId=\"i-1\", finding_ids=[\"F-001\",\"F-002\"])\n```\n" +
		"\n## Guardrails\n\nescalation_conditions:\n  - \"x — SOP K4\"\n"
	rb, err := Parse("teams/q.md", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if rb.ID != "Q7" || rb.Source != "teams/q.md" || rb.Context != "c" {
		t.Errorf("id, source, context = %q, %q, %q", rb.ID, rb.Source, rb.Context)
	}
	if diff := cmp.Diff([]string{"OOM", "CrashLoop"}, rb.Triggers); diff != "" {
		t.Errorf("triggers:\n%s", diff)
	}
	if diff := cmp.Diff([]string{"G2", "A1", "K4"}, rb.CrossRefs); diff != "" {
		t.Errorf("cross-references (-want +got):\n%s", diff)
	}
	wantCalls := []ToolCall{
		{Tool: "search", Params: []Param{{"instanceId", "i-1"}, {"query", "a, b"}, {"logTypes", "kubelet"}}},
		{Tool: "summarize", Params: []Param{{"instanceId", "i-1"}, {"finding_ids", `["F-001","F-002"]`}}},
	}
	// Lines are checked against the text, then cleared for the comparison of the rest.
	lines := strings.Split(text, "\n")
	for i, c := range rb.ExampleCalls {
		if !strings.HasPrefix(lines[c.Line-1], c.Tool+"(") {
			t.Errorf("example call %s says line %d, which is %q", c.Tool, c.Line, lines[c.Line-1])
		}
		rb.ExampleCalls[i].Line = 0
	}
	if diff := cmp.Diff(wantCalls, rb.ExampleCalls); diff != "" {
		t.Errorf("example calls (-want +got):\n%s", diff)
	}
	if !strings.Contains(rb.Guardrails, "escalation_conditions") {
		t.Errorf("Guardrails = %q", rb.Guardrails)
	}
}

func TestParseErrors(t *testing.T) {
	good := head("X1", "x") + body("MUST:\n- a\n")
	tests := []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"no front matter", "# title\n", []string{"x.md", "no front matter"}},
		{"unclosed", "---\ntitle: a\n", []string{"not closed"}},
		{"unknown key", strings.Replace(good, "triggers:", "trigger:", 1), []string{"x.md", "front matter", "trigger"}},
		{"bad id", strings.Replace(good, `title: "X1 — `, `id: k-3`+"\n"+`title: "`, 1), []string{"id", "k-3"}},
		{"step before level", head("X1", "x") + body("- a\n"), []string{"line 15", "before any MUST"}},
		{"FIRST under SHOULD", head("X1", "x") + body("SHOULD:\n- **FIRST**: a\n"), []string{"FIRST", "SHOULD"}},
		{"bad example call", good + "\n## Examples\n\n```\nsearch(instanceId)\n```\n", []string{"Examples", "want name=value"}},
		{"unclosed fence", good + "\n## Examples\n\n```\nsearch()\n", []string{"not closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tt.text))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Parse("x.md", []byte(good)); err != nil {
		t.Errorf("the good runbook the cases start from does not parse: %v", err)
	}
}

func TestBuiltinLint(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A1", "B1", "C1", "D1", "G2", "K2", "K3", "K4", "N1", "S1", "Z1"}, c.IDs()); diff != "" {
		t.Errorf("built-in ids (-want +got):\n%s", diff)
	}
	for _, p := range Lint(c) {
		t.Error(p)
	}
	for _, rb := range c.List() {
		if rb.Source != "builtin:"+rb.ID+".md" {
			t.Errorf("%s: source %q, want the file named after the id", rb.ID, rb.Source)
		}
		if len(rb.Phases) == 0 || len(rb.Phases[0].Steps) == 0 || rb.Phases[0].Steps[0].Level != First {
			t.Errorf("%s: phase 1 does not start with a FIRST step", rb.ID)
		}
		if len(rb.ExampleCalls) == 0 {
			t.Errorf("%s: no example call", rb.ID)
		}
	}
}

func TestLintFindsProblems(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // Field then a substring of the message
	}{
		{"unknown tool", head("X1", "x") + body("MUST:\n- Use `grep_everything` tool with instanceId\n"), []string{"line 16", "grep_everything"}},
		{"unknown parameter", head("X1", "x") + body("MUST:\n- Use `search` tool with instance_id\n"), []string{"line 16", `no parameter "instance_id"`}},
		{"unknown log type", head("X1", "x") + body("MUST:\n- Use `search` tool with query=`x` and logTypes=`kubelet,kublet`\n"), []string{"line 16", `"kublet"`}},
		{"dangling cross-reference", head("X1", "x") + body("MUST:\n- see Q5 SOP\n"), []string{"cross-reference", "Q5"}},
		{"trigger does not compile", head("X1", "a(b") + body("MUST:\n- a\n"), []string{"triggers", "a(b"}},
		{"missing field", strings.Replace(head("X1", "x"), "owner: team\n", "", 1) + body("MUST:\n- a\n"), []string{"owner", "missing"}},
		{"bad severity", strings.Replace(head("X1", "x"), "HIGH", "urgent", 1) + body("MUST:\n- a\n"), []string{"severity", "urgent"}},
		{"missing phase", strings.Replace(head("X1", "x")+body("MUST:\n- a\n"), "## Phase 3 — Report", "## Report", 1), []string{"body", "Phase 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := Parse("x.md", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			c := NewCatalog()
			c.Add(rb)
			ps := Lint(c)
			if !slices.ContainsFunc(ps, func(p Problem) bool {
				return p.Field == tt.want[0] && strings.Contains(p.Message, tt.want[1]) && p.Source == "x.md"
			}) {
				t.Errorf("no problem with field %q mentioning %q in %v", tt.want[0], tt.want[1], ps)
			}
		})
	}
}

func TestLoadDirOverrides(t *testing.T) {
	dir := t.TempDir()
	ours := strings.Replace(head("K3", "our trigger"), "test runbook", "our crash loops", 1) + body("MUST:\n- **FIRST**: call the team\n- see G2 SOP\n")
	write(t, dir, "crashloop.md", ours)
	write(t, dir, "X9.md", strings.Replace(head("X9", "x9"), `title: "X9 — test runbook"`, `title: "Team runbook"`, 1)+body("MUST:\n- a\n"))
	write(t, dir, "notes.txt", "not a runbook")
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	before := len(c.IDs())
	if err := c.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	k3, _ := c.Get("k3")
	if k3.Title != "K3 — our crash loops" || k3.Source != filepath.Join(dir, "crashloop.md") {
		t.Errorf("K3 after LoadDir: title %q source %q, want the team's", k3.Title, k3.Source)
	}
	if _, ok := c.Get("X9"); !ok {
		t.Error("X9 (id from the file name) not added")
	}
	if got := len(c.IDs()); got != before+1 {
		t.Errorf("%d runbooks after LoadDir, want %d (one replaced, one added)", got, before+1)
	}
	if ps := Lint(c); len(ps) != 0 {
		t.Errorf("lint after LoadDir: %v", ps)
	}
}

func TestLoadDirErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"bad trigger", map[string]string{"a.md": head("X1", "(") + body("MUST:\n- a\n")}, []string{"a.md", "triggers"}},
		{"missing field", map[string]string{"a.md": strings.Replace(head("X1", "x"), "objective: o\n", "", 1) + body("MUST:\n- a\n")}, []string{"a.md", "objective"}},
		{"duplicate id", map[string]string{"a.md": head("X1", "x") + body("MUST:\n- a\n"), "b.md": head("X1", "y") + body("MUST:\n- a\n")}, []string{"b.md", "a.md", "X1"}},
		{"no runbooks", map[string]string{"a.txt": "x"}, []string{"no *.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, text := range tt.files {
				write(t, dir, n, text)
			}
			c, err := Builtin()
			if err != nil {
				t.Fatal(err)
			}
			want := c.IDs()
			err = c.LoadDir(dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if diff := cmp.Diff(want, c.IDs()); diff != "" {
				t.Errorf("a failed LoadDir changed the catalog:\n%s", diff)
			}
		})
	}
	if err := NewCatalog().LoadDir(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("LoadDir of a missing folder: no error")
	}
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
