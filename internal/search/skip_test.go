package search

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/scenario"
)

// noSkip searches as if the index recorded no word sets: every block read.
func noSkip(t *testing.T, req Request, run func(Request) *Result) *Result {
	t.Helper()
	skipDisabled = true
	defer func() { skipDisabled = false }()
	return run(req)
}

// TestSkippingLosesNothing: a search that skips the blocks the index proves cannot match finds
// exactly what reading every block finds, on scenario bundles and for queries the vocabulary
// covers and does not.
func TestSkippingLosesNothing(t *testing.T) {
	queries := []Request{
		{Query: sopQuery, ExactTotal: true},
		{Query: "segfault|SIGSEGV|signal 11|core dumped|trapping fault", ExactTotal: true},
		{Query: "Killed process", CaseSensitive: true, ExactTotal: true},
		{Query: "exec format error|permission denied", ExactTotal: true},
		{Query: "kubelet", MaxTotal: 50, ExactTotal: true},
	}
	for _, name := range []string{"node-oom", "segfault", "container-oom-group"} {
		s, _ := scenario.Lookup(name)
		for _, layout := range []scenario.Layout{scenario.AL2, scenario.AL2023} {
			e, idx, _ := importScenario(t, s, layout)
			run := func(req Request) *Result {
				res, err := Search(context.Background(), e, idx, req)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			for _, q := range queries {
				with, without := run(q), noSkip(t, q, run)
				if d := cmp.Diff(flatten(without), flatten(with)); d != "" || with.Total != without.Total {
					t.Errorf("%s/%s %q: skipping changed the answer (total %d, without skipping %d):\n%s", name, layout, q.Query, with.Total, without.Total, d)
				}
				if with.BytesScanned > without.BytesScanned {
					t.Errorf("%s/%s %q: skipping read more", name, layout, q.Query)
				}
			}
		}
	}
}

// TestSkippingFoldsLikeRE2: a block whose only match is spelled with the Kelvin sign, which RE2's
// (?i) folds onto k and the index's ASCII folding does not, is still read.
func TestSkippingFoldsLikeRE2(t *testing.T) {
	var plain, upper, kelvin, none text
	plain.add("Nov 20 10:00:00 ip-10-0-1-1 kernel: Memory cgroup out of memory: Killed process 42 (java)")
	upper.add("Nov 20 10:00:01 ip-10-0-1-1 kernel: OOM-KILL:constraint=CONSTRAINT_MEMCG")
	kelvin.add("Nov 20 10:00:02 ip-10-0-1-1 kernel: oom-\u212aill:constraint=CONSTRAINT_MEMCG")
	none.add("Nov 20 10:00:03 ip-10-0-1-1 kubelet[1]: I1120 10:00:03.000000 1 x.go:1] nothing to see")
	e, idx := handBundle(t, []handFile{
		{path: "a/messages", logType: "messages", log: true, data: plain.buf.Bytes()},
		{path: "b/messages", logType: "messages", log: true, data: upper.buf.Bytes()},
		{path: "c/messages", logType: "messages", log: true, data: kelvin.buf.Bytes()},
		{path: "d/messages", logType: "messages", log: true, data: none.buf.Bytes()},
	})
	res, err := Search(context.Background(), e, idx, Request{Query: "oom-kill"})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, m := range flatten(res) {
		files = append(files, m.File)
	}
	if got := strings.Join(files, ","); got != "b/messages,c/messages" {
		t.Errorf("matches in %s, want b/messages,c/messages", got)
	}
	if res.BytesScanned >= int64(plain.buf.Len()+upper.buf.Len()+kelvin.buf.Len()+none.buf.Len()) {
		t.Errorf("scanned %d bytes: the files without the word were read", res.BytesScanned)
	}
}
