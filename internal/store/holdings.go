package store

import (
	"os"
	"path/filepath"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
)

// Holdings is what the store held when it was read, indexed for checking many archives against
// it: one listing for a whole batch instead of one per archive (each listing reads every
// manifest, so per archive a batch of n into a store of n would read n² manifests).
type Holdings struct {
	s        *Store
	byOrigin map[string]*Entry    // absolute archive path → the bundle imported from it
	byID     map[[2]string]*Entry // instance, bundle id → bundle
}

// Holdings reads the store once.
func (s *Store) Holdings() (*Holdings, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	h := &Holdings{s: s, byOrigin: map[string]*Entry{}, byID: map[[2]string]*Entry{}}
	// List is newest capture first; the first bundle seen for an origin is the newest.
	for _, e := range all {
		m := e.Manifest
		if _, ok := h.byOrigin[m.Origin]; !ok && m.Origin != "" && m.OriginSize > 0 {
			h.byOrigin[m.Origin] = e
		}
		h.byID[[2]string{m.InstanceID, m.ID}] = e
	}
	return h, nil
}

// Match says why an archive needs no import.
type Match struct {
	Entry *Entry
	Why   string
}

// Has returns the intact stored bundle that importing the archive at src (with instance as
// --instance, or "") would give again, judged without opening the archive:
//   - the same file, unchanged: the bundle imported from this path, with this size and
//     modification time (what `--bundle PATH` reuses);
//   - an archive whose name decides its identity (the log collector's eks_<instance>_<time>-UTC_…)
//     and whose name and size are those of a stored bundle's archive: the bundle id the import
//     would compute is that bundle's, so Import would find it and write nothing.
//
// A folder, or an archive named otherwise and not seen at this path, is not judged here: its
// identity depends on what is inside, and Import itself finds the bundle after extracting it.
func (h *Holdings) Has(src string) (Match, bool) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return Match{}, false
	}
	info, err := os.Stat(abs)
	if err != nil || !info.Mode().IsRegular() {
		return Match{}, false
	}
	return h.match(abs, abs, info.Size(), info.ModTime(), "the same archive (path, size and modification time) was imported before")
}

// HasObject is Has for an archive in a bucket, judged by what the bucket lists: the bundle
// imported from this object URL with its size and modification time, or, for a collector-named
// archive, the bundle its name and size give.
func (h *Holdings) HasObject(origin, name string, size int64, mod time.Time) (Match, bool) {
	return h.match(origin, name, size, mod, "the same object (URL, size and modification time) was imported before")
}

// match finds the bundle imported from origin with this size and modification time (sameWhy
// says so), else the one a collector-named archive's name and size give.
func (h *Holdings) match(origin, name string, size int64, mod time.Time, sameWhy string) (Match, bool) {
	if e, ok := h.byOrigin[origin]; ok && e.Manifest.OriginSize == size && e.Manifest.OriginModTime.Equal(mod) && h.intact(e) {
		return Match{e, sameWhy}, true
	}
	if id, ok := bundle.IdentityFromName(name, size, ""); ok {
		if e, ok := h.byID[[2]string{id.InstanceID, id.ID}]; ok && h.intact(e) {
			return Match{e, "an archive of this name and size was imported before (bundle id " + id.ID + ")"}, true
		}
	}
	return Match{}, false
}

// intact checks the bundle's files are all there: a damaged bundle is imported again (Import
// replaces it), not reported as indexed.
func (h *Holdings) intact(e *Entry) bool {
	if err := h.s.checkFiles(e); err != nil {
		h.s.log.Warn("a stored copy of the archive is damaged; importing it again", "bundle", e.Manifest.ID, "err", err)
		return false
	}
	return true
}
