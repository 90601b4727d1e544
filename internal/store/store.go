// Package store keeps imported bundles and their indexes on disk:
// <root>/bundles/<instanceId>/<bundleId>/{bundle.json, files/…, index/index.json}. A bundle appears
// in the store only once it is whole: import works in a locked folder under <root>/tmp that is
// renamed (or, replacing a bundle, atomically exchanged) into place, and so does an index
// rebuild. A process killed at any point leaves debris only in tmp/, which the next Open removes;
// <root>/locks/ holds one lock file per bundle that serialises every change to it.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/logtime"
)

// ManifestFile is the bundle description beside files/ and index/.
const ManifestFile = "bundle.json"

// smallFileCap bounds the files read whole for boot-time anchoring.
const smallFileCap = 64 << 20

// Store is a folder of bundles.
type Store struct {
	Root string
	log  *slog.Logger
}

// DefaultRoot is $XDG_CACHE_HOME/nodediag, else ~/.cache/nodediag.
func DefaultRoot() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "nodediag")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "nodediag")
	}
	return filepath.Join(os.TempDir(), "nodediag")
}

// Open returns the store at root, creating it when missing, and removes what killed runs left
// behind (see Cleanup).
func Open(root string, log *slog.Logger) (*Store, error) {
	s, err := OpenNoCleanup(root, log)
	if err != nil {
		return nil, err
	}
	s.Cleanup()
	return s, nil
}

// OpenNoCleanup is Open without the cleanup, for `nodediag doctor`, which reports what is
// wrong before (and unless) it is asked to repair it.
func OpenNoCleanup(root string, log *slog.Logger) (*Store, error) {
	if root == "" {
		root = DefaultRoot()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{"bundles", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w", root, err)
		}
	}
	return &Store{Root: root, log: log}, nil
}

// Entry is one stored bundle.
type Entry struct {
	Dir      string
	Manifest *bundle.Manifest
	// dirInfo identifies the folder the manifest was read from, so that an index built from it
	// is not saved into another bundle that replaced it at the same path meanwhile.
	dirInfo os.FileInfo
}

// MirrorFile, beside a bundle's manifest, says the bundle is a copy of one in object storage:
// its files/ fills as searches and reads need them (see bundle.Fetch), so a missing file is
// not damage.
const MirrorFile = "mirror.json"

// Mirrored reports whether e is a copy of a bundle in object storage.
func (e *Entry) Mirrored() bool {
	_, err := os.Stat(filepath.Join(e.Dir, MirrorFile))
	return err == nil
}

// FilesDir is where the bundle's files live.
func (e *Entry) FilesDir() string { return filepath.Join(e.Dir, "files") }

// IndexDir is where the bundle's index lives.
func (e *Entry) IndexDir() string { return filepath.Join(e.Dir, "index") }

// ImportOptions steer Import.
type ImportOptions struct {
	InstanceID string
	Force      bool // replace a bundle with the same id
	// Origin, when set, is recorded as where the bundle came from instead of src: an indexing
	// worker imports a download of an object, and the object's URL is what a reader needs.
	Origin string
	Limits bundle.Options
}

// ImportResult says what Import did.
type ImportResult struct {
	Entry    *Entry
	Index    *index.Index
	Existing bool  // the bundle was already in the store; nothing was written
	Partial  error // non-nil when the bundle was cut short (a limit or corrupt data); what was read is kept
}

// ErrNotFound reports an instance or bundle the store does not hold.
var ErrNotFound = errors.New("not found in the store")

// Import unpacks src into the store and indexes it. When the capture time is known from the
// archive's name, lines are indexed while the archive is decompressed, in one pass over the bytes.
func (s *Store) Import(ctx context.Context, src string, opt ImportOptions) (*ImportResult, error) {
	cat, err := detect.Load()
	if err != nil {
		return nil, err
	}
	w, err := s.newWork("import-")
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	// Runs last, after the bundle lock is released: it removes what failed, or the bundle this
	// import replaced, and another import of the bundle need not wait for that.
	defer func() {
		if err := w.release(); err != nil {
			s.log.Warn("import: temporary folder not removed; the next start removes it", "err", err)
		}
	}()
	tmp := filepath.Join(w.Dir, "bundle")

	bopt := opt.Limits
	bopt.InstanceID = opt.InstanceID
	stream, err := newStreamIndex(cat, src, tmp)
	if err != nil {
		return nil, err
	}
	if stream != nil {
		bopt.OnFile = stream.onFile
	}
	start := time.Now()
	man, exErr := bundle.Extract(ctx, src, tmp, bopt)
	if err := extracted(src, man, exErr); err != nil {
		return nil, err
	}
	s.log.Info("extracted", "src", src, "files", len(man.Files), "took", time.Since(start).Round(time.Millisecond))
	if opt.Origin != "" {
		man.Origin = opt.Origin
	}
	hook("import:extracted")

	res := &ImportResult{Partial: partial(man, exErr)}
	final := filepath.Join(s.Root, "bundles", SafeName(man.InstanceID), SafeName(man.ID))
	// The bundle id is known only now, after extraction, so two imports of one bundle extract in
	// parallel and queue here: the second then finds the first's bundle, or replaces it.
	lock, err := lockWait(ctx, s.bundleLock(final), func() {
		s.log.Info("waiting for another import of the same bundle", "bundle", man.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	defer lock.unlock()
	hook("import:locked")
	if !opt.Force {
		e, err := s.loadIntact(final)
		if err == nil {
			res.Entry, res.Existing = e, true
			return res, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("replacing a damaged copy of the bundle", "dir", final, "err", err)
		}
	}
	entryTmp := &Entry{Dir: tmp, Manifest: man}
	var idx *index.Index
	if stream != nil {
		idx = stream.finish(man)
	} else if idx, err = s.build(ctx, entryTmp, cat); err != nil {
		return nil, err
	}
	idx.Warnings = append(idx.Warnings, man.Warnings...)
	if exErr != nil {
		idx.Warnings = append(idx.Warnings, "bundle cut short: "+exErr.Error())
	}
	if err := s.commit(w, entryTmp, idx, final); err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	info, err := os.Stat(final)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	res.Entry = &Entry{Dir: final, Manifest: man, dirInfo: info}
	res.Index = idx
	return res, nil
}

// extracted says whether what Extract returned can be imported: something was read and the
// caller did not give up. A bundle cut short by a limit or corrupt data is imported as far as it
// was read.
func extracted(src string, man *bundle.Manifest, exErr error) error {
	switch {
	case man == nil:
		return fmt.Errorf("import %s: %w", src, exErr)
	case len(man.Files) == 0:
		if exErr == nil {
			exErr = bundle.ErrEmpty
		}
		return fmt.Errorf("import %s: nothing to import: %w", src, exErr)
	case exErr != nil && (errors.Is(exErr, context.Canceled) || errors.Is(exErr, context.DeadlineExceeded)):
		return fmt.Errorf("import %s: %w", src, exErr)
	}
	return nil
}

// streamIndex indexes log files while the archive is decompressed. It needs the capture time
// before the first line, so it exists only when the archive's name carries it.
type streamIndex struct {
	b    *index.Builder
	mu   sync.Mutex
	errs []string
	// seen remembers each file under the path it is indexed as, and at where each indexed path
	// is in seen. Extract moves the files it stored so far when it undoes a wrong top-folder
	// guess (it rewrites File.Path in place), and the index must follow; a moved file may then
	// be followed by a new member stored under the path the moved one was indexed as.
	seen []seenFile
	at   map[string]int
}

type seenFile struct {
	f    *bundle.File
	path string
}

func newStreamIndex(cat *detect.Catalog, src, tmp string) (*streamIndex, error) {
	capture, ok := logtime.CaptureFromArchiveName(filepath.Base(src))
	if !ok {
		return nil, nil
	}
	b, err := index.NewBuilder(cat, index.Options{Capture: capture, CaptureSource: "archive name",
		ReadSmallFile: readSmall(filepath.Join(tmp, "files"))})
	if err != nil {
		return nil, err
	}
	return &streamIndex{b: b, at: map[string]int{}}, nil
}

func (si *streamIndex) onFile(ctx context.Context, f *bundle.File, r io.Reader) error {
	if !f.Log || f.Binary {
		return nil
	}
	// Extract stores every member under a path of its own (a repeated name gets a ".dupN"
	// one), so a path already in the index means files were moved since they were indexed:
	// move them in the index first, so that this file and the one indexed there stay apart.
	if _, taken := si.at[f.Path]; taken {
		si.follow()
	}
	si.at[f.Path] = len(si.seen)
	si.seen = append(si.seen, seenFile{f, f.Path})
	if err := si.b.IndexFile(ctx, f.Path, f.LogType, r); err != nil {
		if ctx.Err() != nil {
			return err
		}
		si.mu.Lock()
		si.errs = append(si.errs, err.Error())
		si.mu.Unlock()
	}
	return nil
}

// follow renames in the index every file Extract moved since it was indexed. The moves are
// applied all at once, because a file may move to the path of another file that moves on too.
func (si *streamIndex) follow() {
	moves := map[string]string{}
	for i := range si.seen {
		if s := &si.seen[i]; s.f.Path != s.path {
			moves[s.path] = s.f.Path
			s.path = s.f.Path
		}
	}
	if len(moves) == 0 {
		return
	}
	si.b.Rename(moves)
	clear(si.at)
	for i, s := range si.seen {
		si.at[s.path] = i
	}
}

func (si *streamIndex) finish(man *bundle.Manifest) *index.Index {
	si.b.SetIdentity(man.ID, man.InstanceID)
	si.follow()
	idx := si.b.Finish()
	idx.Warnings = append(idx.Warnings, si.errs...)
	return idx
}

// commit writes the index and manifest beside the staged files and puts the whole bundle at
// final in one step, replacing (atomically, see replace) the one there. The caller holds the
// bundle lock; whatever was at final ends up inside w.
func (s *Store) commit(w *work, e *Entry, idx *index.Index, final string) error {
	if err := index.Write(e.IndexDir(), idx); err != nil {
		return err
	}
	if err := writeManifest(e.Dir, e.Manifest); err != nil {
		return err
	}
	hook("import:staged")
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("make the instance folder: %w", err)
	}
	if err := s.replace(w, e.Dir, final, s.bundleLock(final)); err != nil {
		return err
	}
	hook("import:swapped")
	return nil
}

func writeManifest(dir string, man *bundle.Manifest) error {
	data, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

func readSmall(filesDir string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		root, err := os.OpenRoot(filesDir)
		if err != nil {
			return nil, err
		}
		defer root.Close()
		f, err := root.Open(filepath.FromSlash(p))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, smallFileCap))
	}
}

// build indexes a stored bundle from its files, several files at a time.
func (s *Store) build(ctx context.Context, e *Entry, cat *detect.Catalog) (*index.Index, error) {
	m := e.Manifest
	b, err := index.NewBuilder(cat, index.Options{BundleID: m.ID, InstanceID: m.InstanceID,
		Capture: m.CaptureTime, CaptureSource: m.CaptureTimeSource, ReadSmallFile: readSmall(e.FilesDir())})
	if err != nil {
		return nil, err
	}
	// Big files first, so the last worker is not left with the largest one.
	files := make([]bundle.File, 0, len(m.Files))
	for _, f := range m.Files {
		if f.Log && !f.Binary {
			files = append(files, f)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Size > files[j].Size })
	work := make(chan bundle.File)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var warns []string
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				rc, err := bundle.Open(e.Dir, f)
				if err != nil {
					mu.Lock()
					warns = append(warns, fmt.Sprintf("%s: not indexed: %v", f.Path, err))
					mu.Unlock()
					continue
				}
				if err := b.IndexFile(ctx, f.Path, f.LogType, rc); err != nil && ctx.Err() == nil {
					mu.Lock()
					warns = append(warns, err.Error())
					mu.Unlock()
				}
				rc.Close()
			}
		}()
	}
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	idx := b.Finish()
	idx.Warnings = append(idx.Warnings, warns...)
	sort.Strings(idx.Warnings)
	return idx, nil
}

// Index returns the bundle's index, building it when missing, stale or when force is set.
func (s *Store) Index(ctx context.Context, e *Entry, force bool) (*index.Index, error) {
	if !force {
		idx, err := index.Load(e.IndexDir(), detect.Version())
		if err == nil {
			return idx, nil
		}
		if errors.Is(err, index.ErrStale) && idx != nil && idx.Schema == index.SchemaVersion && e.Mirrored() {
			// A bucket's bundle indexed by another rule catalog: rebuilding here would download
			// every file of it, and every bundle of a fleet at once after an upgrade. Its index
			// is read as it is; the indexing Job re-indexes the bucket (index-job --force).
			s.log.Warn("using a bucket bundle's index built by another rule catalog", "bundle", e.Manifest.ID, "reason", err)
			idx.Warnings = append(idx.Warnings, "indexed by another rule catalog ("+idx.CatalogVersion+"): findings of rules added since are missing; re-index the bucket with `nodediag index-job --force`")
			return idx, nil
		}
		if errors.Is(err, index.ErrStale) {
			s.log.Info("rebuilding stale index", "bundle", e.Manifest.ID, "reason", err)
		} else if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("rebuilding unreadable index", "bundle", e.Manifest.ID, "err", err)
		}
	}
	cat, err := detect.Load()
	if err != nil {
		return nil, err
	}
	idx, err := s.build(ctx, e, cat)
	if err != nil {
		return nil, err
	}
	idx.Warnings = append(idx.Warnings, e.Manifest.Warnings...)
	hook("index:built")
	if err := s.saveIndex(ctx, e, idx); err != nil {
		return nil, err
	}
	return idx, nil
}

// saveIndex puts idx in place of e's index: written whole in a work folder, then exchanged with
// the old one (see replace), so that a reader loads the old index or the new one, and a kill
// leaves the old one. When e's bundle was replaced since e was read (an import --force meanwhile),
// idx describes files that are gone and is not saved: the new bundle came with its own index.
func (s *Store) saveIndex(ctx context.Context, e *Entry, idx *index.Index) error {
	lockPath := s.bundleLock(e.Dir)
	lock, err := lockWait(ctx, lockPath, nil)
	if err != nil {
		return fmt.Errorf("save the index of %s: %w", e.Manifest.ID, err)
	}
	defer lock.unlock()
	if e.dirInfo != nil {
		now, err := os.Stat(e.Dir)
		if err != nil || !os.SameFile(now, e.dirInfo) {
			s.log.Info("bundle replaced while its index was rebuilt; the rebuilt index is not saved", "bundle", e.Manifest.ID)
			return nil
		}
	}
	w, err := s.newWork("index-")
	if err != nil {
		return fmt.Errorf("save the index of %s: %w", e.Manifest.ID, err)
	}
	defer func() {
		if err := w.release(); err != nil {
			s.log.Warn("index: temporary folder not removed; the next start removes it", "err", err)
		}
	}()
	staged := filepath.Join(w.Dir, "index")
	if err := index.Write(staged, idx); err != nil {
		return err
	}
	hook("index:staged")
	if err := s.replace(w, staged, e.IndexDir(), lockPath); err != nil {
		return fmt.Errorf("save the index of %s: %w", e.Manifest.ID, err)
	}
	hook("index:swapped")
	return nil
}

// Imported returns the stored bundle imported from the archive at src when the archive is
// unchanged since (same size and modification time), so that naming it again costs nothing:
// unpacking a 1 GiB archive takes seconds.
func (s *Store) Imported(src string) (*Entry, bool) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, false
	}
	info, err := os.Stat(abs)
	if err != nil || !info.Mode().IsRegular() {
		return nil, false
	}
	entries, err := s.List()
	if err != nil {
		return nil, false
	}
	for _, e := range entries {
		m := e.Manifest
		if m.Origin == abs && m.OriginSize == info.Size() && m.OriginModTime.Equal(info.ModTime()) && len(m.Files) > 0 {
			if err := s.checkFiles(e); err != nil {
				s.log.Warn("the earlier import of this archive is damaged; importing it again", "bundle", m.ID, "err", err)
				return nil, false
			}
			return e, true
		}
	}
	return nil, false
}

// List returns every stored bundle, newest capture first. A folder without its manifest or its
// index is not a bundle: this nodediag never leaves one in bundles/, so it is damage (an older
// nodediag killed mid-replace, a hand edit) that `nodediag doctor` reports.
func (s *Store) List() ([]*Entry, error) {
	dirs, err := filepath.Glob(filepath.Join(s.Root, "bundles", "*", "*", ManifestFile))
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, p := range dirs {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "index", index.FileName)); err != nil {
			s.log.Warn("skipping a bundle without its index; `nodediag doctor --repair` rebuilds it", "dir", filepath.Dir(p), "err", err)
			continue
		}
		e, err := s.load(filepath.Dir(p))
		if err != nil {
			s.log.Warn("skipping unreadable bundle", "dir", filepath.Dir(p), "err", err)
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Manifest.CaptureTime.After(out[j].Manifest.CaptureTime)
	})
	return out, nil
}

// Resolve finds a bundle by id, or the newest bundle of an instance, or — with neither — the
// newest bundle in the store. A bundle whose files are not all there is an error (ErrDamaged),
// not an answer that silently leaves them out.
func (s *Store) Resolve(instanceID, bundleID string) (*Entry, error) {
	e, err := s.resolve(instanceID, bundleID)
	if err != nil {
		return nil, err
	}
	if err := s.checkFiles(e); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Store) resolve(instanceID, bundleID string) (*Entry, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("the store %s holds no bundles: import one with `nodediag import PATH`: %w", s.Root, ErrNotFound)
	}
	var ids []string
	for _, e := range all {
		m := e.Manifest
		if bundleID != "" {
			if m.ID == bundleID && (instanceID == "" || m.InstanceID == instanceID) {
				return e, nil
			}
			continue
		}
		if instanceID == "" || m.InstanceID == instanceID {
			return e, nil
		}
		ids = append(ids, m.InstanceID)
	}
	if bundleID != "" {
		return nil, fmt.Errorf("bundle %q: %w (list bundles with `nodediag bundles`)", bundleID, ErrNotFound)
	}
	return nil, fmt.Errorf("instance %q has no bundle (stored instances: %s): %w", instanceID, strings.Join(uniq(ids), ", "), ErrNotFound)
}

// ResolveNode returns the newest bundle collected from the Kubernetes node of that name: its
// manifest's node name is the name, or shares its first label (a bundle often knows only the
// short host name, "ip-10-0-37-142", of "ip-10-0-37-142.us-west-2.compute.internal", and some
// clusters name nodes by the short one). It finds the bundles whose archive named no instance.
func (s *Store) ResolveNode(nodeName string) (*Entry, error) {
	if nodeName == "" {
		return nil, fmt.Errorf("no node name given: %w", ErrNotFound)
	}
	short, _, _ := strings.Cut(nodeName, ".")
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		n := e.Manifest.NodeName
		nShort, _, _ := strings.Cut(n, ".")
		if n != "" && (n == nodeName || nShort == short) {
			if err := s.checkFiles(e); err != nil {
				return nil, err
			}
			return e, nil
		}
	}
	return nil, fmt.Errorf("node %q has no bundle: %w", nodeName, ErrNotFound)
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func (s *Store) load(dir string) (*Entry, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m bundle.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &Entry{Dir: dir, Manifest: &m, dirInfo: info}, nil
}

// loadIntact loads the bundle at dir when it is whole: manifest, index file and every file the
// manifest lists. fs.ErrNotExist means there is no bundle there at all.
func (s *Store) loadIntact(dir string) (*Entry, error) {
	e, err := s.load(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(e.IndexDir(), index.FileName)); err != nil {
		return nil, fmt.Errorf("bundle %s has no index: %w", e.Manifest.ID, ErrDamaged)
	}
	if err := s.checkFiles(e); err != nil {
		return nil, err
	}
	return e, nil
}

// SafeName makes a name one safe folder or object name whatever it claims (a bundle's id, a
// node's name): letters, digits, '-', '_' and '.' are kept, anything else becomes '_', and an
// empty name, "." or ".." is "unknown".
func SafeName(s string) string {
	if s == "" {
		return "unknown"
	}
	b := []byte(s)
	for i, c := range b {
		ok := c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			b[i] = '_'
		}
	}
	out := string(b)
	if out == "." || out == ".." {
		return "unknown"
	}
	return out
}

// partial explains what of a bundle could not be read: a limit or corrupt archive that stopped
// extraction, members whose data ends early, and the extractor's warnings.
func partial(man *bundle.Manifest, exErr error) error {
	var why []string
	if exErr != nil {
		why = append(why, exErr.Error())
	}
	for _, f := range man.Files {
		if f.Truncated {
			why = append(why, fmt.Sprintf("%s: %s", f.Path, f.Problem))
		}
	}
	for _, w := range man.Warnings {
		if !slices.Contains(why, w) {
			why = append(why, w)
		}
	}
	if len(why) == 0 {
		return nil
	}
	return &PartialError{Problems: why}
}

// Problems says what of the stored bundle could not be read when it was imported (files cut
// short, the extractor's warnings), nil when it was read whole: a bundle found again instead of
// imported again still says it is partial.
func (e *Entry) Problems() error { return partial(e.Manifest, nil) }

// PartialError lists what of a bundle could not be read; the rest was imported and indexed.
type PartialError struct{ Problems []string }

func (e *PartialError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("%d problems: %s", len(e.Problems), strings.Join(e.Problems, "; "))
}
