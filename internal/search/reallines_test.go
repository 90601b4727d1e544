package search

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/corpus"
)

// TestSameLinesOnRealLines runs every query class on the real-line corpus — 1,296 lines quoted
// from public issues, upstream fixtures and vendor pages, in formats our generator never wrote —
// repeated so that each log type's file spans many index blocks: listing, counting and a page
// count, per file, exactly the lines a plain regexp read counts. Block skipping by the index's
// words, the literal prefilter and the DFA are all exercised on text nobody here wrote.
func TestSameLinesOnRealLines(t *testing.T) {
	entries, err := corpus.LoadDir("../../testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]*strings.Builder{}
	var order []string
	for _, e := range entries {
		b := byType[e.LogType]
		if b == nil {
			b = &strings.Builder{}
			byType[e.LogType] = b
			order = append(order, e.LogType)
		}
		for _, l := range append(append([]string(nil), e.Before...), e.Line) {
			b.WriteString(l + "\n")
		}
	}
	var files []handFile
	for _, lt := range order {
		text := byType[lt].String()
		files = append(files, handFile{path: "real/" + lt + ".log", logType: lt, log: true, data: []byte(strings.Repeat(text, 40))})
	}
	e, idx := handBundle(t, files)
	queries := append(append([]Request(nil), identityQueries...),
		Request{Query: "CrashLoopBackOff|Back-off restarting|exit code"},
		Request{Query: "segfault|SIGSEGV|signal 11|core dumped"},
		Request{Query: "(?i)killed process|oom_score_adj"},
	)
	for _, q := range queries {
		want := referenceCounts(t, e, q)
		if sum(want) == 0 {
			t.Errorf("%q matches no real line: the check would prove nothing", q.Query)
			continue
		}
		for _, mode := range []string{"exact", "count"} {
			r := q
			r.ExactTotal, r.CountOnly = mode == "exact", mode == "count"
			res, err := Search(context.Background(), e, idx, r)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, perFile(res)); d != "" {
				t.Errorf("%q (%s): per file (-regexp +search):\n%s", q.Query, mode, d)
			}
		}
		page := q
		page.MaxTotal = 5
		first, err := Search(context.Background(), e, idx, page)
		if err != nil {
			t.Fatal(err)
		}
		if n := sum(want); first.Total > n || (!first.TotalExact && first.TotalAtMost >= 0 && first.TotalAtMost < int64(n)) {
			t.Errorf("%q: a page says %d (at most %d); there are %d", q.Query, first.Total, first.TotalAtMost, n)
		}
	}
}
