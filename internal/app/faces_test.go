package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/cli"
	"github.com/nodediag/nodediag/internal/mcpserver"
	"github.com/nodediag/nodediag/internal/store"
)

const exampleArchive = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

// faces holds the example bundle in one store, and the CLI and an MCP client over it.
type faces struct {
	dir, bundle string
	mcp         *mcp.ClientSession
}

func newFaces(t *testing.T) *faces {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(ctx, exampleArchive, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ct, sst := mcp.NewInMemoryTransports()
	ss, err := mcpserver.New(mcpserver.Options{Store: st, Version: "test"}).Connect(ctx, sst, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "faces-test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return &faces{dir: dir, bundle: res.Entry.Manifest.ID, mcp: cs}
}

// cli runs a nodediag command with -o json against the store and decodes its output.
func (f *faces) cli(t *testing.T, out any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"--store", f.dir}, append(args, "--bundle", f.bundle, "-o", "json")...)
	if code := cli.MainIO(context.Background(), args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("nodediag %v: exit %d: %s", args, code, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("nodediag %v: %v", args, err)
	}
}

// tool calls an MCP tool and decodes its structured answer.
func (f *faces) tool(t *testing.T, out any, name string, args map[string]any) {
	t.Helper()
	args["bundleId"] = f.bundle
	res, err := f.mcp.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("%s(%v): %v", name, args, res.Content)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// finding is what both faces say of a finding: its count and the lines behind it.
type finding struct {
	ID      string
	Count   int
	Samples []struct {
		File string
		Line int
		Time time.Time
	}
}

// TestErrorsSameThroughBothFaces: for the same bundle, severity and window, `nodediag errors`
// and the errors tool list the same findings with the same counts and the same samples, and
// with a window no sample lies outside it (the MCP tool's used to come from ten days earlier).
func TestErrorsSameThroughBothFaces(t *testing.T) {
	f := newFaces(t)
	var all struct{ Findings []finding }
	f.cli(t, &all, "errors", "--severity", "info")
	if len(all.Findings) < 3 {
		t.Fatalf("the example bundle has %d findings: the test needs several", len(all.Findings))
	}
	// Windows around each of a few findings' last hit: each holds some findings and not others.
	var windows []string
	for _, fd := range all.Findings[:3] {
		if n := len(fd.Samples); n > 0 {
			windows = append(windows, fd.Samples[n-1].Time.UTC().Format("2006-01-02 15:04:05"))
		}
	}
	for _, sev := range []string{"info", "high"} {
		for _, at := range append([]string{""}, windows...) {
			name := fmt.Sprintf("severity %s, incident %q", sev, at)
			var viaCLI, viaMCP struct{ Findings []finding }
			cliArgs := []string{"errors", "--severity", sev}
			mcpArgs := map[string]any{"severity": sev, "response_format": "detailed", "pageSize": 1000}
			if at != "" {
				cliArgs = append(cliArgs, "--incident-time", at)
				mcpArgs["incident_time"] = at
			}
			f.cli(t, &viaCLI, cliArgs...)
			f.tool(t, &viaMCP, "errors", mcpArgs)
			if d := cmp.Diff(viaCLI.Findings, viaMCP.Findings); d != "" {
				t.Errorf("%s: the faces differ (-CLI +MCP):\n%s", name, d)
			}
			if at == "" {
				continue
			}
			when, _ := time.Parse("2006-01-02 15:04:05", at)
			for _, fd := range viaMCP.Findings {
				for _, s := range fd.Samples {
					if s.Time.Before(when.Add(-5*time.Minute)) || !s.Time.Before(when.Add(5*time.Minute)) {
						t.Errorf("%s: %s's sample %s:%d at %s lies outside the window", name, fd.ID, s.File, s.Line, s.Time)
					}
				}
			}
		}
	}
}

// lineRef is a line an answer lists: where it is and what it says.
type lineRef struct {
	File string
	Line int
	Text string
}

// TestSearchReadCorrelateSameThroughBothFaces: search, read and correlate asked the same of
// the CLI and of the MCP server (the same limits: each face's defaults differ by design) give
// the same totals and list the same lines.
func TestSearchReadCorrelateSameThroughBothFaces(t *testing.T) {
	f := newFaces(t)

	type searched struct {
		Total      int
		TotalExact bool
		Files      []struct {
			File    string
			Total   int
			Matches []lineRef
		}
	}
	for _, q := range []struct {
		query, logTypes, incident string
	}{
		{"oom-kill|OOMKilled|Out of memory|Memory cgroup", "", ""},
		{"CrashLoopBackOff|Back-off restarting|exit code", "kubelet", ""},
		{"error", "", "2026-11-20 10:27:00"},
	} {
		var viaCLI, viaMCP searched
		args := []string{"search", q.query, "--max-results", "30", "--exact-total"}
		params := map[string]any{"query": q.query, "maxResults": 30, "exactTotal": true, "maxLineBytes": 2000}
		if q.logTypes != "" {
			args = append(args, "--log-types", q.logTypes)
			params["logTypes"] = q.logTypes
		}
		if q.incident != "" {
			args = append(args, "--incident-time", q.incident)
			params["incident_time"] = q.incident
		}
		f.cli(t, &viaCLI, args...)
		params["response_format"] = "detailed"
		f.tool(t, &viaMCP, "search", params)
		if d := cmp.Diff(viaCLI, viaMCP); d != "" || viaCLI.Total == 0 {
			t.Errorf("search %q (%d matches): the faces differ (-CLI +MCP):\n%s", q.query, viaCLI.Total, d)
		}
		// The concise answer an agent gets by default names the same lines, copies folded.
		var concise struct {
			Total   int
			Matches []struct {
				Ref    string
				Copies []string
			}
		}
		params["response_format"] = "concise"
		f.tool(t, &concise, "search", params)
		var named, listed []string
		for _, m := range concise.Matches {
			named = append(append(named, m.Ref), m.Copies...)
		}
		for _, fm := range viaCLI.Files {
			for _, m := range fm.Matches {
				listed = append(listed, fmt.Sprintf("%s:%d", m.File, m.Line))
			}
		}
		slices.Sort(named)
		slices.Sort(listed)
		if d := cmp.Diff(listed, named); d != "" || concise.Total != viaCLI.Total {
			t.Errorf("search %q concise: %d matches, other lines than the CLI lists (-CLI +MCP):\n%s", q.query, concise.Total, d)
		}
	}

	type read struct {
		File       string
		TotalLines int
		Lines      []struct {
			Line int
			Text string
		}
	}
	var rCLI, rMCP read
	f.cli(t, &rCLI, "read", "kubelet/kubelet.log", "--start-line", "-30", "--line-count", "12")
	f.tool(t, &rMCP, "read", map[string]any{"logKey": "kubelet/kubelet.log", "startLine": -30, "lineCount": 12})
	if d := cmp.Diff(rCLI, rMCP); d != "" || len(rCLI.Lines) != 12 {
		t.Errorf("read: the faces differ (-CLI +MCP):\n%s", d)
	}

	type event struct {
		Kind, Rule, FactKind string
		Ref                  string
	}
	type correlated struct {
		Occurrences int
		Timeline    []event
		Chains      []struct {
			Cause string
			Time  time.Time
		}
	}
	// The CLI prints the library's events (a line is an object); the MCP answer names it file:line.
	var cCLI struct {
		correlated
		Timeline []struct {
			event
			Ref struct {
				File string
				Line int
			}
		}
	}
	var cMCP correlated
	f.cli(t, &cCLI, "correlate", "--pivot", "CrashLoopBackOff", "--time-window", "300", "--max-events", "40")
	viaCLI := cCLI.correlated
	for _, e := range cCLI.Timeline {
		e.event.Ref = fmt.Sprintf("%s:%d", e.Ref.File, e.Ref.Line)
		viaCLI.Timeline = append(viaCLI.Timeline, e.event)
	}
	f.tool(t, &cMCP, "correlate", map[string]any{"pivotEvent": "CrashLoopBackOff", "timeWindow": 300, "maxEvents": 40, "maxChains": 0, "response_format": "detailed"})
	if d := cmp.Diff(viaCLI, cMCP); d != "" || viaCLI.Occurrences == 0 || len(viaCLI.Timeline) == 0 {
		t.Errorf("correlate: the faces differ (-CLI +MCP):\n%s", d)
	}
}

// TestTriageSummarizeValidateSameThroughBothFaces: quick triage, summarize and validate answer
// the same through the CLI and the MCP server; the server only adds the bundle it read and a hint.
func TestTriageSummarizeValidateSameThroughBothFaces(t *testing.T) {
	f := newFaces(t)
	var errs struct{ Findings []struct{ ID string } }
	f.cli(t, &errs, "errors")
	if len(errs.Findings) < 2 {
		t.Fatalf("%d findings: the test needs two", len(errs.Findings))
	}
	ids := []string{errs.Findings[0].ID, errs.Findings[1].ID}
	for _, c := range []struct {
		cli    []string
		tool   string
		params map[string]any
	}{
		{[]string{"quick-triage"}, "quick_triage", map[string]any{}},
		{append([]string{"summarize"}, ids...), "summarize", map[string]any{"finding_ids": ids}},
		{[]string{"validate"}, "validate", map[string]any{}},
	} {
		var viaCLI, viaMCP map[string]any
		f.cli(t, &viaCLI, c.cli...)
		f.tool(t, &viaMCP, c.tool, c.params)
		delete(viaMCP, "bundle")
		delete(viaMCP, "hint")
		if d := cmp.Diff(viaCLI, viaMCP); d != "" || len(viaCLI) == 0 {
			t.Errorf("%s: the faces differ (-CLI +MCP):\n%s", c.tool, d)
		}
	}
}

// TestDiagnoseSameThroughBothFaces: the runbook's whole walk in one call gives the same Output
// Format through the CLI and the MCP server, cited lines included.
func TestDiagnoseSameThroughBothFaces(t *testing.T) {
	t.Setenv("KUBECONFIG", "") // the CLI reads the cluster when a kubeconfig is set; this is about the logs
	f := newFaces(t)
	var viaCLI, viaMCP map[string]any
	f.cli(t, &viaCLI, "diagnose", "--pod", "payments/ledger-0")
	f.tool(t, &viaMCP, "diagnose_crashloop", map[string]any{"namespace": "payments", "pod": "ledger-0"})
	delete(viaMCP, "bundle")
	delete(viaMCP, "hint")
	// A gap says what is missing the same way through both faces, and how to get it in the
	// face's own terms (a flag, a tool): the parentheses differ by design.
	what := func(m map[string]any) []string {
		var out []string
		gaps, _ := m["gaps"].([]any)
		for _, g := range gaps {
			s, _ := g.(string)
			if i := strings.Index(s, " ("); i >= 0 {
				s = s[:i]
			}
			out = append(out, s)
		}
		delete(m, "gaps")
		return out
	}
	if d := cmp.Diff(what(viaCLI), what(viaMCP)); d != "" {
		t.Errorf("diagnose: the gaps differ (-CLI +MCP):\n%s", d)
	}
	if d := cmp.Diff(viaCLI, viaMCP); d != "" || viaCLI["root_cause"] == "" {
		t.Errorf("diagnose: the faces differ (-CLI +MCP):\n%s", d)
	}
}
