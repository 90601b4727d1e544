// Package tartest reads the .tar.gz bundles tests are built from: their members, or all of them
// written into a folder (a folder bundle the test then changes).
package tartest

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Member is one entry of an archive.
type Member struct {
	Name string
	Dir  bool
	Data []byte
}

// Members reads every entry of a .tar.gz.
func Members(t testing.TB, archive string) []Member {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var ms []Member
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return ms
		}
		if err != nil {
			t.Fatal(err)
		}
		m := Member{Name: h.Name, Dir: h.Typeflag == tar.TypeDir}
		if h.Typeflag == tar.TypeReg {
			if m.Data, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
		if m.Dir || h.Typeflag == tar.TypeReg {
			ms = append(ms, m)
		}
	}
}

// Untar writes the archive's folders and regular files under dir.
func Untar(t testing.TB, archive, dir string) {
	t.Helper()
	for _, m := range Members(t, archive) {
		p := filepath.Join(dir, filepath.FromSlash(m.Name))
		if m.Dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, m.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
