package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// frames splits what a renderer wrote into its lines (ended by "\n") and, within each line, the
// frames redrawn over each other (each starting with "\r").
func frames(s string) [][]string {
	var out [][]string
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		var fs []string
		for _, f := range strings.Split(strings.TrimSuffix(line, "\n"), "\r") {
			if f = strings.TrimSpace(strings.NewReplacer("\x1b[0K", "", "\x1b[K", "").Replace(f)); f != "" && !strings.HasPrefix(f, "\x1b[") {
				fs = append(fs, f)
			}
		}
		out = append(out, fs)
	}
	return out
}

// last is the final frame of each line: what stays on screen.
func last(s string) []string {
	var out []string
	for _, fs := range frames(s) {
		if len(fs) > 0 {
			out = append(out, fs[len(fs)-1])
		}
	}
	return out
}

func TestPhases(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, true, true)
	r.Steps("automation", 1, 4, "collectLogs")
	r.Steps("automation", 3, 4, "uploadLogs")
	r.Bytes("download", 0, 8<<20)
	r.Bytes("download", 4<<20, 8<<20)
	r.Bytes("download", 8<<20, 8<<20)
	r.Status("import", "indexing the bundle")
	r.Done()
	r.Done() // nothing drawn since: writes nothing
	got := last(buf.String())
	want := [][]string{
		{"automation uploadLogs", "3/4", "75%"},
		{"download", "100%", "8.0/8.0 MiB"},
		{"import indexing the bundle"},
	}
	if len(got) != len(want) || !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("lines on screen %q, want %d lines, the last ended", got, len(want))
	}
	for i, w := range want {
		for _, s := range w {
			if !strings.Contains(got[i], s) {
				t.Errorf("line %d %q lacks %q", i, got[i], s)
			}
		}
	}
	// Every update of a line drew a frame: the steps' 1/4 and the download's 50% were seen.
	all := buf.String()
	for _, s := range []string{"1/4", "automation collectLogs", "50%"} {
		if !strings.Contains(all, s) {
			t.Errorf("no frame shows %q:\n%q", s, all)
		}
	}
}

func TestUnknownTotals(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, true, true)
	r.Bytes("download", 3<<20, 0)
	r.Steps("gathering", 0, 0, "node ip-10-0-1-2")
	r.Steps("gathering", 2, 5, "journalctl -u kubelet") // the count became known
	r.Done()
	got := last(buf.String())
	if len(got) != 2 || !strings.Contains(got[0], "download") || !strings.Contains(got[0], "3.0 MiB") ||
		!strings.Contains(got[1], "gathering journalctl -u kubelet") || !strings.Contains(got[1], "2/5") {
		t.Errorf("lines on screen %q", got)
	}
}

// TestQuiet: a renderer that is not on a terminal, or is told to be quiet, writes nothing.
func TestQuiet(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for name, r := range map[string]*Renderer{
		"disabled":            New(&buf, false, true),
		"buffer is no tty":    ForStderr(&buf, false),
		"regular file no tty": ForStderr(f, false),
		"quiet":               ForStderr(f, true),
		"nil":                 nil,
	} {
		r.Steps("automation", 1, 2, "a")
		r.Bytes("download", 1, 2)
		r.Status("import", "x")
		r.Done()
		if r.Enabled() {
			t.Errorf("%s: enabled", name)
		}
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 || st.Size() != 0 {
		t.Errorf("quiet renderers wrote %q and %d bytes to a file", buf.String(), st.Size())
	}
}
