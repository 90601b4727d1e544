package journal

import (
	"context"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"
)

// patched reads base with some bytes replaced and its length cut, without copying the 8 MiB
// test files for every input.
type patched struct {
	base    []byte
	patches map[int64]byte
	size    int64
}

func (p *patched) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || off >= p.size {
		return 0, io.EOF
	}
	n := copy(b, p.base[off:min(p.size, int64(len(p.base)))])
	for i := range n {
		if v, ok := p.patches[off+int64(i)]; ok {
			b[i] = v
		}
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// FuzzOpen reads real test journals changed by the input: which file, where to cut it, and
// byte patches (4-byte position, 1-byte value) placed in the header or the objects, where a
// reader can go wrong, rather than in the megabytes of empty hash table. Reading must never
// panic, and every error must name the file.
func FuzzOpen(f *testing.F) {
	names := []string{"default", "regular", "plain", "online"}
	f.Add(uint8(0), uint32(0), []byte{})
	f.Add(uint8(1), uint32(5000), []byte{})
	f.Add(uint8(2), uint32(0), []byte{0, 0, 0, 12, 0x20})                 // an unknown incompatible flag
	f.Add(uint8(1), uint32(0), []byte{0, 0, 0, 176, 0x08, 0, 0, 1, 0x77}) // the chain's head moved
	f.Add(uint8(3), uint32(20000), []byte{0, 0, 0, 16, 2, 0, 0, 2, 0x10}) // state and an object byte
	f.Fuzz(func(t *testing.T, which uint8, cut uint32, patch []byte) {
		data := loadTestFile(t, names[int(which)%len(names)])
		start, end := objectsStart(data), usedEnd(data)
		p := &patched{base: data, patches: map[int64]byte{}, size: end}
		if cut > 0 {
			p.size = start + int64(cut)%(end-start+1)
		}
		for len(patch) >= 5 {
			at := int64(binary.BigEndian.Uint32(patch))
			if at >= 264 {
				at = start + (at-264)%(end-start)
			}
			p.patches[at] = patch[4]
			patch = patch[5:]
		}
		file, err := NewFile("fuzz.journal", p, p.size, Limits{MaxObjectBytes: 1 << 20, MaxFieldBytes: 1 << 20})
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		defer file.Close()
		j := &Journal{Files: []*File{file}}
		// The since filter skips files and entry arrays by their last entry; 18:01:00 is inside
		// the test journal's span.
		since := time.Date(2024, 11, 29, 18, 1, 0, 0, time.UTC)
		for _, flt := range []Filter{{}, {Kernel: true}, {Units: []string{"kubelet"}}, {Since: since}, {Kernel: true, Since: since}} {
			n, err := WriteShort(io.Discard, j.Entries(context.Background(), flt), nil)
			if err != nil {
				checkFuzzErr(t, err)
			}
			if n > 200 {
				t.Fatalf("%d entries from a file of 118", n)
			}
		}
	})
}

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	if !strings.Contains(err.Error(), "fuzz.journal") {
		t.Fatalf("error does not name the file: %v", err)
	}
}
