// Package corpus holds nodediag's real-line corpus — verbatim node log lines published in public
// issues, upstream test fixtures and documentation, each with its citation and the class of crash
// evidence it supports or "none" — and the verdict the indexer gives a line, which the corpus
// tests score (detection recall, false alarms) and the format matrix tests reuse.
//
// The corpus (testdata/corpus/*.yaml at the repository root) is what keeps the engine honest
// about wordings it was not written against: our scenario generator only teaches it our own.
package corpus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// Classes are the labels an entry may carry: the kind of crash evidence a line supports, or
// None for a benign line.
var Classes = []string{
	"container_oom", "node_oom", "segfault", "exec_failure", "missing_config", "probe_failure",
	"crash_loop", "container_exit", "kill", "image_pull", "runtime_error", "node_health", None,
}

// None labels a benign line: one that must raise no crash fact and no high or critical finding.
const None = "none"

// Entry is one line of the corpus.
type Entry struct {
	Line     string   `yaml:"line"`
	LogType  string   `yaml:"logType"`
	Class    string   `yaml:"class"`
	Source   string   `yaml:"source"`
	Producer string   `yaml:"producer,omitempty"`
	Before   []string `yaml:"before,omitempty"`
	Note     string   `yaml:"note,omitempty"`

	File string `yaml:"-"` // the corpus file it came from, with its index: "kernel.yaml#12"
}

// LoadDir reads every *.yaml file of dir and checks each entry's fields.
func LoadDir(dir string) ([]Entry, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var all []Entry
	var errs []error
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		var es []Entry
		if err := dec.Decode(&es); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		for i := range es {
			e := &es[i]
			e.File = fmt.Sprintf("%s#%d", filepath.Base(name), i+1)
			if err := e.check(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", e.File, err))
			}
		}
		all = append(all, es...)
	}
	return all, errors.Join(errs...)
}

func (e *Entry) check() error {
	switch {
	case strings.TrimSpace(e.Line) == "" || strings.ContainsAny(e.Line, "\n"):
		return errors.New("line must be one non-empty line")
	case !slices.Contains(Classes, e.Class):
		return fmt.Errorf("class %q is not one of %v", e.Class, Classes)
	case !slices.Contains(detect.LogTypes, e.LogType):
		return fmt.Errorf("logType %q is not a known log type", e.LogType)
	case !strings.HasPrefix(e.Source, "https://"):
		return fmt.Errorf("source %q is not an https URL", e.Source)
	}
	return nil
}

// Verdict is what the indexer made of one line.
type Verdict struct {
	// Findings are the rules that fired on the line, with their severities.
	Findings []Hit
	// Facts are the crash facts read from the line (join data and lone clean exits are not
	// crash facts: the index keeps them out of its fact list).
	Facts []facts.Fact
}

// Hit is one rule that fired.
type Hit struct {
	Rule, Severity, Category string
}

// Detected reports whether the line raised anything at all.
func (v Verdict) Detected() bool { return len(v.Findings) > 0 || len(v.Facts) > 0 }

// Alarm reports whether the line raised a crash fact or a high or critical finding: what a
// benign line must never do.
func (v Verdict) Alarm() bool {
	if len(v.Facts) > 0 {
		return true
	}
	for _, h := range v.Findings {
		if detect.Severity(h.Severity).Rank() >= detect.High.Rank() {
			return true
		}
	}
	return false
}

// Rules lists the ids of the rules that fired.
func (v Verdict) Rules() []string {
	out := make([]string, 0, len(v.Findings))
	for _, h := range v.Findings {
		out = append(out, h.Rule)
	}
	return out
}

// Capture is the capture time lines are indexed at: it anchors the year of year-less stamps.
var Capture = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

// Check indexes before and line as one file of logType and returns what was raised on line
// itself; before gives context (a kubelet that just started, the rest of an OOM report).
func Check(ctx context.Context, cat *detect.Catalog, logType string, before []string, line string) (Verdict, error) {
	var text bytes.Buffer
	for _, l := range before {
		text.WriteString(l)
		text.WriteByte('\n')
	}
	text.WriteString(line)
	text.WriteByte('\n')
	target := len(before) + 1
	idx, err := index.IndexText(ctx, cat, logType, text.Bytes(), Capture)
	if err != nil {
		return Verdict{}, err
	}
	var v Verdict
	for _, f := range idx.Findings {
		for _, s := range f.Samples {
			if s.Line == target {
				v.Findings = append(v.Findings, Hit{Rule: f.Rule, Severity: f.Severity, Category: f.Category})
				break
			}
		}
	}
	for _, f := range idx.Facts {
		if onLine(f, target) {
			v.Facts = append(v.Facts, f)
		}
	}
	return v, nil
}

func onLine(f facts.Fact, line int) bool {
	if f.Ref.Line == line || (f.LastRef != nil && f.LastRef.Line == line) {
		return true
	}
	for _, r := range f.Also {
		if r.Line == line {
			return true
		}
	}
	return false
}
