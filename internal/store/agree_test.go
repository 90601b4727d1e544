package store

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/index"
)

// member is one tar member a test writes; a name ending in "/" is a folder.
type member struct{ name, body string }

func tarGz(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(m.body))}
		if strings.HasSuffix(m.name, "/") {
			hdr.Typeflag, hdr.Size, hdr.Mode = tar.TypeDir, 0, 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(m.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// oomLine is a syslog kernel line a rule finds, so the index holds a sample with a file:line.
func oomLine(n int) string {
	return "Nov 19 19:22:5" + string(rune('0'+n)) + " ip-10-0-1-229 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0 task=app" + string(rune('0'+n)) + "\n"
}

// assertIndexMatchesDisk checks that every file the index describes is stored under that very
// path with the bytes and lines the index counted, and that every finding's sample is the line
// the stored file holds at its line number: whatever search finds, read can read.
func assertIndexMatchesDisk(t *testing.T, e *Entry, idx *index.Index) {
	t.Helper()
	stored := map[string]bundle.File{}
	for _, f := range e.Manifest.Files {
		if _, dup := stored[f.Path]; dup {
			t.Errorf("the manifest lists %s twice", f.Path)
		}
		stored[f.Path] = f
	}
	text := map[string][]string{}
	for _, f := range idx.Files {
		if _, dup := text[f.Path]; dup {
			t.Errorf("the index describes %s twice", f.Path)
			continue
		}
		mf, ok := stored[f.Path]
		if !ok {
			t.Errorf("the index describes %s, which the manifest does not list", f.Path)
			continue
		}
		rc, err := bundle.Open(e.Dir, mf)
		if err != nil {
			t.Errorf("open %s: %v", f.Path, err)
			continue
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Errorf("read %s: %v", f.Path, err)
		}
		lines := strings.SplitAfter(string(data), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if int64(len(data)) != f.Bytes || int64(len(lines)) != f.Lines {
			t.Errorf("%s: the index counted %d bytes in %d lines, the disk holds %d bytes in %d lines",
				f.Path, f.Bytes, f.Lines, len(data), len(lines))
		}
		text[f.Path] = lines
	}
	samples := 0
	for _, fd := range idx.Findings {
		for _, s := range fd.Samples {
			samples++
			lines := text[s.File]
			if s.Line < 1 || s.Line > len(lines) {
				t.Errorf("finding %s: sample %s is past the end of the stored file (%d lines)", fd.Rule, s.LineRef, len(lines))
				continue
			}
			if got := strings.TrimRight(lines[s.Line-1], "\n"); got != s.Text {
				t.Errorf("finding %s: sample %s reads %q on disk, the index says %q", fd.Rule, s.LineRef, got, s.Text)
			}
		}
	}
	if samples == 0 {
		t.Error("the index holds no sample to check against the disk")
	}
}

// The index and the disk describe the same bytes when an archive repeats a member name, and
// when a streamed import has to undo the top folder it guessed from the first member (files
// move, and a file may move to where another one was indexed a moment before).
func TestIndexAndDiskAgree(t *testing.T) {
	tests := []struct {
		name    string
		members []member
		want    []string // stored paths
	}{
		{
			name: "duplicate member names",
			members: []member{
				{"var_log/messages", oomLine(1) + oomLine(2) + "x\ny\n"},
				{"var_log/messages", "short\n" + oomLine(3)},
				{"var_log/messages", oomLine(4)},
			},
			want: []string{"var_log/messages", "var_log/messages.dup1", "var_log/messages.dup2"},
		},
		{
			name: "top folder guess undone",
			members: []member{
				{"top/", ""},
				{"top/var_log/messages", oomLine(1) + "a\nb\n"},
				{"top/top/var_log/messages", "c\n" + oomLine(2)},
				{"var_log/messages", oomLine(3) + "d\ne\nf\n"},
			},
			want: []string{"top/var_log/messages", "top/top/var_log/messages", "var_log/messages"},
		},
	}
	for _, tt := range tests {
		// The collector's name makes Import index while it unpacks; another name indexes after.
		for _, name := range []string{"eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz", "other.tar.gz"} {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				src := filepath.Join(t.TempDir(), name)
				if err := os.WriteFile(src, tarGz(t, tt.members...), 0o644); err != nil {
					t.Fatal(err)
				}
				st, err := Open(t.TempDir(), nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := st.Import(context.Background(), src, ImportOptions{InstanceID: "i-0123456789abcdef0"})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range res.Entry.Manifest.Files {
					got = append(got, f.Path)
				}
				if strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("stored %q, want %q", got, tt.want)
				}
				idx := res.Index
				if idx == nil {
					if idx, err = st.Index(context.Background(), res.Entry, false); err != nil {
						t.Fatal(err)
					}
				}
				assertIndexMatchesDisk(t, res.Entry, idx)
			})
		}
	}
}
