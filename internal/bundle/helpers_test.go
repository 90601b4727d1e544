package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// entry is one archive member a test builds.
type entry struct {
	name  string
	typ   byte // tar type flag; 0 means a regular file
	body  []byte
	link  string
	mtime time.Time
}

// testTime is the default member mtime. It is relative to now because Extract ignores member
// times in the future when it picks a capture time.
var testTime = time.Now().UTC().Truncate(time.Hour).Add(-72 * time.Hour)

func file(name, body string) entry { return entry{name: name, body: []byte(body)} }
func dir(name string) entry        { return entry{name: name, typ: tar.TypeDir} }

func tarBytes(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mt := e.mtime
		if mt.IsZero() {
			mt = testTime
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, ModTime: mt, Linkname: e.link, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if typ == tar.TypeChar || typ == tar.TypeBlock {
			hdr.Devmajor, hdr.Devminor = 1, 3
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %s: %v", e.name, err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatalf("tar body %s: %v", e.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipBytes(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: testTime}
		switch e.typ {
		case tar.TypeDir:
			hdr.Name = strings.TrimSuffix(e.name, "/") + "/"
			hdr.SetMode(fs.ModeDir | 0o755)
		case tar.TypeSymlink:
			hdr.SetMode(fs.ModeSymlink | 0o777)
			e.body = []byte(e.link)
		default:
			hdr.SetMode(0o644)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTree writes entries as a folder (regular files and folders only).
func writeTree(t testing.TB, root string, entries ...entry) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(e.name, "./")))
		if e.typ == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, e.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// workspace lays out a test: the source under in/, the destination under out/dest. Anything
// else that appears under the workspace is an escape.
type workspace struct {
	root, in, dest string
}

func newWorkspace(t testing.TB) workspace {
	root := t.TempDir()
	w := workspace{root: root, in: filepath.Join(root, "in"), dest: filepath.Join(root, "out", "dest")}
	if err := os.MkdirAll(w.in, 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w workspace) put(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(w.in, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertContained fails if anything was created outside dest/files, or if dest holds anything
// but folders and regular files.
func (w workspace) assertContained(t testing.TB) {
	t.Helper()
	files := filepath.Join(w.dest, "files")
	err := filepath.WalkDir(w.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case p == w.root || p == filepath.Dir(w.dest) || p == w.dest || p == files:
			return nil
		case p == w.in || strings.HasPrefix(p, w.in+string(filepath.Separator)):
			return nil // the source, written by the test
		case !strings.HasPrefix(p, files+string(filepath.Separator)):
			t.Errorf("extraction created %s outside %s", p, files)
		case !d.IsDir() && !d.Type().IsRegular():
			t.Errorf("extraction created %s of type %v; only files and folders are allowed", p, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (w workspace) stored(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dest, "files", filepath.FromSlash(p)))
	if err != nil {
		t.Fatalf("stored file %s: %v", p, err)
	}
	return b
}

// recorder is an OnFile hook that keeps what it was given.
type recorder struct {
	mu    sync.Mutex
	got   map[string][]byte
	files map[string]*File
	order []string
	limit int // read at most this many bytes of each file when > 0
}

func newRecorder() *recorder {
	return &recorder{got: map[string][]byte{}, files: map[string]*File{}}
}

func (r *recorder) hook(_ context.Context, f *File, rd io.Reader) error {
	if r.limit > 0 {
		rd = io.LimitReader(rd, int64(r.limit))
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.Path, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[f.Path] = b
	r.files[f.Path] = f
	r.order = append(r.order, f.Path)
	return nil
}

func fileByPath(m *Manifest, p string) (File, bool) {
	if m == nil {
		return File{}, false
	}
	for _, f := range m.Files {
		if f.Path == p {
			return f, true
		}
	}
	return File{}, false
}

func paths(m *Manifest) []string {
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	return out
}

func warningsContain(m *Manifest, subs ...string) bool {
	for _, w := range m.Warnings {
		all := true
		for _, s := range subs {
			if !strings.Contains(w, s) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// logLines makes n journal-short kubelet lines of varied text, so that they compress like
// real logs rather than like a repeated string.
func logLines(seed uint64, n int, host string) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	msgs := []string{
		`"SyncLoop (probe)" probe="readiness" status="ready" pod="shop/web-5c7d9b8f6d-q8m2n"`,
		`"Generic (PLEG): container finished" podID="%08x-9738-493c-af51-a213072997f6" containerID="%064x" exitCode=%d`,
		`"Nameserver limits exceeded" err="Nameserver limits were exceeded, some nameservers have been omitted"`,
		`"RemoveContainer" containerID="%064x"`,
		`"Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off %ds restarting failed container=api pod=api-%05x_shop(%08x)\""`,
	}
	var b bytes.Buffer
	t := testTime.Add(-240 * time.Hour)
	for i := range n {
		t = t.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
		m := msgs[rng.IntN(len(msgs))]
		var body string
		switch strings.Count(m, "%") {
		case 0:
			body = m
		case 1:
			body = fmt.Sprintf(m, rng.Uint64())
		case 3:
			body = fmt.Sprintf(m, rng.Uint32(), rng.Uint64(), rng.IntN(256))
		default:
			body = fmt.Sprintf(m, 10<<rng.IntN(5), rng.IntN(1<<20), rng.Uint32())
		}
		fmt.Fprintf(&b, "%s %s kubelet[3187]: I%s %7d kubelet.go:%d] %s\n",
			t.Format("Jan 02 15:04:05"), host, t.Format("0102 15:04:05.000000"), 3187, 2000+i%500, body)
	}
	return b.Bytes()
}
