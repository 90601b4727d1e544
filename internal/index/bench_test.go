package index

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/benchdata"
	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/detect"
)

// BenchmarkIndexBundle indexes an extracted bundle folder, one file after another on one
// goroutine, and reports MB/s, on the 1 GiB benchmark bundle (internal/benchdata finds or
// writes it).
func BenchmarkIndexBundle(b *testing.B) {
	dir := benchdata.Folder(b, 1024)
	type file struct{ path, rel, logType string }
	var files []file
	var total int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		lt, isLog := bundle.Classify(rel)
		if !isLog || strings.HasSuffix(rel, ".gz") {
			return nil
		}
		info, _ := d.Info()
		total += info.Size()
		files = append(files, file{p, rel, lt})
		return nil
	})
	cat, err := detect.Load()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		bl, err := NewBuilder(cat, Options{Capture: time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			fh, err := os.Open(f.path)
			if err != nil {
				b.Fatal(err)
			}
			if err := bl.IndexFile(context.Background(), f.rel, f.logType, fh); err != nil {
				b.Fatal(err)
			}
			fh.Close()
		}
		idx := bl.Finish()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		if len(idx.Facts) == 0 {
			b.Fatal("no facts")
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
}
