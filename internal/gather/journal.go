package gather

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/journal"
)

// How LocalOptions.Journal has the node's journals read.
const (
	// JournalAuto runs journalctl, and reads the journal files with nodediag's own reader
	// (internal/journal) when journalctl is not installed.
	JournalAuto = ""
	// JournalFiles reads the journal files under Root with nodediag's reader, and runs
	// journalctl only when Root holds no journal files. The capture agent's choice: its image
	// has no journalctl, and one in a container may be older than the host's systemd.
	JournalFiles = "files"
	// JournalCommand only runs journalctl.
	JournalCommand = "journalctl"
)

// Reader names for Result.JournalReader.
const (
	ReaderJournalctl = "journalctl"
	ReaderNodediag   = "nodediag" // internal/journal, in the file's source "nodediag journal reader"
)

// journalFiles opens the journal files under Root once per gathering. found is how many files
// there are, opened or not: files that exist but cannot be read are the reader's failure to
// report, not a reason to think the node has no journal.
func (l *local) journalFiles() (j *journal.Journal, found int, err error) {
	if l.jr != nil {
		return l.jr, l.jrFound, nil
	}
	paths, err := journal.Find(l.opt.Root)
	if err != nil {
		return nil, 0, err
	}
	l.jr, l.jrFound = journal.Open(paths, journal.Limits{}), len(paths)
	for _, err := range l.jr.Skipped {
		l.b.missing("journal file", fmt.Sprintf("skipped by nodediag's journal reader: %v", err))
	}
	return l.jr, l.jrFound, nil
}

// readJournal writes what `journalctl ARGS -o short-iso-precise` would print from the journal
// files under Root into rel, read by internal/journal. It reports whether the file was kept
// and, when not, why; tried is false when Root holds no journal files to read.
func (l *local) readJournal(ctx context.Context, rel, what string, flt journal.Filter) (kept, tried bool, why string, err error) {
	j, found, err := l.journalFiles()
	if err != nil {
		return false, true, fmt.Sprintf("nodediag's journal reader could not list the journal files: %v", err), nil
	}
	if found == 0 {
		return false, false, fmt.Sprintf("no journal files under %s", journalDirs(l.opt.Root)), nil
	}
	if len(j.Files) == 0 {
		return false, true, fmt.Sprintf("none of the %d journal files under %s could be opened by nodediag's journal reader: %v", found, journalDirs(l.opt.Root), j.Skipped[0]), nil
	}
	since, err := parseSince(l.opt.Since, l.now())
	if err != nil {
		return false, true, fmt.Sprintf("nodediag's journal reader: %v", err), nil
	}
	flt.Since = since
	if flt.Kernel && l.opt.Root == "/" {
		flt.Boot = runningBoot() // journalctl -k on the running system: this boot
	}
	source := fmt.Sprintf("nodediag journal reader (journalctl %s --since %q -o short-iso-precise) of %d files under %s", what, l.opt.Since, len(j.Files), journalDirs(l.opt.Root))
	// Bounded like a journalctl command: a filter that matches little can walk a large journal.
	rctx, cancel := context.WithTimeout(ctx, l.opt.Timeout)
	defer cancel()
	pr, pw := io.Pipe()
	var readErrs []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := journal.NewWriter(pw, time.Local)
		for e, err := range j.Entries(rctx, flt) {
			if err != nil {
				readErrs = append(readErrs, err)
				continue
			}
			if err := w.Entry(e); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Close())
	}()
	var n int
	fr, ok, werr := l.b.write(ctx, rel, source, pr, countEntries(&n))
	// The builder may stop early (a size cap): end the reading goroutine too.
	pr.CloseWithError(errors.New("gather: the bundle stopped reading"))
	<-done
	if werr != nil {
		return false, true, "", werr
	}
	for _, e := range readErrs {
		if errors.Is(e, context.DeadlineExceeded) && ctx.Err() == nil {
			l.b.missing(rel, fmt.Sprintf("nodediag's journal reader was stopped at the %s timeout after %d lines: newer lines are missing", l.opt.Timeout, fr.Lines))
			continue
		}
		l.b.missing(rel, fmt.Sprintf("nodediag's journal reader stopped reading a file after %d lines: %v", fr.Lines, e))
	}
	if ok && n == 0 {
		l.b.drop(rel)
		ok = false
	}
	if !ok {
		return false, true, source + " found no entries", nil
	}
	l.b.res.JournalReader = ReaderNodediag
	return true, true, "", nil
}

func journalDirs(root string) string {
	var out []string
	for _, d := range journal.Dirs {
		out = append(out, filepath.Join(root, filepath.FromSlash(d)))
	}
	return strings.Join(out, " and ")
}

// runningBoot is this machine's boot id; zero when unknown (the journal's newest boot is used).
func runningBoot() [16]byte {
	var id [16]byte
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id
	}
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(string(data)), "-", ""))
	if err != nil || len(b) != len(id) {
		return id
	}
	copy(id[:], b)
	return id
}

var relativeSince = regexp.MustCompile(`^(\d+) (second|minute|hour|day|week)s? ago$`)

// parseSince reads the --since values Local passes to journalctl: "N units ago" (the default
// "10 days ago"), and "YYYY-MM-DD[ HH:MM[:SS]][ UTC]" in local time unless it says UTC.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := relativeSince.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return time.Time{}, fmt.Errorf("--since %q: %w", s, err)
		}
		unit := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour}[m[2]]
		return now.Add(-time.Duration(n) * unit), nil
	}
	loc := time.Local
	if rest, ok := strings.CutSuffix(s, " UTC"); ok {
		s, loc = rest, time.UTC
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q is not a time the reader understands (\"N days ago\" or \"YYYY-MM-DD HH:MM:SS [UTC]\")", s)
}
