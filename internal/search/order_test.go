package search

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

// samePage checks that a search which may stop early lists exactly the page of the search that
// reads everything, and that its total bounds hold.
func samePage(t *testing.T, e *store.Entry, idx *index.Index, req Request) (stopped bool) {
	t.Helper()
	early, err := Search(context.Background(), e, idx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.ExactTotal = true
	exact, err := Search(context.Background(), e, idx, req)
	if err != nil {
		t.Fatal(err)
	}
	what := fmt.Sprintf("%q per file %d, page %d, offset %d", req.Query, req.MaxPerFile, req.MaxTotal, req.Offset)
	if !exact.TotalExact {
		t.Fatalf("%s: exactTotal gave a total that is not exact", what)
	}
	if d := cmp.Diff(flatten(exact), flatten(early)); d != "" {
		t.Errorf("%s: the page differs from the one reading everything gives (-exact +early):\n%s", what, d)
	}
	if early.NextOffset != exact.NextOffset {
		t.Errorf("%s: next offset %d, reading everything %d", what, early.NextOffset, exact.NextOffset)
	}
	if early.TotalExact {
		if early.Total != exact.Total {
			t.Errorf("%s: total %d said exact, reading everything %d", what, early.Total, exact.Total)
		}
		return false
	}
	if early.Total > exact.Total || (early.TotalAtMost >= 0 && early.TotalAtMost < int64(exact.Total)) {
		t.Errorf("%s: total %d to %d, reading everything %d", what, early.Total, early.TotalAtMost, exact.Total)
	}
	if early.BytesScanned >= exact.BytesScanned {
		t.Errorf("%s: stopped early but read %d bytes, reading everything %d", what, early.BytesScanned, exact.BytesScanned)
	}
	return true
}

// TestFirstPageIsTheExactPage: on scenario bundles, for broad and narrow queries, page sizes,
// per-file caps and offsets, a search that stops once its page is certain lists the page of one
// that reads every block.
func TestFirstPageIsTheExactPage(t *testing.T) {
	queries := []string{"kubelet", "error|fail", "container", k3KubeletQuery, `[0-9a-f]{12}`, sopQuery}
	pages := []struct{ perFile, total, offset int }{{100, 50, 0}, {3, 7, 0}, {1, 1, 0}, {500, 5, 0}, {100, 20, 20}, {2, 9, 27}}
	stops := 0
	for _, name := range []string{"node-oom", "segfault", "container-oom-group", "liveness-sigkill"} {
		s, ok := scenario.Lookup(name)
		if !ok {
			t.Fatalf("no scenario %q", name)
		}
		e, idx, _ := importScenario(t, s, scenario.AL2023)
		for _, q := range queries {
			for _, pg := range pages {
				if samePage(t, e, idx, Request{Query: q, MaxPerFile: pg.perFile, MaxTotal: pg.total, Offset: pg.offset}) {
					stops++
				}
			}
		}
	}
	if stops == 0 {
		t.Error("no search stopped early: the test checks nothing")
	}
}

// longLogs are three kubelet logs of ten blocks each, a line a second for a day, shifted so that they
// overlap in time but do not start together.
func longLogs(t *testing.T) (*store.Entry, *index.Index) {
	var files []handFile
	for i, name := range []string{"a", "b", "c"} {
		var x text
		start := t0.Add(time.Duration(i) * 40 * time.Minute)
		for n := range 90000 {
			x.add("%s", klog(start.Add(time.Duration(n)*time.Second), fmt.Sprintf("tick n=%06d file=%s %040d", n, name, n)))
		}
		files = append(files, handFile{path: "kubelet/" + name + ".log", logType: "kubelet", log: true, data: x.buf.Bytes()})
	}
	return handBundle(t, files)
}

// TestFirstPageReadsNearTheFocus: with many blocks per file, the first page is read from the
// blocks nearest the moment asked about (or the newest), is the page of a full read, and costs a
// small part of it.
func TestFirstPageReadsNearTheFocus(t *testing.T) {
	// Each worker may read aheadPerWorker blocks past the first one unread: on two cores (CI's,
	// and the benchmarks') the page costs at most a few blocks more than it needs.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	e, idx := longLogs(t)
	if n := len(idx.Files[0].Checkpoints); n < 4 {
		t.Fatalf("%d blocks a file: the test needs several", n)
	}
	var size int64
	for _, f := range idx.Files {
		size += f.Bytes
	}
	for _, req := range []Request{
		{Query: "tick", MaxTotal: 50},
		{Query: "tick", MaxTotal: 50, Around: t0.Add(3 * time.Hour)},
		{Query: "tick", MaxTotal: 50, MaxPerFile: 10, Around: t0.Add(9 * time.Hour)},
		{Query: "tick", MaxTotal: 50, Offset: 400, Around: t0.Add(15 * time.Hour)},
		{Query: "file=b", MaxTotal: 50, From: t0.Add(time.Hour), To: t0.Add(20 * time.Hour)},
	} {
		if !samePage(t, e, idx, req) {
			t.Errorf("%+v did not stop early", req)
			continue
		}
		res, err := Search(context.Background(), e, idx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.BytesScanned > size/3 {
			t.Errorf("%+v read %d of %d bytes for a page of %d", req, res.BytesScanned, size, req.MaxTotal)
		}
		if res.TotalExact || res.TotalAtMost <= int64(res.Total) || len(res.Notes) == 0 {
			t.Errorf("%+v: total %d exact %v at most %d, notes %q: a stopped count must say it is a range", req, res.Total, res.TotalExact, res.TotalAtMost, res.Notes)
		}
	}
}

// TestFirstPageOutOfOrderFile: a file whose blocks go back in time gets no bound from its times,
// so the page is still the page of a full read.
func TestFirstPageOutOfOrderFile(t *testing.T) {
	var x text
	// Two runs of the day: the second starts over three hours earlier than the first ended.
	for run := range 2 {
		start := t0.Add(time.Duration(run) * -3 * time.Hour)
		for n := range 30000 {
			x.add("%s", klog(start.Add(time.Duration(n)*time.Second), fmt.Sprintf("tick run=%d n=%06d %040d", run, n, n)))
		}
	}
	var y text
	for n := range 30000 {
		y.add("%s", klog(t0.Add(time.Duration(n)*time.Second), fmt.Sprintf("tick steady n=%06d %040d", n, n)))
	}
	e, idx := handBundle(t, []handFile{
		{path: "kubelet/a.log", logType: "kubelet", log: true, data: x.buf.Bytes()},
		{path: "kubelet/b.log", logType: "kubelet", log: true, data: y.buf.Bytes()},
	})
	for _, at := range []time.Time{t0.Add(-2 * time.Hour), t0.Add(time.Hour), t0.Add(7 * time.Hour)} {
		samePage(t, e, idx, Request{Query: "tick", MaxTotal: 50, Around: at})
	}
}
