package bundle

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestWriteBehindKeepsEveryByte writes pieces of every size around the buffer size and checks
// the destination holds exactly the bytes, in order, with the pool whole again afterwards.
func TestWriteBehindKeepsEveryByte(t *testing.T) {
	pool := newBufferPool(3, 16)
	r := rand.New(rand.NewPCG(1, 2))
	for _, sizes := range [][]int{{}, {1}, {16}, {15, 1, 17}, {100, 3, 0, 47, 16, 16}} {
		var want, got bytes.Buffer
		w := startWriteBehind(&got, pool)
		for _, n := range sizes {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			want.Write(p)
			if k, err := w.Write(p); k != n || err != nil {
				t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("sizes %v: wrote %d bytes, want %d (or they differ)", sizes, got.Len(), want.Len())
		}
		if len(pool.free) != 3 {
			t.Errorf("sizes %v: %d buffers back in the pool, want 3", sizes, len(pool.free))
		}
	}
}

type failingWriter struct{ after, n int }

var errDiskFull = errors.New("no space left on device")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.after {
		return 0, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

// TestWriteBehindReportsTheDisk: a failed write surfaces at a later Write or at Close, and the
// writer stops writing after it.
func TestWriteBehindReportsTheDisk(t *testing.T) {
	pool := newBufferPool(2, 8)
	dst := &failingWriter{after: 20}
	w := startWriteBehind(dst, pool)
	var werr error
	for range 10 {
		if _, werr = w.Write(make([]byte, 8)); werr != nil {
			break
		}
	}
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close = %v, want the disk's error", err)
	}
	if werr != nil && !errors.Is(werr, errDiskFull) {
		t.Errorf("Write = %v, want the disk's error or none", werr)
	}
	if dst.n != 16 {
		t.Errorf("%d bytes reached the disk, want the 16 before it failed", dst.n)
	}
	if len(pool.free) != 2 {
		t.Errorf("%d buffers back in the pool, want 2", len(pool.free))
	}
}
