package regex

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/nodediag/nodediag/internal/benchdata"
)

// sample reads path, or with no path the first sampleMB MB of the benchmark bundle's kubelet
// log, cut at a line end.
func sample(b *testing.B, path string) ([]byte, error) {
	if path != "" {
		return os.ReadFile(path)
	}
	f, err := os.Open(filepath.Join(benchdata.Folder(b, 1024), "kubelet", "kubelet.log"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, sampleMB<<20))
	if err != nil {
		return nil, err
	}
	return text[:bytes.LastIndexByte(text, '\n')+1], nil
}

// sampleMB is how much of the 1 GiB benchmark bundle's kubelet log the benchmark reads: enough
// for steady rates, small enough to hold in memory with its line slices.
const sampleMB = 100

// benchExprs are queries no literal prefilter helps with, and two it does, for comparison; the
// names keep -bench patterns simple.
var benchExprs = []struct{ name, expr string }{
	{"hex64", `[0-9a-f]{64}`},
	{"error", `(?i)error`},
	{"ms", `\d{3,}ms`},
	{"oom", `(?i)(oom|out of memory)`},
	{"podhash", `[a-z]+-[0-9a-f]{8,}`},
}

// BenchmarkMatch runs each expression over every line of a log, with the DFA (one Scanner, and
// the Matcher shared through its pool) and with the stdlib. MB/s is per byte of the lines.
func BenchmarkMatch(b *testing.B) {
	for _, c := range []struct{ name, path string }{{"corpus", corpusPath}, {"sample", ""}} {
		text, err := sample(b, c.path)
		if err != nil {
			b.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSuffix(text, []byte("\n")), []byte("\n"))
		for _, x := range benchExprs {
			m, re := MustCompile(x.expr), regexp.MustCompile(x.expr)
			engines := []struct {
				name  string
				match func([]byte) bool
			}{{"dfa", m.Scanner().Match}, {"dfa-shared", m.Match}, {"stdlib", re.Match}}
			want := -1
			for _, e := range engines {
				b.Run(c.name+"/"+x.name+"/"+e.name, func(b *testing.B) {
					b.SetBytes(int64(len(text)))
					var n int
					for b.Loop() {
						n = 0
						for _, l := range lines {
							if e.match(l) {
								n++
							}
						}
					}
					if want >= 0 && n != want {
						b.Fatalf("%d matching lines, the first engine found %d", n, want)
					}
					want = n
					b.ReportMetric(float64(n), "lines")
				})
			}
		}
	}
}
