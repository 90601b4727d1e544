package bundle

import (
	"context"
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

// ratioError reports a decompression bomb. It wraps ErrLimit.
type ratioError struct {
	what    string
	in, out int64
	max     float64
}

func (e *ratioError) Error() string {
	return fmt.Sprintf("%s: gzip stream expands %d compressed bytes to %d (ratio %.0f), over MaxRatio=%g",
		e.what, e.in, e.out, float64(e.out)/float64(max(e.in, 1)), e.max)
}

func (e *ratioError) Unwrap() error { return ErrLimit }

// ratioReader refuses a stream whose output outgrows its input by more than max, once past
// ratioFloor bytes out.
type ratioReader struct {
	r    io.Reader
	in   func() int64
	out  int64
	max  float64
	what string
}

func (r *ratioReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.out += int64(n)
	if r.out > ratioFloor {
		in := r.in()
		if float64(r.out) > r.max*float64(max(in, 1)) {
			return n, &ratioError{what: r.what, in: in, out: r.out, max: r.max}
		}
	}
	return n, err
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
