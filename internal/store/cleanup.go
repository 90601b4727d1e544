package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nodediag/nodediag/internal/index"
)

// ErrDamaged reports a stored bundle that is not whole: files its manifest lists are missing or
// of another size, or its index is missing. This nodediag never leaves one behind; an older one
// killed in the middle of `import --force` could.
var ErrDamaged = errors.New("damaged bundle")

// Action is one thing Cleanup or Repair did to the store.
type Action struct {
	Path string `json:"path" yaml:"path"` // relative to the store root
	Did  string `json:"did" yaml:"did"`
}

// Cleanup removes what killed runs left behind, and only that: work folders in tmp/ whose lock
// it can take (after putting back a bundle that a two-step replacement had moved aside), entries
// of tmp/ without a lock that nothing has touched for unownedGrace (an older nodediag's), bundle
// folders without a manifest, and the index.old folders an older nodediag's index writes left in
// bundles (their .index-* folders too, when Repair calls it). It never touches a folder a running
// nodediag holds the lock of. Failures are logged, not returned: a store that cannot be tidied
// can still be read.
func (s *Store) Cleanup() []Action { return s.cleanup(false) }

func (s *Store) cleanup(thorough bool) []Action {
	var did []Action
	ents, err := s.scanTmp()
	if err != nil {
		s.log.Warn("cleanup: cannot read tmp/", "err", err)
	}
	for _, te := range ents {
		if te.State != tmpDead && te.State != tmpAbandoned {
			continue
		}
		restored, err := s.removeDead(te)
		if restored != "" {
			did = append(did, Action{Path: s.rel(restored), Did: "put back the previous folder, which an interrupted replacement had moved aside"})
			s.log.Warn("cleanup: put back a folder an interrupted replacement had moved aside", "path", restored)
		}
		if err != nil {
			s.log.Warn("cleanup: leftover of a killed run not removed", "path", te.Path, "err", err)
			continue
		}
		did = append(did, Action{Path: s.rel(te.Path), Did: "removed the temporary folder of a run that was killed"})
		s.log.Info("cleanup: removed the temporary folder of a killed run", "path", te.Path)
	}
	dirs, err := s.bundleDirs()
	if err != nil {
		s.log.Warn("cleanup: cannot read bundles/", "err", err)
	}
	for _, dir := range dirs {
		acts, err := s.cleanBundleDir(dir, thorough)
		did = append(did, acts...)
		if err != nil && !errors.Is(err, errBusy) {
			s.log.Warn("cleanup: bundle folder not tidied", "dir", dir, "err", err)
		}
	}
	return did
}

// bundleDirs lists the folders bundles/<instance>/<bundle>.
func (s *Store) bundleDirs() ([]string, error) {
	root := filepath.Join(s.Root, "bundles")
	insts, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	var out []string
	for _, in := range insts {
		if !in.IsDir() {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(root, in.Name()))
		if err != nil {
			return out, fmt.Errorf("read %s: %w", filepath.Join(root, in.Name()), err)
		}
		for _, b := range ents {
			if b.IsDir() {
				out = append(out, filepath.Join(root, in.Name(), b.Name()))
			}
		}
	}
	return out, nil
}

// legacyIndexLeftover recognises what index.Save of earlier nodediags left in a bundle folder
// when killed: the previous index moved aside, or a new one not yet renamed into place.
func legacyIndexLeftover(name string) bool {
	return name == "index.old" || strings.HasPrefix(name, ".index-")
}

// cleanBundleDir tidies one bundle folder under its bundle lock, taken without waiting (a
// folder some run is changing is left for the next start): a folder without a manifest is
// removed; index.old goes back in place when the index is missing, and is removed otherwise.
func (s *Store) cleanBundleDir(dir string, thorough bool) ([]Action, error) {
	// Open runs this on every bundle, every time: two stats instead of reading the folder keep
	// it at a few µs a bundle. The .index-* folders need a listing, so only doctor --repair
	// (thorough) looks for them.
	_, err := os.Lstat(filepath.Join(dir, ManifestFile))
	hasManifest := err == nil
	_, err = os.Lstat(filepath.Join(dir, "index.old"))
	leftovers := err == nil
	if thorough {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		for _, de := range ents {
			leftovers = leftovers || legacyIndexLeftover(de.Name())
		}
	}
	if hasManifest && !leftovers {
		return nil, nil
	}
	l, ok, err := tryLock(s.bundleLock(dir))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errBusy
	}
	defer l.unlock()
	if _, err := os.Lstat(filepath.Join(dir, ManifestFile)); errors.Is(err, fs.ErrNotExist) {
		if err := s.removeBundleDir(dir); err != nil {
			return nil, err
		}
		s.log.Warn("cleanup: removed a bundle folder without a manifest", "dir", dir)
		return []Action{{Path: s.rel(dir), Did: "removed a bundle folder without a manifest (left by an interrupted run)"}}, nil
	}
	var did []Action
	old, idx := filepath.Join(dir, "index.old"), filepath.Join(dir, "index")
	if _, err := os.Stat(filepath.Join(old, index.FileName)); err == nil {
		if _, err := os.Lstat(idx); errors.Is(err, fs.ErrNotExist) {
			if err := os.Rename(old, idx); err != nil {
				return did, fmt.Errorf("put back %s: %w", old, err)
			}
			did = append(did, Action{Path: s.rel(idx), Did: "put back the index an interrupted index write had moved aside"})
		}
	}
	rest, err := os.ReadDir(dir)
	if err != nil {
		return did, fmt.Errorf("read %s: %w", dir, err)
	}
	for _, de := range rest {
		if !legacyIndexLeftover(de.Name()) {
			continue
		}
		p := filepath.Join(dir, de.Name())
		if err := os.RemoveAll(p); err != nil {
			return did, fmt.Errorf("remove %s: %w", p, err)
		}
		did = append(did, Action{Path: s.rel(p), Did: "removed the leftover of an interrupted index write"})
	}
	return did, nil
}

// removeBundleDir takes a bundle folder out of bundles/ in one rename into a work folder, then
// deletes it: deleting in place could be killed halfway and leave a bundle whose manifest
// lists files that are gone. The caller holds the bundle lock.
func (s *Store) removeBundleDir(dir string) error {
	w, err := s.newWork("remove-")
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	if err := os.Rename(dir, filepath.Join(w.Dir, "bundle")); err != nil {
		w.release()
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	if err := w.release(); err != nil {
		s.log.Warn("removed bundle not deleted yet; the next start deletes it", "err", err)
	}
	return nil
}

// CheckFiles returns ErrDamaged when a file e's manifest lists is missing or changed: List
// does not look (it would stat every file of every bundle), so a caller that reads many
// bundles' files or rebuilds their indexes checks each one it is about to use.
func (s *Store) CheckFiles(e *Entry) error { return s.checkFiles(e) }

// checkFiles returns ErrDamaged when a file e's manifest lists is missing from files/ or has
// another size than when it was stored.
func (s *Store) checkFiles(e *Entry) error {
	probs := fileProblems(e)
	if len(probs) == 0 {
		return nil
	}
	more := ""
	if len(probs) > 3 {
		more = fmt.Sprintf(" and %d more", len(probs)-3)
		probs = probs[:3]
	}
	return fmt.Errorf("bundle %s: %s%s: %w (run `nodediag doctor --repair`, then import it again)",
		e.Manifest.ID, strings.Join(probs, "; "), more, ErrDamaged)
}

// fileProblems lists, one line each, the manifest's files that are not in files/ as stored.
// Paths are looked up through an os.Root, so a manifest naming ../ cannot make it stat
// anything outside the bundle.
func fileProblems(e *Entry) []string {
	root, err := os.OpenRoot(e.FilesDir())
	if err != nil {
		return []string{fmt.Sprintf("files/: %v", err)}
	}
	defer root.Close()
	mirrored := e.Mirrored()
	var out []string
	for _, f := range e.Manifest.Files {
		info, err := root.Lstat(filepath.FromSlash(f.Path))
		switch {
		case errors.Is(err, fs.ErrNotExist) && mirrored:
			// fetched from the bucket when a search or read needs it
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, f.Path+": missing")
		case err != nil:
			out = append(out, fmt.Sprintf("%s: %v", f.Path, err))
		case !info.Mode().IsRegular():
			out = append(out, fmt.Sprintf("%s: a %v, not a file", f.Path, info.Mode().Type()))
		case info.Size() != f.Size:
			out = append(out, fmt.Sprintf("%s: %d bytes, the manifest says %d", f.Path, info.Size(), f.Size))
		}
	}
	return out
}

// rel names p relative to the store root for reports.
func (s *Store) rel(p string) string {
	r, err := filepath.Rel(s.Root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// indexMismatch says why idx is not the index of e's files, or "".
func indexMismatch(e *Entry, idx *index.Index) string {
	m := e.Manifest
	if idx.BundleID != m.ID || idx.InstanceID != m.InstanceID {
		return fmt.Sprintf("the index is of bundle %s of %s, the manifest of %s of %s", idx.BundleID, idx.InstanceID, m.ID, m.InstanceID)
	}
	paths := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	for _, f := range idx.Files {
		if _, ok := slices.BinarySearch(paths, f.Path); !ok {
			return "the index covers " + f.Path + ", which the manifest does not list"
		}
	}
	return ""
}
