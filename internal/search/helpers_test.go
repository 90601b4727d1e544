package search

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/store"
)

// capture is the capture time of hand-built bundles: year-less stamps are read in 2026.
var capture = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

// text is a file under construction that remembers where each line starts.
type text struct {
	buf     bytes.Buffer
	offsets []int64 // offsets[i] is the offset of line i+1
	lines   []string
}

func (x *text) add(format string, args ...any) int {
	line := fmt.Sprintf(format, args...)
	x.offsets = append(x.offsets, int64(x.buf.Len()))
	x.lines = append(x.lines, line)
	x.buf.WriteString(line)
	x.buf.WriteByte('\n')
	return len(x.lines)
}

// handFile is one file of a hand-built bundle.
type handFile struct {
	path    string
	logType string
	log     bool // indexed as a log
	binary  bool
	gz      bool // stored gzip-compressed
	data    []byte
}

// handBundle writes files into a bundle folder and builds its index the way an import does.
func handBundle(t testing.TB, files []handFile) (*store.Entry, *index.Index) {
	t.Helper()
	dir := t.TempDir()
	m := &bundle.Manifest{ID: "hand", InstanceID: "i-0hand", CaptureTime: capture}
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := index.NewBuilder(cat, index.Options{BundleID: "hand", InstanceID: "i-0hand", Capture: capture})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(dir, "files", filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		stored := f.data
		if f.gz {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(f.data)
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			stored = z.Bytes()
		}
		if err := os.WriteFile(p, stored, 0o644); err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, bundle.File{Path: f.path, LogType: f.logType, Size: int64(len(stored)), Log: f.log, Binary: f.binary, Compressed: f.gz})
		if f.log {
			if err := b.IndexFile(context.Background(), f.path, f.logType, bytes.NewReader(f.data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &store.Entry{Dir: dir, Manifest: m}, b.Finish()
}

// klog renders a kubelet line at t.
func klog(t time.Time, msg string) string {
	return fmt.Sprintf("I%s    2211 kubelet.go:100] %s", t.Format("0102 15:04:05.000000"), msg)
}

// logfmt renders a containerd line at t.
func logfmt(t time.Time, msg string) string {
	return fmt.Sprintf("time=%q level=info msg=%q", t.Format(time.RFC3339Nano), msg)
}
