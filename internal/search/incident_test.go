package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/formats"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/logtime"
)

// k3KubeletQuery is the K3 runbook's Phase 1 kubelet search.
const k3KubeletQuery = "CrashLoopBackOff|Back-off restarting|container.*exited|exit code|ExitCode"

// TestRoutineRulesFromCatalog: the routine rules are the catalog's info rules whose examples all
// read as a start or a clean exit — in rules.yaml: the PLEG exit-0 and ContainerStarted rules,
// containerd's clean exit event, and the RunPodSandbox and CreateContainer replies. ContainerDied,
// sandbox exits and the kernel's OOM report fragments are info too, and are not routine.
func TestRoutineRulesFromCatalog(t *testing.T) {
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := newRoutineCatalog(cat)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for id := range rc.what {
		got = append(got, id)
	}
	slices.Sort(got)
	want := []string{"containerd-container-created", "containerd-sandbox-created", "containerd-task-exit-zero",
		startOKRule, "kubelet-container-exit-zero", "kubelet-pleg-container-started"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("routine rules %v, want %v", got, want)
	}
}

// TestStartOKWording: the one routine wording read by hand is the format matrix's row, and its
// example (and only the reply, not the request) reads as a start of the container it names.
func TestStartOKWording(t *testing.T) {
	m, err := formats.Load()
	if err != nil {
		t.Fatal(err)
	}
	row := m.Row(startOKRule)
	if row == nil || row.Wording != "StartContainer for %q returns successfully" || !row.Benign {
		t.Fatalf("format matrix row %s: %+v; want the benign wording StartContainer for %%q returns successfully", startOKRule, row)
	}
	if id, ok := startOK([]byte(row.Example)); !ok || id != "c7dc84fe79f0eeffa9571ee794d266ea5665bec867122ac437b4e480bf7a4162" {
		t.Errorf("startOK(%q) = %q, %v; want the container id it names", row.Example, id, ok)
	}
	req := m.Row("ctrd-startcontainer-request")
	if req == nil {
		t.Fatal("format matrix has no row ctrd-startcontainer-request")
	}
	if id, ok := startOK([]byte(req.Example)); ok {
		t.Errorf("the start request %q reads as a successful start of %q", req.Example, id)
	}
}

// TestFindFocus: the newest chain of crash facts, widened by five minutes, reaching an hour back
// at most; the caller's moment or window when given.
func TestFindFocus(t *testing.T) {
	now := capture
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	exit := func(at time.Time, code int) facts.Fact {
		return facts.Fact{Kind: facts.ContainerExit, ExitCode: &code, Ref: evidence.LineRef{File: "k", Time: at}}
	}
	backOff := func(at, last time.Time) facts.Fact {
		f := facts.Fact{Kind: facts.BackOff, Ref: evidence.LineRef{File: "k", Time: at}}
		if !last.IsZero() {
			f.LastRef = &evidence.LineRef{File: "k", Time: last}
		}
		return f
	}
	loop := func(from time.Time, n int, every time.Duration) []facts.Fact {
		var out []facts.Fact
		for i := range n {
			out = append(out, exit(from.Add(time.Duration(i)*every), 137))
		}
		return out
	}
	sec := func(t time.Time) time.Time { return t.Truncate(time.Second) }
	up := func(t time.Time) time.Time { return t.Add(time.Second - 1).Truncate(time.Second) }
	for _, tt := range []struct {
		name             string
		facts            []facts.Fact
		from, to, around time.Time
		source           string
		wantFrom, wantTo time.Time
		wantAnchor       time.Time
	}{
		{"newest of two loops", append(loop(ago(10*24*time.Hour), 3, time.Minute), loop(ago(50*time.Minute), 3, 5*time.Minute)...),
			time.Time{}, time.Time{}, time.Time{}, FocusCrashFacts, ago(55 * time.Minute), ago(35 * time.Minute), ago(40 * time.Minute)},
		{"a quiet gap ends the loop", []facts.Fact{exit(ago(3*time.Hour), 1), exit(ago(20*time.Minute), 1)},
			time.Time{}, time.Time{}, time.Time{}, FocusCrashFacts, ago(25 * time.Minute), ago(15 * time.Minute), ago(20 * time.Minute)},
		{"a five-hour loop starts an hour back", loop(ago(5*time.Hour), 61, 5*time.Minute),
			time.Time{}, time.Time{}, time.Time{}, FocusCrashFacts, ago(65 * time.Minute), ago(-5 * time.Minute), now},
		{"a back-off folded over two days", []facts.Fact{backOff(ago(48*time.Hour), ago(time.Minute))},
			time.Time{}, time.Time{}, time.Time{}, FocusCrashFacts, ago(66 * time.Minute), ago(-4 * time.Minute), ago(time.Minute)},
		{"clean exits are no crash", []facts.Fact{exit(ago(time.Hour), 0)},
			time.Time{}, time.Time{}, time.Time{}, FocusNewest, time.Time{}, time.Time{}, now},
		{"the newest loop inside the window, kept inside it", append(loop(ago(150*time.Minute), 2, time.Minute), loop(ago(10*time.Minute), 2, time.Minute)...),
			ago(152 * time.Minute), ago(2 * time.Hour), time.Time{}, FocusCrashFacts, ago(155 * time.Minute), ago(144 * time.Minute), ago(149 * time.Minute)},
		{"a window without crash facts: newest first", loop(ago(10*time.Minute), 2, time.Minute),
			ago(3 * time.Hour), ago(2 * time.Hour), time.Time{}, FocusWindow, ago(3 * time.Hour), ago(2 * time.Hour), ago(2 * time.Hour)},
		{"the caller's moment wins", loop(ago(10*time.Minute), 2, time.Minute),
			ago(3*time.Hour + 5*time.Minute), ago(3*time.Hour - 5*time.Minute), ago(3 * time.Hour), FocusAround, ago(3*time.Hour + 5*time.Minute), ago(3*time.Hour - 5*time.Minute), ago(3 * time.Hour)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			idx := &index.Index{Facts: tt.facts, Time: index.TimeContext{Capture: now}}
			f := findFocus(idx, tt.from, tt.to, tt.around)
			wantFrom, wantTo := tt.wantFrom, tt.wantTo
			if tt.source == FocusCrashFacts {
				wantFrom, wantTo = sec(wantFrom), up(wantTo)
				if !tt.from.IsZero() && wantFrom.Before(tt.from) {
					wantFrom = tt.from
				}
				if !tt.to.IsZero() && wantTo.After(tt.to) {
					wantTo = tt.to
				}
			}
			if f.Source != tt.source || !f.From.Equal(wantFrom) || !f.To.Equal(wantTo) || !f.Anchor.Equal(tt.wantAnchor) {
				t.Errorf("focus %s %s–%s anchor %s (%s); want %s %s–%s anchor %s", f.Source, f.From, f.To, f.Anchor, f.Why,
					tt.source, wantFrom, wantTo, tt.wantAnchor)
			}
		})
	}
}

// incidentBundle is a kubelet log of ten days: a CronJob pod finishing cleanly every three hours,
// an older crash of another pod six days ago, and in the last half hour the crash loop of
// payments/ledger-0 (three OOM kills with their back-offs, and one clean exit in between).
type incidentBundle struct {
	kub                    text
	healthy, old, incident []int // line numbers
	ledgerClean            int
	newestHealthy          int
}

const ledgerUID = "8a4f2c61-3d7e-4b95-a0c8-6e1f9d2b7a34"

func newIncidentBundle() *incidentBundle {
	b := &incidentBundle{}
	pleg := func(at time.Time, uid string, n, code int) int {
		return b.kub.add("%s", klog(at, fmt.Sprintf(`"Generic (PLEG): container finished" podID=%s containerID="%064x" exitCode=%d`, uid, n, code)))
	}
	backOff := func(at time.Time, pod, ns, uid, delay string) int {
		return b.kub.add("%s", klog(at, fmt.Sprintf(`"Error syncing pod, skipping" err="failed to \"StartContainer\" for \"app\" with CrashLoopBackOff: \"back-off %s restarting failed container=app pod=%s_%s(%s)\"" pod="%s/%s" podUID=%s`,
			delay, pod, ns, uid, ns, pod, uid)))
	}
	type ev struct {
		at time.Time
		fn func() int
		to *[]int
	}
	var evs []ev
	for i := 0; ; i++ {
		at := capture.Add(-10*24*time.Hour + time.Duration(i)*3*time.Hour)
		if at.After(capture.Add(-2 * time.Hour)) {
			break
		}
		uid := fmt.Sprintf("0c0c0c0c-0000-4000-8000-%012d", i)
		evs = append(evs, ev{at, func() int { return pleg(at, uid, 1000+i, 0) }, &b.healthy})
	}
	oldUID := "0d0d0d0d-0000-4000-8000-000000000001"
	oldAt := capture.Add(-6 * 24 * time.Hour)
	evs = append(evs, ev{oldAt, func() int { return pleg(oldAt, oldUID, 1, 1) }, &b.old},
		ev{oldAt.Add(time.Second), func() int { return backOff(oldAt.Add(time.Second), "old-0", "batch", oldUID, "10s") }, &b.old})
	for i, d := range []string{"10s", "20s", "", "40s"} {
		at := capture.Add(-20*time.Minute + time.Duration(i)*5*time.Minute)
		if d == "" {
			evs = append(evs, ev{at, func() int { b.ledgerClean = pleg(at, ledgerUID, 2, 0); return b.ledgerClean }, nil})
			continue
		}
		evs = append(evs, ev{at, func() int { return pleg(at, ledgerUID, 10+i, 137) }, &b.incident},
			ev{at.Add(10 * time.Second), func() int { return backOff(at.Add(10*time.Second), "ledger-0", "payments", ledgerUID, d) }, &b.incident})
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return a.at.Compare(b.at) })
	for _, e := range evs {
		no := e.fn()
		if e.to != nil {
			*e.to = append(*e.to, no)
		}
	}
	b.newestHealthy = b.healthy[len(b.healthy)-1]
	return b
}

func lineNos(res *Result) []int {
	var out []int
	for _, m := range flatten(res) {
		out = append(out, m.Line)
	}
	return out
}

// TestIncidentFirstPage: a page too small for every match lists the incident's crash-fact lines,
// counts the CronJob's clean exits instead of listing them, and says exactly what gets the rest:
// following every next request reaches every match once.
func TestIncidentFirstPage(t *testing.T) {
	b := newIncidentBundle()
	e, idx := handBundle(t, []handFile{{path: "kubelet/kubelet.log", logType: "kubelet", log: true, data: b.kub.buf.Bytes()}})
	req := Request{Query: k3KubeletQuery, LogTypes: []string{"kubelet"}, MaxTotal: 6}
	res, err := Search(context.Background(), e, idx, req)
	if err != nil {
		t.Fatal(err)
	}
	total := len(b.healthy) + len(b.old) + len(b.incident) + 1
	if res.Total != total {
		t.Fatalf("%d matches, want %d", res.Total, total)
	}
	// The six crash lines of the loop (three exits 137, three back-offs) fill the page, in line order.
	if got := lineNos(res); !slices.Equal(got, b.incident) {
		t.Errorf("first page lists lines %v, want the incident's %v", got, b.incident)
	}
	f := res.Focus
	if f == nil || f.Source != FocusCrashFacts || !f.From.Equal(capture.Add(-25*time.Minute)) || f.Inside.Matches != len(b.incident)+1 ||
		f.Inside.Listed != len(b.incident) || f.Before.Matches != len(b.healthy)+len(b.old) || f.Before.Listed != 0 {
		t.Errorf("focus %+v; want the crash loop from 25 minutes before capture, %d inside (%d listed), %d before",
			f, len(b.incident)+1, len(b.incident), len(b.healthy)+len(b.old))
	}
	wantCollapsed := []Collapsed{{Rule: "kubelet-container-exit-zero", Count: len(b.healthy)}}
	if len(res.Collapsed) != 1 || res.Collapsed[0].Rule != wantCollapsed[0].Rule || res.Collapsed[0].Count != wantCollapsed[0].Count ||
		res.Collapsed[0].Example.Line != b.newestHealthy || !strings.Contains(res.Collapsed[0].Summary, fmt.Sprintf("%d healthy exit-0 lines collapsed", len(b.healthy))) {
		t.Errorf("collapsed %+v; want %d clean exits of kubelet-container-exit-zero, the newest (line %d) as example", res.Collapsed, len(b.healthy), b.newestHealthy)
	}

	// The next page: ledger's own clean exit (a pod in trouble: listed), then the older crash.
	var next, window, routine *Next
	for i := range res.Next {
		switch n := &res.Next[i]; {
		case n.Offset > 0:
			next = n
		case n.Window:
			window = n
		case n.ListRoutine:
			routine = n
		}
	}
	if next == nil || window == nil || routine == nil {
		t.Fatalf("next %+v; want a next page, an older window and the routine lines", res.Next)
	}
	page2 := req
	page2.Offset = next.Offset
	res2, err := Search(context.Background(), e, idx, page2)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]int{b.old[0], b.old[1]}, b.ledgerClean); !slices.Equal(lineNos(res2), sorted(want)) || res2.NextOffset != 0 || next.Matches != 3 {
		t.Errorf("second page lists %v (next offset %d, announced %d); want %v and no further page", lineNos(res2), res2.NextOffset, next.Matches, sorted(want))
	}

	older := req
	older.From, older.To = window.From, window.To
	res3, err := Search(context.Background(), e, idx, older)
	if err != nil {
		t.Fatal(err)
	}
	if res3.Total != window.Matches || window.Matches != len(b.healthy)+len(b.old) {
		t.Errorf("the older window finds %d matches, the answer announced %d; want %d", res3.Total, window.Matches, len(b.healthy)+len(b.old))
	}
	// In that window the older crash is the focus: its two lines come first.
	if got := lineNos(res3); len(got) < 2 || !slices.Contains(got, b.old[0]) || !slices.Contains(got, b.old[1]) {
		t.Errorf("older window lists %v; want the older crash %v among them", got, b.old)
	}

	listed := req
	listed.ListRoutine = true
	res4, err := Search(context.Background(), e, idx, listed)
	if err != nil {
		t.Fatal(err)
	}
	if res4.Collapsed != nil || res4.Total != total || !slices.Equal(lineNos(res4), b.incident) || routine.Matches != len(b.healthy) {
		t.Errorf("listRoutine: collapsed %v, %d matches, page %v (announced %d routine); want nothing collapsed and the same first page",
			res4.Collapsed, res4.Total, lineNos(res4), routine.Matches)
	}
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestIncidentPagesCoverEverything: following nextOffset from the first page lists every match
// that is not routine exactly once, whatever the page size and per-file cap; with listRoutine,
// every match.
func TestIncidentPagesCoverEverything(t *testing.T) {
	b := newIncidentBundle()
	var msgs text
	for _, l := range b.kub.lines {
		msgs.add("Nov %s ip-10-0-0-1 kubelet[2211]: %s", l[3:5]+" "+l[6:14], l) // the journal's copy of the kubelet log
	}
	e, idx := handBundle(t, []handFile{
		{path: "kubelet/kubelet.log", logType: "kubelet", log: true, data: b.kub.buf.Bytes()},
		{path: "var_log/messages", logType: "messages", log: true, data: msgs.buf.Bytes()},
	})
	for _, tt := range []struct{ perFile, total int }{{1, 1}, {2, 5}, {3, 4}, {100, 7}} {
		for _, listRoutine := range []bool{false, true} {
			req := Request{Query: k3KubeletQuery, LogTypes: []string{"kubelet"}, MaxPerFile: tt.perFile, MaxTotal: tt.total, ListRoutine: listRoutine}
			seen := map[string]int{}
			var all, routine int
			for page := 0; ; page++ {
				res, err := Search(context.Background(), e, idx, req)
				if err != nil {
					t.Fatal(err)
				}
				all = res.Total
				routine = 0
				for _, c := range res.Collapsed {
					routine += c.Count
				}
				for _, m := range flatten(res) {
					seen[m.LineRef.String()]++
				}
				if got := res.Returned; got > tt.total || (res.NextOffset > 0 && got != tt.total) {
					t.Fatalf("page %d lists %d, want %d", page, got, tt.total)
				}
				if res.NextOffset == 0 {
					break
				}
				req.Offset = res.NextOffset
			}
			if listRoutine && routine != 0 {
				t.Errorf("listRoutine collapsed %d lines", routine)
			}
			for ref, n := range seen {
				if n != 1 {
					t.Errorf("per file %d, page %d, listRoutine %v: %s listed %d times", tt.perFile, tt.total, listRoutine, ref, n)
				}
			}
			if len(seen)+routine != all {
				t.Errorf("per file %d, page %d, listRoutine %v: pages list %d and %d are collapsed, of %d matches",
					tt.perFile, tt.total, listRoutine, len(seen), routine, all)
			}
		}
	}
}

// TestIncidentAround: incident_time makes the moment the caller gave the focus.
func TestIncidentAround(t *testing.T) {
	b := newIncidentBundle()
	e, idx := handBundle(t, []handFile{{path: "kubelet/kubelet.log", logType: "kubelet", log: true, data: b.kub.buf.Bytes()}})
	at := capture.Add(-2 * time.Hour)
	res, err := Search(context.Background(), e, idx, Request{Query: k3KubeletQuery, From: at.Add(-5 * 24 * time.Hour), To: at, Around: at, MaxTotal: 1, ListRoutine: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := lineNos(res); res.Focus == nil || res.Focus.Source != FocusAround || !slices.Equal(got, []int{b.newestHealthy}) {
		t.Errorf("focus %+v lists %v; want the line nearest the moment given, %d", res.Focus, got, b.newestHealthy)
	}
}

func TestOffsetLimit(t *testing.T) {
	b := newIncidentBundle()
	e, idx := handBundle(t, []handFile{{path: "kubelet/kubelet.log", logType: "kubelet", log: true, data: b.kub.buf.Bytes()}})
	for _, req := range []Request{{Query: "x", Offset: -1}, {Query: "x", MaxTotal: 50, Offset: CapPageEnd - 49}} {
		if _, err := Search(context.Background(), e, idx, req); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "offset") {
			t.Errorf("offset %d: %v; want a bad request naming offset", req.Offset, err)
		}
	}
}

// TestKeeper: the keeper holds exactly the best max keys of any stream.
func TestKeeper(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, max := range []int{1, 2, 7, 50} {
		k := keeper{max: max}
		var all []rankKey
		for i := range 500 {
			key := rankKey{tier: uint8(r.IntN(4)), dist: time.Duration(r.IntN(20)), line: i}
			all = append(all, key)
			if k.admits(key) {
				k.put(key, Match{LineRef: evidence.LineRef{Line: i, TimeQuality: logtime.None}}, []byte(fmt.Sprint(i)), 100)
			}
		}
		slices.SortFunc(all, rankKey.compare)
		var got []rankKey
		for _, it := range k.items {
			got = append(got, it.key)
			if m := it.match(); m.Text != fmt.Sprint(m.Line) {
				t.Errorf("slot of line %d holds the text %q", m.Line, m.Text)
			}
		}
		slices.SortFunc(got, rankKey.compare)
		if !slices.Equal(got, all[:max]) {
			t.Errorf("max %d: kept %v, want %v", max, got, all[:max])
		}
	}
}
