package mcpserver

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

// TestTools calls every tool on the example bundle and checks its answer against the scenario
// truth or against the input the test gave.
func TestTools(t *testing.T) {
	f := newFixture(t)
	id := f.instance
	wantPod := f.truth.Namespace + "/" + f.truth.Pod

	t.Run("validate", func(t *testing.T) {
		var v ValidateOut
		f.call(t, "validate", map[string]any{"instanceId": id}, &v, false)
		if v.Bundle.InstanceID != id || v.Bundle.BundleID != f.bundle || !v.Complete {
			t.Errorf("validate: bundle %+v complete %v (%s), want instance %s bundle %s complete", v.Bundle, v.Complete, v.Reason, id, f.bundle)
		}
	})

	t.Run("errors paging", func(t *testing.T) {
		var all ErrorsOut
		f.call(t, "errors", map[string]any{"instanceId": id, "pageSize": 200}, &all, false)
		if all.Matching < 3 || len(all.Findings) != all.Matching || all.NextPageToken != "" {
			t.Fatalf("errors: %d findings of %d matching, token %q: want every finding on one page", len(all.Findings), all.Matching, all.NextPageToken)
		}
		for i := 1; i < len(all.Findings); i++ {
			if index.SeverityRank(all.Findings[i-1].Severity) > index.SeverityRank(all.Findings[i].Severity) {
				t.Errorf("errors: %s (%s) listed before %s (%s): want most severe first", all.Findings[i-1].ID, all.Findings[i-1].Severity, all.Findings[i].ID, all.Findings[i].Severity)
			}
		}
		var paged []string
		args := map[string]any{"bundleId": f.bundle, "pageSize": 2}
		for page := 0; ; page++ {
			var p ErrorsOut
			f.call(t, "errors", args, &p, false)
			for _, fo := range p.Findings {
				paged = append(paged, fo.ID)
			}
			if p.NextPageToken == "" || page > all.Matching {
				break
			}
			args["pageToken"] = p.NextPageToken
		}
		var want []string
		for _, fo := range all.Findings {
			want = append(want, fo.ID)
		}
		if diff := cmp.Diff(want, paged); diff != "" {
			t.Errorf("pages of 2 differ from one page (-one +paged):\n%s", diff)
		}
	})

	t.Run("errors severity and format", func(t *testing.T) {
		var medium, warning, detailed ErrorsOut
		f.call(t, "errors", map[string]any{"instanceId": id, "severity": "medium"}, &medium, false)
		f.call(t, "errors", map[string]any{"instanceId": id, "severity": "warning"}, &warning, false)
		if diff := cmp.Diff(medium.Findings, warning.Findings); diff != "" || warning.MinSeverity != "medium" {
			t.Errorf("legacy warning is not medium (min %q):\n%s", warning.MinSeverity, diff)
		}
		for _, fo := range medium.Findings {
			if fo.Severity == "low" || fo.Severity == "info" {
				t.Errorf("severity=medium listed %s at %s", fo.ID, fo.Severity)
			}
			if fo.Example == "" || fo.Samples != nil {
				t.Errorf("concise %s: example %q, %d samples: want one example line and no samples", fo.ID, fo.Example, len(fo.Samples))
			}
		}
		f.call(t, "errors", map[string]any{"instanceId": id, "severity": "medium", "response_format": "detailed"}, &detailed, false)
		for _, fo := range detailed.Findings {
			if len(fo.Samples) == 0 || fo.Description == "" {
				t.Errorf("detailed %s has no samples or description", fo.ID)
			}
		}
	})

	t.Run("errors window", func(t *testing.T) {
		// A window an hour after capture holds no hits of any finding.
		var late ErrorsOut
		after := f.truth.CaptureTime.Add(2 * 3600e9).Format("2006-01-02T15:04:05Z")
		f.call(t, "errors", map[string]any{"instanceId": id, "incident_time": after}, &late, false)
		if late.Matching != 0 {
			t.Errorf("errors 2h after capture: %d findings, want none", late.Matching)
		}
		// The ten minutes before capture hold the crash loop: some findings, none counting more
		// hits than the whole bundle has.
		var all, recent ErrorsOut
		f.call(t, "errors", map[string]any{"instanceId": id, "pageSize": 200}, &all, false)
		f.call(t, "errors", map[string]any{"instanceId": id, "pageSize": 200,
			"start_time": f.truth.CaptureTime.Add(-600e9).Format("2006-01-02 15:04"), "end_time": f.truth.CaptureTime.Format(time.RFC3339)}, &recent, false)
		if recent.Matching == 0 {
			t.Fatal("errors in the 10 minutes before capture: no findings, want the crash loop's")
		}
		total := map[string]int{}
		for _, fo := range all.Findings {
			total[fo.ID] = fo.Count
		}
		for _, fo := range recent.Findings {
			if fo.Count < 1 || fo.Count > total[fo.ID] {
				t.Errorf("windowed %s counts %d hits, bundle total %d", fo.ID, fo.Count, total[fo.ID])
			}
		}
	})

	var oomMatch struct {
		file string
		line int
		text string
	}
	t.Run("search", func(t *testing.T) {
		var s SearchOut
		f.call(t, "search", map[string]any{"instanceId": id, "query": "Killed process", "logTypes": "dmesg"}, &s, false)
		oomKills := 0
		for _, fact := range f.truth.Facts {
			if fact.Kind == "OOMKill" {
				oomKills++
			}
		}
		if s.Total < oomKills || len(s.Files) == 0 {
			t.Fatalf("search Killed process: %d matches, want at least the %d OOM kills of the truth", s.Total, oomKills)
		}
		for _, fm := range s.Files {
			// A mixed file (messages) counts its kernel lines as dmesg; kubelet's and containerd's
			// own files hold none.
			if fm.LogType == "kubelet" || fm.LogType == "containerd" {
				t.Errorf("logTypes=dmesg searched %s (%s)", fm.File, fm.LogType)
			}
		}
		m := s.Matches[0]
		file, line, ok := splitRef(m.Ref)
		if !ok || m.Cut {
			t.Fatalf("first match %+v: want a whole line at file:line", m)
		}
		oomMatch.file, oomMatch.line, oomMatch.text = file, line, m.Text
	})

	t.Run("read", func(t *testing.T) {
		var r ReadOut
		f.call(t, "read", map[string]any{"instanceId": id, "logKey": oomMatch.file, "startLine": oomMatch.line, "lineCount": 1}, &r, false)
		if len(r.Lines) != 1 || r.Lines[0].No != oomMatch.line || r.Lines[0].Text != oomMatch.text {
			t.Errorf("read %s:%d = %+v, want the search match %q", oomMatch.file, oomMatch.line, r.Lines, oomMatch.text)
		}
	})

	t.Run("correlate", func(t *testing.T) {
		for _, args := range []map[string]any{
			{"instanceId": id, "pivotEvent": "CrashLoopBackOff", "timeWindow": 300, "pod": wantPod, "container": f.truth.Container},
			{"instanceId": id, "pod_name": f.truth.Pod, "container_name": f.truth.Container},
		} {
			var c CorrelateOut
			f.call(t, "correlate", args, &c, false)
			i := slices.IndexFunc(c.Frequency, func(fr correlate.Frequency) bool { return fr.Container == f.truth.Container })
			if c.Occurrences == 0 || i < 0 {
				t.Fatalf("correlate %v: %d occurrences, frequency %+v", args, c.Occurrences, c.Frequency)
			}
			if len(c.Timeline) > defaultMaxEvents || c.Truncated != (len(c.Timeline) == defaultMaxEvents) {
				t.Errorf("correlate %v: %d timeline events (truncated %v), want at most the default %d", args, len(c.Timeline), c.Truncated, defaultMaxEvents)
			}
			if diff := cmp.Diff(f.truth.BackOffs, c.Frequency[i].BackOffs); diff != "" {
				t.Errorf("correlate %v back-off ladder (-truth +got):\n%s", args, diff)
			}
		}
	})

	t.Run("summarize quick_triage diagnose", func(t *testing.T) {
		var s SummarizeOut
		f.call(t, "summarize", map[string]any{"instanceId": id}, &s, false)
		var tr TriageOut
		f.call(t, "quick_triage", map[string]any{"instanceId": id}, &tr, false)
		var d DiagnoseOut
		f.call(t, "diagnose_crashloop", map[string]any{"instanceId": id, "namespace": f.truth.Namespace, "pod_name": f.truth.Pod, "cluster_name": "c1"}, &d, false)
		for name, rc := range map[string]string{"summarize": s.RootCause, "quick_triage": tr.RootCause, "diagnose_crashloop": d.RootCause} {
			if !strings.HasPrefix(rc, f.truth.RootCause+" ") {
				t.Errorf("%s root cause %q, want class %s", name, rc, f.truth.RootCause)
			}
		}
		if d.Class != f.truth.RootCause || d.ExitCode == nil || *d.ExitCode != f.truth.ExitCode || d.Container != f.truth.Container {
			t.Errorf("diagnose_crashloop class %q exit %v container %q, want %s %d %s", d.Class, d.ExitCode, d.Container, f.truth.RootCause, f.truth.ExitCode, f.truth.Container)
		}
	})

	t.Run("sops", func(t *testing.T) {
		var l ListSOPsOut
		f.call(t, "list_sops", map[string]any{"query": "crashloop"}, &l, false)
		if !slices.ContainsFunc(l.SOPs, func(r SOPRef) bool { return r.ID == "K3" }) {
			t.Errorf("list_sops query=crashloop: %+v, want K3", l.SOPs)
		}
		var rb runbook.Runbook
		f.call(t, "get_sop", map[string]any{"sopId": "k3"}, &rb, false)
		if rb.ID != "K3" || rb.OutputFormat == "" || len(rb.Phases) < 3 {
			t.Errorf("get_sop k3: id %q, %d phases, output format %d bytes", rb.ID, len(rb.Phases), len(rb.OutputFormat))
		}
	})
}

// cliFlag is a flag of a nodediag command other than serve's (which configure the server and
// are the operator's to give).
var cliFlag = regexp.MustCompile(`--(pod|container|incident-time|start|end|max-results|start-line|line-count|pod-json|events-json|bundle|log-types|exact-total|count)\b`)

// TestToolErrors checks that what an agent gets wrong comes back as an isError result that says
// what was wrong and what to do, never a protocol error.
func TestToolErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, tool string
		args       map[string]any
		want       []string // substrings of the message
	}{
		{"unknown instance", "errors", map[string]any{"instanceId": "i-0000000000000000f"}, []string{"i-0000000000000000f", f.instance, "collect", "collect(instanceId="}},
		{"unknown instance search", "search", map[string]any{"instanceId": "i-0000000000000000f", "query": "x"}, []string{"stored instances: " + f.instance}},
		{"bad regex", "search", map[string]any{"instanceId": f.instance, "query": "oom(kill"}, []string{"oom(kill", "RE2"}},
		{"unknown finding", "summarize", map[string]any{"instanceId": f.instance, "finding_ids": []string{"F-999"}}, []string{"F-999", "errors"}},
		{"no instanceId", "diagnose_crashloop", map[string]any{"namespace": f.truth.Namespace, "pod": f.truth.Pod}, []string{"instanceId", "cluster access", "--kubeconfig"}},
		{"no pod", "diagnose_crashloop", map[string]any{"instanceId": f.instance}, []string{"pod is required"}},
		{"pod not in the bundle", "diagnose_crashloop", map[string]any{"instanceId": f.instance, "namespace": f.truth.Namespace, "pod": "no-such-pod"},
			[]string{"no-such-pod", "not in this bundle", f.truth.Namespace + "/" + f.truth.Pod}},
		{"aliases disagree", "correlate", map[string]any{"instanceId": f.instance, "pod": "a", "pod_name": "b"}, []string{"pod", "pod_name", "disagree"}},
		{"bad severity", "errors", map[string]any{"instanceId": f.instance, "severity": "urgent"}, []string{"urgent", "warning"}},
		{"bad format", "errors", map[string]any{"instanceId": f.instance, "response_format": "full"}, []string{"full", "concise, detailed"}},
		{"foreign page token", "errors", map[string]any{"instanceId": f.instance, "pageToken": "bm90LWEtdG9rZW4"}, []string{"pageToken"}},
		{"bad time", "errors", map[string]any{"instanceId": f.instance, "incident_time": "yesterday"}, []string{"incident_time", "RFC 3339"}},
		{"unknown file", "read", map[string]any{"instanceId": f.instance, "logKey": "../etc/passwd"}, []string{"read"}},
		{"unknown sop", "get_sop", map[string]any{"sopId": "Q9"}, []string{"Q9", "K3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := f.call(t, tc.tool, tc.args, nil, true)
			if flag := cliFlag.FindString(msg); flag != "" {
				t.Errorf("%s message %q names the CLI flag %s, not a parameter of the tool", tc.tool, msg, flag)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s message %q does not say %q", tc.tool, msg, w)
				}
			}
		})
	}
}

// TestK3Walk follows the K3 SOP's node-log calls in order, as an agent would: errors, the three
// searches and the correlate call written in the runbook's Examples block, summarize of the
// findings errors listed, and diagnose_crashloop, whose answer must match the truth.
func TestK3Walk(t *testing.T) {
	f := newFixture(t)
	var rb runbook.Runbook
	f.call(t, "get_sop", map[string]any{"sopId": "K3"}, &rb, false)

	var errs ErrorsOut
	f.call(t, "errors", map[string]any{"instanceId": f.instance}, &errs, false)
	var ids []string
	for _, fo := range errs.Findings {
		ids = append(ids, fo.ID)
	}

	searches := 0
	for _, c := range rb.ExampleCalls {
		if c.Tool != "search" && c.Tool != "correlate" {
			continue
		}
		args := map[string]any{}
		for _, p := range c.Params {
			args[p.Name] = p.Value
			if p.Name == "timeWindow" {
				n, err := strconv.Atoi(p.Value)
				if err != nil {
					t.Fatalf("K3 line %d: timeWindow %q", c.Line, p.Value)
				}
				args[p.Name] = n
			}
		}
		args["instanceId"] = f.instance // the runbook's example instance is a placeholder
		switch c.Tool {
		case "search":
			searches++
			var s SearchOut
			f.call(t, "search", args, &s, false)
			// The segfault query must come back empty unless the truth planted a segfault; the
			// OOM and back-off queries must find the planted crash loop.
			q, _ := args["query"].(string)
			wantHits := !strings.Contains(q, "segfault") || slices.ContainsFunc(f.truth.Facts, func(tf scenario.TruthFact) bool { return tf.Kind == "Segfault" })
			if (s.Total > 0) != wantHits {
				t.Errorf("K3 line %d search %v: %d matches, want matches %v (truth root cause %s)", c.Line, args, s.Total, wantHits, f.truth.RootCause)
			}
		case "correlate":
			var co CorrelateOut
			f.call(t, "correlate", args, &co, false)
			if co.Occurrences == 0 {
				t.Errorf("K3 line %d correlate %v: no pivot occurrence", c.Line, args)
			}
		}
	}
	if searches != 3 {
		t.Fatalf("K3 Examples hold %d search calls, want the 3 the SOP writes", searches)
	}

	var sum SummarizeOut
	f.call(t, "summarize", map[string]any{"instanceId": f.instance, "finding_ids": ids}, &sum, false)
	if !strings.HasPrefix(sum.RootCause, f.truth.RootCause+" ") {
		t.Errorf("summarize root cause %q, want class %s", sum.RootCause, f.truth.RootCause)
	}

	var d DiagnoseOut
	f.call(t, "diagnose_crashloop", map[string]any{"instanceId": f.instance, "clusterName": "prod",
		"namespace": f.truth.Namespace, "pod": f.truth.Pod}, &d, false)
	if d.Class != f.truth.RootCause || d.ExitCode == nil || *d.ExitCode != f.truth.ExitCode {
		t.Errorf("diagnose_crashloop: class %q exit %v, want %s %d", d.Class, d.ExitCode, f.truth.RootCause, f.truth.ExitCode)
	}
}

// TestEmptyStore: before any import, a tool says the store is empty and how to get a bundle.
func TestEmptyStore(t *testing.T) {
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cs: connect(t, Options{Store: st})}
	msg := f.call(t, "quick_triage", map[string]any{"instanceId": "i-0a1b2c3d4e5f60718"}, nil, true)
	for _, w := range []string{"i-0a1b2c3d4e5f60718", "holds no bundles", "nodediag import"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q does not say %q", msg, w)
		}
	}
}
