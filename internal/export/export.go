package export

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/nodediag/nodediag/internal/atomicfile"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/store"
)

// Version changes when a table's columns change; files of another version are rewritten.
const Version = 1

// Metadata keys of every exported file: which index it was made from, so a run rewrites only
// what changed, and which version of the tables it holds.
const (
	metaVersion = "nodediag.export.version"
	metaIndex   = "nodediag.index"
)

// indexKey identifies the saved index of e without reading it: a run over a thousand bundles
// that changed in three loads three indexes. A rebuilt index is a new file (see the store's
// saveIndex), so its size or modification time differs; the rule catalog's and the index
// schema's versions are in the key because an index of older ones is rebuilt when loaded.
func indexKey(e *store.Entry) (string, error) {
	fi, err := os.Stat(filepath.Join(e.IndexDir(), index.FileName))
	if err != nil {
		return "", fmt.Errorf("its index: %w", err)
	}
	return fmt.Sprintf("schema %d, catalog %s, %d bytes, modified %s", index.SchemaVersion, detect.Version(),
		fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano)), nil
}

// Options steer Run.
type Options struct {
	Dir   string // where the tables go; default <store>/export
	Force bool   // rewrite files that are current
	Log   *slog.Logger
}

// Status is what Run did with one bundle.
type Status string

const (
	Written Status = "written" // its three files were (re)written
	Current Status = "current" // its files already described its index
	Failed  Status = "failed"  // see Error; its old files, if any, are left as they were
	Removed Status = "removed" // the bundle left the store, so its files left the export
)

// BundleResult is one bundle's part of a Run.
type BundleResult struct {
	InstanceID string `json:"instanceId" yaml:"instanceId"`
	BundleID   string `json:"bundleId" yaml:"bundleId"`
	Status     Status `json:"status" yaml:"status"`
	// Facts and Findings are the rows written; a current bundle's are not counted (that would
	// load its index).
	Facts    int    `json:"facts,omitempty" yaml:"facts,omitempty"`
	Findings int    `json:"findings,omitempty" yaml:"findings,omitempty"`
	Error    string `json:"error,omitempty" yaml:"error,omitempty"`
}

// Result is what a Run did, bundle by bundle.
type Result struct {
	Dir     string         `json:"dir" yaml:"dir"`
	Bundles []BundleResult `json:"bundles" yaml:"bundles"`
	// Published says where the tables went when the store is a bucket: its export/ prefix, with
	// the objects written and deleted to match Dir.
	Published *Published `json:"published,omitempty" yaml:"published,omitempty"`
}

// Published is the export's copy in the store's bucket.
type Published struct {
	URL     string `json:"url" yaml:"url"`
	Wrote   int    `json:"wrote" yaml:"wrote"`
	Deleted int    `json:"deleted" yaml:"deleted"`
}

// Count returns how many bundles ended with status s.
func (r *Result) Count(s Status) int {
	n := 0
	for _, b := range r.Bundles {
		if b.Status == s {
			n++
		}
	}
	return n
}

// ErrSomeFailed is returned, wrapped, with a Result when some bundles could not be exported; the
// Result names them and why, and every other bundle was exported.
var ErrSomeFailed = errors.New("some bundles were not exported")

// Run exports every bundle of st. A bundle whose files already describe its current index is
// left alone, so a run after each import costs only the new bundles.
func Run(ctx context.Context, st *store.Store, opt Options) (*Result, error) {
	if opt.Dir == "" {
		opt.Dir = filepath.Join(st.Root, "export")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	entries, err := st.List()
	if err != nil {
		return nil, fmt.Errorf("list the store's bundles: %w", err)
	}
	res := &Result{Dir: opt.Dir}
	keep := map[string]bool{}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		instance := filepath.Base(filepath.Dir(e.Dir))
		keep[partition(instance)+"/"+fileName(e.Manifest.ID)] = true
		br := exportBundle(ctx, st, e, instance, opt)
		if br.Status == Failed {
			opt.Log.Warn("bundle not exported", "bundle", br.BundleID, "err", br.Error)
		}
		res.Bundles = append(res.Bundles, br)
	}
	removed, err := prune(opt.Dir, keep)
	res.Bundles = append(res.Bundles, removed...)
	if err != nil {
		return res, fmt.Errorf("remove the export of bundles no longer stored: %w", err)
	}
	if n := res.Count(Failed); n > 0 {
		return res, fmt.Errorf("%w: %d of %d", ErrSomeFailed, n, len(entries))
	}
	return res, nil
}

func exportBundle(ctx context.Context, st *store.Store, e *store.Entry, instance string, opt Options) BundleResult {
	br := BundleResult{InstanceID: instance, BundleID: e.Manifest.ID}
	fail := func(err error) BundleResult {
		br.Status, br.Error = Failed, err.Error()
		return br
	}
	// The bundles file is written last, so when it describes the index the other two do too.
	marker := filepath.Join(opt.Dir, "bundles", partition(instance), fileName(e.Manifest.ID))
	if key, err := indexKey(e); err == nil && !opt.Force && describes(marker, key) {
		br.Status = Current
		return br
	}
	if err := st.CheckFiles(e); err != nil {
		return fail(err)
	}
	idx, err := st.Index(ctx, e, false)
	if err != nil {
		return fail(fmt.Errorf("load its index: %w", err))
	}
	br.Facts, br.Findings = len(idx.Facts), len(idx.Findings)
	key, err := indexKey(e)
	if err != nil {
		return fail(err)
	}
	clean, err := redacted(tablesOf(idx, e))
	if err != nil {
		return fail(err)
	}
	meta := []parquet.WriterOption{
		parquet.KeyValueMetadata(metaVersion, strconv.Itoa(Version)),
		parquet.KeyValueMetadata(metaIndex, key),
		parquet.Compression(&parquet.Zstd),
	}
	path := func(table string) string {
		return filepath.Join(opt.Dir, table, partition(instance), fileName(e.Manifest.ID))
	}
	if err := publish(path("facts"), clean.Facts, meta); err != nil {
		return fail(err)
	}
	if err := publish(path("findings"), clean.Findings, meta); err != nil {
		return fail(err)
	}
	if err := publish(marker, clean.Bundle, meta); err != nil {
		return fail(err)
	}
	br.Status = Written
	return br
}

// tables is one bundle's rows, redacted as one value.
type tables struct {
	Bundle   []BundleRow
	Facts    []FactRow
	Findings []FindingRow
}

func redacted(t tables) (tables, error) { return redact.Apply(t, redact.String) }

func tablesOf(idx *index.Index, e *store.Entry) tables {
	t := tables{Bundle: []BundleRow{bundleRow(idx, e.Manifest.CaptureTimeSource, e.Manifest.Layout, e.Manifest.NodeName)}}
	for _, f := range idx.Facts {
		t.Facts = append(t.Facts, factRow(idx.BundleID, f))
	}
	for _, f := range idx.Findings {
		t.Findings = append(t.Findings, findingRow(idx.BundleID, f))
	}
	return t
}

// publish writes rows to a hidden file beside path and renames it over path: a reader — a
// query running while a run rewrites — sees the old file or the new one, never half of one.
// The hidden name keeps the half-written file out of engines' globs: DuckDB's *.parquet does not
// match it, and Athena skips names that start with a dot.
func publish[T any](path string, rows []T, opts []parquet.WriterOption) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	err := atomicfile.WriteWith(path, 0o600, func(f *os.File) error {
		w := parquet.NewGenericWriter[T](f, opts...)
		if _, err := w.Write(rows); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return f.Sync()
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// describes reports whether the file at path was written by this version from the index that
// key identifies.
func describes(path, key string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false
	}
	pf, err := parquet.OpenFile(f, info.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return false
	}
	v, _ := pf.Lookup(metaVersion)
	k, _ := pf.Lookup(metaIndex)
	return v == strconv.Itoa(Version) && k == key
}

func partition(instance string) string { return "instance_id=" + instance }

func fileName(bundleID string) string { return bundleID + ".parquet" }

// prune removes the files of bundles that are no longer in the store, and the leftovers of a
// run that was killed mid-write. It touches only what Run writes: a table folder's
// instance_id=… folders and the .parquet and .tmp files in them.
func prune(dir string, keep map[string]bool) ([]BundleResult, error) {
	gone := map[string]BundleResult{}
	var errs []error
	for _, table := range Tables {
		files, err := filepath.Glob(filepath.Join(dir, table, "instance_id=*", "*"))
		if err != nil {
			return nil, err
		}
		for _, p := range files {
			name, part := filepath.Base(p), filepath.Base(filepath.Dir(p))
			leftover := strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
			if !leftover && (!strings.HasSuffix(name, ".parquet") || keep[part+"/"+name]) {
				continue
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			os.Remove(filepath.Dir(p)) // only when empty
			if !leftover {
				instance := strings.TrimPrefix(part, "instance_id=")
				bundle := strings.TrimSuffix(name, ".parquet")
				gone[part+"/"+name] = BundleResult{InstanceID: instance, BundleID: bundle, Status: Removed}
			}
		}
	}
	out := make([]BundleResult, 0, len(gone))
	for _, b := range gone {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].BundleID < out[j].BundleID })
	return out, errors.Join(errs...)
}
