package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
)

const (
	headSize      = 64 << 10 // bytes read before deciding what a member is (gzip, binary, archive)
	binarySniff   = 8 << 10  // NUL bytes in this many leading bytes mark a file binary
	maxNestDepth  = 2        // archives inside archives inside the bundle, no deeper
	relocateDir   = ".nodediag-relocate"
	writeBufSize  = 256 << 10
	writeBuffers  = 8 // per nesting depth: 2 MiB a member's writes may run ahead of the disk
	copyBufSize   = 1 << 20
	maxLinkTarget = 4096
)

// Extract imports the bundle at src (a .tar.gz/.tgz/.tar/.zip archive or a folder) into dest,
// a new or empty folder, as dest/files/<path in bundle>. Every write goes through an os.Root
// opened on dest/files, so nothing lands outside it. On a limit, a broken stream or an OnFile
// error, the manifest of what was stored so far is returned together with the error.
func Extract(ctx context.Context, src, dest string, opt Options) (*Manifest, error) {
	return extract(ctx, src, dest, opt, codecPgzip)
}

// srcError marks a source stream that broke: what was read before is kept and the break is
// reported as a warning, unlike limit, context, disk and OnFile errors, which end the import.
type srcError struct {
	err error
}

func (e *srcError) Error() string { return e.err.Error() }
func (e *srcError) Unwrap() error { return e.err }

func extract(ctx context.Context, src, dest string, opt Options, codec gzipCodec) (*Manifest, error) {
	opt = opt.withDefaults()
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, fmt.Errorf("bundle source %s: %w", src, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("bundle source %s: %w (supported: %s)", src, err, SupportedKinds)
	}
	kind := kindFolder
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("bundle source %s is a %v, not a file or folder: %w (supported: %s)",
				src, info.Mode().Type(), ErrUnsupported, SupportedKinds)
		}
		if kind, err = sniff(abs); err != nil {
			return nil, err
		}
	}
	destAbs, err := filepath.Abs(dest)
	if err != nil {
		return nil, fmt.Errorf("bundle destination %s: %w", dest, err)
	}
	if err := prepareDest(destAbs); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(filepath.Join(destAbs, "files"))
	if err != nil {
		return nil, fmt.Errorf("bundle destination: %w", err)
	}
	defer root.Close()

	e := &extractor{
		ctx:     ctx,
		opt:     opt,
		codec:   codec,
		root:    root,
		m:       &Manifest{Source: "file", Origin: abs},
		index:   map[string]int{},
		dupNext: map[string]int{},
		dirs:    map[string]bool{".": true},
		copyBuf: make([]byte, copyBufSize),
		outer:   &tree{label: filepath.Base(abs)},
		budget:  &budget{maxTotal: opt.MaxTotalBytes, maxRatio: opt.MaxArchiveRatio, floor: opt.archiveFloor},
	}
	if !info.IsDir() {
		e.m.OriginSize, e.m.OriginModTime = info.Size(), info.ModTime().UTC()
		e.budget.archive = info.Size() // a folder's is its files', summed by fromDir
	}
	var runErr error
	switch kind {
	case kindFolder:
		runErr = e.fromDir(abs, destAbs)
	case kindZip:
		runErr = e.fromZip(abs)
	case kindTar:
		runErr = e.fromTar(abs, false)
	case kindTarGz:
		runErr = e.fromTar(abs, true)
	}
	e.finish(abs, info, kind)
	if runErr != nil {
		if errors.Is(runErr, ErrLimit) {
			runErr = fmt.Errorf("%w; kept what was stored before it: %s", runErr, e.kept())
		}
		return e.m, runErr
	}
	if len(e.m.Files) == 0 {
		return e.m, fmt.Errorf("%s: %w", src, ErrEmpty)
	}
	return e.m, nil
}

// kept says what a cut import stored, for the error that ends it.
func (e *extractor) kept() string {
	var bytes int64
	truncated := 0
	for _, f := range e.m.Files {
		bytes += f.Size
		if f.Truncated {
			truncated++
		}
	}
	return fmt.Sprintf("%d files, %d bytes on disk (%d of them cut short)", len(e.m.Files), bytes, truncated)
}

func prepareDest(dest string) error {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return fmt.Errorf("bundle destination: %w", err)
		}
	case err != nil:
		return fmt.Errorf("bundle destination %s: %w", dest, err)
	case len(entries) > 0:
		return fmt.Errorf("bundle destination %s is not empty", dest)
	}
	if err := os.Mkdir(filepath.Join(dest, "files"), 0o755); err != nil {
		return fmt.Errorf("bundle destination: %w", err)
	}
	return nil
}

// tree is one archive being unpacked: the bundle itself, or an archive nested in it.
type tree struct {
	base    string // folder (inside files/) that receives its members; "" for the bundle
	strip   string // common top-level folder removed from member names
	decided bool   // strip is final (known up front, or guessed from the first member)
	label   string // how messages name this archive
	depth   int
}

type memberKind int

const (
	kindFile memberKind = iota
	kindDir
	kindSymlink
	kindHardlink
	kindSpecial
)

type member struct {
	raw     string // name as the archive spells it
	kind    memberKind
	link    string // link target
	special string // what a kindSpecial member is, for messages
	mtime   time.Time
	r       io.Reader
}

type extractor struct {
	ctx     context.Context
	opt     Options
	codec   gzipCodec
	root    *os.Root
	m       *Manifest
	files   []*File        // stored files in archive order; Manifest.Files is built from it
	index   map[string]int // stored path → position in files
	dupNext map[string]int // path → the last N of a p.dupN taken for a repeated name
	dirs    map[string]bool
	members int
	budget  *budget
	copyBuf []byte
	// Per nesting depth, because a nested archive's members are written while the member
	// holding it is still open.
	headBufs [maxNestDepth + 1][]byte
	buffers  [maxNestDepth + 1]*bufferPool
	outer    *tree
	meta     metaScan
	fatal    error
	unlisted int // warnings past maxWarnings, counted only
}

// maxWarnings bounds the warnings a manifest lists. An archive of MaxFiles members that each
// earn one (skipped names, duplicates) would otherwise write megabytes of them into bundle.json
// and the index, which every later command loads, and into the import's error.
const maxWarnings = 200

func (e *extractor) warnf(format string, args ...any) {
	if len(e.m.Warnings) >= maxWarnings {
		e.unlisted++
		return
	}
	e.m.Warnings = append(e.m.Warnings, fmt.Sprintf(format, args...))
}

func (e *extractor) skip(raw, reason string) {
	e.m.Skipped = append(e.m.Skipped, Skipped{Path: raw, Reason: reason})
	e.warnf("skipped %q: %s", raw, reason)
}

// fail records an error that ends the import and returns it.
func (e *extractor) fail(err error) error {
	if e.fatal == nil {
		e.fatal = err
	}
	return e.fatal
}

// cleanMemberName turns an archive member name into a local slash path. It returns "" for
// the archive's root entry ("./") and a reason when the member must not be stored.
func cleanMemberName(raw string) (clean, reason string) {
	if strings.IndexByte(raw, 0) >= 0 {
		return "", "name contains a NUL byte"
	}
	s := strings.ReplaceAll(raw, `\`, "/")
	for _, c := range strings.Split(s, "/") {
		if c == ".." {
			return "", "path contains \"..\" and could escape the bundle folder"
		}
	}
	if len(s) >= 2 && s[1] == ':' {
		return "", "absolute Windows path"
	}
	for {
		t := strings.TrimPrefix(strings.TrimPrefix(s, "./"), "/")
		if t == s {
			break
		}
		s = t
	}
	s = path.Clean(s)
	if s == "." {
		return "", ""
	}
	if !filepath.IsLocal(filepath.FromSlash(s)) {
		return "", "path is not local to the bundle folder"
	}
	return s, ""
}

// strippable says whether top may be removed as a common top-level folder. A collector or NMA
// section folder is never stripped: an NMA bundle limited to one category holds just kubelet/.
func (t *tree) strippable(top string) bool {
	if t.depth > 0 {
		return top == path.Base(t.base)
	}
	_, section := sections[top]
	return !section && top != "var"
}

// decideStrip fixes a tree's top folder from every member name, when they are known up front.
func (t *tree) decideStrip(names []string, dirs map[string]bool) {
	t.decided = true
	top := ""
	for _, n := range names {
		clean, reason := cleanMemberName(n)
		if reason != "" || clean == "" {
			continue
		}
		first, _, multi := strings.Cut(clean, "/")
		if !multi && !dirs[n] {
			return // a file at the top level: nothing common to strip
		}
		if top == "" {
			top = first
		} else if first != top {
			return
		}
	}
	if top != "" && t.strippable(top) {
		t.strip = top
	}
}

// mapName maps a cleaned member name to its stored path, or "" when the member is the stripped
// top folder itself.
func (e *extractor) mapName(t *tree, clean string, isDir bool) (string, error) {
	if !t.decided {
		t.decided = true
		first, _, multi := strings.Cut(clean, "/")
		if (multi || isDir) && t.strippable(first) {
			t.strip = first
		}
	}
	if t.strip != "" {
		if clean == t.strip && isDir {
			return "", nil
		}
		rest, ok := strings.CutPrefix(clean, t.strip+"/")
		if !ok {
			if err := e.relocate(t, clean); err != nil {
				return "", err
			}
			rest = clean
		}
		clean = rest
	}
	return path.Join(t.base, clean), nil
}

// relocate undoes a wrong top-folder guess: the members stored so far move back under it.
func (e *extractor) relocate(t *tree, culprit string) error {
	dir := t.base
	if dir == "" {
		dir = "."
	}
	tmp := path.Join(dir, relocateDir)
	if err := e.root.Mkdir(tmp, 0o755); err != nil {
		return e.fail(fmt.Errorf("restoring top folder %q: %w", t.strip, err))
	}
	fh, err := e.root.Open(dir)
	if err != nil {
		return e.fail(fmt.Errorf("restoring top folder %q: %w", t.strip, err))
	}
	entries, err := fh.ReadDir(-1)
	fh.Close()
	if err != nil {
		return e.fail(fmt.Errorf("restoring top folder %q: %w", t.strip, err))
	}
	for _, ent := range entries {
		if ent.Name() == relocateDir {
			continue
		}
		if err := e.root.Rename(path.Join(dir, ent.Name()), path.Join(tmp, ent.Name())); err != nil {
			return e.fail(fmt.Errorf("restoring top folder %q: %w", t.strip, err))
		}
	}
	if err := e.root.Rename(tmp, path.Join(dir, t.strip)); err != nil {
		return e.fail(fmt.Errorf("restoring top folder %q: %w", t.strip, err))
	}
	moved := 0
	prefix := ""
	if t.base != "" {
		prefix = t.base + "/"
	}
	for _, f := range e.files {
		if rest, ok := strings.CutPrefix(f.Path, prefix); ok {
			f.Path = prefix + t.strip + "/" + rest
			moved++
		}
	}
	e.index = make(map[string]int, len(e.files))
	for i, f := range e.files {
		e.index[f.Path] = i
	}
	e.dirs = map[string]bool{".": true}
	e.warnf("%s: member %q is not under %q/, which the first members suggested was the common top folder; "+
		"%d files stored so far moved back under it (OnFile saw them without that prefix)", t.label, culprit, t.strip, moved)
	t.strip = ""
	return nil
}

func (e *extractor) mkdirAll(dir string) error {
	if dir == "" || e.dirs[dir] {
		return nil
	}
	if err := e.root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := dir; d != "." && d != "/" && !e.dirs[d]; d = path.Dir(d) {
		e.dirs[d] = true
	}
	return nil
}

// add stores one member. It returns an error only when the source stream broke (*srcError) or
// the import must end (limits, context, disk, OnFile).
func (e *extractor) add(t *tree, m *member) error {
	if e.fatal != nil {
		return e.fatal
	}
	if err := e.ctx.Err(); err != nil {
		return e.fail(err)
	}
	e.members++
	if e.members > e.opt.MaxFiles {
		return e.fail(fmt.Errorf("%w: %s has more than MaxFiles=%d members; stopped at %q",
			ErrLimit, t.label, e.opt.MaxFiles, m.raw))
	}
	clean, reason := cleanMemberName(m.raw)
	if reason != "" {
		e.skip(m.raw, reason)
		return nil
	}
	if clean == "" {
		return nil
	}
	e.budget.member = m.raw
	if t.depth > 0 {
		e.budget.member = m.raw + " in " + t.label
	}
	if strings.HasPrefix(m.raw, "/") {
		e.warnf("%s: member %q has an absolute name; stored as %q", t.label, m.raw, clean)
	}
	if t.depth == 0 && (strings.HasPrefix(m.raw, "./") || m.raw == ".") {
		e.meta.dotSlash = true
	}
	if t.depth == 0 {
		e.meta.rawNames = append(e.meta.rawNames, clean)
	}
	p, err := e.mapName(t, clean, m.kind == kindDir)
	if err != nil || p == "" {
		return err
	}
	switch m.kind {
	case kindDir:
		if err := e.mkdirAll(p); err != nil {
			e.skip(m.raw, fmt.Sprintf("cannot create folder %s: %v", p, err))
		}
		return nil
	case kindSpecial:
		e.skip(m.raw, m.special+": device files, fifos and sockets are never extracted")
		return nil
	case kindSymlink, kindHardlink:
		return e.link(t, m, clean, p)
	}
	return e.file(t, m, p)
}

// link copies the content of an earlier stored member when a link points at it, because
// links themselves are never created (a link could later redirect a write outside dest).
func (e *extractor) link(t *tree, m *member, clean, p string) error {
	what := "symbolic link"
	target := m.link
	if m.kind == kindHardlink {
		what = "hard link"
	} else {
		if strings.HasPrefix(target, "/") || (len(target) >= 2 && target[1] == ':') {
			e.skip(m.raw, fmt.Sprintf("%s to absolute path %q is never followed", what, target))
			return nil
		}
		target = path.Join(path.Dir(clean), strings.ReplaceAll(target, `\`, "/"))
	}
	tclean, reason := cleanMemberName(target)
	if reason != "" || tclean == "" {
		e.skip(m.raw, fmt.Sprintf("%s to %q points outside the bundle; never followed", what, m.link))
		return nil
	}
	tp := tclean
	if t.strip != "" {
		rest, ok := strings.CutPrefix(tclean, t.strip+"/")
		if !ok {
			e.skip(m.raw, fmt.Sprintf("%s to %q, which is not a file stored earlier; not followed", what, m.link))
			return nil
		}
		tp = rest
	}
	tp = path.Join(t.base, tp)
	i, ok := e.index[tp]
	if !ok || tp == p {
		e.skip(m.raw, fmt.Sprintf("%s to %q, which is not a file stored earlier; not followed", what, m.link))
		return nil
	}
	src, err := e.root.Open(tp)
	if err != nil {
		e.skip(m.raw, fmt.Sprintf("%s to %q: %v", what, m.link, err))
		return nil
	}
	defer src.Close()
	e.warnf("%s: %s %q stored as a copy of %q", t.label, what, m.raw, e.files[i].Path)
	return e.file(t, &member{raw: m.raw, kind: kindFile, mtime: m.mtime, r: src}, p)
}

// file streams one regular member to disk and, decompressed, to OnFile.
func (e *extractor) file(t *tree, m *member, p string) error {
	named := p
	p = e.freePath(t, m, p)
	if err := e.mkdirAll(path.Dir(p)); err != nil {
		e.skip(m.raw, fmt.Sprintf("cannot create folder for %s: %v", p, err))
		return nil
	}
	// O_EXCL: a stored file is never overwritten, so what OnFile indexed under a path is what
	// the disk keeps there.
	out, err := e.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		e.skip(m.raw, fmt.Sprintf("cannot create %s: %v", p, err))
		return nil
	}
	f := e.record(m, p, named)
	if e.buffers[t.depth] == nil {
		e.buffers[t.depth] = newBufferPool(writeBuffers, writeBufSize)
		e.headBufs[t.depth] = make([]byte, headSize)
	}
	headBuf := e.headBufs[t.depth]
	bw := startWriteBehind(out, e.buffers[t.depth])
	w := &diskWriter{w: bw}
	capped := &capReader{r: m.r, n: e.opt.MaxFileBytes}
	// Stored bytes count against MaxTotalBytes as they are read, so that the members of an
	// archive nested in this one, stored while this one is still being read, count too.
	counted := &budgetReader{r: capped, b: e.budget, expand: true}
	src := &faultReader{ctx: e.ctx, r: counted}

	hn, _ := io.ReadFull(src, headBuf)
	head := headBuf[:hn]
	w.Write(head)
	body := io.MultiReader(bytes.NewReader(head), &teeReader{r: src, w: w})

	hookErr := e.content(t, f, head, body)
	if hookErr == nil && e.fatal == nil {
		io.CopyBuffer(w, src, e.copyBuf)
	}
	if err := bw.Close(); err != nil && w.err == nil {
		w.err = err
	}
	if err := out.Close(); err != nil && w.err == nil {
		w.err = err
	}
	f.Size = w.n
	return e.outcome(t, m, f, hookErr, w, src, capped)
}

// freePath returns p, or, when an earlier member was already stored there, the first free
// p.dupN. A repeated name is kept as a file of its own rather than replacing the earlier copy:
// by the time the later copy arrives the earlier one has been indexed, and the index and the
// disk must describe the same bytes under the same path, or read refuses lines search found.
func (e *extractor) freePath(t *tree, m *member, p string) string {
	if _, dup := e.index[p]; !dup {
		return p
	}
	// dupNext remembers the last suffix tried per path, so that many copies of one name cost
	// one probe each rather than a walk over every suffix taken so far.
	for n := e.dupNext[p] + 1; ; n++ {
		q := fmt.Sprintf("%s.dup%d", p, n)
		if _, taken := e.index[q]; !taken && !e.dirs[q] {
			e.dupNext[p] = n
			e.warnf("%s: duplicate member %q; this later copy is stored and indexed as %q, the earlier one stays %q",
				t.label, m.raw, q, p)
			return q
		}
	}
}

// record lists a member's file, stored at p, with what its member name (named, which differs
// from p for a later copy of a repeated name) says of it.
func (e *extractor) record(m *member, p, named string) *File {
	logType, isLog := Classify(named)
	f := &File{Path: p, LogType: logType, Log: isLog}
	if !m.mtime.IsZero() && m.mtime.Unix() > 0 {
		f.ModTime = m.mtime.UTC()
	}
	if info, ok := ParsePodLogPath(named); ok {
		f.Pod = &info
	}
	e.index[p] = len(e.files)
	e.files = append(e.files, f)
	return f
}

// content hands what the member holds to its reader, by what its first bytes are: a nested
// archive, a gzip file, or text for OnFile (binary files are only stored).
func (e *extractor) content(t *tree, f *File, head []byte, body io.Reader) error {
	gz := isGzip(head)
	switch {
	case t.depth < maxNestDepth && isArchiveName(f.Path) && (gz || isTar(head)):
		f.LogType, f.Log, f.Binary, f.Compressed = TypeOther, false, true, gz
		return e.nested(t, f, body, gz)
	case gz:
		f.Compressed = true
		return e.gzipMember(f, body)
	}
	f.Binary = bytes.IndexByte(head[:min(len(head), binarySniff)], 0) >= 0
	if f.Binary {
		return nil
	}
	e.meta.scan(f, head)
	if e.opt.OnFile != nil {
		return e.opt.OnFile(e.ctx, f, body)
	}
	return nil
}

// outcome says what a stored member means for the extraction: a fatal error (the store, the
// reader's hook, cancellation, a limit on the whole import) stops it; a member that ended early
// or was cut at MaxFileBytes is kept, marked, and said.
func (e *extractor) outcome(t *tree, m *member, f *File, hookErr error, w *diskWriter, src *faultReader, capped *capReader) error {
	switch {
	case e.fatal != nil:
		return e.fatal
	case hookErr != nil:
		return e.fail(fmt.Errorf("indexing %s: %w", f.Path, hookErr))
	case w.err != nil:
		return e.fail(fmt.Errorf("writing %s: %w", f.Path, w.err))
	case errors.Is(src.err, context.Canceled) || errors.Is(src.err, context.DeadlineExceeded):
		return e.fail(src.err)
	}
	if src.err != nil {
		f.Truncated = true
		var le *limitError
		var re *ratioError
		switch {
		case errors.As(src.err, &le):
			f.Problem = fmt.Sprintf("cut at %s after %d bytes", le.limit, src.n)
		case errors.As(src.err, &re):
			f.Problem = fmt.Sprintf("cut at MaxRatio=%g after %d bytes (%s)", re.max, src.n, re.what)
		default:
			f.Problem = fmt.Sprintf("data ends early after %d bytes: %v", src.n, src.err)
		}
		if errors.Is(src.err, ErrLimit) {
			return e.fail(src.err)
		}
		return &srcError{err: src.err}
	}
	if capped.hit {
		f.Truncated = true
		f.Problem = fmt.Sprintf("cut at MaxFileBytes=%d", e.opt.MaxFileBytes)
		e.warnf("%s: member %q is larger than MaxFileBytes=%d; kept its first %d bytes",
			t.label, m.raw, e.opt.MaxFileBytes, w.n)
	}
	return nil
}

// gzipMember hands a compressed member to OnFile decompressed; the disk keeps the gzip bytes.
// The whole member is decompressed whether or not OnFile reads it, so that the ratio and total
// limits hold for every bundle: without OnFile (an archive not named like a collector bundle is
// indexed after the import) a bomb would pass here unread, to be decompressed in full by the
// indexer and again by every later search.
func (e *extractor) gzipMember(f *File, body io.Reader) error {
	cr := &countReader{r: body}
	zr, err := kgzip.NewReader(cr)
	if err != nil {
		f.Binary, f.Truncated = true, true
		f.Problem = fmt.Sprintf("gzip header unreadable: %v", err)
		e.warnf("%s: %s; stored as is", f.Path, f.Problem)
		return nil
	}
	defer zr.Close()
	ratio := &ratioReader{r: zr, in: cr.n.Load, max: e.opt.MaxRatio, floor: e.opt.ratioFloor, what: f.Path}
	capped := &capReader{r: ratio, n: e.opt.MaxFileBytes}
	counted := &budgetReader{r: capped, b: e.budget, expand: true, inflate: true}
	plain := &faultReader{ctx: e.ctx, r: counted}
	br := bufio.NewReaderSize(plain, headSize)
	head, _ := br.Peek(headSize)
	f.Binary = bytes.IndexByte(head[:min(len(head), binarySniff)], 0) >= 0
	if !f.Binary {
		e.meta.scan(f, head)
		if e.opt.OnFile != nil {
			if err := e.opt.OnFile(e.ctx, f, br); err != nil {
				return err
			}
		}
	}
	br.WriteTo(io.Discard) // plain turns every error into io.EOF and keeps it in plain.err
	var le *limitError
	switch {
	case errors.As(plain.err, &le):
		f.Truncated, f.PlainCut = true, new(plain.n)
		f.Problem = fmt.Sprintf("decompressed content cut at %s after %d bytes", le.limit, plain.n)
		return e.fail(plain.err)
	case errors.Is(plain.err, ErrLimit):
		f.Truncated, f.PlainCut = true, new(plain.n)
		f.Problem = fmt.Sprintf("decompressed content cut after %d bytes: %v", plain.n, plain.err)
		e.warnf("%s: %s; the compressed file is stored as is", f.Path, f.Problem)
	case errors.Is(plain.err, context.Canceled) || errors.Is(plain.err, context.DeadlineExceeded):
		return e.fail(plain.err)
	case plain.err != nil:
		f.Truncated = true
		f.Problem = fmt.Sprintf("gzip data broke at decompressed byte %d (compressed byte %d): %v",
			plain.n, cr.n.Load(), plain.err)
		e.warnf("%s: %s; the compressed file is stored as is", f.Path, f.Problem)
	case capped.hit:
		f.Truncated, f.PlainCut = true, new(plain.n)
		f.Problem = fmt.Sprintf("decompressed content cut at MaxFileBytes=%d", e.opt.MaxFileBytes)
		e.warnf("%s: %s", f.Path, f.Problem)
	}
	return nil
}

// nested unpacks an archive found inside the bundle into a folder named after it, while the
// archive itself is written to disk as it is.
func (e *extractor) nested(t *tree, f *File, body io.Reader, gz bool) error {
	base := f.Path
	for _, ext := range []string{".tar.gz", ".tgz", ".tar"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
			break
		}
	}
	child := &tree{base: base, label: f.Path, depth: t.depth + 1}
	defer func(member string) { e.budget.member = member }(e.budget.member) // the rest of f is still read
	var r io.Reader = body
	cr := &countReader{r: body}
	if gz {
		zr, err := kgzip.NewReader(cr)
		if err != nil {
			e.warnf("%s: nested archive unreadable: %v; stored as is", f.Path, err)
			return nil
		}
		defer zr.Close()
		r = &budgetReader{r: &ratioReader{r: zr, in: cr.n.Load, max: e.opt.MaxRatio, floor: e.opt.ratioFloor, what: f.Path},
			b: e.budget, inflate: true}
	}
	plain := &countReader{r: r}
	before := len(e.files)
	err := e.tarLoop(child, tar.NewReader(plain))
	var se *srcError
	switch {
	case errors.As(err, &se) && !errors.Is(err, ErrLimit):
		e.warnf("%s: nested archive broke at byte %d of its tar stream (compressed byte %d): %v; its %d files before the break were kept",
			f.Path, plain.n.Load(), cr.n.Load(), se.err, len(e.files)-before)
		return nil
	case err != nil:
		return e.fail(err)
	}
	return nil
}

// tarLoop stores every member of a tar stream.
func (e *extractor) tarLoop(t *tree, tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, ErrLimit) {
				return e.fail(err)
			}
			return &srcError{err: err}
		}
		if err := e.add(t, tarMember(hdr, tr)); err != nil {
			return err
		}
	}
}

func tarMember(hdr *tar.Header, r io.Reader) *member {
	m := &member{raw: hdr.Name, mtime: hdr.ModTime, link: hdr.Linkname}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		m.kind, m.r = kindFile, r
	case tar.TypeDir:
		m.kind = kindDir
	case tar.TypeSymlink:
		m.kind = kindSymlink
	case tar.TypeLink:
		m.kind = kindHardlink
	case tar.TypeChar:
		m.kind, m.special = kindSpecial, "character device"
	case tar.TypeBlock:
		m.kind, m.special = kindSpecial, "block device"
	case tar.TypeFifo:
		m.kind, m.special = kindSpecial, "fifo"
	default:
		m.kind, m.special = kindSpecial, fmt.Sprintf("unsupported tar member type %q", hdr.Typeflag)
	}
	return m
}

// finish fills the manifest's bundle-level facts once every member is known.
func (e *extractor) finish(abs string, info os.FileInfo, kind sourceKind) {
	if e.unlisted > 0 {
		e.m.Warnings = append(e.m.Warnings, fmt.Sprintf("%d more warnings are not listed (the first %d are); Skipped lists every member not stored",
			e.unlisted, maxWarnings))
	}
	e.m.TopFolder = e.outer.strip
	e.m.Files = make([]File, len(e.files))
	for i, f := range e.files {
		e.m.Files[i] = *f
	}
	e.m.Layout = detectLayout(e.meta.rawNames, e.outer.strip, e.meta.dotSlash, kind == kindFolder, e.m.Files)
	e.describe(abs, info, kind)
}
