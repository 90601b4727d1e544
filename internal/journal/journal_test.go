package journal

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/journal/journaltest"
)

// testJournal writes testdata's NAME.journal.zst (or, for "dir", the folder in dir.tar.zst)
// into a temporary folder and returns the paths of its journal files.
func testJournal(t testing.TB, name string) []string {
	t.Helper()
	dir := t.TempDir()
	if name != "dir" {
		p := filepath.Join(dir, name+".journal")
		if err := os.WriteFile(p, journaltest.Unzstd(t, "testdata/"+name+".journal.zst"), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{p}
	}
	untar(t, journaltest.Unzstd(t, "testdata/dir.tar.zst"), filepath.Join(dir, "var/log/journal"))
	paths, err := Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func untar(t testing.TB, data []byte, dst string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goldenFilters are the journalctl options each golden was printed with (testdata/make.sh).
var goldenFilters = map[string]Filter{
	"all":           {},
	"kubelet":       {Units: []string{"kubelet"}},
	"containerd":    {Units: []string{"containerd"}},
	"kernel":        {Kernel: true},
	"kubelet-since": {Units: []string{"kubelet"}, Since: time.Date(2024, 11, 29, 18, 1, 0, 0, time.UTC)},
}

// TestMatchesJournalctl renders every test journal with every filter and compares the result
// byte for byte with what journalctl 252 printed from the same file.
func TestMatchesJournalctl(t *testing.T) {
	for _, name := range []string{"default", "regular", "plain", "keyed-regular", "online", "dir"} {
		paths := testJournal(t, name)
		golden := "default"
		if name == "online" {
			golden = "online"
		}
		for fname, flt := range goldenFilters {
			t.Run(name+"/"+fname, func(t *testing.T) {
				want, err := os.ReadFile(filepath.Join("testdata", golden+"."+fname+".golden"))
				if err != nil {
					t.Fatal(err)
				}
				j := Open(paths, Limits{})
				defer j.Close()
				if len(j.Skipped) > 0 {
					t.Fatalf("files skipped: %v", j.Skipped)
				}
				var got bytes.Buffer
				if _, err := WriteShort(&got, j.Entries(context.Background(), flt), time.UTC); err != nil {
					t.Fatal(err)
				}
				if got.String() != string(want) {
					t.Errorf("output differs from journalctl's:\n%s", firstDiff(got.String(), string(want)))
				}
			})
		}
	}
}

// firstDiff shows the first differing line of two outputs.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl + "\n(" + strconv.Itoa(len(g)) + " lines, want " + strconv.Itoa(len(w)) + ")"
		}
	}
	return "same lines"
}

// TestEntriesStopsWithContext: a finished context ends the walk with its error, also while the
// kernel filter looks for the newest boot.
func TestEntriesStopsWithContext(t *testing.T) {
	j := Open(testJournal(t, "default"), Limits{})
	defer j.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, flt := range []Filter{{}, {Kernel: true}} {
		n, err := WriteShort(io.Discard, j.Entries(ctx, flt), nil)
		if n != 0 || !errors.Is(err, context.Canceled) {
			t.Errorf("filter %+v: %d entries, error %v; want none and context.Canceled", flt, n, err)
		}
	}
}

// TestFind lists what journald leaves under a root: active, archived and dirty files of every
// machine-id folder in persistent and volatile storage, and nothing else.
func TestFind(t *testing.T) {
	root := t.TempDir()
	const mid = "3d1219c7c4c5404aaa1f6d2a48adfda4"
	files := map[string]bool{
		"var/log/journal/" + mid + "/system.journal": true,
		"var/log/journal/" + mid + "/system@2b6fb1a1c2e34b0c9d6a1f2e3d4c5b6a-0000000000000001-00062810f7bd5e87.journal": true,
		"var/log/journal/" + mid + "/user-1000@0006281-1234.journal~":                                                   true,
		"run/log/journal/" + mid + "/system.journal":                                                                    true,
		"var/log/journal/" + mid + "/notes.txt":                                                                         false,
		"var/log/journal/" + mid + ".netns/system.journal":                                                              false, // another journal namespace
		"var/log/journal/remote/remote-10.0.0.1.journal":                                                                false,
		"var/log/journal/stray.journal":                                                                                 false,
	}
	var want []string
	for rel, listed := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if listed {
			want = append(want, p)
		}
	}
	got, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Find = %q\nwant %q", got, want)
	}
	if got, err := Find(t.TempDir()); err != nil || len(got) != 0 {
		t.Errorf("Find on a root without journals = %q, %v", got, err)
	}
}
