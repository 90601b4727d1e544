package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Dirs are the folders under a root where journald keeps its files: persistent and volatile
// storage, one subfolder per machine id.
var Dirs = []string{"var/log/journal", "run/log/journal"}

// machineDir is a machine-id folder's name; "<machine-id>.<namespace>" folders belong to other
// journal namespaces, which journalctl does not read by default either.
var machineDir = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Find lists the journal files under root's Dirs: NAME.journal, archived NAME@….journal, and
// NAME.journal~, which journald renamed when it found the file dirty (read with the same care
// as any other: it may end in a half-written entry).
func Find(root string) ([]string, error) {
	var out []string
	for _, d := range Dirs {
		base := filepath.Join(root, filepath.FromSlash(d))
		subs, err := os.ReadDir(base)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		for _, s := range subs {
			if !s.IsDir() || !machineDir.MatchString(s.Name()) {
				continue
			}
			files, err := os.ReadDir(filepath.Join(base, s.Name()))
			if err != nil {
				return nil, fmt.Errorf("journal: %w", err)
			}
			for _, f := range files {
				if n := f.Name(); f.Type().IsRegular() && (strings.HasSuffix(n, ".journal") || strings.HasSuffix(n, ".journal~")) {
					out = append(out, filepath.Join(base, s.Name(), n))
				}
			}
		}
	}
	return out, nil
}

// Journal is a set of journal files read as one, like journalctl reads a folder.
type Journal struct {
	Files []*File
	// Skipped lists files that could not be opened, with why; the others are read.
	Skipped []error
}

// Open opens the files at paths. A file that cannot be opened is listed in Skipped, not fatal:
// one corrupt archive must not hide the rest of the journal.
func Open(paths []string, lim Limits) *Journal {
	j := &Journal{}
	for _, p := range paths {
		f, err := OpenFile(p, lim)
		if err != nil {
			j.Skipped = append(j.Skipped, err)
			continue
		}
		j.Files = append(j.Files, f)
	}
	return j
}

// Close closes every file.
func (j *Journal) Close() error {
	var errs []error
	for _, f := range j.Files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// Filter selects entries as journalctl's options do.
type Filter struct {
	// Units are systemd units as `journalctl -u` takes them ("kubelet" is kubelet.service). An
	// entry matches a unit as journalctl's add_matches_for_unit makes it: _SYSTEMD_UNIT=unit,
	// or UNIT=unit from PID 1, or OBJECT_SYSTEMD_UNIT=unit from root, or a coredump
	// (MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1) from root with COREDUMP_UNIT=unit.
	Units []string
	// Kernel keeps _TRANSPORT=kernel entries of one boot, as `journalctl -k` does: Boot, or when
	// it is zero the boot of the journal's newest entry, which is what journalctl -k picks when
	// given files or a root rather than the running system.
	Kernel bool
	Boot   [16]byte
	// Since drops entries the journal received before it (journalctl --since); zero: none.
	Since time.Time
}

// Entry is one journal entry.
type Entry struct {
	Seqnum    uint64
	Realtime  uint64 // µs since the epoch: when journald received it
	Monotonic uint64 // µs since the boot
	BootID    [16]byte
	Fields    []Field // in the file's order; a field may repeat
}

// Value returns the last value of the field name, as journalctl's output takes it.
func (e *Entry) Value(name string) (string, bool) {
	for i := len(e.Fields) - 1; i >= 0; i-- {
		if e.Fields[i].Name == name {
			return e.Fields[i].Value, true
		}
	}
	return "", false
}

// has reports whether the entry has the field name with value v.
func (e *Entry) has(name, v string) bool {
	for _, f := range e.Fields {
		if f.Name == name && f.Value == v {
			return true
		}
	}
	return false
}

// coredumpMessageID is systemd-coredump's MESSAGE_ID.
const coredumpMessageID = "fc2e22bc6ee647b6b90729ab34a250b1"

func (e *Entry) aboutUnit(unit string) bool {
	return e.has("_SYSTEMD_UNIT", unit) ||
		e.has("MESSAGE_ID", coredumpMessageID) && e.has("_UID", "0") && e.has("COREDUMP_UNIT", unit) ||
		e.has("_PID", "1") && e.has("UNIT", unit) ||
		e.has("_UID", "0") && e.has("OBJECT_SYSTEMD_UNIT", unit)
}

// unitSuffixes are the unit types systemd knows: a name ending in one is taken as is.
var unitSuffixes = []string{".service", ".socket", ".target", ".device", ".mount", ".automount", ".swap", ".timer", ".path", ".slice", ".scope"}

// MangleUnit turns a unit as `journalctl -u` takes it into the unit's full name: a name without
// a unit type suffix is a service.
func MangleUnit(u string) string {
	for _, s := range unitSuffixes {
		if strings.HasSuffix(u, s) {
			return u
		}
	}
	return u + ".service"
}

// head is one file's next entry in the merge.
type head struct {
	f   *File
	c   *cursor
	e   entryHead
	err error // the file's walk failed here
}

// advance moves h to the file's next entry; false when the file has no more.
func (h *head) advance() bool {
	off, ok := h.c.next()
	if !ok {
		h.err = h.c.err
		return false
	}
	e, err := h.f.entryHead(off)
	if err != nil {
		h.err = err
		return false
	}
	h.e = e
	return true
}

// before orders entries of different files as journalctl interleaves them: by monotonic time
// within one boot, else by wall-clock time, then by sequence number.
func before(a, b entryHead) bool {
	if a.bootID == b.bootID && a.monotonic != b.monotonic {
		return a.monotonic < b.monotonic
	}
	if a.realtime != b.realtime {
		return a.realtime < b.realtime
	}
	if a.seqnum != b.seqnum {
		return a.seqnum < b.seqnum
	}
	return a.off < b.off
}

// Entries returns the entries that pass flt, merged across the files. When ctx ends, it yields
// ctx's error and stops: a filter that matches little can walk a large journal without
// yielding. Each file is read up to
// its first bad entry, which yields an error once, and the other files go on; a file still being
// written (state ONLINE) just ends at its first inconsistent entry, with no error: that is where
// its writer was. The entries'
// Fields are valid until the next iteration.
func (j *Journal) Entries(ctx context.Context, flt Filter) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		m, err := j.matcher(ctx, flt)
		if err != nil {
			yield(nil, err)
			return
		}
		heads, ok := j.heads(m.since, yield)
		if !ok {
			return
		}
		e := &Entry{}
		for step := 0; len(heads) > 0; step++ {
			if step%ctxEvery == 0 && ctx.Err() != nil {
				yield(nil, fmt.Errorf("journal: reading stopped: %w", ctx.Err()))
				return
			}
			i := oldest(heads)
			h := heads[i]
			cur := h.e
			if !h.advance() {
				heads = slices.Delete(heads, i, i+1)
			}
			matched, err := m.read(h, cur, e)
			if err != nil {
				// The file's entries are read up to its first bad one, so what it gives is a
				// consistent prefix; a file still being written ends there quietly.
				heads = slices.DeleteFunc(heads, func(x *head) bool { return x == h })
				if !h.f.Online() && !yield(nil, err) {
					return
				}
				continue
			}
			if matched && !yield(e, nil) {
				return
			}
			if err := h.failedNow(); err != nil && !yield(nil, err) {
				return
			}
		}
	}
}

// matcher is a Filter made ready: units mangled, the kernel's boot and the since time resolved.
type matcher struct {
	units  []string
	kernel bool
	boot   [16]byte
	since  uint64 // realtime, µs
}

func (j *Journal) matcher(ctx context.Context, flt Filter) (matcher, error) {
	m := matcher{units: make([]string, len(flt.Units)), kernel: flt.Kernel, boot: flt.Boot}
	for i, u := range flt.Units {
		m.units[i] = MangleUnit(u)
	}
	if m.kernel && m.boot == ([16]byte{}) {
		var err error
		if m.boot, err = j.newestBoot(ctx); err != nil {
			return m, err
		}
	}
	if !flt.Since.IsZero() {
		m.since = uint64(max(flt.Since.UnixMicro(), 0))
	}
	return m, nil
}

// read fills e with cur's fields when cur passes m, and reports whether it did. Entries before
// since or of another boot are skipped by their header, without reading their fields. An
// error is the file's: its entries end here.
func (m matcher) read(h *head, cur entryHead, e *Entry) (bool, error) {
	if cur.realtime < m.since || m.kernel && cur.bootID != m.boot {
		return false, nil
	}
	fields, err := h.f.fields(cur.off, e.Fields[:0])
	if err != nil {
		return false, err
	}
	*e = Entry{Seqnum: cur.seqnum, Realtime: cur.realtime, Monotonic: cur.monotonic, BootID: cur.bootID, Fields: fields}
	return e.matches(m.kernel, m.units), nil
}

// heads opens a cursor on each file at its first entry not older than since, leaving out the
// files older than since as a whole; a file that has none because it is damaged yields its
// error. ok is false when the consumer stopped.
func (j *Journal) heads(since uint64, yield func(*Entry, error) bool) (heads []*head, ok bool) {
	for _, f := range j.Files {
		if f.before(since) {
			continue
		}
		h := &head{f: f, c: f.cursor(since)}
		if h.advance() {
			heads = append(heads, h)
		} else if err := h.failed(); err != nil && !yield(nil, err) {
			return nil, false
		}
	}
	return heads, true
}

// oldest is the index of the head whose entry comes first in journalctl's order.
func oldest(heads []*head) int {
	i := 0
	for k := 1; k < len(heads); k++ {
		if before(heads[k].e, heads[i].e) {
			i = k
		}
	}
	return i
}

// failed returns the error that ended h's file, unless the file was still being written: then
// the end is where its writer was, not corruption.
func (h *head) failed() error {
	if h.err == nil || h.f.Online() {
		return nil
	}
	return h.err
}

// failedNow reports h's error once, right after the last good entry of its file was handled.
func (h *head) failedNow() error {
	err := h.failed()
	h.err = nil
	return err
}

func (e *Entry) matches(kernel bool, units []string) bool {
	if kernel && !e.has("_TRANSPORT", "kernel") {
		return false
	}
	if len(units) == 0 {
		return true
	}
	for _, u := range units {
		if e.aboutUnit(u) {
			return true
		}
	}
	return false
}

// ctxEvery is how many entries are read between looks at the context.
const ctxEvery = 1024

// newestBoot is the boot of the entry that sorts last.
func (j *Journal) newestBoot(ctx context.Context) ([16]byte, error) {
	var last entryHead
	found := false
	for _, f := range j.Files {
		e, ok, err := newest(ctx, f)
		if err != nil {
			return [16]byte{}, err
		}
		if ok && (!found || before(last, e)) {
			last, found = e, true
		}
	}
	return last.bootID, nil
}

// newest is f's newest entry. It is the last of f's entry arrays, so only the arrays and one
// entry header are read; when that entry cannot be read (a file cut mid-write), the entries
// are walked to the last one that can.
func newest(ctx context.Context, f *File) (entryHead, bool, error) {
	if off, ok := f.cursor(0).last(); ok {
		if e, err := f.entryHead(off); err == nil {
			return e, true, nil
		}
	}
	var last entryHead
	found := false
	h := &head{f: f, c: f.cursor(0)}
	for n := 0; h.advance(); n++ {
		if n%ctxEvery == 0 && ctx.Err() != nil {
			return last, false, fmt.Errorf("journal: finding the newest boot: %w", ctx.Err())
		}
		last, found = h.e, true
	}
	return last, found, nil
}

// BootString formats a boot id as journalctl does: 32 lowercase hex digits.
func BootString(id [16]byte) string { return fmt.Sprintf("%x", id[:]) }
