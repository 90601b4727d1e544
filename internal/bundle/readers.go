package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// countReader counts bytes read through it. The count is atomic because pgzip reads the
// compressed stream in its own goroutine while the extractor checks the ratio in another.
type countReader struct {
	r        io.Reader
	n        atomic.Int64
	progress func(read int64) // nil: nobody is watching
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	read := c.n.Add(int64(n))
	if c.progress != nil && n > 0 {
		c.progress(read)
	}
	return n, err
}

// countReaderAt counts the bytes read from an archive file. A zip entry's ratio is judged on
// what was read for it, not on its CompressedSize64, which the archive states as it likes: an
// entry that claims more compressed bytes than its data holds would otherwise be allowed that
// much more output.
type countReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// ratioError reports a decompression bomb in one compressed stream. It wraps ErrLimit.
type ratioError struct {
	what    string
	in, out int64
	max     float64
}

func (e *ratioError) Error() string {
	return fmt.Sprintf("%s: compressed data expands %d bytes read to %d (ratio %.0f), over MaxRatio=%g",
		e.what, e.in, e.out, float64(e.out)/float64(max(e.in, 1)), e.max)
}

func (e *ratioError) Unwrap() error { return ErrLimit }

// ratioReader refuses a stream whose output outgrows its input by more than max, once past
// floor bytes out.
type ratioReader struct {
	r     io.Reader
	in    func() int64 // compressed bytes read so far, counted where they are read
	out   int64
	max   float64
	floor int64
	what  string
}

func (r *ratioReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.out += int64(n)
	if r.out > r.floor {
		in := r.in()
		if float64(r.out) > r.max*float64(max(in, 1)) {
			return n, &ratioError{what: r.what, in: in, out: r.out, max: r.max}
		}
	}
	return n, err
}

// budget is what one import may produce in all, counted as it is produced. Per-stream checks
// cannot bound a bomb spread over many members, over zip entries that share one compressed
// body, or over layers (a compressed member in a nested archive in a zip); the sums here can.
// Only the goroutine that reads members uses it (OnFile runs on it too), so nothing is atomic.
type budget struct {
	maxTotal int64
	maxRatio float64
	floor    int64
	archive  int64 // bytes of the source on disk (of a folder: its files), the ratio's denominator
	// expanded is what MaxTotalBytes caps: bytes written to disk plus the decompressed content
	// of compressed members.
	expanded int64
	// inflated is what every decompressor of the import produced: the archive's gzip stream,
	// zip entries (stored ones too: entries sharing one body multiply it), nested archives,
	// compressed members. MaxArchiveRatio judges it against the archive's size.
	inflated int64
	// member names the member being read, for the error: a limit is reached in a member even
	// when the stream that reached it is the archive's own.
	member string
}

// limitError reports a limit on the whole import (MaxTotalBytes, MaxArchiveRatio). Unlike one
// compressed member's ratio, which cuts that member, it ends the import. It wraps ErrLimit.
type limitError struct {
	limit string // the option and its value, e.g. "MaxTotalBytes=1024"
	msg   string
}

func (e *limitError) Error() string { return ErrLimit.Error() + ": " + e.msg }
func (e *limitError) Unwrap() error { return ErrLimit }

// expand counts n bytes against MaxTotalBytes and returns how many of them fit; a member is cut
// exactly where the total is reached.
func (b *budget) expand(n int) (int, error) {
	fit := min(int64(n), max(b.maxTotal-b.expanded, 0))
	b.expanded += fit
	// What is stored is judged against the archive's size too, not only what decompressors
	// made: a sparse tar member (GNU or PAX) expands holes into bytes that no decompressor
	// produced — a 275-byte .tar.gz wrote 8 GiB of zeros before this check.
	if err := b.overRatio(b.expanded, "stored"); err != nil {
		return int(fit), err
	}
	if fit == int64(n) {
		return n, nil
	}
	return int(fit), &limitError{
		limit: fmt.Sprintf("MaxTotalBytes=%d", b.maxTotal),
		msg: fmt.Sprintf("bundle is larger than MaxTotalBytes=%d (bytes stored plus the decompressed content of compressed members); stopped in %q",
			b.maxTotal, b.member),
	}
}

// inflate counts n bytes a decompressor produced against MaxArchiveRatio.
func (b *budget) inflate(n int) error {
	b.inflated += int64(n)
	return b.overRatio(b.inflated, "decompressed")
}

// overRatio is the MaxArchiveRatio error once out bytes (what) from the archive are past the
// floor and the ratio to its size, else nil.
func (b *budget) overRatio(out int64, what string) error {
	if out <= b.floor || float64(out) <= b.maxRatio*float64(max(b.archive, 1)) {
		return nil
	}
	return &limitError{
		limit: fmt.Sprintf("MaxArchiveRatio=%g", b.maxRatio),
		msg: fmt.Sprintf("%d bytes %s from an archive of %d bytes (ratio %.0f), over MaxArchiveRatio=%g; stopped in %q",
			out, what, b.archive, float64(out)/float64(max(b.archive, 1)), b.maxRatio, b.member),
	}
}

// budgetReader counts what passes through it against the import's budget: as bytes the import
// yields (stored, or a compressed member's content: expand), as a decompressor's output
// (inflate), or as both. The error it returns once a limit is reached stays: the budget only
// grows.
type budgetReader struct {
	r       io.Reader
	b       *budget
	expand  bool
	inflate bool
}

func (r *budgetReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n == 0 {
		return n, err
	}
	if r.expand {
		fit, lerr := r.b.expand(n)
		if lerr != nil {
			n, err = fit, lerr
		}
	}
	if r.inflate && !isLimit(err) {
		if lerr := r.b.inflate(n); lerr != nil {
			err = lerr
		}
	}
	return n, err
}

func isLimit(err error) bool {
	var le *limitError
	return errors.As(err, &le)
}

// capReader passes at most n bytes and notes whether the source had more.
type capReader struct {
	r   io.Reader
	n   int64 // bytes left
	got int64 // bytes passed
	hit bool  // the source had more than the cap
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		if !c.hit {
			var probe [1]byte
			if k, _ := io.ReadFull(c.r, probe[:]); k > 0 {
				c.hit = true
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	c.got += int64(n)
	return n, err
}

// faultReader turns a failing source into a clean EOF and keeps the error, so that a consumer
// (the caller's indexer) sees a short file rather than an import-ending error, while the
// extractor still reports where the data broke. It also stops on context cancellation.
type faultReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
	err error
}

func (f *faultReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, io.EOF
	}
	if err := f.ctx.Err(); err != nil {
		f.err = err
		return 0, io.EOF
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	if err != nil && err != io.EOF {
		f.err = err
		err = io.EOF
	}
	return n, err
}

// diskWriter buffers writes to a stored file, counts them and keeps the first error. It does
// not implement io.ReaderFrom, so io.CopyBuffer uses the extractor's large buffer.
type diskWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (d *diskWriter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.w.Write(p)
	d.n += int64(n)
	if err != nil {
		d.err = err
	}
	return n, err
}

// teeReader copies what it reads to the disk writer. Unlike io.TeeReader it stops reading once
// the disk failed, so a full disk ends the import instead of feeding the indexer bytes that
// were never stored.
type teeReader struct {
	r io.Reader
	w *diskWriter
}

func (t *teeReader) Read(p []byte) (int, error) {
	if t.w.err != nil {
		return 0, t.w.err
	}
	n, err := t.r.Read(p)
	if n > 0 {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			return n, werr
		}
	}
	return n, err
}
