package search

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

const sopQuery = "oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score"

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// smallBundle has a kubelet log, a containerd log, a mixed messages file, a config file and a
// binary file; want lists, for the SOP query, the matches in path order.
func smallBundle(t *testing.T) (files []handFile, want []Match) {
	var cfg, kub, ctd, msgs text
	cfg.add(`{"oomScoreAdj": -997,`)
	cfg.add(`  "note": "oom_score is set by kubelet"}`)
	want = append(want, Match{LineRef: evidence.LineRef{File: "config/kubelet.json", Line: 2, Offset: cfg.offsets[1], TimeQuality: logtime.None}, Text: cfg.lines[1]})

	for i := range 20 {
		at := t0.Add(time.Duration(i) * time.Minute)
		msg := fmt.Sprintf("SyncLoop (PLEG): event for pod %d", i)
		if i == 7 || i == 15 {
			msg = fmt.Sprintf(`"Container exited" reason="OOMKilled" exitCode=137 n=%d`, i)
		}
		no := kub.add("%s", klog(at, msg))
		if i == 7 || i == 15 {
			want = append(want, Match{LineRef: evidence.LineRef{File: "kubelet/kubelet.log", Line: no, Offset: kub.offsets[no-1], Time: at, TimeQuality: logtime.YearInferred}, Text: kub.lines[no-1]})
		}
	}
	for i := range 10 {
		at := t0.Add(time.Duration(i)*time.Minute + 30*time.Second)
		msg := "starting shim"
		if i == 3 {
			msg = "TaskOOM event for container abc"
		}
		ctd.add("%s", logfmt(at, msg))
	}
	at := t0.Add(9 * time.Minute)
	msgs.add("Nov 20 08:09:00 ip-10-0-0-1 systemd[1]: Started Session 3.")
	no := msgs.add("Nov 20 08:09:00 ip-10-0-0-1 kernel: Memory cgroup out of memory: Killed process 11438 (java)")
	want = append(want, Match{LineRef: evidence.LineRef{File: "var_log/messages", Line: no, Offset: msgs.offsets[no-1], Time: at, TimeQuality: logtime.YearInferred}, Text: msgs.lines[no-1]})
	no = msgs.add(`Nov 20 08:09:00 ip-10-0-0-1 kubelet[2211]: I1120 08:09:00.000000 2211 kubelet.go:1] "Container exited" reason="OOMKilled"`)
	want = append(want, Match{LineRef: evidence.LineRef{File: "var_log/messages", Line: no, Offset: msgs.offsets[no-1], Time: at, TimeQuality: logtime.YearInferred}, Text: msgs.lines[no-1]})

	files = []handFile{
		{path: "var_log/messages", logType: "messages", log: true, data: msgs.buf.Bytes()},
		{path: "kubelet/kubelet.log", logType: "kubelet", log: true, data: kub.buf.Bytes()},
		{path: "containerd/containerd-log.txt", logType: "containerd", log: true, data: ctd.buf.Bytes()},
		{path: "config/kubelet.json", logType: "config", data: cfg.buf.Bytes()},
		{path: "bin/tool", logType: "other", binary: true, data: []byte("\x00\x01OOMKilled\x00")},
	}
	for i := range want {
		want[i].ID = fmt.Sprintf("S-%03d", i+1)
	}
	return files, want
}

func flatten(res *Result) []Match {
	var out []Match
	for _, f := range res.Files {
		out = append(out, f.Matches...)
	}
	return out
}

func TestSearchSmallBundle(t *testing.T) {
	files, want := smallBundle(t)
	e, idx := handBundle(t, files)
	res, err := Search(context.Background(), e, idx, Request{Query: sopQuery})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, flatten(res)); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
	if res.Total != len(want) || res.Returned != len(want) || res.Truncated {
		t.Errorf("total %d returned %d truncated %v; want %d, %d, false", res.Total, res.Returned, res.Truncated, len(want), len(want))
	}
	if res.Searched != 4 {
		t.Errorf("searched %d files, want the 4 text files", res.Searched)
	}
	if diff := cmp.Diff([]SkippedFile{{File: "bin/tool", LogType: "other", Reason: "binary file"}}, res.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	var size int64
	for _, f := range files {
		if !f.binary {
			size += int64(len(f.data))
		}
	}
	// The index records which of its vocabulary words each block holds: a file holding none of
	// the SOP query's words is not read, and no match is lost (the matches above are all there).
	if res.BytesScanned >= size || res.BytesScanned == 0 {
		t.Errorf("scanned %d of %d text bytes: the index's word sets should skip the files without an OOM word", res.BytesScanned, size)
	}
	if len(res.Prefilter) == 0 {
		t.Error("the SOP query has literals, but no prefilter was used")
	}
}

func TestSearchFilters(t *testing.T) {
	files, all := smallBundle(t)
	e, idx := handBundle(t, files)
	pick := func(keep func(Match) bool) []string {
		var out []string
		for _, m := range all {
			if keep(m) {
				out = append(out, m.LineRef.String())
			}
		}
		return out
	}
	tests := []struct {
		name string
		req  Request
		want []string
	}{
		{"kubelet includes kubelet lines of messages", Request{Query: sopQuery, LogTypes: []string{"kubelet"}},
			pick(func(m Match) bool { return m.File == "kubelet/kubelet.log" || strings.Contains(m.Text, "kubelet[") })},
		{"dmesg picks kernel lines of messages", Request{Query: sopQuery, LogTypes: []string{"dmesg"}},
			pick(func(m Match) bool { return strings.Contains(m.Text, "kernel:") })},
		{"messages keeps the whole file", Request{Query: sopQuery, LogTypes: []string{"messages"}},
			pick(func(m Match) bool { return m.File == "var_log/messages" })},
		{"case-sensitive drops other case", Request{Query: "oomkilled", CaseSensitive: true}, nil},
		{"case-insensitive finds other case", Request{Query: "oomkilled"},
			pick(func(m Match) bool { return strings.Contains(m.Text, "OOMKilled") })},
		{"exclude", Request{Query: sopQuery, Exclude: "kernel:|exitCode=137"},
			pick(func(m Match) bool {
				return !strings.Contains(m.Text, "kernel:") && !strings.Contains(m.Text, "exitCode=137")
			})},
		{"window", Request{Query: sopQuery, From: t0.Add(8 * time.Minute), To: t0.Add(10 * time.Minute)},
			pick(func(m Match) bool {
				return !m.Time.IsZero() && !m.Time.Before(t0.Add(8*time.Minute)) && m.Time.Before(t0.Add(10*time.Minute))
			})},
		{"regex without literal", Request{Query: `n=\d+`},
			pick(func(m Match) bool { return regexp.MustCompile(`n=\d+`).MatchString(m.Text) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Search(context.Background(), e, idx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range flatten(res) {
				got = append(got, m.LineRef.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchWindowSkipsUntimed(t *testing.T) {
	files, _ := smallBundle(t)
	e, idx := handBundle(t, files)
	res, err := Search(context.Background(), e, idx, Request{Query: sopQuery, From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.File)
	}
	if diff := cmp.Diff([]string{"bin/tool", "config/kubelet.json"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	for _, s := range res.Skipped {
		if s.File == "config/kubelet.json" && !strings.Contains(s.Reason, "window") {
			t.Errorf("reason for the untimed file does not mention the window: %q", s.Reason)
		}
	}
}

func TestSearchBadRequests(t *testing.T) {
	files, _ := smallBundle(t)
	e, idx := handBundle(t, files)
	tests := []struct {
		name string
		req  Request
		says []string
	}{
		{"look-ahead", Request{Query: "OOM(?=Killed)"}, []string{"byte 3", "look-around", "RE2"}},
		{"backreference", Request{Query: `(a)\1`}, []string{"byte 3", "backreferences"}},
		{"bad exclude", Request{Query: "OOM", Exclude: "("}, []string{"exclude", "missing closing )"}},
		{"empty", Request{}, []string{"query is empty"}},
		{"too long", Request{Query: strings.Repeat("a", MaxQueryBytes+1)}, []string{"1025 bytes", "at most 1024"}},
		{"unknown log type", Request{Query: "OOM", LogTypes: []string{"kublet"}}, []string{`"kublet"`, "containerd, coredns", "kubelet", "messages"}},
		{"end before start", Request{Query: "OOM", From: t0, To: t0.Add(-time.Minute)}, []string{"before"}},
		{"per-file cap", Request{Query: "OOM", MaxPerFile: CapMaxPerFile + 1}, []string{"maxPerFile", "at most 500"}},
		{"total cap", Request{Query: "OOM", MaxTotal: CapMaxTotal + 1}, []string{"maxTotal", "at most 5000"}},
		{"context cap", Request{Query: "OOM", Context: CapContext + 1}, []string{"context", "0 to 20"}},
		{"count with offset", Request{Query: "OOM", CountOnly: true, Offset: 5}, []string{"countOnly", "offset 5"}},
		{"count with context", Request{Query: "OOM", CountOnly: true, Context: 2}, []string{"countOnly", "context 2"}},
		{"count with routine", Request{Query: "OOM", CountOnly: true, ListRoutine: true}, []string{"countOnly", "listRoutine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Search(context.Background(), e, idx, tt.req)
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestSearchCapsAndNarrow(t *testing.T) {
	var kub, ctd text
	const perHour = 150
	for i := range 2 * perHour {
		at := t0.Add(time.Duration(i) * time.Hour / perHour) // two hours of kubelet lines
		kub.add("%s", klog(at, fmt.Sprintf("probe failed n=%d", i)))
	}
	for i := range 10 {
		ctd.add("%s", logfmt(t0.Add(time.Duration(i)*time.Second), "probe failed in shim"))
	}
	e, idx := handBundle(t, []handFile{
		{path: "containerd/containerd-log.txt", logType: "containerd", log: true, data: ctd.buf.Bytes()},
		{path: "kubelet/kubelet.log", logType: "kubelet", log: true, data: kub.buf.Bytes()},
	})
	res, err := Search(context.Background(), e, idx, Request{Query: "probe failed", MaxPerFile: 100, MaxTotal: 105})
	if err != nil {
		t.Fatal(err)
	}
	total := 2*perHour + 10
	if res.Total != total || res.Returned != 105 || !res.Truncated {
		t.Fatalf("total %d returned %d truncated %v; want %d, 105, true", res.Total, res.Returned, res.Truncated, total)
	}
	// No crash fact: the newest lines come first. The per-file cap (100) keeps kubelet's newest
	// 100 (lines 201–300) from leaving containerd out: its newest 5 fill the page.
	if len(res.Files) != 2 || len(res.Files[0].Matches) != 5 || !res.Files[0].Truncated ||
		len(res.Files[1].Matches) != 100 || res.Files[1].Total != 2*perHour || !res.Files[1].Truncated {
		t.Fatalf("per-file results wrong: %+v", summary(res))
	}
	if first, last := res.Files[0].Matches[0], res.Files[1].Matches[99]; first.Line != 6 || first.ID != "S-001" || last.ID != "S-105" || last.Line != 300 {
		t.Errorf("first match %s at line %d, last %s at line %d; want S-001 at containerd line 6, S-105 at kubelet line 300", first.ID, first.Line, last.ID, last.Line)
	}
	if f := res.Files[1].Matches[0]; f.Line != 201 {
		t.Errorf("kubelet's first listed line is %d, want 201 (its newest 100)", f.Line)
	}
	if res.Focus == nil || res.Focus.Source != FocusNewest || res.NextOffset != 105 || len(res.Next) != 1 || res.Next[0].Matches != total-105 {
		t.Errorf("focus %+v next offset %d next %+v; want newest-first, the next page at 105 with %d more", res.Focus, res.NextOffset, res.Next, total-105)
	}
	wantNarrow := []string{
		fmt.Sprintf("logTypes=kubelet (%d of %d matches)", 2*perHour, total),
		fmt.Sprintf("logTypes=containerd (10 of %d matches)", total),
		fmt.Sprintf("from=2026-11-20T08:00:00Z to=2026-11-20T09:00:00Z (%d of %d matches)", perHour+10, total),
		fmt.Sprintf("from=2026-11-20T09:00:00Z to=2026-11-20T10:00:00Z (%d of %d matches)", perHour, total),
	}
	if diff := cmp.Diff(wantNarrow, res.Narrow); diff != "" {
		t.Errorf("narrow (-want +got):\n%s", diff)
	}
}

func summary(res *Result) []string {
	var out []string
	for _, f := range res.Files {
		out = append(out, fmt.Sprintf("%s: %d listed of %d, truncated %v", f.File, len(f.Matches), f.Total, f.Truncated))
	}
	return out
}

func TestSearchCutsLongLines(t *testing.T) {
	var x text
	long := "OOMKilled " + strings.Repeat("é", 40) // 2-byte runes: a cut must not split one
	x.add("%s", long)
	x.add("short OOMKilled")
	e, idx := handBundle(t, []handFile{{path: "notes.txt", logType: "other", data: x.buf.Bytes()}})
	res, err := Search(context.Background(), e, idx, Request{Query: "OOMKilled", MaxLineBytes: 21})
	if err != nil {
		t.Fatal(err)
	}
	ms := flatten(res)
	if len(ms) != 2 {
		t.Fatalf("%d matches, want 2", len(ms))
	}
	// 21 bytes fall inside the sixth 'é' (10 ASCII bytes + 5×2): the cut backs off to 20.
	wantText := long[:20] + fmt.Sprintf(" …[cut: %d more bytes]", len(long)-20)
	if !ms[0].Cut || ms[0].Text != wantText {
		t.Errorf("long line: cut=%v text %q, want cut text %q", ms[0].Cut, ms[0].Text, wantText)
	}
	if ms[1].Cut || ms[1].Text != "short OOMKilled" {
		t.Errorf("short line: cut=%v text %q", ms[1].Cut, ms[1].Text)
	}
}

func TestSearchCancelled(t *testing.T) {
	files, _ := smallBundle(t)
	e, idx := handBundle(t, files)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Search(ctx, e, idx, Request{Query: sopQuery})
	if err != nil {
		t.Fatalf("a cancelled search returns what it found, not an error: %v", err)
	}
	if !res.Truncated || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "stopped early") {
		t.Errorf("truncated %v notes %q; want truncated with a note", res.Truncated, res.Notes)
	}
}

// stopAfter is a context that ends after Err was asked n times: a deadline that falls in the
// middle of a search, at the same point every run.
type stopAfter struct {
	context.Context
	mu   sync.Mutex
	n    int
	done chan struct{}
}

func (c *stopAfter) Done() <-chan struct{} { return c.done }

func (c *stopAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return context.DeadlineExceeded
	}
	if c.n--; c.n == 0 {
		close(c.done)
		return context.DeadlineExceeded
	}
	return nil
}

func TestSearchStopsMidway(t *testing.T) {
	// Three files of several blocks each, every line a match.
	var files []handFile
	for _, name := range []string{"a", "b", "c"} {
		files = append(files, handFile{path: "kubelet/" + name + ".log", logType: "kubelet", log: true, data: tickLog(25000).buf.Bytes()})
	}
	e, idx := handBundle(t, files)
	req := Request{Query: "tick", MaxPerFile: CapMaxPerFile, MaxTotal: CapMaxTotal, ExactTotal: true}
	full, err := Search(context.Background(), e, idx, req)
	if err != nil {
		t.Fatal(err)
	}
	if full.Total != 3*25000 {
		t.Fatalf("full search: %d matches, want %d", full.Total, 3*25000)
	}
	// Each file asks Err once per block: stop after four blocks in all.
	ctx := &stopAfter{Context: context.Background(), n: 4, done: make(chan struct{})}
	part, err := Search(ctx, e, idx, req)
	if err != nil {
		t.Fatalf("a search stopped by its deadline returns what it found, not an error: %v", err)
	}
	if !part.Truncated || len(part.Notes) == 0 || !strings.Contains(part.Notes[0], "deadline") {
		t.Errorf("truncated %v notes %q; want truncated with a note naming the deadline", part.Truncated, part.Notes)
	}
	if part.Total >= full.Total || part.Searched >= full.Searched {
		t.Errorf("stopped search found %d matches in %d files, the full one %d in %d: it did not stop", part.Total, part.Searched, full.Total, full.Searched)
	}
	// What it lists are true matches: tickLog writes n=<line> on every line.
	for _, m := range flatten(part) {
		if !strings.Contains(m.Text, fmt.Sprintf("tick n=%06d ", m.Line)) {
			t.Errorf("stopped search lists %s as %q", m.LineRef, m.Text)
		}
	}
}

// TestSearchFileZone: a file whose own lines state a zone other than the bundle's is read in its
// own zone, as the index reads it.
func TestSearchFileZone(t *testing.T) {
	var a, b, msgs text
	for i := range 5 {
		a.add("%s", logfmt(t0.Add(time.Duration(i)*time.Second), "shim started"))
		b.add("%s", logfmt(t0.Add(time.Duration(i)*time.Second), "shim stopped"))
	}
	// Local wall clock 18:09 at +10:00 is 08:09 UTC.
	msgs.add(`Nov 20 18:09:00 ip-10-0-0-1 containerd[900]: time="2026-11-20T18:09:00.000000000+10:00" level=info msg="start"`)
	no := msgs.add("Nov 20 18:09:01 ip-10-0-0-1 kernel: Out of memory: Killed process 1 (java)")
	e, idx := handBundle(t, []handFile{
		{path: "containerd/a.log", logType: "containerd", log: true, data: a.buf.Bytes()},
		{path: "containerd/b.log", logType: "containerd", log: true, data: b.buf.Bytes()},
		{path: "var_log/messages", logType: "messages", log: true, data: msgs.buf.Bytes()},
	})
	want := time.Date(2026, 11, 20, 8, 9, 1, 0, time.UTC)
	for _, req := range []Request{{Query: "out of memory"}, {Query: "out of memory", From: want.Add(-time.Minute), To: want.Add(time.Minute)}} {
		res, err := Search(context.Background(), e, idx, req)
		if err != nil {
			t.Fatal(err)
		}
		ms := flatten(res)
		if len(ms) != 1 || ms[0].Line != no || !ms[0].Time.Equal(want) {
			t.Errorf("window %v: matches %+v; want line %d at %s", !req.From.IsZero(), ms, no, want)
		}
	}
}
