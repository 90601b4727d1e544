package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
)

// Kinds of Problem, as `nodediag doctor` prints them.
const (
	ProblemLeftover        = "leftover"         // debris of a killed run: a tmp/ folder, or an old index beside a bundle's
	ProblemIncomplete      = "incomplete"       // a bundle folder without its manifest
	ProblemUnreadable      = "unreadable"       // a manifest that cannot be read or parsed
	ProblemFiles           = "files"            // files the manifest lists are missing or of another size
	ProblemIndexMissing    = "index-missing"    // no index: the bundle is not listed
	ProblemIndexUnloadable = "index-unloadable" // an index that does not parse
	ProblemIndexStale      = "index-stale"      // built by another schema or rule catalog; rebuilt on next use
	ProblemIndexMismatch   = "index-mismatch"   // an index of another bundle, or naming files the bundle lacks
)

// Problem is one thing wrong with a store.
type Problem struct {
	Kind     string `json:"kind" yaml:"kind"`
	Path     string `json:"path" yaml:"path"` // relative to the store root
	BundleID string `json:"bundleId,omitempty" yaml:"bundleId,omitempty"`
	Detail   string `json:"detail" yaml:"detail"`
	Repair   string `json:"repair" yaml:"repair"` // what `doctor --repair` does about it
}

// Health is what Check found.
type Health struct {
	Store    string    `json:"store" yaml:"store"`
	Bundles  int       `json:"bundles" yaml:"bundles"` // bundle folders checked
	Healthy  bool      `json:"healthy" yaml:"healthy"`
	Problems []Problem `json:"problems" yaml:"problems"`
	// InUse are tmp/ folders of runs going on now (or, without a lock, touched within the last
	// hour): not problems, and never removed.
	InUse []string `json:"inUse,omitempty" yaml:"inUse,omitempty"`
}

const (
	repairRemove  = "remove it"
	repairRebuild = "rebuild the index from the bundle's files"
	repairDrop    = "remove the bundle (import it again to get it back)"
)

// Check reads the whole store and reports what is wrong, changing nothing: leftovers of killed
// runs, bundle folders that are not whole or not readable, files the manifest lists that are
// missing or of another size, and indexes that are missing, stale, unloadable or not the
// bundle's. It reads every manifest and index and stats every stored file.
func (s *Store) Check(ctx context.Context) (*Health, error) {
	h := &Health{Store: s.Root, Problems: []Problem{}}
	ents, err := s.scanTmp()
	if err != nil {
		return nil, err
	}
	for _, te := range ents {
		te.done()
		switch te.State {
		case tmpLive, tmpUnowned:
			h.InUse = append(h.InUse, s.rel(te.Path))
		default:
			why := "the temporary folder of a run that was killed"
			if te.State == tmpAbandoned {
				why = "a temporary folder nobody holds, unchanged for over an hour"
			}
			h.Problems = append(h.Problems, Problem{Kind: ProblemLeftover, Path: s.rel(te.Path),
				Detail: fmt.Sprintf("%s (%s)", why, humanBytes(treeSize(te.Path))), Repair: repairRemove})
		}
	}
	dirs, err := s.bundleDirs()
	if err != nil {
		return nil, err
	}
	version := detect.Version()
	for _, dir := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("check %s: %w", s.Root, err)
		}
		h.Bundles++
		h.Problems = append(h.Problems, s.checkBundle(dir, version)...)
	}
	h.Healthy = len(h.Problems) == 0
	return h, nil
}

func (s *Store) checkBundle(dir, version string) []Problem {
	var out []Problem
	add := func(kind, id, detail, repair string) {
		out = append(out, Problem{Kind: kind, Path: s.rel(dir), BundleID: id, Detail: detail, Repair: repair})
	}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, de := range ents {
			if legacyIndexLeftover(de.Name()) {
				p := filepath.Join(dir, de.Name())
				out = append(out, Problem{Kind: ProblemLeftover, Path: s.rel(p), Detail: "what an interrupted index write left (" + humanBytes(treeSize(p)) + ")", Repair: repairRemove})
			}
		}
	}
	e, err := s.load(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(ProblemIncomplete, "", "no "+ManifestFile+": not a bundle, never listed", repairRemove)
		return out
	case err != nil:
		add(ProblemUnreadable, "", err.Error(), repairRemove)
		return out
	}
	id := e.Manifest.ID
	if probs := fileProblems(e); len(probs) > 0 {
		detail := fmt.Sprintf("%d of %d files: %s", len(probs), len(e.Manifest.Files), strings.Join(probs[:min(5, len(probs))], "; "))
		if len(probs) > 5 {
			detail += "; …"
		}
		add(ProblemFiles, id, detail, repairDrop)
		return out // an index of files that are gone cannot be rebuilt: the bundle goes
	}
	idx, err := index.Load(e.IndexDir(), version)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(ProblemIndexMissing, id, "no index/"+index.FileName+": the bundle is not listed", repairRebuild)
	case errors.Is(err, index.ErrStale):
		add(ProblemIndexStale, id, err.Error()+" (rebuilt on its next use)", repairRebuild)
	case err != nil:
		add(ProblemIndexUnloadable, id, err.Error(), repairRebuild)
	default:
		if why := indexMismatch(e, idx); why != "" {
			add(ProblemIndexMismatch, id, why, repairRebuild)
		}
	}
	return out
}

// Repair fixes what Check finds: it runs Cleanup, then removes leftovers, bundle folders
// without a readable manifest and bundles with missing files, and rebuilds indexes whose bundle
// files are intact. What a running nodediag holds is left alone. It returns what it did; check
// again to see what is left.
func (s *Store) Repair(ctx context.Context) ([]Action, error) {
	did := s.cleanup(true)
	h, err := s.Check(ctx)
	if err != nil {
		return did, err
	}
	for _, p := range h.Problems {
		path := filepath.Join(s.Root, filepath.FromSlash(p.Path))
		if p.Kind == ProblemLeftover {
			// Cleanup has just removed every leftover it could, in tmp/ and in bundle folders;
			// one still there is held by a running nodediag or failed, and it logged why.
			continue
		}
		act, err := s.repairBundle(ctx, path, p)
		if err != nil {
			s.log.Warn("repair failed", "path", p.Path, "err", err)
			continue
		}
		if act != nil {
			did = append(did, *act)
		}
	}
	return did, nil
}

// repairBundle fixes the problem p of the bundle folder dir under its lock.
func (s *Store) repairBundle(ctx context.Context, dir string, p Problem) (*Action, error) {
	switch p.Kind {
	case ProblemIncomplete, ProblemUnreadable, ProblemFiles:
		l, ok, err := tryLock(s.bundleLock(dir))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("remove %s: %w", dir, errBusy)
		}
		defer l.unlock()
		if err := s.removeBundleDir(dir); err != nil {
			return nil, err
		}
		what := "removed the bundle folder"
		if p.BundleID != "" {
			what = "removed bundle " + p.BundleID
		}
		return &Action{Path: s.rel(dir), Did: what + " (" + p.Kind + ")"}, nil
	case ProblemIndexMissing, ProblemIndexStale, ProblemIndexUnloadable, ProblemIndexMismatch:
		e, err := s.load(dir)
		if err != nil {
			return nil, err
		}
		if _, err := s.Index(ctx, e, true); err != nil {
			return nil, err
		}
		return &Action{Path: s.rel(dir), Did: "rebuilt the index of bundle " + e.Manifest.ID + " (" + p.Kind + ")"}, nil
	}
	return nil, nil
}

// treeSize adds up the sizes of the files under p, for telling how much a leftover holds.
func treeSize(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(_ string, de fs.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			if info, err := de.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
