// Package runbook parses nodediag's SOP catalog: Markdown runbooks with YAML front matter in the
// format of the K3 CrashLoopBackOff SOP. It reads the front matter (title, triggers, …) and the
// body's phases, the FIRST/MUST/SHOULD/MAY steps of each phase, the tool calls every step makes
// with their parameters, the other SOPs a runbook points to, and its Output Format block. A
// Catalog holds the built-in runbooks plus a team's own; Match ranks runbooks by their triggers
// against log lines or findings, and Lint checks that every runbook is complete and names only
// tools and parameters nodediag has.
package runbook

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Level is how binding a step is. FIRST is a MUST step that comes before every other step.
type Level string

// The levels a step can have, from the SOP's headings "MUST:", "SHOULD:", "MAY:" and the
// "**FIRST**:" prefix of a MUST step.
const (
	First  Level = "FIRST"
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
)

// Runbook is one parsed SOP.
type Runbook struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Status      string   `json:"status"`
	Severity    string   `json:"severity"`
	Triggers    []string `json:"triggers"`
	Owner       string   `json:"owner"`
	Objective   string   `json:"objective"`
	Context     string   `json:"context"`

	Phases       []Phase `json:"phases"`
	Guardrails   string  `json:"guardrails,omitempty"`
	CommonIssues string  `json:"commonIssues,omitempty"`
	Examples     string  `json:"examples,omitempty"`
	// ExampleCalls are the tool calls written in the Examples block, one per line such as
	// `search(instanceId="i-…", query="…")`.
	ExampleCalls []ToolCall `json:"exampleCalls,omitempty"`
	// OutputFormat is the content of the Output Format section's fenced block, without the fences.
	OutputFormat string `json:"outputFormat,omitempty"`
	// CrossRefs are the other SOP ids the runbook points or escalates to, in order of first mention.
	CrossRefs []string `json:"crossRefs,omitempty"`
	// Source says where the runbook came from: "builtin:K3.md" or a file path.
	Source string `json:"source"`
	// Body is the Markdown after the front matter, unchanged.
	Body string `json:"body"`
}

// Phase is one "## Phase N — Title" section.
type Phase struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	Steps  []Step `json:"steps"`
}

// Step is one top-level bullet under a level heading, with its indented sub-bullets.
type Step struct {
	Level Level `json:"level"`
	// Section is the "###" heading the step sits under inside its phase ("Exit Code 137 — …"),
	// empty for steps before the first one.
	Section   string     `json:"section,omitempty"`
	Text      string     `json:"text"`
	Line      int        `json:"line"`
	ToolCalls []ToolCall `json:"toolCalls,omitempty"`
}

// ToolCall is a tool a step (or an example) calls, with the parameters it names. A parameter the
// text names without a value ("with instanceId") has an empty Value.
type ToolCall struct {
	Tool   string  `json:"tool"`
	Params []Param `json:"params,omitempty"`
	Line   int     `json:"line"`
}

// Param is one named parameter of a tool call.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// frontMatter is the YAML head. Unknown keys are refused so that a misspelt "trigger:" is an
// error instead of a runbook that never matches.
type frontMatter struct {
	ID          string   `yaml:"id"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Status      string   `yaml:"status"`
	Severity    string   `yaml:"severity"`
	Triggers    []string `yaml:"triggers"`
	Owner       string   `yaml:"owner"`
	Objective   string   `yaml:"objective"`
	Context     string   `yaml:"context"`
}

var (
	// idRE is the shape of an SOP id: a letter and a number ("K3", "G2", "Z1"), as the detection
	// rules' sops: lists use them.
	idRE      = regexp.MustCompile(`^[A-Z][A-Z]?[0-9]{1,2}$`)
	titleIDRE = regexp.MustCompile(`^([A-Z][A-Z]?[0-9]{1,2})\s+(?:—|–|-)\s+`)
	phaseRE   = regexp.MustCompile(`^Phase\s+([0-9]+)\s*(?:—|–|-|:)?\s*(.*)$`)
	levelRE   = regexp.MustCompile(`^(MUST|SHOULD|MAY):\s*$`)
	firstRE   = regexp.MustCompile(`^\*\*FIRST\*\*:?\s*`)
	// toolRE finds a tool named in prose: a backquoted snake_case name that either follows
	// "MCP " / "via " or is followed by " tool". Other backquoted words (log types, kubectl
	// commands, query values) are not tools.
	toolRE = regexp.MustCompile("(?:(?:MCP|via) `([a-z][a-z0-9_]*)`|`([a-z][a-z0-9_]*)` tool\\b)")
	// paramRE reads one parameter at the start of the text: name, optionally =value where the
	// value is backquoted, double-quoted, a bracketed list or a bare word.
	paramRE = regexp.MustCompile("^([A-Za-z][A-Za-z0-9_]*)(?:=(`[^`]*`|\"[^\"]*\"|\\[[^\\]]*\\]|[A-Za-z0-9_.:/<>\\-]+))?")
	sepRE   = regexp.MustCompile(`^(?:,\s*and\s+|,\s*|\s+and\s+)`)
	callRE  = regexp.MustCompile(`^([a-z][a-z0-9_]*)\((.*)\)\s*$`)
	// crossRefREs find SOP ids the text points to: "G2 SOP", "SOP G2", "escalate to A1", and the
	// Output Format's cross_reference items ("- \"G2 if …\"").
	crossRefREs = []*regexp.Regexp{
		regexp.MustCompile(`\b([A-Z][A-Z]?[0-9]{1,2}) SOPs?\b`),
		regexp.MustCompile(`\bSOPs? ([A-Z][A-Z]?[0-9]{1,2})\b`),
		regexp.MustCompile(`\b(?:[Ee]scalate|[Cc]ross-ref(?:erence)?|[Ss]ee) to ([A-Z][A-Z]?[0-9]{1,2})\b`),
		regexp.MustCompile(`^\s*-\s*"?([A-Z][A-Z]?[0-9]{1,2}) (?:if|when|for)\b`),
	}
)

// Parse reads one runbook. name is where it came from (a file path, or "builtin:K3.md"); it names
// the runbook in errors and becomes Source. The id comes from the front matter's id, else from
// the title's leading "K3 — ", else from the file name. Parse refuses a file without front matter,
// with YAML it cannot read or with unknown keys; whether the front matter is complete is Check's
// question, so that Lint can report every problem at once.
func Parse(name string, data []byte) (*Runbook, error) {
	head, body, bodyLine, err := splitFrontMatter(data)
	if err != nil {
		return nil, fmt.Errorf("runbook %s: %w", name, err)
	}
	var fm frontMatter
	dec := yaml.NewDecoder(bytes.NewReader(head))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil {
		return nil, fmt.Errorf("runbook %s: front matter: %w (accepted keys: id, title, description, status, severity, triggers, owner, objective, context)", name, err)
	}
	rb := &Runbook{
		ID:          strings.TrimSpace(fm.ID),
		Title:       strings.TrimSpace(fm.Title),
		Description: strings.TrimSpace(fm.Description),
		Status:      strings.TrimSpace(fm.Status),
		Severity:    strings.TrimSpace(fm.Severity),
		Triggers:    fm.Triggers,
		Owner:       strings.TrimSpace(fm.Owner),
		Objective:   strings.TrimSpace(fm.Objective),
		Context:     strings.TrimSpace(fm.Context),
		Source:      name,
		Body:        string(body),
	}
	if rb.ID == "" {
		if m := titleIDRE.FindStringSubmatch(rb.Title); m != nil {
			rb.ID = m[1]
		} else {
			base := path.Base(strings.ReplaceAll(name, `\`, "/"))
			rb.ID = strings.TrimSuffix(base, path.Ext(base))
		}
	}
	if !idRE.MatchString(rb.ID) {
		return nil, fmt.Errorf("runbook %s: id %q: want a letter or two and a number such as K3 (from front matter id, the title's leading \"K3 — \", or the file name)", name, rb.ID)
	}
	if err := parseBody(rb, body, bodyLine); err != nil {
		return nil, fmt.Errorf("runbook %s: %w", name, err)
	}
	return rb, nil
}

// splitFrontMatter cuts the "---" delimited YAML head off the Markdown body and returns the
// 1-based line number the body starts on, so that step lines point into the file.
func splitFrontMatter(data []byte) (head, body []byte, bodyLine int, err error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	if !strings.HasPrefix(text, "---\n") {
		return nil, nil, 0, errors.New("no front matter: the file must start with a line \"---\", the YAML head, and another \"---\"")
	}
	rest := text[len("---\n"):]
	end := strings.Index(rest, "\n---\n")
	switch {
	case end >= 0:
	case strings.HasSuffix(rest, "\n---"):
		end = len(rest) - len("\n---")
	default:
		return nil, nil, 0, errors.New("front matter is not closed: no line \"---\" after the YAML head")
	}
	head = []byte(rest[:end])
	after := min(end+len("\n---\n"), len(rest))
	bodyLine = 1 + strings.Count(text[:len("---\n")+after], "\n")
	return head, []byte(rest[after:]), bodyLine, nil
}

// parseBody walks the Markdown body line by line: "## " starts a section, "### " a subsection of
// a phase, "MUST:" and the like set the level, and a bullet at column 0 starts a step that runs
// until the next bullet at column 0 or the next heading.
func parseBody(rb *Runbook, body []byte, firstLine int) error {
	var (
		section    string // current "## " heading
		sectionBuf strings.Builder
		sectionAt  int // file line of the section's first line after its heading
		phase      *Phase
		subsection string
		level      Level
		step       *Step
		stepLines  []string
	)
	flushStep := func() {
		if step == nil {
			return
		}
		step.Text = strings.TrimRight(strings.Join(stepLines, "\n"), "\n ")
		step.ToolCalls = toolCalls(stepLines, step.Line)
		phase.Steps = append(phase.Steps, *step)
		step, stepLines = nil, nil
	}
	flushSection := func() error {
		flushStep()
		raw := sectionBuf.String()
		text := strings.Trim(raw, "\n")
		sectionBuf.Reset()
		switch strings.ToLower(section) {
		case "guardrails":
			rb.Guardrails = text
		case "common issues":
			rb.CommonIssues = text
		case "examples":
			rb.Examples = text
			calls, err := exampleCalls(raw, sectionAt)
			if err != nil {
				return err
			}
			rb.ExampleCalls = calls
		case "output format":
			rb.OutputFormat = fencedBlock(text)
		}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	lineNo := firstLine - 1
	inFence := false
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
		}
		if !inFence && strings.HasPrefix(line, "## ") {
			if err := flushSection(); err != nil {
				return err
			}
			section, sectionAt = strings.TrimSpace(line[3:]), lineNo+1
			phase, subsection, level = nil, "", ""
			if m := phaseRE.FindStringSubmatch(section); m != nil {
				n, _ := strconv.Atoi(m[1])
				rb.Phases = append(rb.Phases, Phase{Number: n, Title: strings.TrimSpace(m[2])})
				phase = &rb.Phases[len(rb.Phases)-1]
			}
			continue
		}
		sectionBuf.WriteString(line)
		sectionBuf.WriteByte('\n')
		if phase == nil || inFence {
			continue
		}
		switch {
		case strings.HasPrefix(line, "### "):
			flushStep()
			subsection, level = strings.TrimSpace(line[4:]), ""
		case levelRE.MatchString(strings.TrimSpace(line)):
			flushStep()
			level = Level(levelRE.FindStringSubmatch(strings.TrimSpace(line))[1])
		case strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* "):
			flushStep()
			if level == "" {
				return fmt.Errorf("line %d: step %q in phase %d comes before any MUST:, SHOULD: or MAY: line", lineNo, strings.TrimSpace(line), phase.Number)
			}
			text := strings.TrimSpace(line[2:])
			lv := level
			if firstRE.MatchString(text) {
				if level != Must {
					return fmt.Errorf("line %d: a **FIRST** step must be under MUST:, it is under %s:", lineNo, level)
				}
				lv = First
			}
			step = &Step{Level: lv, Section: subsection, Line: lineNo}
			stepLines = []string{text}
		case step != nil && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
			stepLines = append(stepLines, strings.TrimSpace(line))
		case strings.TrimSpace(line) == "":
			// A blank line inside a step keeps the step open: nested lists may be spaced.
		default:
			flushStep()
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if inFence {
		return fmt.Errorf("line %d: a ``` block is not closed", lineNo)
	}
	if err := flushSection(); err != nil {
		return err
	}
	rb.CrossRefs = crossRefs(rb)
	return nil
}

// toolCalls finds the tools a step names, line by line, and reads the parameters written right
// after each: "`search` tool with instanceId and query=`…` and logTypes=`kubelet`". Without the
// word "with" only name=value pairs count, so that "`search` tool to find" has no parameter "to".
func toolCalls(lines []string, firstLine int) []ToolCall {
	var calls []ToolCall
	for i, line := range lines {
		locs := toolRE.FindAllStringSubmatchIndex(line, -1)
		for j, loc := range locs {
			name := submatch(line, loc, 1)
			if name == "" {
				name = submatch(line, loc, 2)
			}
			end := len(line)
			if j+1 < len(locs) {
				end = locs[j+1][0]
			}
			calls = append(calls, ToolCall{Tool: name, Params: proseParams(line[loc[1]:end]), Line: firstLine + i})
		}
	}
	return calls
}

func submatch(s string, loc []int, n int) string {
	if loc[2*n] < 0 {
		return ""
	}
	return s[loc[2*n]:loc[2*n+1]]
}

// bareNameRE is the shape of a parameter named without a value: parameter names are camelCase
// or snake_case (instanceId, finding_ids), which tells them from the prose that follows
// ("with executionId and poll until …").
var bareNameRE = regexp.MustCompile(`[A-Z_]`)

func proseParams(rest string) []Param {
	rest = strings.TrimPrefix(rest, " tool")
	bare := false
	if r, ok := strings.CutPrefix(rest, " with "); ok {
		rest, bare = r, true
	} else if r, ok := strings.CutPrefix(rest, " "); ok {
		rest = r
	} else {
		return nil
	}
	var params []Param
	for {
		m := paramRE.FindStringSubmatch(rest)
		if m == nil || (m[2] == "" && (!bare || !bareNameRE.MatchString(m[1]))) {
			return params
		}
		params = append(params, Param{Name: m[1], Value: unquote(m[2])})
		rest = rest[len(m[0]):]
		sep := sepRE.FindString(rest)
		if sep == "" {
			return params
		}
		rest = rest[len(sep):]
	}
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '`' || v[0] == '"') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// exampleCalls reads the Examples block's call lines: name(arg=value, …). Comments and other
// lines are skipped; a call line whose arguments do not parse is an error, since an example is
// what an agent copies.
func exampleCalls(text string, firstLine int) ([]ToolCall, error) {
	var calls []ToolCall
	for i, line := range strings.Split(text, "\n") {
		m := callRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		params, err := callArgs(m[2])
		if err != nil {
			return nil, fmt.Errorf("line %d: Examples call %q: %w", firstLine+i, strings.TrimSpace(line), err)
		}
		calls = append(calls, ToolCall{Tool: m[1], Params: params, Line: firstLine + i})
	}
	return calls, nil
}

// callArgs splits "a=\"x, y\", b=[1,2], c=300" on the commas outside quotes and brackets.
func callArgs(s string) ([]Param, error) {
	var (
		params []Param
		depth  int
		quote  rune
		start  int
	)
	add := func(arg string) error {
		arg = strings.TrimSpace(arg)
		if arg == "" {
			return nil
		}
		name, value, ok := strings.Cut(arg, "=")
		name = strings.TrimSpace(name)
		if !ok || !paramNameRE.MatchString(name) {
			return fmt.Errorf("argument %q: want name=value", arg)
		}
		params = append(params, Param{Name: name, Value: unquote(strings.TrimSpace(value))})
		return nil
	}
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '[' || r == '{' || r == '(':
			depth++
		case r == ']' || r == '}' || r == ')':
			depth--
		case r == ',' && depth == 0:
			if err := add(s[start:i]); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if quote != 0 || depth != 0 {
		return nil, errors.New("unbalanced quotes or brackets")
	}
	if err := add(s[start:]); err != nil {
		return nil, err
	}
	return params, nil
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// fencedBlock returns the content of the first ``` block in text, or the text when it has none.
func fencedBlock(text string) string {
	lines := strings.Split(text, "\n")
	startAt := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			if startAt < 0 {
				startAt = i + 1
				continue
			}
			return strings.Join(lines[startAt:i], "\n")
		}
	}
	return text
}

// crossRefs collects the SOP ids mentioned in the steps, guardrails, common issues and output
// format, leaving out the runbook's own id.
func crossRefs(rb *Runbook) []string {
	seen := map[string]bool{rb.ID: true}
	var refs []string
	for _, line := range strings.Split(rb.Body, "\n") {
		for _, re := range crossRefREs {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				if !seen[m[1]] {
					seen[m[1]] = true
					refs = append(refs, m[1])
				}
			}
		}
	}
	return refs
}
