package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/index"
)

// Mirror puts a copy of a bundle kept in object storage into the store: its manifest, its
// index (as the bucket holds it, not re-encoded) and the MirrorFile mirror says where it came
// from — no files; bundle.Fetch brings each when a search or read first needs it. The copy is
// put in place whole, as an import is. A bundle the store holds with its files (imported
// here) is left alone: it is the same bundle, and more of it.
func (s *Store) Mirror(ctx context.Context, man *bundle.Manifest, indexJSON, mirror []byte) (*Entry, error) {
	final := filepath.Join(s.Root, "bundles", SafeName(man.InstanceID), SafeName(man.ID))
	lock, err := lockWait(ctx, s.bundleLock(final), nil)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: %w", man.ID, err)
	}
	defer lock.unlock()
	if e, err := s.load(final); err == nil && !e.Mirrored() {
		return e, nil
	}
	// A work folder only for a copy to put in place.
	w, err := s.newWork("mirror-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := w.release(); err != nil {
			s.log.Warn("mirror: temporary folder not removed; the next start removes it", "err", err)
		}
	}()
	staged := filepath.Join(w.Dir, "bundle")
	for _, d := range []string{"files", "index"} {
		if err := os.MkdirAll(filepath.Join(staged, d), 0o755); err != nil {
			return nil, fmt.Errorf("mirror %s: %w", man.ID, err)
		}
	}
	if err := os.WriteFile(filepath.Join(staged, "index", index.FileName), indexJSON, 0o644); err != nil {
		return nil, fmt.Errorf("mirror %s: %w", man.ID, err)
	}
	if err := os.WriteFile(filepath.Join(staged, MirrorFile), mirror, 0o644); err != nil {
		return nil, fmt.Errorf("mirror %s: %w", man.ID, err)
	}
	if err := writeManifest(staged, man); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, fmt.Errorf("make the instance folder: %w", err)
	}
	if err := s.replace(w, staged, final, s.bundleLock(final)); err != nil {
		return nil, err
	}
	return s.load(final)
}

// tmpSeq numbers the temporary files of fetches.
var tmpSeq atomic.Uint64

// PutFile puts data read by fill at path inside e's files/, through a hidden temporary file
// renamed into place, so that a reader sees the whole file or none. Two fetches of one file may
// race; each writes its own temporary file and the last rename wins with the same bytes.
func (s *Store) PutFile(e *Entry, path string, fill func(*os.File) error) error {
	root, err := os.OpenRoot(e.FilesDir())
	if err != nil {
		return err
	}
	defer root.Close()
	rel := filepath.FromSlash(path)
	if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return fmt.Errorf("fetch %s: %w", path, err)
	}
	// os.Root has no CreateTemp: the temporary name is made here, unique enough for racing
	// fetches of one process and of several.
	tmp := filepath.Join(filepath.Dir(rel), fmt.Sprintf(".%s.%d.%d.tmp", filepath.Base(rel), os.Getpid(), tmpSeq.Add(1)))
	f, err := root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", path, err)
	}
	err = fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, rel)
	}
	if err != nil {
		root.Remove(tmp)
		return fmt.Errorf("fetch %s: %w", path, err)
	}
	return nil
}

// Remove takes a bundle out of the store, whole, under its bundle lock: an indexing worker
// drops each bundle once it is published, so its disk holds one bundle at a time.
func (s *Store) Remove(ctx context.Context, e *Entry) error {
	lock, err := lockWait(ctx, s.bundleLock(e.Dir), nil)
	if err != nil {
		return fmt.Errorf("remove %s: %w", e.Manifest.ID, err)
	}
	defer lock.unlock()
	return s.removeBundleDir(e.Dir)
}
