package journal

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Default limits. journald caps one field far lower (a stdout line at 48 KiB, a native message
// at its socket buffer), so a field or object over these is corruption or hostility, not a log.
const (
	DefaultMaxObjectBytes int64 = 16 << 20
	DefaultMaxFieldBytes  int64 = 16 << 20
	DefaultMaxEntryBytes  int64 = 64 << 20
)

// Limits bound the memory one object of a file can make the reader use.
type Limits struct {
	MaxObjectBytes int64 // an object's size as the file states it; 0: DefaultMaxObjectBytes
	MaxFieldBytes  int64 // one field after decompression; 0: DefaultMaxFieldBytes
	// MaxEntryBytes bounds the fields of one entry together: an entry's items may all name the
	// same large field. 0: DefaultMaxEntryBytes.
	MaxEntryBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxObjectBytes <= 0 {
		l.MaxObjectBytes = DefaultMaxObjectBytes
	}
	if l.MaxFieldBytes <= 0 {
		l.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if l.MaxEntryBytes <= 0 {
		l.MaxEntryBytes = DefaultMaxEntryBytes
	}
	return l
}

// ErrCorrupt is wrapped by every error about a file's content (as opposed to failing to read it).
var ErrCorrupt = errors.New("corrupt journal file")

// File is one open journal file.
type File struct {
	Path string // for errors: the file's path, or a name the caller gave

	r          io.ReaderAt
	closer     io.Closer
	size       int64
	headerSize uint64
	incompat   uint32
	state      byte
	entryArray uint64
	tailTime   uint64 // tail_entry_realtime: the newest entry's wall-clock time, µs
	limits     Limits
	compact    bool

	buf    []byte // reused for objects larger than the window
	win    []byte // the read-ahead window, at winOff
	winOff uint64
	cache  map[uint64]Field // DATA objects by offset: most fields repeat across entries
	dec    decoders
}

// Field is one FIELD=value of an entry.
type Field struct{ Name, Value string }

// cacheMax bounds the DATA cache: entries of at most cacheFieldMax bytes, so at most 4 MiB.
const (
	cacheMax      = 4096
	cacheFieldMax = 1024
)

// OpenFile opens a journal file and checks its header.
func OpenFile(path string, lim Limits) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: %s: %w", path, err)
	}
	jf, err := NewFile(path, f, info.Size(), lim)
	if err != nil {
		f.Close()
		return nil, err
	}
	jf.closer = f
	return jf, nil
}

// NewFile reads a journal file from r, which holds size bytes; name is used in errors.
func NewFile(name string, r io.ReaderAt, size int64, lim Limits) (*File, error) {
	f := &File{Path: name, r: r, size: size, limits: lim.withDefaults(), cache: map[uint64]Field{}}
	if err := f.readHeader(); err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the file when OpenFile opened it.
func (f *File) Close() error {
	if f.dec.zstd != nil {
		f.dec.zstd.Close()
	}
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Online reports whether the file was still being written (or its writer died) when opened.
func (f *File) Online() bool { return f.state == stateOnline }

func (f *File) corrupt(format string, args ...any) error {
	return fmt.Errorf("journal: %s: %w: %s", f.Path, ErrCorrupt, fmt.Sprintf(format, args...))
}

func (f *File) readHeader() error {
	h := make([]byte, minHeaderSize)
	if f.size < minHeaderSize {
		return f.corrupt("%d bytes, shorter than a journal header (%d bytes)", f.size, minHeaderSize)
	}
	if _, err := f.r.ReadAt(h, 0); err != nil {
		return fmt.Errorf("journal: %s: read header: %w", f.Path, err)
	}
	if string(h[:8]) != signature {
		return f.corrupt("no journal signature %q at the start", signature)
	}
	f.incompat = binary.LittleEndian.Uint32(h[offIncompatibleFlags:])
	if unknown := f.incompat &^ knownIncompatible; unknown != 0 {
		return fmt.Errorf("journal: %s: unknown incompatible header flags %#x (flags %s): written by a newer systemd than this reader knows", f.Path, unknown, flagNames(f.incompat))
	}
	f.compact = f.incompat&flagCompact != 0
	f.state = h[offState]
	if f.state > stateArchived {
		return f.corrupt("unknown state %d", f.state)
	}
	f.headerSize = binary.LittleEndian.Uint64(h[offHeaderSize:])
	if f.headerSize < minHeaderSize || f.headerSize > uint64(f.size) {
		return f.corrupt("header size %d outside %d..%d (the file's size)", f.headerSize, minHeaderSize, f.size)
	}
	f.entryArray = binary.LittleEndian.Uint64(h[offEntryArrayOffset:])
	f.tailTime = binary.LittleEndian.Uint64(h[offTailRealtime:])
	return nil
}

// flagNames lists the incompatible flags set, for errors.
func flagNames(flags uint32) string {
	var names []string
	for _, n := range incompatibleNames {
		if flags&n.flag != 0 {
			names = append(names, n.name)
		}
	}
	if rest := flags &^ knownIncompatible; rest != 0 {
		names = append(names, fmt.Sprintf("unknown %#x", rest))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " ")
}

// windowSize is how much read takes from the file at once: entries and their fields are
// written one after another, so most objects are found in the window of the one before.
const windowSize = 64 << 10

// read returns n bytes at off, valid until the next read: from the read-ahead window when they
// are in it, else from a new window (or, when larger than one, a buffer of their own).
func (f *File) read(off uint64, n int64) ([]byte, error) {
	if n < 0 || off > uint64(f.size) || uint64(n) > uint64(f.size)-off {
		return nil, f.corrupt("%d bytes at offset %d run past the end of the file (%d bytes)", n, off, f.size)
	}
	if off >= f.winOff && off+uint64(n) <= f.winOff+uint64(len(f.win)) {
		return f.win[off-f.winOff : off-f.winOff+uint64(n)], nil
	}
	if n > windowSize {
		if int64(cap(f.buf)) < n {
			f.buf = make([]byte, n)
		}
		b := f.buf[:n]
		if _, err := f.r.ReadAt(b, int64(off)); err != nil {
			return nil, fmt.Errorf("journal: %s: read %d bytes at offset %d: %w", f.Path, n, off, err)
		}
		return b, nil
	}
	if f.win == nil {
		f.win = make([]byte, windowSize)
	}
	w := f.win[:min(windowSize, uint64(f.size)-off)]
	got, err := f.r.ReadAt(w, int64(off))
	if int64(got) < n {
		f.win = f.win[:0]
		return nil, fmt.Errorf("journal: %s: read %d bytes at offset %d: %w", f.Path, n, off, cmp.Or(err, io.ErrUnexpectedEOF))
	}
	f.win, f.winOff = w[:got], off
	return f.win[:n], nil
}

// object reads the object at off, which must be of type typ and at least min bytes, and returns
// its bytes (header included), valid until the next read.
func (f *File) object(off uint64, typ byte, min int64) ([]byte, error) {
	if off%8 != 0 || off < f.headerSize {
		return nil, f.corrupt("object offset %d is not an 8-byte aligned offset past the header", off)
	}
	h, err := f.read(off, objectHeaderSize)
	if err != nil {
		return nil, err
	}
	if h[0] != typ {
		return nil, f.corrupt("object at offset %d has type %d, want %d", off, h[0], typ)
	}
	size := binary.LittleEndian.Uint64(h[8:])
	if size < uint64(min) {
		return nil, f.corrupt("object at offset %d is %d bytes, less than the %d its type needs", off, size, min)
	}
	if size > uint64(f.limits.MaxObjectBytes) {
		return nil, fmt.Errorf("journal: %s: object at offset %d is %d bytes, over the limit of %d bytes", f.Path, off, size, f.limits.MaxObjectBytes)
	}
	return f.read(off, int64(size))
}

// entryHead is an entry's header: enough to order and filter by time and boot without reading
// its fields.
type entryHead struct {
	off       uint64
	seqnum    uint64
	realtime  uint64
	monotonic uint64
	bootID    [16]byte
}

func (f *File) entryHead(off uint64) (entryHead, error) {
	b, err := f.object(off, objectEntry, entryItems)
	if err != nil {
		return entryHead{}, err
	}
	e := entryHead{off: off, seqnum: le64(b, entrySeqnum), realtime: le64(b, entryRealtime), monotonic: le64(b, entryMonotonic)}
	copy(e.bootID[:], b[entryBootID:entryBootID+16])
	return e, nil
}

// fields reads the entry at off and returns its fields in the file's order.
func (f *File) fields(off uint64, dst []Field) ([]Field, error) {
	b, err := f.object(off, objectEntry, entryItems)
	if err != nil {
		return nil, err
	}
	itemSize := 16
	if f.compact {
		itemSize = 4
	}
	items := b[entryItems:]
	if len(items)%itemSize != 0 {
		return nil, f.corrupt("entry at offset %d has %d bytes of items, not a whole number of %d-byte items", off, len(items), itemSize)
	}
	// The object's bytes are overwritten by the data reads below: take the offsets first.
	offs := make([]uint64, len(items)/itemSize)
	for i := range offs {
		if f.compact {
			offs[i] = uint64(binary.LittleEndian.Uint32(items[i*4:]))
		} else {
			offs[i] = binary.LittleEndian.Uint64(items[i*16:])
		}
	}
	var total int64
	for _, d := range offs {
		fd, err := f.data(d)
		if err != nil {
			return nil, fmt.Errorf("entry at offset %d: %w", off, err)
		}
		if total += int64(len(fd.Name) + len(fd.Value)); total > f.limits.MaxEntryBytes {
			return nil, fmt.Errorf("journal: %s: entry at offset %d holds over %d bytes of fields, the entry limit", f.Path, off, f.limits.MaxEntryBytes)
		}
		dst = append(dst, fd)
	}
	return dst, nil
}

// data reads the DATA object at off as a field, decompressing it when needed.
func (f *File) data(off uint64) (Field, error) {
	if fd, ok := f.cache[off]; ok {
		return fd, nil
	}
	start := int64(dataPayloadRegular)
	if f.compact {
		start = dataPayloadCompact
	}
	b, err := f.object(off, objectData, start)
	if err != nil {
		return Field{}, err
	}
	payload := b[start:]
	if c := b[1] & objCompressedMask; c != 0 {
		if payload, err = f.decompress(c, payload); err != nil {
			return Field{}, fmt.Errorf("data object at offset %d: %w", off, err)
		}
	} else if int64(len(payload)) > f.limits.MaxFieldBytes {
		return Field{}, fmt.Errorf("journal: %s: data object at offset %d holds %d bytes, over the field limit of %d bytes", f.Path, off, len(payload), f.limits.MaxFieldBytes)
	}
	eq := bytes.IndexByte(payload, '=')
	if eq <= 0 {
		return Field{}, f.corrupt("data object at offset %d is not FIELD=value", off)
	}
	fd := Field{Name: string(payload[:eq]), Value: string(payload[eq+1:])}
	if len(payload) <= cacheFieldMax {
		if len(f.cache) >= cacheMax {
			clear(f.cache)
		}
		f.cache[off] = fd
	}
	return fd, nil
}

func le64(b []byte, at int) uint64 { return binary.LittleEndian.Uint64(b[at:]) }

// cursor walks a file's entry array chain, returning entry offsets in the file's order.
// Offsets must move forward, of the arrays and of the entries, which is how systemd appends
// them: a chain that loops or points back is corrupt, and the walk ends there with an error.
type cursor struct {
	f                    *File
	arr                  uint64 // the next array to read; 0: none
	lastArray, lastEntry uint64
	offs                 []uint64 // the current array's entries not yet returned
	since                uint64   // arrays whose last entry is older are skipped whole
	skipped              int      // entries skipped so (for tests)
	err                  error
}

// cursor walks the file's entries from the first whose array may hold one at or after since
// (µs; 0: from the first).
func (f *File) cursor(since uint64) *cursor { return &cursor{f: f, arr: f.entryArray, since: since} }

// before reports whether every entry of the file is older than since, by its header, so that
// none of it need be read: a node keeps up to 4 GiB of journal in files of up to 128 MiB, and
// a snapshot wants the last half hour. journald appends in wall-clock order (an entry older
// than the file's tail is refused and the file rotated: journal_file_append_entry_internal),
// so the tail's time is the newest. A file still being written is never skipped: its header
// can lag its entries.
func (f *File) before(since uint64) bool {
	return since > 0 && !f.Online() && f.tailTime != 0 && f.tailTime < since
}

// next returns the next entry's offset; false at the end or on an error (in c.err).
func (c *cursor) next() (uint64, bool) {
	for len(c.offs) == 0 {
		if c.err != nil || c.arr == 0 {
			return 0, false
		}
		if c.err = c.load(); c.err != nil {
			return 0, false
		}
		c.skipOld()
	}
	e := c.offs[0]
	c.offs = c.offs[1:]
	if e <= c.lastEntry {
		c.err = c.f.corrupt("entry array at offset %d goes back from entry %d to %d", c.lastArray, c.lastEntry, e)
		c.offs = nil
		return 0, false
	}
	c.lastEntry = e
	return e, true
}

// skipOld drops the loaded array when its last entry is older than since: its entries are in
// wall-clock order (File.before), so reading one header saves reading them all. A last entry
// that cannot be read is left to next, which reports it where it is.
func (c *cursor) skipOld() {
	if c.since == 0 || len(c.offs) == 0 {
		return
	}
	last := c.offs[len(c.offs)-1]
	if last <= c.lastEntry {
		return
	}
	e, err := c.f.entryHead(last)
	if err != nil || e.realtime >= c.since {
		return
	}
	c.skipped += len(c.offs)
	c.lastEntry = last
	c.offs = c.offs[:0]
}

// last returns the offset of the file's last entry, reading its entry arrays only; false when
// it has none or its chain is damaged.
func (c *cursor) last() (uint64, bool) {
	var last uint64
	for c.arr != 0 {
		if c.err = c.load(); c.err != nil {
			break
		}
		if len(c.offs) > 0 {
			last = c.offs[len(c.offs)-1]
		}
	}
	return last, last != 0
}

// load reads the array at c.arr into c.offs and moves c.arr to the next one.
func (c *cursor) load() error {
	f := c.f
	if c.arr <= c.lastArray {
		return f.corrupt("entry array chain goes back from offset %d to %d (a loop)", c.lastArray, c.arr)
	}
	c.lastArray = c.arr
	b, err := f.object(c.arr, objectEntryArray, entryArrayItems)
	if err != nil {
		return err
	}
	c.arr = le64(b, objectHeaderSize)
	items := b[entryArrayItems:]
	itemSize := 8
	if f.compact {
		itemSize = 4
	}
	c.offs = c.offs[:0]
	for i := 0; i+itemSize <= len(items); i += itemSize {
		var e uint64
		if f.compact {
			e = uint64(binary.LittleEndian.Uint32(items[i:]))
		} else {
			e = binary.LittleEndian.Uint64(items[i:])
		}
		if e == 0 { // the unused tail of the newest array
			break
		}
		c.offs = append(c.offs, e)
	}
	return nil
}
