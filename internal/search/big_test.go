package search

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/logtime"
	"github.com/nodediag/nodediag/internal/store"
)

// TestSearchLastLineOfBigFile checks that a match on the very last line of a big file is found
// with its exact line number, offset and time. The file is 64 MiB by default; with
// NODEDIAG_BIG_TESTS=1 it is 1 GiB, the size of the largest kubelet logs seen in bundles.
func TestSearchLastLineOfBigFile(t *testing.T) {
	size := int64(64 << 20)
	if os.Getenv("NODEDIAG_BIG_TESTS") == "1" {
		size = 1 << 30
	}
	if testing.Short() {
		t.Skip("writes a 64 MiB file")
	}
	dir := t.TempDir()
	const path = "kubelet/kubelet.log"
	p := filepath.Join(dir, "files", path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(fh, 1<<20)
	routine := klog(t0, "SyncLoop (housekeeping) "+strings.Repeat("-", 60)) + "\n"
	lastAt := t0.Add(90 * time.Minute)
	last := klog(lastAt, `"Container exited" reason="OOMKilled" exitCode=137`)
	var n, written int64
	for written+int64(len(routine)) <= size {
		w.WriteString(routine)
		written += int64(len(routine))
		n++
	}
	w.WriteString(last) // no final newline: the last line of many rotated logs
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	m := &bundle.Manifest{ID: "big", CaptureTime: capture, Files: []bundle.File{{Path: path, LogType: "kubelet", Log: true, Size: written + int64(len(last))}}}
	e := &store.Entry{Dir: dir, Manifest: m}
	idx := indexFiles(t, e)

	res, err := Search(context.Background(), e, idx, Request{Query: "oomkilled"})
	if err != nil {
		t.Fatal(err)
	}
	ms := flatten(res)
	if len(ms) != 1 {
		t.Fatalf("%d matches, want the last line only", len(ms))
	}
	got := ms[0]
	if got.Line != int(n+1) || got.Offset != written || got.Text != last || !got.Time.Equal(lastAt) || got.TimeQuality != logtime.YearInferred {
		t.Errorf("got line %d offset %d time %s (%s) %q; want line %d offset %d time %s %q",
			got.Line, got.Offset, got.Time, got.TimeQuality, got.Text, n+1, written, lastAt, last)
	}
}

// indexFiles builds the index of the manifest's log files, streaming each from disk.
func indexFiles(t testing.TB, e *store.Entry) *index.Index {
	t.Helper()
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := index.NewBuilder(cat, index.Options{BundleID: e.Manifest.ID, Capture: e.Manifest.CaptureTime})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range e.Manifest.Files {
		if !f.Log {
			continue
		}
		rc, err := bundle.Open(e.Dir, f)
		if err != nil {
			t.Fatal(err)
		}
		err = b.IndexFile(context.Background(), f.Path, f.LogType, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.Finish()
}
