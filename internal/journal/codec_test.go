package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// lz4Blob frames src as systemd's compress_blob_lz4 does: the size, little-endian 64-bit, then
// one LZ4 block.
func lz4Blob(t *testing.T, src []byte) []byte {
	t.Helper()
	block := make([]byte, lz4.CompressBlockBound(len(src)))
	n, err := lz4.CompressBlock(src, block, nil)
	if err != nil || n == 0 {
		t.Fatalf("lz4: %d bytes, %v", n, err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(src)))
	return append(out, block[:n]...)
}

func zstdBlob(t *testing.T, src []byte) []byte {
	t.Helper()
	e, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	return e.EncodeAll(src, nil)
}

func TestCodecs(t *testing.T) {
	msg, err := os.ReadFile(filepath.Join("testdata", "long-message.txt"))
	if err != nil {
		t.Fatal(err)
	}
	xzBlob, err := os.ReadFile(filepath.Join("testdata", "long-message.xz"))
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 4096)
	for _, c := range []struct {
		name    string
		flag    byte
		blob    []byte
		max     int64
		want    []byte
		wantErr string
	}{
		{"xz from the xz tool", objCompressedXZ, xzBlob, 0, msg, ""},
		{"lz4", objCompressedLZ4, lz4Blob(t, msg), 0, msg, ""},
		{"zstd", objCompressedZSTD, zstdBlob(t, msg), 0, msg, ""},
		{"xz over the limit", objCompressedXZ, xzBlob, 100, nil, "the field limit is 100 bytes"},
		{"lz4 over the limit", objCompressedLZ4, lz4Blob(t, zeros), 1000, nil, "the field limit is 1000 bytes"},
		{"lz4 size prefix lies", objCompressedLZ4, append(binary.LittleEndian.AppendUint64(nil, 1<<40), 0), 0, nil, "the field limit is 16777216 bytes"},
		{"zstd over the limit", objCompressedZSTD, zstdBlob(t, zeros), 1000, nil, "the field limit is 1000 bytes"},
		{"lz4 short", objCompressedLZ4, []byte{1, 2}, 0, nil, "size prefix"},
		{"lz4 garbage", objCompressedLZ4, append(binary.LittleEndian.AppendUint64(nil, 50), 0xff, 0xff, 0xff), 0, nil, "lz4"},
		{"xz garbage", objCompressedXZ, []byte("not xz at all"), 0, nil, "xz"},
		{"xz declares a 4 GiB dictionary", objCompressedXZ, withXZDict(xzBlob, 40), 0, nil, "4294967295-byte dictionary: decompressed field over the limit"},
		{"xz declares a 64 MiB dictionary", objCompressedXZ, withXZDict(xzBlob, 28), 0, nil, "67108864-byte dictionary: decompressed field over the limit"},
		{"zstd garbage", objCompressedZSTD, []byte("not zstd at all"), 0, nil, "zstd"},
		{"two codecs", objCompressedXZ | objCompressedLZ4, xzBlob, 0, nil, "more than one codec"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &File{Path: "test.journal", limits: Limits{MaxFieldBytes: c.max}.withDefaults()}
			defer f.Close()
			got, err := f.decompress(c.flag, c.blob)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "test.journal") {
					t.Fatalf("error %v, want one naming test.journal and saying %q", err, c.wantErr)
				}
				if strings.Contains(c.wantErr, "limit") == errors.Is(err, ErrCorrupt) {
					t.Errorf("error %v: a limit is not corruption, and garbage is", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.want) {
				t.Errorf("got %d bytes %.60q…, want %d bytes %.60q…", len(got), got, len(c.want), c.want)
			}
		})
	}
}

// TestHeaderFlags checks each test file has the flags its README says, and that the writer did
// compress the long fields where compression was on: otherwise the ZSTD path is untested.
func TestHeaderFlags(t *testing.T) {
	for _, c := range []struct {
		name       string
		flags      string
		compressed bool
	}{
		{"default", "KEYED-HASH COMPRESSED-ZSTD COMPACT", true},
		{"regular", "COMPRESSED-ZSTD", true},
		{"plain", "COMPACT", false},
		{"keyed-regular", "KEYED-HASH", false},
		{"online", "KEYED-HASH COMPRESSED-ZSTD COMPACT", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := loadTestFile(t, c.name)
			f, err := NewFile(c.name, bytes.NewReader(data), int64(len(data)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := flagNames(f.incompat); got != c.flags {
				t.Errorf("flags %s, want %s", got, c.flags)
			}
			if f.Online() != (c.name == "online") {
				t.Errorf("online %v", f.Online())
			}
			n := compressedObjects(t, f)
			if c.compressed != (n > 0) {
				t.Errorf("%d compressed DATA objects, want some: %v", n, c.compressed)
			}
		})
	}
}

// compressedObjects counts the DATA objects of f's entries stored compressed.
func compressedObjects(t *testing.T, f *File) int {
	seen := map[uint64]bool{}
	c := f.cursor(0)
	for off, ok := c.next(); ok; off, ok = c.next() {
		b, err := f.object(off, objectEntry, entryItems)
		if err != nil {
			t.Fatal(err)
		}
		items := bytes.Clone(b[entryItems:])
		step := 16
		if f.compact {
			step = 4
		}
		for i := 0; i+step <= len(items); i += step {
			d := uint64(binary.LittleEndian.Uint32(items[i:]))
			if !f.compact {
				d = binary.LittleEndian.Uint64(items[i:])
			}
			h, err := f.read(d, objectHeaderSize)
			if err != nil {
				t.Fatal(err)
			}
			if h[1]&objCompressedMask != 0 {
				seen[d] = true
			}
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	return len(seen)
}

// withXZDict returns an XZ stream whose LZMA2 dictionary-size byte is p (its block header's
// last filter property, at byte 16 of the streams the xz tool writes for systemd's settings).
// The block header's CRC no longer matches: the size must be refused before that is checked.
func withXZDict(src []byte, p byte) []byte {
	out := bytes.Clone(src)
	out[16] = p
	return out
}

// TestEntryLimit: an entry whose fields together pass the entry limit is refused, naming the
// limit, though each field is within the field limit.
func TestEntryLimit(t *testing.T) {
	data := loadTestFile(t, "regular")
	_, errs, err := render(t, "regular.journal", data, Limits{MaxEntryBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "over 300 bytes of fields, the entry limit") || !strings.Contains(errs[0].Error(), "regular.journal") {
		t.Errorf("errors %v, want the entry limit of 300 bytes named", errs)
	}
}
