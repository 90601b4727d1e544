// Package detect holds nodediag's catalog of detection rules (rules.yaml, embedded), the
// multi-literal prefilter that finds candidate lines in whole blocks of log text, and the
// matcher that confirms candidates with each rule's RE2 pattern.
//
// One catalog serves every consumer: the indexer turns rule hits into findings and runs the
// crash-fact extractor a rule names on each line it matched; docs/rules.md is generated from the
// same catalog; and every rule carries literal example lines and near-misses that a table test
// runs through the real matcher, so a rule cannot silently stop matching the lines it was
// written for.
package detect

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed rules.yaml
var embeddedRules []byte

// Severity ranks how urgent a rule's finding is.
type Severity string

// Severities, most urgent first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity, most urgent first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// Rank orders severities: critical is 4, info is 0, an unknown severity -1. Callers compare
// ranks to apply thresholds such as --fail-on.
func (s Severity) Rank() int {
	i := slices.Index(Severities, s)
	if i < 0 {
		return -1
	}
	return len(Severities) - 1 - i
}

// Rule is one detection rule of the catalog. The YAML field names are the catalog's schema.
type Rule struct {
	ID          string   `yaml:"id"`
	Title       string   `yaml:"title"`
	Severity    Severity `yaml:"severity"`
	Category    string   `yaml:"category"`
	LogTypes    []string `yaml:"logTypes,omitempty"` // empty: every log type
	Description string   `yaml:"description"`
	SOPs        []string `yaml:"sops"`
	// Pattern is an RE2 expression matched anywhere in the whole line.
	Pattern string `yaml:"pattern"`
	// Literals are the prefilter: every line Pattern matches contains at least one of them.
	Literals []string `yaml:"literals"`
	// CaseInsensitive folds ASCII case for both Literals and Pattern.
	CaseInsensitive bool `yaml:"caseInsensitive,omitempty"`
	// Exclude, when set, vetoes a line that Pattern matched (an RE2 false-positive guard).
	Exclude string `yaml:"exclude,omitempty"`
	// Extract names the crash-fact extractor the indexer runs on each matched line.
	Extract string `yaml:"extract,omitempty"`
	// StartMarker marks lines that say the kubelet (re)started; see Startup.
	StartMarker bool `yaml:"startMarker,omitempty"`
	// Startup, when set, hands the rule's hits that come within Startup.Within after a start
	// marker of the same file to the rule Startup.Rule: what is a failure later (PLEG not healthy,
	// runtime down) is what every kubelet says in its first seconds.
	Startup *StartupRoute `yaml:"startup,omitempty"`
	// Sandbox, when set, names the rule a hit goes to when the container its extractor reads is
	// a pod sandbox the same file created: a pause container's exit is worded like any other.
	Sandbox     string `yaml:"sandbox,omitempty"`
	SandboxRule *Rule  `yaml:"-"`
	// RawExamples are the lines the rule must match, each with the format-matrix row
	// (internal/formats/matrix) that records its wording: the producer, versions and upstream
	// source that write it. Examples and ExampleRows are their two halves, filled by Parse.
	RawExamples []Example `yaml:"examples"`
	Examples    []string  `yaml:"-"`
	ExampleRows []string  `yaml:"-"`
	NearMisses  []string  `yaml:"nearMisses"`
	Guards      string    `yaml:"guards"`

	// Index is the rule's position in Catalog.Rules, set by Parse.
	Index int `yaml:"-"`
}

// Example is one line a rule must match and the format-matrix row its wording comes from.
type Example struct {
	Row  string `yaml:"row"`
	Line string `yaml:"line"`
}

// StartupRoute names where a rule's hits go during a kubelet's start-up.
type StartupRoute struct {
	Rule   string `yaml:"rule"`
	Within string `yaml:"within"` // a Go duration

	Target *Rule         `yaml:"-"`
	Grace  time.Duration `yaml:"-"`
}

// AppliesTo reports whether the rule is meant for lines of the given log type.
func (r *Rule) AppliesTo(logType string) bool {
	return len(r.LogTypes) == 0 || slices.Contains(r.LogTypes, logType)
}

// Catalog is a versioned list of rules.
type Catalog struct {
	// Version changes whenever any rule changes; an index built with another version is stale.
	Version string `yaml:"version"`
	Rules   []Rule `yaml:"rules"`

	// compiled is the catalog compiled once: every index build of a process (an MCP server
	// builds one per imported bundle) shares it instead of compiling its own. Nil for a catalog
	// assembled in code.
	compiled func() (*Matcher, error)
}

// Matcher returns the catalog's compiled matcher: the shared one of a parsed catalog, or a new
// one for a catalog assembled in code.
func (c *Catalog) Matcher() (*Matcher, error) {
	if c.compiled != nil {
		return c.compiled()
	}
	return c.Compile()
}

// Rule returns the rule with the given id, or nil.
func (c *Catalog) Rule(id string) *Rule {
	for i := range c.Rules {
		if c.Rules[i].ID == id {
			return &c.Rules[i]
		}
	}
	return nil
}

// Load returns the embedded catalog, parsed and validated. The catalog is shared by every caller
// in the process: read it, never modify it.
//
// Unlike Parse, Load neither compiles the matcher up front nor runs the rules' examples through
// it: the embedded catalog is fixed at build time and TestEmbeddedCatalog proves its examples,
// while a search, which needs only the rules, would pay ~25 ms of its ~30 ms for the proof
// (docs/performance.md). The matcher is compiled on first use.
func Load() (*Catalog, error) { return loadEmbedded() }

var loadEmbedded = sync.OnceValues(func() (*Catalog, error) {
	c, err := parse(embeddedRules, false)
	if err != nil {
		return nil, fmt.Errorf("embedded rules.yaml: %w", err)
	}
	return c, nil
})

// Version is the embedded catalog's version, read from its top-level `version:` line without
// parsing the rest: an index built with another version is stale, and a search whose index is
// fresh needs nothing else of the catalog before it reads (parsing the YAML takes 6–13 ms of a
// 30 ms run). TestEmbeddedCatalog holds it equal to Load's.
var Version = sync.OnceValue(func() string {
	for line := range bytes.Lines(embeddedRules) {
		if v, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("version:")); ok {
			return strings.Trim(string(bytes.TrimSpace(v)), `"'`)
		}
	}
	return ""
})

// Embedded returns the raw embedded rules.yaml, e.g. for `nodediag rules --dump`.
func Embedded() []byte { return bytes.Clone(embeddedRules) }

// Parse reads a catalog and validates it: the schema (unknown fields are errors), each field's
// allowed values, that patterns compile, and that each rule's examples match it and its
// near-misses do not, through the real matcher. Errors name the rule id and the field.
func Parse(data []byte) (*Catalog, error) { return parse(data, true) }

// parse decodes and validates a catalog; prove compiles it now and runs every example and
// near-miss through the matcher, otherwise the matcher is compiled on first use.
func parse(data []byte, prove bool) (*Catalog, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse rules: %w", err)
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		r.Index = i
		for _, ex := range r.RawExamples {
			r.Examples = append(r.Examples, ex.Line)
			r.ExampleRows = append(r.ExampleRows, ex.Row)
		}
	}
	if err := c.validate(prove); err != nil {
		return nil, err
	}
	if !prove {
		c.compiled = sync.OnceValues(c.Compile)
		return &c, nil
	}
	m, err := c.Compile()
	if err != nil {
		return nil, err
	}
	if err := m.CheckExamples(); err != nil {
		return nil, err
	}
	c.compiled = func() (*Matcher, error) { return m, nil }
	return &c, nil
}

// FieldError says which field of which rule is wrong.
type FieldError struct {
	Rule  string // rule id, or "#N" when the id itself is missing
	Field string
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("rule %s: %s: %v", e.Rule, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

var idRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// MinLiteralLen is the shortest literal a rule may give. The prefilter samples one gram every
// (shortest literal − 3) bytes, so a single short literal would slow every scan; seven bytes
// keeps the stride at four.
const MinLiteralLen = 7

// validate checks every field; with compile it also compiles each pattern and exclude, which
// Load leaves to the matcher's first use (a bad pattern then fails there, and in
// TestEmbeddedCatalog).
func (c *Catalog) validate(compile bool) error {
	if strings.TrimSpace(c.Version) == "" {
		return errors.New("rules: version: missing")
	}
	if len(c.Rules) == 0 {
		return errors.New("rules: no rules")
	}
	seen := map[string]bool{}
	var errs []error
	for i := range c.Rules {
		r := &c.Rules[i]
		name := r.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		v := ruleCheck{r: r, bad: func(field, format string, args ...any) {
			errs = append(errs, &FieldError{Rule: name, Field: field, Err: fmt.Errorf(format, args...)})
		}}
		v.identity(seen)
		v.matching(compile)
		v.links(c)
		v.examples()
	}
	return errors.Join(errs...)
}

// ruleCheck validates one rule, reporting each problem through bad; the checks are grouped by
// what they protect: the rule's name and place, its matching, its references to other rules,
// and the literal lines that test it.
type ruleCheck struct {
	r   *Rule
	bad func(field, format string, args ...any)
}

// identity checks what names and places the rule: id, title, severity, category, log types,
// description and runbooks.
func (v ruleCheck) identity(seen map[string]bool) {
	r, bad := v.r, v.bad
	switch {
	case r.ID == "":
		bad("id", "missing")
	case !idRE.MatchString(r.ID):
		bad("id", "%q is not kebab-case", r.ID)
	case seen[r.ID]:
		bad("id", "duplicate id %q", r.ID)
	}
	seen[r.ID] = true
	if strings.TrimSpace(r.Title) == "" {
		bad("title", "missing")
	}
	if r.Severity.Rank() < 0 {
		bad("severity", "%q is not one of %v", r.Severity, Severities)
	}
	if !slices.Contains(Categories, r.Category) {
		bad("category", "%q is not one of %v", r.Category, Categories)
	}
	for _, lt := range r.LogTypes {
		if !slices.Contains(LogTypes, lt) {
			bad("logTypes", "%q is not a known log type", lt)
		}
	}
	if strings.TrimSpace(r.Description) == "" {
		bad("description", "missing")
	}
	if len(r.SOPs) == 0 {
		bad("sops", "missing: name at least one runbook (Z1 is the catch-all)")
	}
	for _, s := range r.SOPs {
		if _, ok := SOPs[s]; !ok {
			bad("sops", "%q is not a known runbook id", s)
		}
	}
}

// matching checks the pattern, exclude, prefilter literals and extractor.
func (v ruleCheck) matching(compile bool) {
	r, bad := v.r, v.bad
	if r.Pattern == "" {
		bad("pattern", "missing")
	} else if compile {
		if _, err := compileRule(r.Pattern, r.CaseInsensitive); err != nil {
			bad("pattern", "%v", err)
		}
	}
	if r.Exclude != "" && compile {
		if _, err := compileRule(r.Exclude, r.CaseInsensitive); err != nil {
			bad("exclude", "%v", err)
		}
	}
	if len(r.Literals) == 0 {
		bad("literals", "missing: every rule needs at least one prefilter literal")
	}
	for _, l := range r.Literals {
		if len(l) < MinLiteralLen {
			bad("literals", "%q is shorter than %d bytes", l, MinLiteralLen)
		}
		if strings.ContainsAny(l, "\n\r") {
			bad("literals", "%q contains a line break", l)
		}
	}
	if r.Extract != "" && !slices.Contains(ExtractorNames, r.Extract) {
		bad("extract", "%q is not a known extractor", r.Extract)
	}
}

// links resolves the rules this one refers to (startup, sandbox) in the catalog.
func (v ruleCheck) links(c *Catalog) {
	r, bad := v.r, v.bad
	if st := r.Startup; st != nil {
		d, err := time.ParseDuration(st.Within)
		switch {
		case err != nil || d <= 0:
			bad("startup", "within %q is not a positive duration", st.Within)
		case c.Rule(st.Rule) == nil || st.Rule == r.ID:
			bad("startup", "rule %q is not another rule of the catalog", st.Rule)
		default:
			st.Target, st.Grace = c.Rule(st.Rule), d
		}
	}
	if r.Sandbox != "" {
		if t := c.Rule(r.Sandbox); t == nil || t == r || r.Extract == "" {
			bad("sandbox", "%q is not another rule of the catalog, or the rule has no extractor to read the container", r.Sandbox)
		} else {
			r.SandboxRule = t
		}
	}
}

// examples checks the literal lines the rule's table test matches, and its guards.
func (v ruleCheck) examples() {
	r, bad := v.r, v.bad
	if len(r.Examples) < 2 {
		bad("examples", "has %d, want at least 2", len(r.Examples))
	}
	for j, row := range r.ExampleRows {
		if strings.TrimSpace(row) == "" {
			bad(fmt.Sprintf("examples[%d]", j), "names no format-matrix row")
		}
	}
	if len(r.NearMisses) < 1 {
		bad("nearMisses", "missing: give at least one line that looks close but must not match")
	}
	for _, ex := range slices.Concat(r.Examples, r.NearMisses) {
		if strings.ContainsAny(ex, "\n") {
			bad("examples", "%q spans lines", ex)
		}
	}
	if strings.TrimSpace(r.Guards) == "" {
		bad("guards", "missing")
	}
}

// compileRule compiles a rule's pattern or exclude, folding case when the rule asks for it.
func compileRule(expr string, fold bool) (*regexp.Regexp, error) {
	if fold {
		expr = "(?i)" + expr
	}
	return regexp.Compile(expr)
}
