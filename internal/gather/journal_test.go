package gather

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/journal/journaltest"
)

// hostWithJournal is a node root holding internal/journal's real test journal (written by
// systemd-journal-remote 252) where journald keeps its files.
func hostWithJournal(t *testing.T) string {
	t.Helper()
	raw := journaltest.Unzstd(t, "../journal/testdata/default.journal.zst")
	root := t.TempDir()
	writeFile(t, root, "var/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4/system.journal", string(raw))
	writeFile(t, root, "etc/hostname", "ip-10-0-37-142.us-west-2.compute.internal\n")
	return root
}

// inUTC runs the test with the local zone UTC, as the agent runs: the reader, like journalctl,
// prints local times, and the goldens were printed with TZ=UTC.
func inUTC(t *testing.T) {
	old := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = old })
}

func golden(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../journal/testdata/default." + name + ".golden")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestLocalReadsJournalFiles: with no journalctl on the node, the kubelet, containerd and kernel
// journals come from the journal files, exactly as journalctl would have printed them, and the
// manifest says nodediag's reader read them.
func TestLocalReadsJournalFiles(t *testing.T) {
	inUTC(t)
	root := hostWithJournal(t)
	var calls []string
	run := func(_ context.Context, name string, args ...string) (io.ReadCloser, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		return nil, exec.ErrNotFound
	}
	for _, c := range []struct {
		since, kubelet string
	}{
		{"2024-11-01 00:00:00 UTC", "kubelet"},
		{"2024-11-29 18:01:00 UTC", "kubelet-since"},
		{"2024-11-29 18:01:00", "kubelet-since"}, // local time, UTC here
	} {
		t.Run(c.since, func(t *testing.T) {
			calls = nil
			res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Run: run, Since: c.since})
			if err != nil {
				t.Fatal(err)
			}
			read := func(rel string) string {
				data, err := os.ReadFile(filepath.Join(res.Dir, rel))
				if err != nil {
					t.Fatal(err)
				}
				return string(data)
			}
			if got, want := read("kubelet/kubelet.log"), golden(t, c.kubelet); got != want {
				t.Errorf("kubelet.log is not journalctl's output:\ngot  %.300q\nwant %.300q", got, want)
			}
			if c.kubelet == "kubelet" {
				for rel, g := range map[string]string{"containerd/containerd-log.txt": "containerd", "kernel/dmesg.journal": "kernel"} {
					if got, want := read(rel), golden(t, g); got != want {
						t.Errorf("%s is not journalctl's output:\ngot  %.300q\nwant %.300q", rel, got, want)
					}
				}
			}
			if res.JournalReader != ReaderNodediag {
				t.Errorf("journal reader %q, want %q", res.JournalReader, ReaderNodediag)
			}
			var man Result
			if err := json.Unmarshal([]byte(read(ManifestName)), &man); err != nil {
				t.Fatal(err)
			}
			for _, f := range man.Files {
				if strings.HasPrefix(f.Path, "kubelet/") && !strings.HasPrefix(f.Source, "nodediag journal reader") {
					t.Errorf("%s source %q does not say nodediag's reader read it", f.Path, f.Source)
				}
			}
			if man.JournalReader != ReaderNodediag {
				t.Errorf("manifest journalReader %q", man.JournalReader)
			}
			// journalctl was tried first (the node might have it), dmesg never: the journal had
			// the kernel's messages.
			for _, c := range calls {
				if !strings.HasPrefix(c, "journalctl ") {
					t.Errorf("ran %q", c)
				}
			}
		})
	}
}

// TestLocalJournalFilesCaps: the reader's output is cut at the per-file cap and the bundle's
// budget like journalctl's, and the cut is recorded.
func TestLocalJournalFilesCaps(t *testing.T) {
	inUTC(t)
	root := hostWithJournal(t)
	run := func(context.Context, string, ...string) (io.ReadCloser, error) {
		t.Error("JournalFiles ran a command though the root holds journal files")
		return nil, exec.ErrNotFound
	}
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Run: run, Journal: JournalFiles,
		Since: "2024-11-01 00:00:00 UTC", MaxFileBytes: 4000, MaxTotalBytes: 9000})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range res.Files {
		total += f.Bytes
		if f.Bytes > 4000 {
			t.Errorf("%s is %d bytes, over the cap", f.Path, f.Bytes)
		}
		if f.Path == "kubelet/kubelet.log" {
			data, err := os.ReadFile(filepath.Join(res.Dir, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			if !f.Truncated || !strings.HasPrefix(golden(t, "kubelet"), string(data)) {
				t.Errorf("kubelet.log: truncated %v, %d bytes, want a cut prefix of journalctl's output", f.Truncated, len(data))
			}
		}
	}
	if total > 9000 {
		t.Errorf("%d bytes in all, over the budget", total)
	}
	cuts := 0
	for _, m := range res.Missing {
		if strings.Contains(m.Why, "size cap") || strings.Contains(m.Why, "byte budget") {
			cuts++
		}
	}
	if cuts < 2 {
		t.Errorf("missing %+v: want the cuts recorded", res.Missing)
	}
}

// TestLocalJournalFilesFallBack: under JournalFiles, a root without journal files has
// journalctl run, as before.
func TestLocalJournalFilesFallBack(t *testing.T) {
	root := t.TempDir()
	since := "10 days ago"
	f := &fakeRunner{t: t, out: map[string]string{
		"journalctl|-u|kubelet|--since|" + since + "|-o|short-iso-precise|--no-pager":    "2026-11-20T10:00:00.000000+0000 h kubelet[1]: a\n",
		"journalctl|-u|containerd|--since|" + since + "|-o|short-iso-precise|--no-pager": "-- No entries --\n",
		"journalctl|-k|--since|" + since + "|-o|short-iso-precise|--no-pager":            "2026-11-20T10:00:00.000000+0000 h kernel: b\n",
	}}
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Run: f.run, Journal: JournalFiles})
	if err != nil {
		t.Fatal(err)
	}
	if res.JournalReader != ReaderJournalctl || len(f.calls) != 3 {
		t.Errorf("reader %q after %q, want journalctl's three calls", res.JournalReader, f.calls)
	}
	for _, m := range res.Missing {
		if m.What == "containerd/containerd-log.txt" && !strings.Contains(m.Why, "no journal files under") {
			t.Errorf("containerd missing: %q, want it to say the root has no journal files", m.Why)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"10 days ago", now.Add(-240 * time.Hour), false},
		{"1 hour ago", now.Add(-time.Hour), false},
		{"30 minutes ago", now.Add(-30 * time.Minute), false},
		{"2026-11-20 10:04:05 UTC", time.Date(2026, 11, 20, 10, 4, 5, 0, time.UTC), false},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local), false},
		{"yesterday", time.Time{}, true},
		{"10 fortnights ago", time.Time{}, true},
	} {
		got, err := parseSince(c.in, now)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

// TestLocalJournalFilesTimeout: the reader is bounded by the per-command timeout like journalctl,
// and the bundle says the journals were cut by it.
func TestLocalJournalFilesTimeout(t *testing.T) {
	root := hostWithJournal(t)
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Journal: JournalFiles,
		Since: "2024-11-01 00:00:00 UTC", Timeout: time.Nanosecond,
		Run: func(context.Context, string, ...string) (io.ReadCloser, error) { return nil, exec.ErrNotFound }})
	if err != nil {
		t.Fatal(err)
	}
	said := false
	for _, m := range res.Missing {
		said = said || m.What == "kubelet/kubelet.log" && strings.Contains(m.Why, "stopped at the 1ns timeout")
	}
	if !said {
		t.Errorf("missing %+v: want kubelet.log cut at the timeout", res.Missing)
	}
}

// TestLocalJournalFilesUnreadable: journal files that exist but cannot be opened are reported as
// such, naming the file, rather than as a node without a journal.
func TestLocalJournalFilesUnreadable(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "var/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4/system.journal", "not a journal file at all, too short")
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Journal: JournalFiles,
		Run: func(context.Context, string, ...string) (io.ReadCloser, error) { return nil, exec.ErrNotFound }})
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, m := range res.Missing {
		why[m.What] = m.Why
	}
	if !strings.Contains(why["kubelet/kubelet.log"], "none of the 1 journal files") || !strings.Contains(why["journal file"], "system.journal") {
		t.Errorf("missing %+v: want the unreadable file named", res.Missing)
	}
}
