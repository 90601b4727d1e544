package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Layout of a work folder, <root>/tmp/<prefix>XXXX: the folder is owned by the one running
// operation that holds the lock on its sibling <root>/tmp/<prefix>XXXX.lock. What the operation
// builds (a bundle, an index) is staged inside it and renamed into bundles/ when whole; what it
// replaces lands back inside it and goes when the folder is removed. So a kill at any moment
// leaves its debris in tmp/, never in bundles/, and the next Open removes the folders whose lock
// it can take.
const (
	lockSuffix = ".lock"
	recordName = "work.json" // where a replacement is going, for putting the old folder back
	asideName  = "old"       // the previous folder, moved aside when no atomic exchange exists
)

// strayGrace is how long a lock file of tmp/ without its folder is left alone: its operation
// may have created and not yet locked it (the folder comes right after), a matter of
// microseconds, or been killed before making its folder.
const strayGrace = time.Minute

// unownedGrace is how long a folder in tmp/ without a lock file is left alone. Folders this
// nodediag makes have their lock from the start; one without is from an older nodediag that
// took no locks, and may belong to an import it is running now, so it is removed only once
// nothing in it has changed for this long.
const unownedGrace = time.Hour

// hook is called at named points of imports and index writes. Tests set it to stop a helper
// process at a point and kill it there; in production it does nothing.
var hook = func(point string) {}

// forceTwoStep makes replace use its fallback (move aside, then rename) even where renameat2
// can exchange folders, so that tests on Linux cover the path other systems take.
var forceTwoStep = false

var errNoExchange = errors.New("atomic exchange of folders is not supported here")

// work is a folder under tmp/ that one running operation owns.
type work struct {
	Dir  string
	lock *lockFile
}

// newWork makes a work folder and locks it. The lock comes first, as a sibling file, and the
// folder only once it is held: a folder a cleanup can see always has its lock taken already, so
// a kill at any moment leaves either a folder whose lock a cleanup can take or a lone lock file.
func (s *Store) newWork(prefix string) (*work, error) {
	tmp := filepath.Join(s.Root, "tmp")
	for range 100 {
		name := prefix + strconv.FormatUint(rand.Uint64(), 36)
		f, err := os.OpenFile(filepath.Join(tmp, name+lockSuffix), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("make a work folder in %s: %w", tmp, err)
		}
		ok, err := lockFd(f)
		if err == nil && !ok {
			err = errors.New("a lock file just created is locked by someone else")
		}
		dir := filepath.Join(tmp, name)
		if err == nil {
			err = os.Mkdir(dir, 0o755)
		}
		if err != nil {
			os.Remove(f.Name())
			f.Close()
			return nil, fmt.Errorf("make a work folder in %s: %w", tmp, err)
		}
		return &work{Dir: dir, lock: &lockFile{f: f}}, nil
	}
	return nil, fmt.Errorf("make a work folder in %s: 100 names taken", tmp)
}

// release removes the work folder, then its lock file, then drops the lock. The folder goes
// while the lock is still held, so no cleanup can start on a folder half removed; Windows cannot
// delete an open file, so there the lock file is removed after closing it.
func (w *work) release() error {
	err := os.RemoveAll(w.Dir)
	lockPath := w.Dir + lockSuffix
	rerr := os.Remove(lockPath)
	uerr := w.lock.unlock()
	if rerr != nil {
		os.Remove(lockPath)
	}
	if err != nil {
		err = os.RemoveAll(w.Dir)
	}
	if err != nil {
		return fmt.Errorf("remove work folder %s: %w", w.Dir, err)
	}
	return uerr
}

// workRecord says, inside a work folder, which store folder the operation is replacing and
// under which lock. Cleanup reads it to undo a half-done two-step replacement.
type workRecord struct {
	Target string `json:"target"` // relative to the store root
	Lock   string `json:"lock"`   // relative to the store root
}

// bundleLock is the lock that serialises every change to the bundle folder dir
// (<root>/bundles/<instance>/<bundle>): an import, an index write, a repair. Lock files are
// never removed: removing one while another process waits on it would let two holders in.
func (s *Store) bundleLock(dir string) string {
	return filepath.Join(s.Root, "locks", filepath.Base(filepath.Dir(dir)), filepath.Base(dir)+".lock")
}

// replace puts the folder staged, which lives inside w, at final, whose bundle lock the caller
// holds. A reader looking up final sees the folder that was there or the new one, never a mix of
// both. On Linux the two are exchanged in one renameat2(RENAME_EXCHANGE) and the old one ends up
// at staged, removed with w. Elsewhere (or where the file system cannot exchange) the old one is
// moved aside into w and the new one renamed in: between the two renames final is missing for a
// moment, and if the process dies there, cleanup moves the old one back.
func (s *Store) replace(w *work, staged, final, lock string) error {
	if _, err := os.Lstat(final); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(staged, final); err != nil {
			return fmt.Errorf("move %s into place: %w", final, err)
		}
		return nil
	}
	if !forceTwoStep {
		err := exchange(staged, final)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errNoExchange) {
			return fmt.Errorf("replace %s: %w", final, err)
		}
		s.log.Debug("no atomic exchange here; replacing in two steps", "target", final, "err", err)
	}
	data, err := json.Marshal(workRecord{Target: s.rel(final), Lock: s.rel(lock)})
	if err != nil {
		return fmt.Errorf("replace %s: %w", final, err)
	}
	if err := os.WriteFile(filepath.Join(w.Dir, recordName), data, 0o644); err != nil {
		return fmt.Errorf("replace %s: record the replacement: %w", final, err)
	}
	aside := filepath.Join(w.Dir, asideName)
	if err := os.Rename(final, aside); err != nil {
		return fmt.Errorf("replace %s: move the previous one aside: %w", final, err)
	}
	hook("replace:moved-aside")
	if err := os.Rename(staged, final); err != nil {
		if rerr := os.Rename(aside, final); rerr != nil {
			return fmt.Errorf("replace %s: %w; and putting the previous one back failed, it is in %s: %w", final, err, aside, rerr)
		}
		return fmt.Errorf("replace %s: %w", final, err)
	}
	return nil
}

// tmpState is what a folder in tmp/ is.
type tmpState int

const (
	tmpLive      tmpState = iota // its lock is held: an operation is running in it
	tmpDead                      // its lock could be taken: its operation is gone
	tmpUnowned                   // no lock file and changed within unownedGrace: left alone
	tmpAbandoned                 // no lock file and unchanged for unownedGrace
)

// tmpEntry is one folder (or stray file) in tmp/. For tmpDead the scan holds its lock, so that
// nobody else acts on it until done is called.
type tmpEntry struct {
	Name  string
	Path  string
	State tmpState
	lock  *lockFile
}

func (e *tmpEntry) done() { e.lock.unlock() }

// scanTmp classifies what is in tmp/, taking the locks of the dead folders. A folder's lock is
// its sibling <name>.lock; a lock file without its folder is stray.
func (s *Store) scanTmp() ([]*tmpEntry, error) {
	dir := filepath.Join(s.Root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	names := map[string]bool{}
	for _, de := range ents {
		names[de.Name()] = true
	}
	var out []*tmpEntry
	for _, de := range ents {
		te := &tmpEntry{Name: de.Name(), Path: filepath.Join(dir, de.Name())}
		if base, ok := strings.CutSuffix(de.Name(), lockSuffix); ok && !de.IsDir() {
			if names[base] {
				continue // the lock of a folder: judged with it
			}
			s.classifyStray(te)
		} else {
			s.classify(te, te.Path+lockSuffix)
		}
		out = append(out, te)
	}
	return out, nil
}

func (s *Store) classify(te *tmpEntry, lockPath string) {
	l, ok, err := tryLockExisting(lockPath)
	switch {
	case err == nil && ok:
		te.State, te.lock = tmpDead, l
	case err == nil:
		te.State = tmpLive
	case errors.Is(err, fs.ErrNotExist):
		// No lock: an older nodediag's folder, or a stray file; nothing says who owns it.
		te.State = tmpUnowned
		if !changedWithin(te.Path, unownedGrace) {
			te.State = tmpAbandoned
		}
	default:
		s.log.Warn("cannot tell whether a temporary folder is in use; left alone", "path", te.Path, "err", err)
		te.State = tmpLive
	}
}

// classifyStray judges a lock file without its folder: dead once nobody holds it and it is older
// than strayGrace.
func (s *Store) classifyStray(te *tmpEntry) {
	te.State = tmpUnowned
	if changedWithin(te.Path, strayGrace) {
		return
	}
	l, ok, err := tryLockExisting(te.Path)
	switch {
	case err == nil && ok:
		te.State, te.lock = tmpDead, l
	case err == nil:
		te.State = tmpLive
	}
}

// changedWithin says whether anything under p was modified less than d ago. It stops at the
// first recent entry, and an unreadable tree counts as recent: when in doubt, keep.
func changedWithin(p string, d time.Duration) bool {
	cut := time.Now().Add(-d)
	recent := errors.New("recent")
	err := filepath.WalkDir(p, func(_ string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(cut) {
			return recent
		}
		return nil
	})
	return err != nil
}

// removeDead removes a dead work folder after undoing a two-step replacement its operation left
// half done: when the target is missing and the previous folder is aside, it goes back.
func (s *Store) removeDead(te *tmpEntry) (restored string, err error) {
	defer te.done()
	if info, err := os.Lstat(te.Path); err == nil && info.IsDir() && te.State == tmpDead {
		restored, err = s.restoreAside(te.Path)
		if err != nil {
			return "", err
		}
	}
	if err := os.RemoveAll(te.Path); err != nil {
		return restored, fmt.Errorf("remove %s: %w", te.Path, err)
	}
	// The folder's lock goes after it, still held (Windows: after done closes it, by the next
	// cleanup, as a stray lock).
	if !strings.HasSuffix(te.Path, lockSuffix) {
		os.Remove(te.Path + lockSuffix)
	}
	return restored, nil
}

func (s *Store) restoreAside(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, recordName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", filepath.Join(dir, recordName), err)
	}
	var rec workRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return "", fmt.Errorf("read %s: %w", filepath.Join(dir, recordName), err)
	}
	aside := filepath.Join(dir, asideName)
	if rec.Target == "" || !filepath.IsLocal(filepath.FromSlash(rec.Target)) || !filepath.IsLocal(filepath.FromSlash(rec.Lock)) {
		return "", nil // not written by replace: touch nothing outside the store
	}
	if _, err := os.Lstat(aside); err != nil {
		return "", nil // the replacement never moved anything aside
	}
	target := filepath.Join(s.Root, filepath.FromSlash(rec.Target))
	l, ok, err := tryLock(filepath.Join(s.Root, filepath.FromSlash(rec.Lock)))
	if err != nil {
		return "", err
	}
	if !ok {
		// Someone is changing that bundle now and will put something at target; keep the old
		// one until they are done.
		return "", fmt.Errorf("restore %s: %w", target, errBusy)
	}
	defer l.unlock()
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		return "", nil // the new folder made it into place; the old one is debris
	}
	if err := os.Rename(aside, target); err != nil {
		return "", fmt.Errorf("put %s back from %s: %w", target, aside, err)
	}
	return target, nil
}

// errBusy reports a bundle that another running operation holds.
var errBusy = errors.New("in use by a running nodediag")

// WorkDir makes a folder under tmp/ for an operation outside this package (the collector
// gathers a node's logs there before importing them) and locks it like the store's own, so
// that cleanup removes it if the process is killed and never while it runs. release removes
// it.
func (s *Store) WorkDir(prefix string) (dir string, release func() error, err error) {
	w, err := s.newWork(prefix)
	if err != nil {
		return "", nil, err
	}
	return w.Dir, w.release, nil
}
