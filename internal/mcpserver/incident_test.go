package mcpserver

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/search"
	"github.com/nodediag/nodediag/internal/store"
)

// seedSearches are the node-log searches of the K3 seed SOP's Phase 1
// (shared/seeds/000_fe8744aa464611e1.txt): kubelet, dmesg OOM, segfault, containerd lifecycle.
var seedSearches = []map[string]string{
	{"query": "CrashLoopBackOff|Back-off restarting|container.*exited|exit code|ExitCode", "logTypes": "kubelet"},
	{"query": "oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score"},
	{"query": "segfault|SIGSEGV|signal 11|core dumped|trapping fault"},
	{"query": "container.*start|container.*create|RunPodSandbox|StartContainer", "logTypes": "containerd"},
}

// runbookCalls reads, from the runbook the server serves, the Phase 1 searches that come from the
// seed (the catalog's own additions say "(extra"), Phase 2's correlate and the Examples' correlate,
// with the instance filled in: the calls exactly as an agent following K3 makes them.
func runbookCalls(t *testing.T, f *fixture, instance string) (searches, correlates []map[string]any) {
	t.Helper()
	var rb runbook.Runbook
	f.call(t, "get_sop", map[string]any{"sopId": "K3"}, &rb, false)
	args := func(ps []runbook.Param) map[string]any {
		a := map[string]any{"instanceId": instance}
		for _, p := range ps {
			switch {
			case p.Name == "timeWindow":
				var n int
				fmt.Sscan(p.Value, &n)
				a[p.Name] = n
			case p.Value != "" && p.Name != "instanceId":
				a[p.Name] = p.Value
			}
		}
		return a
	}
	var seen []map[string]string
	for _, ph := range rb.Phases {
		for _, st := range ph.Steps {
			for _, c := range st.ToolCalls {
				switch {
				case ph.Number == 1 && c.Tool == "search" && !strings.HasPrefix(st.Text, "(extra"):
					a := args(c.Params)
					searches = append(searches, a)
					s := map[string]string{}
					for k, v := range a {
						if k != "instanceId" {
							s[k] = v.(string)
						}
					}
					seen = append(seen, s)
				case ph.Number == 2 && c.Tool == "correlate":
					correlates = append(correlates, args(c.Params))
				}
			}
		}
	}
	if !slices.EqualFunc(seen, seedSearches, maps.Equal) {
		t.Fatalf("the runbook's Phase 1 seed searches are %v, want the seed's %v", seen, seedSearches)
	}
	for _, c := range rb.ExampleCalls {
		if c.Tool == "correlate" {
			correlates = append(correlates, args(c.Params))
		}
	}
	if len(correlates) != 2 {
		t.Fatalf("the runbook has %d correlate calls in Phase 2 and its Examples, want 2", len(correlates))
	}
	return searches, correlates
}

// parseCall reads back a call an answer proposes, tool(name=json, …).
func parseCall(t *testing.T, call string) (string, map[string]any) {
	t.Helper()
	tool, rest, ok := strings.Cut(call, "(")
	if !ok || !strings.HasSuffix(rest, ")") {
		t.Fatalf("call %q is not tool(…)", call)
	}
	rest = strings.TrimSuffix(rest, ")")
	args := map[string]any{}
	for rest != "" {
		name, val, ok := strings.Cut(rest, "=")
		if !ok {
			t.Fatalf("call %q: no = after %q", call, rest)
		}
		dec := json.NewDecoder(strings.NewReader(val))
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("call %q: value of %s: %v", call, name, err)
		}
		args[name] = v
		rest = strings.TrimPrefix(val[dec.InputOffset():], ", ")
	}
	return tool, args
}

// incident is what the truth of a bundle says identifies its crash-looping pod in a line.
type incident struct {
	since  time.Time // the incident's hour: the hour before the capture
	tokens []string
}

func newIncident(truth scenario.Truth) incident {
	in := incident{since: truth.CaptureTime.Add(-time.Hour), tokens: []string{truth.Pod, truth.PodUID, strings.ReplaceAll(truth.PodUID, "-", "_")}}
	for _, f := range truth.Facts {
		if f.ContainerID != "" {
			in.tokens = append(in.tokens, f.ContainerID)
		}
		if f.PID > 0 {
			in.tokens = append(in.tokens, fmt.Sprintf("pid=%d,", f.PID), fmt.Sprintf("process %d (", f.PID), fmt.Sprintf("pid:%d ", f.PID), fmt.Sprintf("[%d]: ", f.PID))
		}
	}
	return in
}

// names says whether a line names the pod, one of its containers or processes.
func (in incident) names(text string) bool {
	return slices.ContainsFunc(in.tokens, func(tok string) bool { return tok != "" && strings.Contains(text, tok) })
}

func allMatches(res search.Result) []search.Match {
	var out []search.Match
	for _, fm := range res.Files {
		out = append(out, fm.Matches...)
	}
	return out
}

// checkFolded: a concise page names, as records or their copies, exactly the lines the detailed
// page lists, and folds only lines of one message.
func checkFolded(t *testing.T, args map[string]any, concise, detailed SearchOut) {
	t.Helper()
	var named, listed []string
	for _, r := range concise.Matches {
		named = append(named, r.Ref)
		named = append(named, r.Copies...)
	}
	for _, m := range allMatches(detailed.Result) {
		listed = append(listed, m.LineRef.String())
	}
	slices.Sort(named)
	slices.Sort(listed)
	if d := cmp.Diff(listed, named); d != "" {
		t.Errorf("%v: the concise page names other lines than the detailed one (-detailed +concise):\n%s", args, d)
	}
	// A total is exact, or the lower bound of a search that stopped once its page was certain.
	if len(allMatches(concise.Result)) != 0 || (concise.TotalExact && detailed.TotalExact && concise.Total != detailed.Total) {
		t.Errorf("%v: concise files list matches or count %d, detailed %d", args, concise.Total, detailed.Total)
	}
}

var exitZero = regexp.MustCompile(`exitCode=0\b`)

// checkIncidentFirst makes one search as the runbook writes it and checks its first page against
// the whole of what the query matches (the same search with room for every match): the lines of
// the incident's hour that name the crash-looping pod are listed, routine lines are counted, and
// every call the answer proposes gets what it announces.
func checkIncidentFirst(t *testing.T, f *fixture, in incident, args map[string]any) {
	t.Helper()
	// The engine's order is checked on the detailed answer (matches under their files); the
	// concise one an agent gets by default must name the same lines.
	var concise SearchOut
	f.call(t, "search", args, &concise, false)
	args = maps.Clone(args)
	args["response_format"] = "detailed"
	var page SearchOut
	f.call(t, "search", args, &page, false)
	checkFolded(t, args, concise, page)
	whole := maps.Clone(args)
	whole["maxResults"], whole["maxPerFile"] = search.CapMaxTotal, search.CapMaxPerFile
	var all SearchOut
	f.call(t, "search", whole, &all, false)
	if all.Truncated {
		t.Fatalf("%v: %d matches do not fit one answer; the test needs them all", args, all.Total)
	}
	listed := map[string]bool{}
	for _, fm := range page.Files {
		if !slices.IsSortedFunc(fm.Matches, func(a, b search.Match) int { return a.Line - b.Line }) {
			t.Errorf("%v: %s lists its matches out of line order", args, fm.File)
		}
		for _, m := range fm.Matches {
			listed[m.LineRef.String()] = true
		}
	}
	var want, missing []string
	for _, m := range allMatches(all.Result) {
		if !m.Time.Before(in.since) && in.names(m.Text) {
			want = append(want, m.LineRef.String())
			if !listed[m.LineRef.String()] {
				missing = append(missing, m.LineRef.String()+" "+m.Text)
			}
		}
	}
	t.Logf("%v: %d matches, %d listed, %d name the pod in the incident's hour", args["query"], all.Total, page.Returned, len(want))
	if all.Total <= defaultMaxResults {
		if page.Returned != all.Total || page.Focus != nil {
			t.Errorf("%v: %d matches fit one page, %d listed (focus %v)", args, all.Total, page.Returned, page.Focus)
		}
		return
	}
	if page.Focus == nil || page.Focus.Inside.Listed == 0 {
		t.Errorf("%v: cut without an incident listed: focus %+v", args, page.Focus)
	}
	if len(want) <= defaultMaxResults && len(missing) > 0 {
		t.Errorf("%v: the first page leaves out %d of the %d lines of the incident's hour that name the pod:\n%s", args, len(missing), len(want), strings.Join(missing, "\n"))
	}
	if len(want) > defaultMaxResults && len(want)-len(missing) < defaultMaxResults/2 {
		t.Errorf("%v: the first page lists %d of the %d lines of the incident's hour", args, len(want)-len(missing), len(want))
	}
	// The page stopped once it was certain; with exact counts it is the same page, and its counts
	// and next calls can be checked against the whole answer.
	exactArgs := maps.Clone(args)
	exactArgs["exactTotal"] = true
	var exact SearchOut
	f.call(t, "search", exactArgs, &exact, false)
	if d := cmp.Diff(allMatches(exact.Result), allMatches(page.Result)); d != "" {
		t.Errorf("%v: the page differs from the exact search's (-exact +page):\n%s", args, d)
	}
	if !exact.TotalExact || exact.Total != all.Total || (!page.TotalExact && (page.Total > all.Total || page.TotalAtMost < int64(all.Total))) {
		t.Errorf("%v: totals %d (exact %v, at most %d) and exactly %d (exact %v); the whole answer has %d", args,
			page.Total, page.TotalExact, page.TotalAtMost, exact.Total, exact.TotalExact, all.Total)
	}
	// countOnly gives the same counts per file and lists nothing.
	countArgs := maps.Clone(args)
	countArgs["countOnly"] = true
	var counted SearchOut
	f.call(t, "search", countArgs, &counted, false)
	if counted.Total != exact.Total || !counted.TotalExact || counted.Returned != 0 || len(allMatches(counted.Result)) != 0 {
		t.Errorf("%v countOnly: total %d (exact %v), %d listed; the exact search counts %d", args, counted.Total, counted.TotalExact, counted.Returned, exact.Total)
	}
	for i, fm := range counted.Files {
		if i >= len(exact.Files) || fm.File != exact.Files[i].File || fm.Total != exact.Files[i].Total {
			t.Errorf("%v countOnly: file %d is %s with %d; the exact search has %+v", args, i, fm.File, fm.Total, exact.Files)
			break
		}
	}
	page = exact
	// The clean exits of healthy pods are counted, not listed: as many as the whole answer holds.
	healthy := 0
	for _, m := range allMatches(all.Result) {
		if exitZero.MatchString(m.Text) && !in.names(m.Text) {
			healthy++
		}
	}
	for _, c := range page.Collapsed {
		if c.Rule == "kubelet-container-exit-zero" && c.Count != healthy {
			t.Errorf("%v: %d clean exits collapsed, the bundle has %d of healthy pods", args, c.Count, healthy)
		}
		if c.Example.Text == "" || c.Example.File == "" {
			t.Errorf("%v: collapsed %s without an example", args, c.Rule)
		}
	}
	checkNext(t, f, args, page)
}

// checkNext follows every call a cut search answer proposes.
func checkNext(t *testing.T, f *fixture, args map[string]any, page SearchOut) {
	t.Helper()
	listed := map[string]bool{}
	for _, m := range allMatches(page.Result) {
		listed[m.LineRef.String()] = true
	}
	for _, n := range page.Next {
		tool, next := parseCall(t, n.Call)
		if tool != "search" || next["query"] != args["query"] || next["logTypes"] != args["logTypes"] || next["instanceId"] != args["instanceId"] {
			t.Errorf("next call %q is not the same search", n.Call)
		}
		var res SearchOut
		f.call(t, "search", next, &res, false)
		switch {
		case n.Offset > 0:
			for _, m := range allMatches(res.Result) {
				if listed[m.LineRef.String()] {
					t.Errorf("%s lists %s again", n.Call, m.LineRef)
				}
			}
			if res.Returned != min(n.Matches, defaultMaxResults) {
				t.Errorf("%s lists %d, announced %d more", n.Call, res.Returned, n.Matches)
			}
		case n.Window:
			if res.Total != n.Matches {
				t.Errorf("%s finds %d matches, announced %d", n.Call, res.Total, n.Matches)
			}
		case n.ListRoutine:
			if res.Collapsed != nil || res.Total != page.Total {
				t.Errorf("%s: collapsed %v, %d matches; want none collapsed of %d", n.Call, res.Collapsed, res.Total, page.Total)
			}
		}
	}
}

// checkCorrelate makes the runbook's correlate calls: the first page holds every crash fact the
// truth planted that the pivot's windows reach (as many of each kind and container as the whole
// timeline holds), and a page cut to five events holds the newest crash fact and says how to get
// the rest.
func checkCorrelate(t *testing.T, f *fixture, truth scenario.Truth, calls []map[string]any) {
	t.Helper()
	for _, args := range calls {
		var page, whole CorrelateOut
		f.call(t, "correlate", args, &page, false)
		all := maps.Clone(args)
		all["maxEvents"] = 1 << 20
		f.call(t, "correlate", all, &whole, false)
		count := func(tl []EventOut) map[string]int {
			n := map[string]int{}
			for _, e := range tl {
				if e.FactKind != "" {
					n[e.FactKind+"/"+e.Container]++
				}
			}
			return n
		}
		have, reach := count(page.Timeline), count(whole.Timeline)
		planted := map[string]int{}
		for _, tf := range truth.Facts {
			planted[string(tf.Kind)+"/"+tf.Container]++
		}
		for k, n := range planted {
			if want := min(n, reach[k]); have[k] < want {
				t.Errorf("correlate %v: %d %s facts on the first page; the truth planted %d, the windows reach %d", args, have[k], k, n, reach[k])
			}
		}
		var newest EventOut
		for _, e := range whole.Timeline {
			if e.FactKind != "" {
				newest = e // the timeline is in time order
			}
		}
		if newest.FactKind == "" {
			t.Fatalf("correlate %v: no crash fact in the timeline", args)
		}
		cut := maps.Clone(args)
		cut["maxEvents"] = 5
		var small CorrelateOut
		f.call(t, "correlate", cut, &small, false)
		if len(whole.Timeline) <= 5 {
			continue
		}
		if !small.Truncated || len(small.Timeline) != 5 || !slices.ContainsFunc(small.Timeline, func(e EventOut) bool { return e.Ref == newest.Ref }) {
			t.Errorf("correlate %v maxEvents=5: %d events (truncated %v); want 5 holding the newest crash fact %s", args, len(small.Timeline), small.Truncated, newest.Ref)
		}
		if len(small.Next) == 0 {
			t.Errorf("correlate %v maxEvents=5: cut without a call for the rest", args)
		}
		for _, n := range small.Next {
			tool, next := parseCall(t, n.Call)
			if tool != "correlate" || next["pivotEvent"] != args["pivotEvent"] || next["maxEvents"] != float64(5) {
				t.Errorf("next call %q is not the same correlate", n.Call)
			}
			var more CorrelateOut
			f.call(t, "correlate", next, &more, false)
			if n.Offset > 0 && (len(more.Timeline) != min(5, n.Events) || slices.ContainsFunc(more.Timeline, func(e EventOut) bool {
				return slices.ContainsFunc(small.Timeline, func(s EventOut) bool { return s.Ref == e.Ref && s.Rule == e.Rule && s.FactKind == e.FactKind })
			})) {
				t.Errorf("%s: %d events, announced %d more, overlapping the first page", n.Call, len(more.Timeline), n.Events)
			}
		}
	}
}

// TestRunbookSearchesIncidentFirst: the K3 runbook's Phase 1 searches and its correlate, called
// through the server exactly as it writes them, on the shipped example bundle.
func TestRunbookSearchesIncidentFirst(t *testing.T) {
	f := newFixture(t)
	searches, correlates := runbookCalls(t, f, f.instance)
	in := newIncident(f.truth)
	for _, args := range searches {
		t.Run(args["query"].(string), func(t *testing.T) { checkIncidentFirst(t, f, in, args) })
	}
	t.Run("correlate", func(t *testing.T) { checkCorrelate(t, f, f.truth, correlates) })
}

// TestRunbookSearchesTenDayNoise: the same calls on scenario bundles of an AL2 node that booted
// twelve days before its capture and whose kubelet journal reaches ten days back, whose chatter (CronJob runs, pod starts after the boot, DNS
// and API noise) fills the days before an incident in the last hour.
func TestRunbookSearchesTenDayNoise(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: imports scenario bundles")
	}
	for _, name := range []string{"node-oom", "segfault", "app-error"} {
		t.Run(name, func(t *testing.T) {
			sc, ok := scenario.Lookup(name)
			if !ok {
				t.Fatalf("no scenario %s", name)
			}
			dir := t.TempDir()
			e, idx, truth := scenariotest.Import(t, dir, sc, scenario.AL2)
			if first := firstLine(t, idx); truth.CaptureTime.Sub(first) < 9*24*time.Hour {
				t.Fatalf("the bundle starts %s, %s before its capture; the test needs about ten days of noise", first, truth.CaptureTime.Sub(first))
			}
			st, err := store.Open(filepath.Join(dir, "store"), nil)
			if err != nil {
				t.Fatal(err)
			}
			f := &fixture{cs: connect(t, Options{Store: st}), instance: e.Manifest.InstanceID, truth: truth}
			searches, correlates := runbookCalls(t, f, f.instance)
			in := newIncident(truth)
			for _, args := range searches {
				t.Run(args["query"].(string), func(t *testing.T) { checkIncidentFirst(t, f, in, args) })
			}
			t.Run("correlate", func(t *testing.T) { checkCorrelate(t, f, truth, correlates) })
		})
	}
}

// firstLine is the time of the oldest kubelet line of a stored bundle.
func firstLine(t *testing.T, idx *index.Index) time.Time {
	t.Helper()
	var oldest time.Time
	for _, fl := range idx.Files {
		if fl.LogType == "kubelet" && !fl.First.IsZero() && (oldest.IsZero() || fl.First.Before(oldest)) {
			oldest = fl.First
		}
	}
	if oldest.IsZero() {
		t.Fatal("the bundle has no timed kubelet file")
	}
	return oldest
}
