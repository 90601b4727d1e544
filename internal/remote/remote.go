// Package remote keeps the store in object storage — s3://, gs://, azblob://, file:// through
// gocloud.dev/blob — so that many machines (an indexing Job's pods, a shared MCP server, a
// laptop) read and write one set of bundles.
//
// A bucket holds the store's layout: each bundle's manifest, files and index under
// bundles/<instance>/<bundle>/, and, written last, a small marker published/<instance>/<bundle>.json
// naming the index generation to read. Object stores have no rename, so the marker is the
// publication: one PUT, which every store makes atomic, and a reader lists markers only, so it
// never sees half a bundle. A new index is a new object index/<sha>.json and then a new marker.
//
// A machine works on a local cache that is an ordinary store: Sync mirrors the markers' bundles
// into it with their manifest and index only, and a bundle's files come one at a time when a
// search or read needs them (bundle.Fetch), so a question the index answers downloads no log.
// Publish sends a bundle imported or re-indexed in the cache.
package remote

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
	"golang.org/x/sync/errgroup"

	"github.com/nodediag/nodediag/internal/atomicfile"
	"github.com/nodediag/nodediag/internal/blobopen"
	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/source"
	"github.com/nodediag/nodediag/internal/store"
)

// IsURL reports whether a --store value names a bucket rather than a folder.
func IsURL(s string) bool { return source.IsURL(s) }

// Store is a bucket and the local cache that mirrors it.
type Store struct {
	URL    string
	Cache  *store.Store
	bucket *blob.Bucket
	log    *slog.Logger
	// Parallel bounds the objects moved at once by Sync and Publish.
	Parallel int
}

// open stores, by URL, so that bundle.Fetch finds the bucket a mirrored bundle came from.
var (
	openMu sync.Mutex
	opened = map[string]*Store{}
)

// Open opens the bucket at url and the cache folder that mirrors it (cacheRoot; default a
// folder of the default store named after the URL), and checks that the bucket answers. An
// unreachable bucket or denied credentials fail here, naming the bucket.
func Open(ctx context.Context, url, cacheRoot string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b, err := blobopen.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open the bucket %s: %w", url, err)
	}
	ok, err := b.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("it does not exist")
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("the bucket %s cannot be read: %s", url, explain(err))
	}
	cache, err := store.Open(CacheRoot(url, cacheRoot), log)
	if err != nil {
		b.Close()
		return nil, err
	}
	r := &Store{URL: url, Cache: cache, bucket: b, log: log, Parallel: 16}
	openMu.Lock()
	opened[url] = r
	openMu.Unlock()
	bundle.Fetch = fetch
	return r, nil
}

// CacheRoot is the folder that mirrors the bucket at url: cacheRoot when given, else a folder
// of the default store named after the URL, so that two buckets never share a mirror.
func CacheRoot(url, cacheRoot string) string {
	if cacheRoot != "" {
		return cacheRoot
	}
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(store.DefaultRoot(), "remote", hex.EncodeToString(sum[:8]))
}

// Close closes the bucket.
func (r *Store) Close() error {
	openMu.Lock()
	if opened[r.URL] == r {
		delete(opened, r.URL)
	}
	openMu.Unlock()
	return r.bucket.Close()
}

// explain turns a driver's error into what to do about it; the driver's own text follows.
func explain(err error) string {
	switch gcerrors.Code(err) {
	case gcerrors.PermissionDenied:
		return "access denied: the credentials in use may not read it (" + err.Error() + ")"
	case gcerrors.NotFound:
		return "not found (" + err.Error() + ")"
	case gcerrors.DeadlineExceeded, gcerrors.Canceled:
		return "no answer in time (" + err.Error() + ")"
	}
	return err.Error()
}

// marker is published/<instance>/<bundle>.json.
type marker struct {
	InstanceID  string    `json:"instanceId"`
	BundleID    string    `json:"bundleId"`
	CaptureTime time.Time `json:"captureTime,omitzero"`
	Manifest    string    `json:"manifest"` // key of bundle.json
	Index       string    `json:"index"`    // key of the index generation to read
	IndexBytes  int64     `json:"indexBytes"`
	Files       int       `json:"files"`
	Bytes       int64     `json:"bytes"`
	Published   time.Time `json:"published"`
}

// mirrorNote is the cache's store.MirrorFile: which bucket a bundle came from or went to, which
// index generation it holds, and the local index file it was read from or sent as, so that a
// changed index is noticed without hashing it.
type mirrorNote struct {
	URL        string    `json:"url"`
	Marker     string    `json:"marker"`
	MarkerETag string    `json:"markerETag,omitempty"` // the marker object's MD5 or mod time when read
	Index      string    `json:"index"`
	IndexSize  int64     `json:"indexSize"`
	IndexMod   time.Time `json:"indexModified"`
}

func bundlePrefix(instance, bundleID string) string {
	return "bundles/" + instance + "/" + bundleID + "/"
}

func markerKey(instance, bundleID string) string {
	return "published/" + instance + "/" + bundleID + ".json"
}

func (r *Store) readMirror(e *store.Entry) (mirrorNote, bool) {
	n, err := readNote(e.Dir)
	return n, err == nil && n.URL == r.URL
}

// readNote reads the mirror note of the bundle folder dir: a *fs.PathError when it cannot be
// read (none: the bundle was imported here, not mirrored), else a parse error naming it.
func readNote(dir string) (mirrorNote, error) {
	var n mirrorNote
	p := filepath.Join(dir, store.MirrorFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return n, fmt.Errorf("%s: %w", p, err)
	}
	return n, nil
}

func writeMirror(dir string, n mirrorNote) error {
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, store.MirrorFile), append(data, '\n'), 0o644)
}

// fetch is bundle.Fetch: it downloads one file of a mirrored bundle into the cache.
func fetch(bundleDir string, f bundle.File) error {
	n, err := readNote(bundleDir)
	if _, unread := errors.AsType[*fs.PathError](err); unread {
		return fmt.Errorf("%s is not in this bundle folder and it is no copy of a bucket's: %w", f.Path, os.ErrNotExist)
	} else if err != nil {
		return err
	}
	openMu.Lock()
	r := opened[n.URL]
	openMu.Unlock()
	if r == nil {
		return fmt.Errorf("%s is in the bucket %s, which this run did not open (--store %s)", f.Path, n.URL, n.URL)
	}
	key := path.Dir(n.Marker)
	instance, bundleID := path.Base(key), strings.TrimSuffix(path.Base(n.Marker), ".json")
	obj := bundlePrefix(instance, bundleID) + "files/" + f.Path
	return r.Cache.PutFile(&store.Entry{Dir: bundleDir}, f.Path, func(w *os.File) error {
		rd, err := r.bucket.NewReader(context.Background(), obj, nil)
		if err != nil {
			return fmt.Errorf("%s: %s", obj, explain(err))
		}
		defer rd.Close()
		if _, err := io.Copy(w, rd); err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		return nil
	})
}

// SyncResult says what a Sync did.
type SyncResult struct {
	Published int      // markers in the bucket
	Mirrored  []string // bundles copied into the cache (new, or with a new index)
	Current   int      // bundles the cache already held as published
	Failed    []string // bundle: reason; the rest were mirrored
}

// Sync mirrors every published bundle that the cache lacks, or holds with another index, into
// the cache — manifest and index only.
func (r *Store) Sync(ctx context.Context) (*SyncResult, error) {
	res := &SyncResult{}
	have := map[string]string{} // marker key → the marker's tag when the cache mirrored it
	entries, err := r.Cache.List()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if n, ok := r.readMirror(e); ok {
			have[n.Marker] = n.MarkerETag
		}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.Parallel)
	it := r.bucket.List(&blob.ListOptions{Prefix: "published/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			g.Wait()
			return res, fmt.Errorf("list %s/published/: %s", r.URL, explain(err))
		}
		if obj.IsDir || !strings.HasSuffix(obj.Key, ".json") {
			continue
		}
		res.Published++
		etag := source.Tag(obj.MD5, obj.ModTime, obj.Size)
		if tag, ok := have[obj.Key]; ok && tag == etag {
			res.Current++
			continue
		}
		key := obj.Key
		g.Go(func() error {
			err := r.mirrorOne(gctx, key, etag)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failed = append(res.Failed, key+": "+err.Error())
				r.log.Warn("bundle not mirrored", "marker", key, "err", err)
			} else {
				res.Mirrored = append(res.Mirrored, key)
			}
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

func (r *Store) mirrorOne(ctx context.Context, key, etag string) error {
	err := r.mirrorOnce(ctx, key, etag)
	if isNotFound(err) {
		// The marker was replaced, and the index it named removed, between our two reads.
		err = r.mirrorOnce(ctx, key, "")
	}
	return err
}

func (r *Store) mirrorOnce(ctx context.Context, key, etag string) error {
	var m marker
	if err := r.readJSON(ctx, key, &m); err != nil {
		return err
	}
	var man bundle.Manifest
	if err := r.readJSON(ctx, m.Manifest, &man); err != nil {
		return err
	}
	idx, err := r.bucket.ReadAll(ctx, m.Index)
	if err != nil {
		return &objectError{key: m.Index, err: err}
	}
	note, _ := json.Marshal(mirrorNote{URL: r.URL, Marker: key, MarkerETag: etag, Index: m.Index})
	e, err := r.Cache.Mirror(ctx, &man, idx, note)
	if err != nil {
		return err
	}
	// The index file's size and time, now that it is in place, tell Publish later whether it
	// was rebuilt here.
	return r.noteIndex(e, mirrorNote{URL: r.URL, Marker: key, MarkerETag: etag, Index: m.Index})
}

func (r *Store) noteIndex(e *store.Entry, n mirrorNote) error {
	fi, err := os.Stat(filepath.Join(e.IndexDir(), index.FileName))
	if err != nil {
		return err
	}
	n.IndexSize, n.IndexMod = fi.Size(), fi.ModTime()
	return writeMirror(e.Dir, n)
}

func (r *Store) readJSON(ctx context.Context, key string, v any) error {
	data, err := r.bucket.ReadAll(ctx, key)
	if err != nil {
		return &objectError{key: key, err: err}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// PublishAll publishes every bundle of the cache that the bucket does not have as the cache
// has it: imported here, or re-indexed here. It returns the bundles it published.
func (r *Store) PublishAll(ctx context.Context) ([]string, error) {
	entries, err := r.Cache.List()
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, e := range entries {
		if n, ok := r.readMirror(e); ok {
			fi, err := os.Stat(filepath.Join(e.IndexDir(), index.FileName))
			if err == nil && fi.Size() == n.IndexSize && fi.ModTime().Equal(n.IndexMod) {
				continue
			}
		}
		if err := r.Publish(ctx, e); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, e.Manifest.ID)
	}
	return done, errors.Join(errs...)
}

// Publish sends one bundle of the cache to the bucket: the files the bucket lacks, the
// manifest, the index as a new generation, then the marker that makes them visible, and last
// removes the generations the marker no longer names.
func (r *Store) Publish(ctx context.Context, e *store.Entry) error {
	man := e.Manifest
	instance := filepath.Base(filepath.Dir(e.Dir))
	prefix := bundlePrefix(instance, filepath.Base(e.Dir))
	fail := func(err error) error { return fmt.Errorf("publish %s to %s: %w", man.ID, r.URL, err) }

	if err := r.uploadFiles(ctx, e, prefix); err != nil {
		return fail(err)
	}
	manData, err := os.ReadFile(filepath.Join(e.Dir, store.ManifestFile))
	if err != nil {
		return fail(err)
	}
	if err := r.put(ctx, prefix+store.ManifestFile, manData); err != nil {
		return fail(err)
	}
	idxPath := filepath.Join(e.IndexDir(), index.FileName)
	idxData, err := os.ReadFile(idxPath)
	if err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(idxData)
	idxKey := prefix + "index/" + hex.EncodeToString(sum[:12]) + ".json"
	if err := r.put(ctx, idxKey, idxData); err != nil {
		return fail(err)
	}
	m := marker{InstanceID: man.InstanceID, BundleID: man.ID, CaptureTime: man.CaptureTime,
		Manifest: prefix + store.ManifestFile, Index: idxKey, IndexBytes: int64(len(idxData)),
		Files: len(man.Files), Published: time.Now().UTC()}
	for _, f := range man.Files {
		m.Bytes += f.Size
	}
	mdata, _ := json.MarshalIndent(m, "", "  ")
	mkey := markerKey(instance, filepath.Base(e.Dir))
	if err := r.put(ctx, mkey, mdata); err != nil {
		return fail(err)
	}
	attrs, err := r.bucket.Attributes(ctx, mkey)
	if err != nil {
		return fail(fmt.Errorf("%s: %s", mkey, explain(err)))
	}
	if err := r.noteIndex(e, mirrorNote{URL: r.URL, Marker: mkey, MarkerETag: source.Tag(attrs.MD5, attrs.ModTime, attrs.Size), Index: idxKey}); err != nil {
		return fail(err)
	}
	r.dropOldIndexes(ctx, prefix+"index/", mkey)
	return nil
}

// indexGrace is how long an index generation is kept after it stops being the published one:
// a reader that read the marker just before has that long to fetch the index it names, and a
// publisher racing on the same bundle (two workers given one archive) never deletes the
// generation the other's marker is about to name.
var indexGrace = 10 * time.Minute

// dropOldIndexes removes index generations that the marker at markerKey does not name and that
// are older than indexGrace. Which one the marker names is read again here, not assumed: a
// racing publisher may have replaced it. An error leaves garbage, not damage, so it is logged.
func (r *Store) dropOldIndexes(ctx context.Context, prefix, markerKey string) {
	var m marker
	if err := r.readJSON(ctx, markerKey, &m); err != nil {
		r.log.Warn("old index generations kept: the marker did not read back", "marker", markerKey, "err", err)
		return
	}
	it := r.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return
		}
		if err != nil {
			r.log.Warn("old index generations not listed", "prefix", prefix, "err", err)
			return
		}
		if obj.Key == m.Index || time.Since(obj.ModTime) < indexGrace {
			continue
		}
		if err := r.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			r.log.Warn("old index generation not removed", "key", obj.Key, "err", err)
		}
	}
}

func (r *Store) uploadFiles(ctx context.Context, e *store.Entry, prefix string) error {
	root, err := os.OpenRoot(e.FilesDir())
	if err != nil {
		return err
	}
	defer root.Close()
	// Files are the bundle's and never change under one bundle id: one already in the bucket
	// with its size is from an earlier, interrupted or racing, publish. One listing tells, not
	// a request per file; a listing that fails tells nothing, and every file is uploaded.
	have := r.sizes(ctx, prefix+"files/")
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.Parallel)
	for _, f := range e.Manifest.Files {
		key := prefix + "files/" + f.Path
		if size, ok := have[key]; ok && size == f.Size {
			continue
		}
		g.Go(func() error {
			src, err := root.Open(filepath.FromSlash(f.Path))
			if err != nil {
				return err
			}
			defer src.Close()
			w, err := r.bucket.NewWriter(gctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
			if err != nil {
				return fmt.Errorf("%s: %s", key, explain(err))
			}
			if _, err := io.Copy(w, src); err != nil {
				w.Close()
				return fmt.Errorf("%s: %w", key, err)
			}
			if err := w.Close(); err != nil {
				return fmt.Errorf("%s: %s", key, explain(err))
			}
			return nil
		})
	}
	return g.Wait()
}

// sizes lists the objects under prefix with their sizes; nil when the listing fails.
func (r *Store) sizes(ctx context.Context, prefix string) map[string]int64 {
	out := map[string]int64{}
	it := r.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return out
		}
		if err != nil {
			return nil
		}
		out[obj.Key] = obj.Size
	}
}

func (r *Store) put(ctx context.Context, key string, data []byte) error {
	if err := r.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("%s: %s", key, explain(err))
	}
	return nil
}

// PutJSON writes v as the object key of the store's bucket, for records beside the bundles
// (which source archives are indexed, which failed).
func (r *Store) PutJSON(ctx context.Context, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return r.put(ctx, key, data)
}

// GetJSON reads the object key into v; found is false when there is none.
func (r *Store) GetJSON(ctx context.Context, key string, v any) (found bool, err error) {
	err = r.readJSON(ctx, key, v)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// objectError is a driver's error about one object, said as explain says it, with the driver's
// error kept for gcerrors.Code.
type objectError struct {
	key string
	err error
}

func (e *objectError) Error() string { return e.key + ": " + explain(e.err) }
func (e *objectError) Unwrap() error { return e.err }

func isNotFound(err error) bool {
	var oe *objectError
	return errors.As(err, &oe) && gcerrors.Code(oe.err) == gcerrors.NotFound
}

// Mirror the other way: PushDir makes the objects under prefix what the files under dir are —
// uploads the files whose size or MD5 differ, deletes the objects that have no file — for
// derived files, such as the Parquet export, that engines read from the bucket. Hidden files (a
// write in progress) are left out. It returns how many objects it wrote and deleted.
func (r *Store) PushDir(ctx context.Context, dir, prefix string) (wrote, deleted int, err error) {
	local := map[string]string{} // key → path
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		local[prefix+filepath.ToSlash(rel)] = p
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	remote := map[string]*blob.ListObject{}
	it := r.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("list %s: %s", prefix, explain(err))
		}
		remote[obj.Key] = obj
	}
	for key, p := range local {
		data, err := os.ReadFile(p)
		if err != nil {
			return wrote, deleted, err
		}
		if obj, ok := remote[key]; ok && obj.Size == int64(len(data)) && len(obj.MD5) > 0 && md5Equal(obj.MD5, data) {
			continue
		}
		if err := r.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
			return wrote, deleted, fmt.Errorf("%s: %s", key, explain(err))
		}
		wrote++
	}
	for key := range remote {
		if _, ok := local[key]; ok {
			continue
		}
		if err := r.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return wrote, deleted, fmt.Errorf("%s: %s", key, explain(err))
		}
		deleted++
	}
	return wrote, deleted, nil
}

func md5Equal(sum, data []byte) bool {
	h := md5.Sum(data)
	return string(h[:]) == string(sum)
}
