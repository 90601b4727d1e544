package bundle

import (
	"io"
	"sync"
)

// writeBehind writes a member to disk in a goroutine of its own, so the goroutine that indexes
// the member's lines does not also wait on write(2): on two cores decompression, indexing and
// the kernel's page-cache copy then overlap instead of two of them taking turns on one core
// (docs/performance.md). Buffers come from a pool the extractor keeps per nesting depth, so a
// nested archive's members and their parent's bytes never wait on each other's buffers.
type writeBehind struct {
	pool *bufferPool
	cur  []byte
	todo chan []byte
	done chan struct{}

	mu  sync.Mutex
	err error // the first write error; set by the writing goroutine
}

// bufferPool is a fixed set of buffers: a writer that runs ahead of the disk by more than the
// pool waits for the disk, which bounds memory.
type bufferPool struct{ free chan []byte }

func newBufferPool(n, size int) *bufferPool {
	p := &bufferPool{free: make(chan []byte, n)}
	for range n {
		p.free <- make([]byte, 0, size)
	}
	return p
}

func startWriteBehind(dst io.Writer, pool *bufferPool) *writeBehind {
	w := &writeBehind{pool: pool, todo: make(chan []byte, cap(pool.free)), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for b := range w.todo {
			if w.failed() == nil {
				if _, err := dst.Write(b); err != nil {
					w.mu.Lock()
					w.err = err
					w.mu.Unlock()
				}
			}
			pool.free <- b[:0]
		}
	}()
	return w
}

func (w *writeBehind) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Write queues p; an error is a failure of an earlier write, noticed now.
func (w *writeBehind) Write(p []byte) (int, error) {
	if err := w.failed(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if w.cur == nil {
			w.cur = <-w.pool.free
		}
		k := copy(w.cur[len(w.cur):cap(w.cur)], p)
		w.cur, p = w.cur[:len(w.cur)+k], p[k:]
		if len(w.cur) == cap(w.cur) {
			w.todo <- w.cur
			w.cur = nil
		}
	}
	return n, nil
}

// Close writes what is queued, waits for the disk and returns the first error. The writer
// cannot be used afterwards; the destination stays open.
func (w *writeBehind) Close() error {
	if w.cur != nil {
		if len(w.cur) > 0 {
			w.todo <- w.cur
		} else {
			w.pool.free <- w.cur
		}
		w.cur = nil
	}
	close(w.todo)
	<-w.done
	return w.failed()
}
