package search

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/benchdata"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/store"
)

// benchBundle imports the 1 GiB benchmark bundle once per test binary run: the import copies the
// folder, which costs more than every search benchmark together.
func benchBundle(b testing.TB) *benchData {
	dir := benchdata.Folder(b, 1024)
	bench.once.Do(func() { bench.data, bench.err = importBench(dir) })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.data
}

var bench struct {
	once sync.Once
	data *benchData
	err  error
}

func importBench(dir string) (*benchData, error) {
	root, err := os.MkdirTemp("", "nodediag-search-bench-")
	if err != nil {
		return nil, err
	}
	st, err := store.Open(root, nil)
	if err != nil {
		return nil, err
	}
	res, err := st.Import(context.Background(), dir, store.ImportOptions{})
	if err != nil {
		return nil, err
	}
	idx := res.Index
	if idx == nil {
		if idx, err = st.Index(context.Background(), res.Entry, false); err != nil {
			return nil, err
		}
	}
	return &benchData{root: root, e: res.Entry, idx: idx}, nil
}

type benchData struct {
	root string
	e    *store.Entry
	idx  *index.Index
}

func TestMain(m *testing.M) {
	code := m.Run()
	// Remove the imported copy of the benchmark bundle if a benchmark made one.
	if bench.data != nil {
		os.RemoveAll(bench.data.root)
	}
	os.Exit(code)
}

func benchSearch(b *testing.B, req Request) {
	d := benchBundle(b)
	var total int
	var scanned int64
	b.ResetTimer()
	for b.Loop() {
		res, err := Search(context.Background(), d.e, d.idx, req)
		if err != nil {
			b.Fatal(err)
		}
		total, scanned = res.Total, res.BytesScanned
	}
	b.ReportMetric(float64(total), "matches")
	b.ReportMetric(float64(scanned)/(1<<20), "MiB-scanned")
	b.SetBytes(scanned)
}

// BenchmarkSOPQuery is the K3 runbook's OOM query over every file of the 1 GiB bundle.
func BenchmarkSOPQuery(b *testing.B) {
	benchSearch(b, Request{Query: sopQuery, ExactTotal: true})
}

// BenchmarkSOPQueryWindow is the same query ±5 minutes around the incident: checkpoints must let
// it skip most of the bundle.
func BenchmarkSOPQueryWindow(b *testing.B) {
	at := time.Date(2026, 11, 20, 8, 20, 0, 0, time.UTC)
	benchSearch(b, Request{Query: sopQuery, From: at.Add(-5 * time.Minute), To: at.Add(5 * time.Minute), ExactTotal: true})
}

// BenchmarkShortLiterals has only two-byte literals in one branch (E0…E9): a stride-1 prefilter
// with many candidate lines, close to the worst case short of no literal at all.
func BenchmarkShortLiterals(b *testing.B) {
	benchSearch(b, Request{Query: `pid=\d{5}\b|\bE\d{4} `, CaseSensitive: true, ExactTotal: true})
}

// BenchmarkExitCodeLiteral has a literal ("exitcode=") ahead of a digit class.
func BenchmarkExitCodeLiteral(b *testing.B) {
	benchSearch(b, Request{Query: `exitCode=1\d\d`, ExactTotal: true})
}

// BenchmarkNoLiteral is a regex without a usable literal: the regex runs on every line, at the
// speed of the lazy DFA in internal/regex (Go's regexp took 18-20 s a GiB).
func BenchmarkNoLiteral(b *testing.B) {
	benchSearch(b, Request{Query: `[0-9a-f]{64}`, CaseSensitive: true, ExactTotal: true})
}

// BenchmarkCommonWord is a word on a tenth of all lines (`error`, case-insensitive): every block
// holds it, so nothing can be skipped and the cost per match decides.
func BenchmarkCommonWord(b *testing.B) {
	benchSearch(b, Request{Query: `error`, ExactTotal: true})
}

// The first page of 50, as the MCP search tool asks by default: each query class above, read
// nearest the incident first and stopped once the page is certain.

// BenchmarkCount* count matching lines, as rg -c does, listing none.
func BenchmarkCountCommonWord(b *testing.B) { benchSearch(b, Request{Query: `error`, CountOnly: true}) }

func BenchmarkCountNoLiteral(b *testing.B) {
	benchSearch(b, Request{Query: `[0-9a-f]{64}`, CaseSensitive: true, CountOnly: true})
}

func BenchmarkPageSOPQuery(b *testing.B) { benchSearch(b, Request{Query: sopQuery, MaxTotal: 50}) }

func BenchmarkPageCommonWord(b *testing.B) { benchSearch(b, Request{Query: `error`, MaxTotal: 50}) }

func BenchmarkPageNoLiteral(b *testing.B) {
	benchSearch(b, Request{Query: `[0-9a-f]{64}`, CaseSensitive: true, MaxTotal: 50})
}
