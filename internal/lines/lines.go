// Package lines reads a log file as blocks of whole lines, the unit every fast path of nodediag
// works on: the detection prefilter and search scan a block at a time instead of a line at a time,
// because most lines of a node log match nothing.
package lines

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultBlockSize balances syscall count against cache footprint; 1 MiB measured best for the
// indexer on the benchmark bundle.
const DefaultBlockSize = 1 << 20

// DefaultMaxLine caps one line. Longer lines are cut there (flagged, not dropped): a multi-megabyte
// JSON blob on one line is not a log event anyone reads in full, and the cap bounds memory. It
// equals the block size because a cut costs nothing only where a line cannot fit in a block:
// checking every line's length inside a block would cost a pass over every byte.
const DefaultMaxLine = DefaultBlockSize

// Block is a run of whole lines. Data ends with '\n' except for a final unterminated line.
type Block struct {
	Data      []byte // valid until the next call to Next
	FirstLine int    // 1-based number of the block's first line
	Offset    int64  // byte offset of Data[0] in the file
	// Cut is true when the block's last line was longer than the line cap: Data holds its first
	// MaxLine bytes (plus '\n'), and the rest of that line was skipped.
	Cut bool
}

// Reader splits a stream into Blocks.
type Reader struct {
	r       io.Reader
	buf     []byte
	start   int   // first unconsumed byte of buf
	end     int   // end of valid bytes in buf
	offset  int64 // file offset of buf[start]
	line    int   // number of the next line to hand out
	maxLine int
	eof     bool
	err     error
	cutRest bool // skipping the remainder of a cut line
	// CutLines counts lines longer than the cap.
	CutLines int
	// Lines counts the lines handed out so far.
	Lines int64
	// uncounted skips counting: blocks carry no line numbers (FirstLine 0) and Lines stays 0.
	uncounted bool
}

// SkipLineNumbers stops the reader counting lines, for a caller that needs none (a count of
// matching lines): counting them is a pass over every byte, 22 ms a GiB.
func (r *Reader) SkipLineNumbers() {
	r.uncounted = true
}

// NewReader returns a Reader with the given block size and line cap (0 means the defaults).
func NewReader(r io.Reader, blockSize, maxLine int) *Reader {
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	if maxLine+1 > blockSize {
		blockSize = maxLine + 1
	}
	var buf []byte
	if blockSize == pooledSize {
		buf = *defaultBlocks.Get().(*[]byte)
	} else {
		buf = make([]byte, blockSize)
	}
	return &Reader{r: r, buf: buf, maxLine: maxLine, line: 1}
}

// defaultBlocks recycles default-size buffers: a search or a read opens a reader per file, and
// allocating (and zeroing) a fresh MiB for each small file was a third of a search's time on a
// small bundle.
var defaultBlocks = sync.Pool{New: func() any {
	b := make([]byte, pooledSize)
	return &b
}}

// pooledSize is the buffer of a reader with the default block size and line cap: a block must
// hold a whole line and its newline.
const pooledSize = max(DefaultBlockSize, DefaultMaxLine+1)

// Release gives the reader's buffer back for reuse. Blocks it returned must not be used after,
// nor the reader itself. It is optional: a reader never released is collected as usual.
func (r *Reader) Release() {
	if r.buf != nil && len(r.buf) == pooledSize {
		b := r.buf
		defaultBlocks.Put(&b)
	}
	r.buf = nil
}

// ErrShortRead reports a source that ended in an error after some data; the lines before it were
// delivered.
var ErrShortRead = errors.New("read error")

// Next returns the next block, or io.EOF when the stream is exhausted. A read error is returned
// after every whole line before it has been delivered, wrapped with the offset where it happened.
func (r *Reader) Next() (Block, error) {
	for {
		if r.cutRest {
			if err := r.skipRestOfLine(); err != nil {
				return Block{}, err
			}
		}
		// Hand out the whole lines we hold, if any.
		if r.end > r.start {
			data := r.buf[r.start:r.end]
			if nl := bytes.LastIndexByte(data, '\n'); nl >= 0 {
				return r.emit(nl+1, false), nil
			}
			if r.eof {
				// Final line without a newline.
				if len(data) > r.maxLine {
					r.CutLines++
					r.cutRest = true
					return r.emit(r.maxLine, true), nil
				}
				return r.emit(len(data), false), nil
			}
			if len(data) > r.maxLine {
				r.CutLines++
				r.cutRest = true
				return r.emit(r.maxLine, true), nil
			}
		} else if r.eof {
			if r.err != nil {
				err := r.err
				r.err = nil
				return Block{}, err
			}
			return Block{}, io.EOF
		}
		r.fill()
	}
}

func (r *Reader) emit(n int, cut bool) Block {
	data := r.buf[r.start : r.start+n]
	b := Block{Data: data, FirstLine: r.line, Offset: r.offset, Cut: cut}
	if r.uncounted {
		b.FirstLine = 0
		r.start += n
		r.offset += int64(n)
		return b
	}
	nl := bytes.Count(data, []byte{'\n'})
	if cut || data[len(data)-1] != '\n' {
		nl++
	}
	r.line += nl
	r.Lines += int64(nl)
	r.start += n
	r.offset += int64(n)
	return b
}

// fill moves unconsumed bytes to the front and reads more.
func (r *Reader) fill() {
	if r.start > 0 {
		copy(r.buf, r.buf[r.start:r.end])
		r.end -= r.start
		r.start = 0
	}
	for r.end < len(r.buf) && !r.eof {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.eof = true
			if err != io.EOF {
				r.err = fmt.Errorf("%w at byte %d: %w", ErrShortRead, r.offset+int64(r.end-r.start), err)
			}
			return
		}
		if n > 0 && bytes.IndexByte(r.buf[r.end-n:r.end], '\n') >= 0 {
			return
		}
	}
}

// skipRestOfLine discards bytes up to and including the next newline.
func (r *Reader) skipRestOfLine() error {
	for {
		if r.end > r.start {
			data := r.buf[r.start:r.end]
			if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
				r.start += nl + 1
				r.offset += int64(nl + 1)
				r.cutRest = false
				return nil
			}
			r.offset += int64(len(data))
			r.start = r.end
		}
		if r.eof {
			r.cutRest = false
			return nil
		}
		r.fill()
	}
}

// LineAt returns the line of b that contains position pos, without its newline, and the position
// where it starts.
func LineAt(data []byte, pos int) (line []byte, start int) {
	start = bytes.LastIndexByte(data[:pos], '\n') + 1
	end := bytes.IndexByte(data[pos:], '\n')
	if end < 0 {
		end = len(data)
	} else {
		end += pos
	}
	return data[start:end], start
}

// Counter turns positions inside a block into line numbers with one forward pass: the hits of a
// block arrive in increasing position order, so counting newlines between consecutive hits costs
// one pass over the block in total.
type Counter struct {
	data []byte
	pos  int
	line int
}

// NewCounter starts counting at the first line of b.
func NewCounter(b Block) Counter { return Counter{data: b.Data, line: b.FirstLine} }

// LineOf returns the line number of the byte at pos. pos must not decrease between calls.
func (c *Counter) LineOf(pos int) int {
	if pos > c.pos {
		c.line += bytes.Count(c.data[c.pos:pos], []byte{'\n'})
		c.pos = pos
	}
	return c.line
}
