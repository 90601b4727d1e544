package bundle

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"
)

// FuzzExtractTar feeds arbitrary bytes as a .tar (or, gzip-wrapped, a .tgz): Extract must not
// panic, must not write outside dest, and every file it reports must be on disk as reported.
func FuzzExtractTar(f *testing.F) {
	f.Add(tarBytes(f, dir("./"), file("./kubelet/kubelet.log", isoLines(nodeFQDN)), file("./var_log/messages", "x\n")), false)
	f.Add(tarBytes(f, dir("bottlerocket-logs/"), file("bottlerocket-logs/journalctl.log", "y\n")), true)
	f.Add(tarBytes(f, file("../../escape", "x"), file("/etc/escape", "x"),
		entry{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"},
		entry{name: "h", typ: tar.TypeLink, link: "../x"},
		entry{name: "dev", typ: tar.TypeChar}), true)
	f.Add(tarBytes(f, entry{name: "n/x.tar.gz", body: gz(f, tarBytes(f, file("x/a.log", "a\n"), file("../b", "b")))},
		entry{name: "r.log.1.gz", body: gz(f, []byte("rotated\n"))}), true)
	f.Add(tarBytes(f, dir("top/"), file("top/a", "a"), file("b", "b")), false)
	f.Add([]byte{}, false)
	f.Add(make([]byte, 1024), true)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		w := newWorkspace(t)
		name := "f.tar"
		if compress {
			data, name = gz(t, data), "f.tgz"
		}
		src := w.put(t, name, data)
		opt := Options{MaxFiles: 64, MaxTotalBytes: 1 << 20, MaxFileBytes: 256 << 10, MaxRatio: 50,
			OnFile: func(_ context.Context, _ *File, r io.Reader) error {
				_, err := io.Copy(io.Discard, r)
				return err
			}}
		m, err := Extract(context.Background(), src, w.dest, opt)
		w.assertContained(t)
		if m == nil {
			if err == nil {
				t.Fatal("nil manifest without an error")
			}
			return
		}
		for _, f := range m.Files {
			if !filepath.IsLocal(f.Path) || path.Clean(f.Path) != f.Path {
				t.Errorf("reported path %q is not a clean local path", f.Path)
			}
			info, err := os.Lstat(filepath.Join(w.dest, "files", filepath.FromSlash(f.Path)))
			if err != nil || !info.Mode().IsRegular() {
				t.Errorf("reported file %q is not a regular file on disk: %v", f.Path, err)
				continue
			}
			if info.Size() != f.Size {
				t.Errorf("%s: reported %d bytes, disk has %d", f.Path, f.Size, info.Size())
			}
		}
	})
}
