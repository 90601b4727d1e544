package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/journal/journaltest"
)

// loadTestFile returns an unpacked test journal's bytes, read once per test binary.
var loadTestFile = func() func(t testing.TB, name string) []byte {
	var mu sync.Mutex
	files := map[string][]byte{}
	return func(t testing.TB, name string) []byte {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := files[name]; ok {
			return b
		}
		b := journaltest.Unzstd(t, "testdata/"+name+".journal.zst")
		files[name] = b
		return b
	}
}()

// objectsStart is where a test file's objects begin: past the header and both hash tables,
// which in journal-remote's files are megabytes of zeros.
func objectsStart(b []byte) int64 {
	start := int64(binary.LittleEndian.Uint64(b[104:])) + int64(binary.LittleEndian.Uint64(b[112:]))
	if f := int64(binary.LittleEndian.Uint64(b[120:])) + int64(binary.LittleEndian.Uint64(b[128:])); f > start {
		start = f
	}
	return start
}

// usedEnd is the end of a test file's last object.
func usedEnd(b []byte) int64 {
	tail := binary.LittleEndian.Uint64(b[136:])
	return int64(tail + binary.LittleEndian.Uint64(b[tail+8:]))
}

// render reads data as one journal file and returns its output lines and the errors yielded.
func render(t *testing.T, name string, data []byte, lim Limits) (out string, errs []error, openErr error) {
	t.Helper()
	f, err := NewFile(name, bytes.NewReader(data), int64(len(data)), lim)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	j := &Journal{Files: []*File{f}}
	var buf bytes.Buffer
	w := NewWriter(&buf, time.UTC)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e, err := range j.Entries(context.Background(), Filter{}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			w.Entry(e)
		}
		w.Close()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: reading did not end within 20s", name)
	}
	return buf.String(), errs, nil
}

// checkErr fails unless err names the file and is either about corruption or a limit.
func checkErr(t *testing.T, name string, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, name) {
		t.Errorf("error does not name the file %s: %v", name, err)
	}
	if !errors.Is(err, ErrCorrupt) && !strings.Contains(msg, "limit") && !strings.Contains(msg, "incompatible") {
		t.Errorf("error is neither about corruption nor a limit: %v", err)
	}
}

// TestTruncated cuts real journals at many offsets: each cut must fail to open or give a prefix
// of journalctl's output of the whole file, with an error when entries were lost, except from a
// file still being written (ONLINE), which just ends where it is consistent.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"default", "regular", "online"} {
		data := loadTestFile(t, name)
		golden := "default"
		if name == "online" {
			golden = "online"
		}
		want, err := os.ReadFile(filepath.Join("testdata", golden+".all.golden"))
		if err != nil {
			t.Fatal(err)
		}
		start, end := objectsStart(data), usedEnd(data)
		cuts := []int64{0, 8, 100, 207, 208, 263, 264, 4096, start - 1, start, start + 1, end - 1, end, int64(len(data))}
		for c := start; c < end; c += (end - start) / 300 {
			cuts = append(cuts, c, c+3)
		}
		partial := 0
		for _, cut := range cuts {
			file := name + ".journal cut at " + itoa64(cut)
			out, errs, openErr := render(t, file, data[:cut], Limits{})
			if openErr != nil {
				checkErr(t, file, openErr)
				continue
			}
			if out == "-- No entries --\n" {
				out = ""
			}
			if !strings.HasPrefix(string(want), out) {
				t.Errorf("%s: output is not a prefix of journalctl's:\n%s", file, firstDiff(out, string(want)))
			}
			if out != string(want) {
				partial++
				if name != "online" && len(errs) == 0 {
					t.Errorf("%s: %d of %d bytes of output and no error: a cut file's loss went unreported", file, len(out), len(want))
				}
			}
			if name == "online" && len(errs) > 0 {
				t.Errorf("%s: errors from a file being written, which should end quietly: %v", file, errs)
			}
			for _, err := range errs {
				checkErr(t, file, err)
			}
		}
		if partial < 100 {
			t.Errorf("%s: only %d of %d cuts gave part of the output: the cuts miss the entries", name, partial, len(cuts))
		}
	}
}

// TestFlippedBytes changes single bytes of a real journal: every header byte and a sample of
// the objects'. Reading must end, without a panic, with clean errors.
func TestFlippedBytes(t *testing.T) {
	data := loadTestFile(t, "regular")
	start, end := objectsStart(data), usedEnd(data)
	rng := rand.New(rand.NewPCG(1, 2))
	var offs []int64
	for o := int64(0); o < 264; o++ {
		offs = append(offs, o)
	}
	for range 600 {
		offs = append(offs, start+rng.Int64N(end-start))
	}
	buf := make([]byte, end)
	for _, o := range offs {
		for _, x := range []byte{0xff, 0x80, 0x01} {
			copy(buf, data[:end])
			buf[o] ^= x
			file := "regular.journal byte " + itoa64(o)
			_, errs, openErr := render(t, file, buf, Limits{})
			if openErr != nil {
				checkErr(t, file, openErr)
			}
			for _, err := range errs {
				checkErr(t, file, err)
			}
		}
	}
}

// TestChains points the entry array chain and its items back and at loops, and sets limits
// below the file's objects.
func TestChains(t *testing.T) {
	data := loadTestFile(t, "regular")
	first := binary.LittleEndian.Uint64(data[offEntryArrayOffset:])
	second := binary.LittleEndian.Uint64(data[first+objectHeaderSize:])
	if second == 0 {
		t.Fatal("the test file has one entry array: the chain cannot be bent")
	}
	put := func(b []byte, at, v uint64) { binary.LittleEndian.PutUint64(b[at:], v) }
	for _, c := range []struct {
		name  string
		patch func(b []byte)
		lim   Limits
		want  string
	}{
		{"array points at itself", func(b []byte) { put(b, first+objectHeaderSize, first) }, Limits{}, "loop"},
		{"second array points at the first", func(b []byte) { put(b, second+objectHeaderSize, first) }, Limits{}, "loop"},
		{"array item points back", func(b []byte) { put(b, first+entryArrayItems+8, binary.LittleEndian.Uint64(b[first+entryArrayItems:])) }, Limits{}, "goes back"},
		{"array item past the end", func(b []byte) { put(b, first+entryArrayItems, 1<<40) }, Limits{}, "past the end"},
		{"array item not aligned", func(b []byte) { put(b, first+entryArrayItems, 4097) }, Limits{}, "aligned"},
		{"array object huge", func(b []byte) { put(b, first+8, 1<<62) }, Limits{}, "over the limit of 16777216 bytes"},
		{"object limit", func([]byte) {}, Limits{MaxObjectBytes: 100}, "over the limit of 100 bytes"},
		{"field limit", func([]byte) {}, Limits{MaxFieldBytes: 100}, "field limit"},
		{"unknown incompatible flag", func(b []byte) { b[offIncompatibleFlags] |= 1 << 5 }, Limits{}, "unknown incompatible header flags 0x20"},
		{"not a journal", func(b []byte) { b[0] = 'X' }, Limits{}, "no journal signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(data)
			c.patch(b)
			file := "regular.journal (" + c.name + ")"
			_, errs, openErr := render(t, file, b, c.lim)
			all := errs
			if openErr != nil {
				all = append(all, openErr)
			}
			if len(all) == 0 {
				t.Fatalf("no error, want one saying %q", c.want)
			}
			for _, err := range all {
				checkErr(t, file, err)
			}
			if !strings.Contains(all[0].Error(), c.want) {
				t.Errorf("error %q does not say %q", all[0], c.want)
			}
		})
	}
}

func itoa64(i int64) string { return strconv.FormatInt(i, 10) }
