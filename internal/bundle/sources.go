package bundle

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
)

type sourceKind int

const (
	kindFolder sourceKind = iota
	kindTarGz
	kindTar
	kindZip
)

// gzipCodec selects the decompressor of the outer .tar.gz stream; the benchmark compares them.
type gzipCodec int

const (
	codecPgzip gzipCodec = iota
	codecKlauspost
	codecStdlib
)

func (c gzipCodec) String() string {
	return [...]string{"pgzip", "klauspost", "stdlib"}[c]
}

func newGzipReader(c gzipCodec, r io.Reader) (io.ReadCloser, error) {
	switch c {
	case codecKlauspost:
		return kgzip.NewReader(r)
	case codecStdlib:
		return gzip.NewReader(r)
	}
	return pgzip.NewReaderN(r, pgzipBlock, pgzipBlocks)
}

// pgzip read-ahead: enough blocks that the decompressing goroutine rarely waits for the
// extractor (and the caller's indexer) on the other core.
const (
	pgzipBlock  = 1 << 20
	pgzipBlocks = 8
)

func isGzip(b []byte) bool { return len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8 }

// isTar recognises a tar header block: the POSIX/GNU magic, or a valid v7 checksum.
func isTar(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	if bytes.HasPrefix(b[257:], []byte("ustar")) {
		return true
	}
	want, err := strconv.ParseUint(strings.Trim(string(b[148:156]), " \x00"), 8, 32)
	if err != nil {
		return false
	}
	var sum uint64
	for i, c := range b[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += uint64(c)
	}
	return sum == want
}

// sniff tells the archive kind from content, not name: downloads are often renamed.
func sniff(name string) (sourceKind, error) {
	fh, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("bundle source: %w", err)
	}
	defer fh.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(fh, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, fmt.Errorf("bundle source %s: %w", name, err)
	}
	head = head[:n]
	switch {
	case n == 0:
		return 0, fmt.Errorf("%s is an empty file: %w", name, ErrEmpty)
	case isGzip(head):
		return kindTarGz, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return kindZip, nil
	case isTar(head) || (n == 512 && bytes.Count(head, []byte{0}) == 512):
		return kindTar, nil
	}
	what := "its content is not a recognised archive"
	switch {
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		what = "it is zstd-compressed"
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		what = "it is xz-compressed"
	case bytes.HasPrefix(head, []byte("BZh")):
		what = "it is bzip2-compressed"
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf")):
		what = "it is a 7-Zip archive"
	}
	return 0, fmt.Errorf("%s: %s: %w (supported: %s)", name, what, ErrUnsupported, SupportedKinds)
}

// fromTar reads a .tar or .tar.gz bundle in one streaming pass.
func (e *extractor) fromTar(name string, gz bool) error {
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("bundle source: %w", err)
	}
	defer fh.Close()
	if !gz {
		// A plain tar can be listed cheaply (tar seeks over member data), so the top folder
		// is decided from every name rather than guessed from the first.
		names, dirs := listTar(fh)
		e.outer.decideStrip(names, dirs)
		if _, err := fh.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("bundle source: %w", err)
		}
	}
	compressed := &countReader{r: fh}
	if e.opt.Progress != nil {
		if info, err := fh.Stat(); err == nil {
			total, report := info.Size(), e.opt.Progress
			compressed.progress = func(read int64) { report(read, total) }
		}
	}
	var r io.Reader = bufio.NewReaderSize(compressed, 64<<10)
	if gz {
		zr, err := newGzipReader(e.codec, r)
		if err != nil {
			return fmt.Errorf("%s: %w: gzip header unreadable: %v", name, ErrCorrupt, err)
		}
		defer zr.Close()
		r = &budgetReader{r: &ratioReader{r: zr, in: compressed.n.Load, max: e.opt.MaxRatio, floor: e.opt.ratioFloor, what: filepath.Base(name)},
			b: e.budget, inflate: true}
	}
	peek := bufio.NewReaderSize(r, 64<<10)
	head, perr := peek.Peek(512)
	switch {
	case perr != nil && perr != io.EOF && perr != io.ErrUnexpectedEOF:
		if errors.Is(perr, ErrLimit) {
			return e.fail(perr)
		}
		return fmt.Errorf("%s: %w: %v", name, ErrCorrupt, perr)
	case len(head) == 0:
		return fmt.Errorf("%s: %w", name, ErrEmpty)
	case !isTar(head) && !bytes.Equal(head, make([]byte, 512)):
		return fmt.Errorf("%s does not hold a tar archive: %w (supported: %s)", name, ErrUnsupported, SupportedKinds)
	}
	plain := &countReader{r: peek}
	err = e.tarLoop(e.outer, tar.NewReader(plain))
	if err == nil {
		err = e.drainTail(plain, name)
	}
	var se *srcError
	if !errors.As(err, &se) || errors.Is(err, ErrLimit) {
		return err
	}
	where := fmt.Sprintf("byte %d of the tar stream", plain.n.Load())
	if gz {
		where += fmt.Sprintf(" (compressed byte %d)", compressed.n.Load())
	}
	if len(e.files) == 0 {
		return fmt.Errorf("%s: %w: broke at %s before any file: %v", name, ErrCorrupt, where, se.err)
	}
	e.warnf("%s: archive broke at %s: %v; the %d files before the break were kept",
		filepath.Base(name), where, se.err, len(e.files))
	return nil
}

// maxTail bounds what is read after a tar archive's end marker: enough for the usual padding
// and the gzip trailer, whose checksum is the only check that the data was not damaged.
const maxTail = 16 << 20

func (e *extractor) drainTail(r io.Reader, name string) error {
	n, err := io.CopyBuffer(io.Discard, io.LimitReader(r, maxTail), e.copyBuf)
	if err != nil {
		return &srcError{err: err}
	}
	if n == maxTail {
		e.warnf("%s: more than %d bytes after the end of the tar archive; ignored", filepath.Base(name), maxTail)
	}
	return nil
}

func listTar(r io.Reader) (names []string, dirs map[string]bool) {
	dirs = map[string]bool{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return names, dirs
		}
		names = append(names, hdr.Name)
		if hdr.Typeflag == tar.TypeDir {
			dirs[hdr.Name] = true
		}
	}
}

// fromZip reads a .zip bundle. Entries are independent, so a corrupt entry costs only itself.
func (e *extractor) fromZip(name string) error {
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("bundle source: %w", err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("bundle source: %w", err)
	}
	// Every read of the archive file is counted, so that an entry's ratio is judged on the
	// compressed bytes read for it rather than on the size its headers claim.
	ra := &countReaderAt{r: fh}
	zr, err := zip.NewReader(ra, info.Size())
	if err != nil {
		return fmt.Errorf("%s: %w: not a readable zip: %v", name, ErrCorrupt, err)
	}
	names := make([]string, len(zr.File))
	dirs := map[string]bool{}
	for i, zf := range zr.File {
		names[i] = zf.Name
		if zf.Mode().IsDir() {
			dirs[zf.Name] = true
		}
	}
	e.outer.decideStrip(names, dirs)
	// Only the entries MaxFiles lets in are looked at: the others are never read.
	overlaps := zipOverlaps(zr.File[:min(len(zr.File), e.opt.MaxFiles+1)], info.Size())
	for i, zf := range zr.File {
		if o, ok := overlaps[i]; ok {
			return e.fail(fmt.Errorf("%w: %s: zip entry %q has its compressed data at bytes %d-%d, inside entry %q's (%d-%d): "+
				"entries sharing compressed bytes are how a zip bomb expands one body many times; stopped before it",
				ErrLimit, filepath.Base(name), zf.Name, o.start, o.end, zr.File[o.other].Name, o.otherStart, o.otherEnd))
		}
		m := &member{raw: zf.Name, mtime: zf.Modified}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			m.kind = kindDir
		case mode&fs.ModeSymlink != 0:
			m.kind = kindSymlink
			target, err := readZipLink(zf)
			if err != nil {
				e.skip(zf.Name, fmt.Sprintf("corrupt zip entry: %v", err))
				continue
			}
			m.link = target
		case mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0:
			m.kind, m.special = kindSpecial, "special file ("+mode.Type().String()+")"
		}
		if m.kind != kindFile {
			if err := e.add(e.outer, m); err != nil {
				return err
			}
			continue
		}
		start := ra.n
		rc, err := zf.Open()
		if err != nil {
			e.members++ // counted like any member, so a zip of broken entries still meets MaxFiles
			e.skip(zf.Name, fmt.Sprintf("corrupt zip entry: %v", err))
			continue
		}
		read := func() int64 { return ra.n - start }
		// An entry's output counts as decompressed whatever its method: stored entries that
		// shared one body would multiply it as surely as deflated ones.
		m.r = &budgetReader{r: &ratioReader{r: rc, in: read, max: e.opt.MaxRatio, floor: e.opt.ratioFloor, what: zf.Name},
			b: e.budget, inflate: true}
		err = e.add(e.outer, m)
		rc.Close()
		var se *srcError
		if errors.As(err, &se) && !errors.Is(err, ErrLimit) {
			e.warnf("%s: corrupt zip entry: %v; kept what was read", zf.Name, se.err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// zipOverlap is where an entry's compressed data lies inside an earlier one's.
type zipOverlap struct {
	start, end           int64
	other                int // the entry whose data it lies in
	otherStart, otherEnd int64
}

// zipOverlaps finds the entries whose compressed data overlaps another entry's, by their
// declared extents: an entry is read through a section of exactly that extent, so entries
// whose extents are apart can never read the same byte. Of two overlapping entries the one
// whose data starts later (or, at the same start, comes later) is reported.
func zipOverlaps(files []*zip.File, size int64) map[int]zipOverlap {
	type extent struct {
		start, end int64
		i          int
	}
	var ext []extent
	for i, zf := range files {
		if zf.CompressedSize64 == 0 {
			continue
		}
		start, err := zf.DataOffset()
		if err != nil || start >= size {
			continue // nothing of it can be read: its Open or first read fails, and it is skipped as corrupt
		}
		end := size // a claim past the end of the file reads to the end and no further
		if zf.CompressedSize64 < uint64(size-start) {
			end = start + int64(zf.CompressedSize64)
		}
		ext = append(ext, extent{start, end, i})
	}
	sort.Slice(ext, func(a, b int) bool {
		if ext[a].start != ext[b].start {
			return ext[a].start < ext[b].start
		}
		return ext[a].i < ext[b].i
	})
	out := map[int]zipOverlap{}
	reach := extent{start: -1, end: -1, i: -1} // the extent reaching furthest so far
	for _, x := range ext {
		if x.start < reach.end {
			out[x.i] = zipOverlap{start: x.start, end: x.end, other: reach.i, otherStart: reach.start, otherEnd: reach.end}
		}
		if x.end > reach.end {
			reach = x
		}
	}
	return out
}

func readZipLink(zf *zip.File) (string, error) {
	rc, err := zf.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget))
	return string(b), err
}

// fromDir imports a folder. Reads go through an os.Root too, so a symbolic link in the folder
// can be copied when it points inside it and is refused when it points out.
func (e *extractor) fromDir(src, dest string) error {
	sroot, err := os.OpenRoot(src)
	if err != nil {
		return fmt.Errorf("bundle source: %w", err)
	}
	defer sroot.Close()
	skipRel := ""
	if rel, err := filepath.Rel(src, dest); err == nil && filepath.IsLocal(rel) {
		skipRel = filepath.ToSlash(rel) // importing into a folder inside the source
	}
	type entry struct {
		name string
		d    fs.DirEntry
	}
	var entries []entry
	var names []string
	dirs := map[string]bool{}
	walkErr := fs.WalkDir(sroot.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			e.warnf("%s: cannot read: %v", name, err)
			return nil
		}
		if name == "." {
			return nil
		}
		if name == skipRel {
			return fs.SkipDir
		}
		if cerr := e.ctx.Err(); cerr != nil {
			return cerr
		}
		entries = append(entries, entry{name, d})
		names = append(names, name)
		if d.IsDir() {
			dirs[name] = true
		}
		return nil
	})
	if walkErr != nil {
		return e.fail(walkErr)
	}
	e.outer.decideStrip(names, dirs)
	for _, ent := range entries {
		if ent.d.Type().IsRegular() {
			if info, err := ent.d.Info(); err == nil {
				e.budget.archive += info.Size()
			}
		}
	}
	for _, ent := range entries {
		m := &member{raw: ent.name}
		t := ent.d.Type()
		switch {
		case t.IsDir():
			m.kind = kindDir
		case t&fs.ModeSymlink != 0:
			info, err := sroot.Stat(ent.name)
			if err != nil {
				e.members++
				e.skip(ent.name, fmt.Sprintf("symbolic link pointing outside the bundle folder is never followed (%v)", err))
				continue
			}
			if !info.Mode().IsRegular() {
				e.members++
				e.skip(ent.name, "symbolic link to something other than a file is not followed")
				continue
			}
			e.warnf("%s: symbolic link stored as a copy of its target inside the bundle", ent.name)
			m.kind, m.mtime = kindFile, info.ModTime()
		case t.IsRegular():
			m.kind = kindFile
			if info, err := ent.d.Info(); err == nil {
				m.mtime = info.ModTime()
			}
		default:
			m.kind, m.special = kindSpecial, "special file ("+t.String()+")"
		}
		if m.kind != kindFile {
			if err := e.add(e.outer, m); err != nil {
				return err
			}
			continue
		}
		fh, err := sroot.Open(ent.name)
		if err != nil {
			e.members++
			e.skip(ent.name, fmt.Sprintf("cannot open: %v", err))
			continue
		}
		m.r = fh
		err = e.add(e.outer, m)
		fh.Close()
		var se *srcError
		if errors.As(err, &se) && !errors.Is(err, ErrLimit) {
			e.warnf("%s: read error: %v; kept what was read", ent.name, se.err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// baseNoExt strips archive extensions from a file name.
func baseNoExt(name string) string {
	b := path.Base(filepath.ToSlash(name))
	for _, ext := range []string{".tar.gz", ".tgz", ".tar", ".zip"} {
		if strings.HasSuffix(strings.ToLower(b), ext) {
			return b[:len(b)-len(ext)]
		}
	}
	return b
}
