package search

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

// identityQueries are the query classes of docs/performance.md: literal alternations the index
// skips by, a common word, queries with no literal (the DFA alone decides) and an exclude.
var identityQueries = []Request{
	{Query: sopQuery},
	{Query: "error"},
	{Query: "Error", CaseSensitive: true},
	{Query: `[0-9a-f]{64}`, CaseSensitive: true},
	{Query: `\d{3,}ms`},
	{Query: `exit(ed)? ?(code|status)[ =:]*[1-9]`},
	{Query: `^[A-Z][a-z]{2} +\d+ [0-9:]{8} \S+ kernel: `, CaseSensitive: true},
	{Query: `\bpid[ =]\d+\b`},
	{Query: "error|fail", Exclude: `level=info|I\d{4} `},
}

// perFile is the number of matching lines in each file that has any.
func perFile(res *Result) map[string]int {
	out := map[string]int{}
	for _, f := range res.Files {
		out[f.File] += f.Total
	}
	return out
}

// referenceCounts counts, line by line with Go's regexp, the lines of every text file of the
// bundle that match req: the answer search must give whatever it skips or however it matches.
func referenceCounts(t *testing.T, e *store.Entry, req Request) map[string]int {
	t.Helper()
	flags := "(?i)"
	if req.CaseSensitive {
		flags = ""
	}
	re := regexp.MustCompile(flags + req.Query)
	var ex *regexp.Regexp
	if req.Exclude != "" {
		ex = regexp.MustCompile(flags + req.Exclude)
	}
	out := map[string]int{}
	for _, f := range e.Manifest.Files {
		if f.Binary {
			continue
		}
		data, err := os.ReadFile(filepath.Join(e.FilesDir(), filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Path, ".gz") { // a rotated log: search reads it decompressed
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		for line := range bytes.Lines(data) {
			line = bytes.TrimSuffix(line, []byte("\n"))
			if re.Match(line) && (ex == nil || !ex.Match(line)) {
				out[f.Path]++
			}
		}
	}
	return out
}

// TestSameLinesAsAReadOfEveryLine: on scenario bundles, for every query class, search counts in
// each file exactly the lines a plain regexp scan of every line counts — skipping blocks by the
// index, stopping by the page, the literal prefilter and the DFA change nothing.
func TestSameLinesAsAReadOfEveryLine(t *testing.T) {
	for _, name := range []string{"node-oom", "segfault", "missing-configmap", "coredns-loop"} {
		s, ok := scenario.Lookup(name)
		if !ok {
			t.Fatalf("no scenario %q", name)
		}
		for _, layout := range scenario.Layouts() {
			t.Run(name+"/"+string(layout), func(t *testing.T) {
				t.Parallel()
				identical(t, s, layout)
			})
		}
	}
}

func identical(t *testing.T, s scenario.Scenario, layout scenario.Layout) {
	e, idx, _ := importScenario(t, s, layout)
	for _, q := range identityQueries {
		want := referenceCounts(t, e, q)
		q.ExactTotal = true
		res, err := Search(context.Background(), e, idx, q)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, perFile(res)); d != "" {
			t.Errorf("%q: matching lines per file (-regexp +search):\n%s", q.Query, d)
		}
		counted := q
		counted.ExactTotal, counted.CountOnly = false, true
		c, err := Search(context.Background(), e, idx, counted)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, perFile(c)); d != "" || c.Returned != 0 || !c.TotalExact || c.Truncated || c.Total != sum(want) {
			t.Errorf("%q counted: %d (exact %v), %d returned, truncated %v; per file (-regexp +count):\n%s", q.Query, c.Total, c.TotalExact, c.Returned, c.Truncated, d)
		}
		page := q
		page.ExactTotal, page.MaxTotal = false, 5
		first, err := Search(context.Background(), e, idx, page)
		if err != nil {
			t.Fatal(err)
		}
		if n := sum(want); first.Total > n || (first.TotalExact && first.Total != n) || (!first.TotalExact && first.TotalAtMost >= 0 && first.TotalAtMost < int64(n)) {
			t.Errorf("%q: a page says total %d (exact %v, at most %d); there are %d", q.Query, first.Total, first.TotalExact, first.TotalAtMost, n)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for v := range maps.Values(m) {
		n += v
	}
	return n
}

// TestSameLinesAsRipgrep runs the query classes of docs/performance.md on the 1 GiB benchmark
// bundle (when bench/run.sh or a benchmark wrote it) and compares every file's count with
// ripgrep's, when rg is installed.
func TestSameLinesAsRipgrep(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1 GiB per query")
	}
	rg, err := exec.LookPath("rg")
	if err != nil {
		t.Skip("ripgrep is not installed (apt-get install ripgrep)")
	}
	d := benchBundle(t)
	for _, q := range []Request{
		{Query: sopQuery},
		{Query: "error"},
		{Query: `[0-9a-f]{64}`, CaseSensitive: true},
	} {
		args := []string{"-j1", "--count", "--with-filename", "--no-ignore", "--hidden", "--no-messages"}
		if !q.CaseSensitive {
			args = append(args, "-i")
		}
		cmd := exec.Command(rg, append(args, "--", q.Query)...)
		cmd.Dir = d.e.FilesDir()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("rg %q: %v", q.Query, err)
		}
		want := map[string]int{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			i := bytes.LastIndexByte(sc.Bytes(), ':')
			n, err := strconv.Atoi(string(sc.Bytes()[i+1:]))
			if i < 0 || err != nil {
				t.Fatalf("rg printed %q", sc.Text())
			}
			want[filepath.ToSlash(string(sc.Bytes()[:i]))] = n
		}
		for _, exact := range []bool{true, false} {
			q.ExactTotal, q.CountOnly = exact, !exact
			res, err := Search(context.Background(), d.e, d.idx, q)
			if err != nil {
				t.Fatal(err)
			}
			if dif := cmp.Diff(want, perFile(res)); dif != "" {
				t.Errorf("%q (countOnly %v): matching lines per file (-rg +search):\n%s", q.Query, q.CountOnly, dif)
			}
		}
		if len(want) == 0 {
			t.Errorf("%q matches nothing in the benchmark bundle", q.Query)
		}
	}
}

// TestCountOnlyWindow: with a window, a count places each line in time as a listing search does,
// and counts what an exact search counts.
func TestCountOnlyWindow(t *testing.T) {
	s, _ := scenario.Lookup("node-oom")
	e, idx, _ := importScenario(t, s, scenario.AL2023)
	first, last := idx.Files[0].First, idx.Files[0].Last
	for _, f := range idx.Files {
		if !f.First.IsZero() && f.First.Before(first) {
			first = f.First
		}
		if f.Last.After(last) {
			last = f.Last
		}
	}
	if first.IsZero() || !last.After(first) {
		t.Fatalf("the bundle's files span %s to %s: the test needs a time range", first, last)
	}
	mid := first.Add(last.Sub(first) / 2)
	for _, q := range identityQueries {
		q.From, q.To = mid, last
		exact := q
		exact.ExactTotal = true
		want, err := Search(context.Background(), e, idx, exact)
		if err != nil {
			t.Fatal(err)
		}
		q.CountOnly = true
		got, err := Search(context.Background(), e, idx, q)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(perFile(want), perFile(got)); d != "" || got.Total != want.Total {
			t.Errorf("%q in [%s, %s): count %d, exact search %d:\n%s", q.Query, mid, last, got.Total, want.Total, d)
		}
		if want.Total == 0 && q.Query == sopQuery {
			t.Errorf("no OOM line in [%s, %s): the window misses the incident", mid, last)
		}
	}
}
