package apperr

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/nodediag/nodediag/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/reports.golden.yaml")

// realLog is one entry of testdata/logs/index.yaml: a crash log from a public issue thread and
// the result its reading called for.
type realLog struct {
	File       string   `yaml:"file"`
	Source     string   `yaml:"source"`
	Runtime    string   `yaml:"runtime"`
	Recognised bool     `yaml:"recognised"`
	Summary    []string `yaml:"summary"`
	Cite       []int    `yaml:"cite"`
	NotCite    []int    `yaml:"not_cite"`
	CRI        bool     `yaml:"cri"`
	Note       string   `yaml:"note"`
}

func loadRealLogs(t *testing.T) []realLog {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "logs", "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var logs []realLog
	if err := yaml.Unmarshal(b, &logs); err != nil {
		t.Fatal(err)
	}
	return logs
}

// TestRealLogs runs Find on every real log and checks it against the expectation written from
// reading that log. The score — how many logs give the right runtime, summary and lines — is
// logged; any miss fails the test.
func TestRealLogs(t *testing.T) {
	logs := loadRealLogs(t)
	if len(logs) < 25 {
		t.Fatalf("only %d real logs; the corpus needs at least 25", len(logs))
	}
	perRuntime := map[string][2]int{}
	right := 0
	for _, rl := range logs {
		ok := t.Run(strings.TrimSuffix(rl.File, ".log"), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "logs", rl.File))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range checkReport(Find(string(raw)), rl, strings.Split(string(raw), "\n")) {
				t.Errorf("%s (%s): %s", rl.File, rl.Source, p)
			}
		})
		family := strings.SplitN(rl.File, "-", 2)[0]
		n := perRuntime[family]
		n[1]++
		if ok {
			right++
			n[0]++
		}
		perRuntime[family] = n
	}
	var parts []string
	for _, f := range slices.Sorted(func(yield func(string) bool) {
		for k := range perRuntime {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%s %d/%d", f, perRuntime[f][0], perRuntime[f][1]))
	}
	t.Logf("real logs right: %d/%d (%s)", right, len(logs), strings.Join(parts, ", "))
}

// checkReport lists how a report differs from a real log's expectation.
func checkReport(got Report, rl realLog, lines []string) []string {
	var problems []string
	if got.Runtime != rl.Runtime || got.Recognised != rl.Recognised {
		problems = append(problems, fmt.Sprintf("runtime %q recognised %v, want %q %v (summary %q)",
			got.Runtime, got.Recognised, rl.Runtime, rl.Recognised, got.Summary))
	}
	for _, s := range rl.Summary {
		if !strings.Contains(got.Summary, s) {
			problems = append(problems, fmt.Sprintf("summary %q lacks %q", got.Summary, s))
		}
	}
	cited := map[int]string{}
	for _, l := range got.Lines {
		cited[l.No] = l.Text
	}
	for _, n := range rl.Cite {
		text, ok := cited[n]
		if !ok {
			problems = append(problems, fmt.Sprintf("line %d not cited (cited %v)", n, lineNos(got.Lines)))
			continue
		}
		if want := expectedText(lines[n-1], rl.CRI); text != want && !clippedFrom(text, want) {
			problems = append(problems, fmt.Sprintf("line %d cited as %q, the file has %q", n, text, want))
		}
	}
	for _, n := range rl.NotCite {
		if _, ok := cited[n]; ok {
			problems = append(problems, fmt.Sprintf("line %d cited, it must not be", n))
		}
	}
	if len(got.Lines) > MaxLines {
		problems = append(problems, fmt.Sprintf("%d lines cited, at most %d", len(got.Lines), MaxLines))
	}
	return problems
}

// expectedText is how a cited line must read: the file's line without trailing blanks and, for a
// CRI file, without its "<time> <stream> <tag> " prefix.
func expectedText(line string, cri bool) string {
	if cri {
		if f := strings.SplitN(line, " ", 4); len(f) == 4 {
			line = f[3]
		} else {
			line = ""
		}
	}
	return strings.TrimRight(line, " \t\r")
}

// clippedFrom reports whether text is a long line's beginning marked as cut.
func clippedFrom(text, line string) bool {
	head, ok := strings.CutSuffix(text, "…")
	return ok && len(head) >= 200 && strings.HasPrefix(line, head)
}

func lineNos(lines []Line) []int {
	var out []int
	for _, l := range lines {
		out = append(out, l.No)
	}
	return out
}

// TestRealLogsGolden keeps every real log's whole report, so that a change in wording, cited
// lines or fallback shows up in review.
func TestRealLogsGolden(t *testing.T) {
	type entry struct {
		File   string `yaml:"file"`
		Report Report `yaml:"report"`
	}
	var all []entry
	for _, rl := range loadRealLogs(t) {
		raw, err := os.ReadFile(filepath.Join("testdata", "logs", rl.File))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, entry{rl.File, Find(string(raw))})
	}
	out, err := yaml.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "reports.golden.yaml"), out, *update,
		"go test ./internal/apperr -run TestRealLogsGolden -update")
}
