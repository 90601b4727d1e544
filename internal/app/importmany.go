package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/source"
	"github.com/nodediag/nodediag/internal/store"
)

// Statuses of one archive of a batch import.
const (
	ImportImported = "imported"
	ImportPartial  = "partial" // imported as far as it could be read; Reason says what is missing
	ImportSkipped  = "skipped" // already indexed; Reason says how that was known
	ImportFailed   = "failed"  // nothing imported; Reason says why
)

// DefaultImportJobs is how many archives a batch imports at once unless told: one per core, at
// most four. One import already runs decompression and indexing on goroutines of their own and
// peaks at 70–170 MiB, so more jobs than cores add memory and no speed (on 2 cores, 40 bundles
// took as long at --jobs 4 as at 1 and 2: docs/performance.md), and four bounds a big machine's
// batch near 4 × 128 MiB plus the binary.
func DefaultImportJobs() int { return min(runtime.GOMAXPROCS(0), 4) }

// objectSep joins a bucket's URL and an object's key in a source string: import takes a
// bucket prefix as it takes a folder, and each of its archives is a source like a path.
const objectSep = "\x00"

func objectOf(src string) (source.Object, bool) {
	bucket, key, ok := strings.Cut(src, objectSep)
	return source.Object{Bucket: bucket, Key: key}, ok
}

// SourceName is how a row names its source: the path, or the object's URL.
func SourceName(src string) string {
	if o, ok := objectOf(src); ok {
		return o.URL()
	}
	return src
}

// ImportSources expands the paths given to import into the bundles to import. A bucket URL
// (s3://B?prefix=P/, gs://, azblob://, file://) is a batch of its archives. A file is one
// archive. A folder is one bundle when it has a bundle's layout (bundle.LooksLikeBundleDir) or
// holds no bundle at its top level (a folder of log files, imported as one as before); otherwise
// it is a folder of bundles: its archives and bundle folders, one level deep (ListBundles).
// batch is true when the caller asked for more than one bundle, by several paths or a folder
// of bundles. A path that does not exist is an error naming it; duplicates are imported once.
func ImportSources(ctx context.Context, paths []string) (sources []string, ignored []bundle.Ignored, batch bool, err error) {
	seen := map[string]bool{}
	add := func(p string) {
		abs, aerr := filepath.Abs(p)
		if aerr != nil || strings.Contains(p, objectSep) {
			abs = p
		}
		if !seen[abs] {
			seen[abs] = true
			sources = append(sources, p)
		}
	}
	batch = len(paths) > 1
	for _, p := range paths {
		if source.IsURL(p) {
			objs, err := listArchives(ctx, p)
			if err != nil {
				return nil, nil, false, badf("import %s: %v", p, err)
			}
			batch = true
			for _, o := range objs {
				add(o.Bucket + objectSep + o.Key)
			}
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, false, badf("import %s: %v", p, err)
		}
		if !fi.IsDir() || bundle.LooksLikeBundleDir(p) {
			add(p)
			continue
		}
		l, err := bundle.ListBundles(p)
		if err != nil {
			return nil, nil, false, err
		}
		if len(l.Bundles) == 0 {
			add(p)
			continue
		}
		batch = true
		for _, b := range l.Bundles {
			add(b)
		}
		ignored = append(ignored, l.Ignored...)
	}
	return sources, ignored, batch, nil
}

// ImportManyRequest asks for many bundles to be imported.
type ImportManyRequest struct {
	Sources []string // from ImportSources
	Force   bool     // import again what is already indexed
	Jobs    int      // archives imported at once; <= 0 is DefaultImportJobs
	Limits  bundle.Options
	// Done, when set, is called as each archive ends, from the goroutine that imported it.
	Done func(row ImportRow, done, total int)
}

// ImportRow is what became of one archive.
type ImportRow struct {
	Path       string `json:"path" yaml:"path"`
	Status     string `json:"status" yaml:"status"`
	Reason     string `json:"reason,omitempty" yaml:"reason,omitempty"`
	BundleID   string `json:"bundleId,omitempty" yaml:"bundleId,omitempty"`
	InstanceID string `json:"instanceId,omitempty" yaml:"instanceId,omitempty"`
	Took       string `json:"took" yaml:"took"` // rounded to the millisecond
}

// ImportManyResult lists every archive in the order given, with counts.
type ImportManyResult struct {
	Jobs     int         `json:"jobs" yaml:"jobs"`
	Archives []ImportRow `json:"archives" yaml:"archives"`
	Imported int         `json:"imported" yaml:"imported"`
	Partial  int         `json:"partial" yaml:"partial"`
	Skipped  int         `json:"skipped" yaml:"skipped"`
	Failed   int         `json:"failed" yaml:"failed"`
}

// ImportMany imports every source, Jobs at a time. An archive that fails (corrupt, refused by a
// limit before anything was read, unreadable) is a row with its reason and does not stop the
// others; only the caller's context does, and the archives not started then say so. What is
// already indexed is skipped without being opened where the store can tell (Holdings.Has), else
// after extraction, when Import finds the bundle. The returned error is nil unless the store
// cannot be read at all.
func ImportMany(ctx context.Context, st *store.Store, req ImportManyRequest) (*ImportManyResult, error) {
	jobs := req.Jobs
	if jobs <= 0 {
		jobs = DefaultImportJobs()
	}
	jobs = min(jobs, max(len(req.Sources), 1))
	var held *store.Holdings
	if !req.Force {
		var err error
		if held, err = st.Holdings(); err != nil {
			return nil, fmt.Errorf("read what the store %s holds: %w", st.Root, err)
		}
	}
	res := &ImportManyResult{Jobs: jobs, Archives: make([]ImportRow, len(req.Sources))}
	var mu sync.Mutex
	done := 0
	buckets := &sourceBuckets{}
	defer buckets.close()
	next := eachBounded(ctx, len(req.Sources), jobs, func(i int) {
		row := importOne(ctx, st, held, buckets, req, req.Sources[i])
		mu.Lock()
		res.Archives[i] = row
		done++
		n := done
		mu.Unlock()
		if req.Done != nil {
			req.Done(row, n, len(req.Sources))
		}
	})
	for i := next; i < len(req.Sources); i++ {
		res.Archives[i] = ImportRow{Path: SourceName(req.Sources[i]), Status: ImportFailed,
			Reason: fmt.Sprintf("not started: %v (run the same import again: what was imported is skipped)", context.Cause(ctx))}
	}
	for _, r := range res.Archives {
		switch r.Status {
		case ImportImported:
			res.Imported++
		case ImportPartial:
			res.Partial++
		case ImportSkipped:
			res.Skipped++
		default:
			res.Failed++
		}
	}
	return res, nil
}

// importing is called as an archive's import starts and returns what is called as it ends;
// tests count the imports in flight with it.
var importing = func(src string) (finished func()) { return func() {} }

func importOne(ctx context.Context, st *store.Store, held *store.Holdings, buckets *sourceBuckets, req ImportManyRequest, src string) ImportRow {
	if _, ok := objectOf(src); ok {
		return importObject(ctx, st, held, buckets, req, src)
	}
	start := time.Now()
	row := ImportRow{Path: src}
	if held != nil {
		if m, ok := held.Has(src); ok {
			row.Status, row.Reason = ImportSkipped, "already indexed: "+m.Why
			if p := m.Entry.Problems(); p != nil {
				// Skipping it does not make it whole: the row keeps saying what is missing.
				row.Status, row.Reason = ImportPartial, row.Reason+"; it was imported in part: "+p.Error()
			}
			row.BundleID, row.InstanceID = m.Entry.Manifest.ID, m.Entry.Manifest.InstanceID
			row.Took = took(start)
			return row
		}
	}
	if err := ctx.Err(); err != nil {
		row.Status, row.Reason = ImportFailed, fmt.Sprintf("not started: %v (run the same import again: what was imported is skipped)", context.Cause(ctx))
		return row
	}
	finished := importing(src)
	res, err := st.Import(ctx, src, store.ImportOptions{Force: req.Force, Limits: req.Limits,
		InstanceID: source.InstanceOfKey(filepath.ToSlash(src))})
	finished()
	row.Took = took(start)
	return imported(row, src, res, err)
}

// imported fills an archive's row from its import.
func imported(row ImportRow, src string, res *store.ImportResult, err error) ImportRow {
	if err != nil {
		row.Status, row.Reason = ImportFailed, importReason(src, err)
		return row
	}
	m := res.Entry.Manifest
	row.BundleID, row.InstanceID = m.ID, m.InstanceID
	switch {
	case res.Existing && res.Partial != nil:
		row.Status, row.Reason = ImportPartial, "already indexed under this bundle id, and the archive can be read only in part: "+res.Partial.Error()
	case res.Existing:
		row.Status, row.Reason = ImportSkipped, "already indexed: the store holds a whole bundle with this id (--force imports it again)"
	case res.Partial != nil:
		row.Status, row.Reason = ImportPartial, "imported as far as it could be read: "+res.Partial.Error()
	default:
		row.Status = ImportImported
	}
	return row
}

func took(start time.Time) string { return time.Since(start).Round(time.Millisecond).String() }

// importReason is the store's error without the "import PATH:" the row already shows, with what
// kind of problem it is first.
func importReason(src string, err error) string {
	kind := ""
	switch {
	case errors.Is(err, bundle.ErrCorrupt):
		kind = "corrupt archive: "
	case errors.Is(err, bundle.ErrUnsupported):
		kind = "not a bundle: "
	case errors.Is(err, bundle.ErrEmpty):
		kind = "empty: "
	case errors.Is(err, bundle.ErrLimit):
		kind = "refused by a limit: "
	}
	msg := err.Error()
	if p := "import " + src + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		msg = msg[len(p):]
	}
	return kind + msg
}

// importObject imports one archive of a bucket: skipped when the store has it from this very
// object, else fetched into a work folder of the store (removed after) and imported with the
// object's URL as its origin and the instance its key's folders name.
func importObject(ctx context.Context, st *store.Store, held *store.Holdings, buckets *sourceBuckets, req ImportManyRequest, src string) ImportRow {
	start := time.Now()
	o, _ := objectOf(src)
	row := ImportRow{Path: o.URL()}
	b, err := buckets.get(ctx, o.Bucket)
	if err != nil {
		row.Status, row.Reason, row.Took = ImportFailed, err.Error(), took(start)
		return row
	}
	obj, err := b.Stat(ctx, o.Key)
	if err != nil {
		row.Status, row.Reason, row.Took = ImportFailed, err.Error(), took(start)
		return row
	}
	if held != nil {
		if m, ok := held.HasObject(obj.URL(), path.Base(obj.Key), obj.Size, obj.ModTime); ok {
			row.Status, row.Reason, row.Took = ImportSkipped, "already indexed: "+m.Why, took(start)
			row.BundleID, row.InstanceID = m.Entry.Manifest.ID, m.Entry.Manifest.InstanceID
			return row
		}
	}
	res, err := ImportObject(ctx, st, b, obj, store.ImportOptions{Force: req.Force, Limits: req.Limits}, obj.URL())
	row.Took = took(start)
	return imported(row, obj.URL(), res, err)
}

func listArchives(ctx context.Context, url string) ([]source.Object, error) {
	b, err := source.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.List(ctx)
}

// sourceBuckets opens each source bucket of a batch once, for all its archives and jobs.
type sourceBuckets struct {
	mu   sync.Mutex
	open map[string]*source.Bucket
}

func (s *sourceBuckets) get(ctx context.Context, url string) (*source.Bucket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.open[url]; ok {
		return b, nil
	}
	b, err := source.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if s.open == nil {
		s.open = map[string]*source.Bucket{}
	}
	s.open[url] = b
	return b, nil
}

func (s *sourceBuckets) close() {
	for _, b := range s.open {
		b.Close()
	}
}

// ErrFetch marks an ImportObject that failed reading the bucket, not importing the archive.
var ErrFetch = errors.New("the object could not be fetched")

// fetchError is a fetch failure said in its own words, and ErrFetch to errors.Is.
type fetchError struct{ error }

func (e fetchError) Unwrap() []error { return []error{e.error, ErrFetch} }

// ImportObject fetches one archive of a source bucket into a work folder of the store (removed
// after) and imports it with the object's URL as its origin and the instance its key's folders
// name. An import error calls the archive name, not the download's path, which means nothing to
// whoever reads it; a fetch error wraps ErrFetch.
func ImportObject(ctx context.Context, st *store.Store, b *source.Bucket, obj source.Object, opt store.ImportOptions, name string) (*store.ImportResult, error) {
	dir, release, err := st.WorkDir("fetch-")
	if err != nil {
		return nil, err
	}
	defer release()
	local, err := b.Fetch(ctx, obj, dir)
	if err != nil {
		return nil, fetchError{err}
	}
	opt.Origin, opt.InstanceID = obj.URL(), source.InstanceOfKey(obj.Key)
	res, err := st.Import(ctx, local, opt)
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), local, name))
	}
	return res, nil
}
