package bundle

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Limits for the hostile-input table: floors of a few MiB instead of hundreds, so that every
// bomb is built in the test, in milliseconds, and refused long before it would fill a disk.
const (
	bombRatio        = 50      // MaxRatio
	bombArchiveRatio = 20      // MaxArchiveRatio
	bombFloor        = 1 << 20 // per-stream floor
	bombArchiveFloor = 2 << 20 // archive floor
)

// archiveLimit is what MaxArchiveRatio lets an archive of that size produce.
func archiveLimit(archive int64) int64 { return max(bombArchiveFloor, bombArchiveRatio*archive) }

// fixed is a limit that does not depend on the archive's size.
func fixed(n int64) func(int64) int64 { return func(int64) int64 { return n } }

func bombOptions() Options {
	return Options{MaxRatio: bombRatio, MaxArchiveRatio: bombArchiveRatio, ratioFloor: bombFloor, archiveFloor: bombArchiveFloor}
}

// deflated is n bytes of b repeated, raw-deflated (a zip entry's data), with its CRC-32.
func deflated(t testing.TB, b []byte, n int) (data []byte, crc uint32) {
	t.Helper()
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	h := crc32.NewIEEE()
	for n > 0 {
		k := min(n, len(b))
		zw.Write(b[:k])
		h.Write(b[:k])
		n -= k
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), h.Sum32()
}

// rawZipEntry is a zip entry written as given: its data is already deflated, and its header may
// claim a compressed size its data does not have.
type rawZipEntry struct {
	name     string
	data     []byte // deflated
	crc      uint32
	size     int    // uncompressed
	claimPad int    // CompressedSize64 claims this many bytes more than data; that many zeros follow it
	stored   []byte // when set: a Store entry holding these bytes (data is ignored)
}

func rawZip(t testing.TB, entries ...rawZipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, CRC32: e.crc, Modified: testTime,
			CompressedSize64: uint64(len(e.data) + e.claimPad), UncompressedSize64: uint64(e.size)}
		body := append(append([]byte{}, e.data...), make([]byte, e.claimPad)...)
		if e.stored != nil {
			hdr.Method, hdr.CRC32 = zip.Store, crc32.ChecksumIEEE(e.stored)
			hdr.CompressedSize64, hdr.UncompressedSize64 = uint64(len(e.stored)), uint64(len(e.stored))
			body = e.stored
		}
		hdr.SetMode(0o644)
		w, err := zw.CreateRaw(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// overlappingZip writes one local entry, deflated (or stored when method is zip.Store), and n
// central-directory records with names of their own that all point at it: the simplest form of
// David Fifield's overlapping-entry zip bomb, where one compressed body is expanded n times.
func overlappingZip(t testing.TB, body []byte, method uint16, n int) []byte {
	t.Helper()
	data, crc := body, crc32.ChecksumIEEE(body)
	if method == zip.Deflate {
		data, crc = deflated(t, body, len(body))
	}
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint32(b, 0x04034b50) // local file header
	b = le.AppendUint16(b, 20)         // version needed
	b = le.AppendUint16(b, 0)          // flags
	b = le.AppendUint16(b, method)
	b = le.AppendUint32(b, 0) // time, date
	b = le.AppendUint32(b, crc)
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint32(b, uint32(len(body)))
	b = le.AppendUint16(b, 1) // name length
	b = le.AppendUint16(b, 0) // extra length
	b = append(b, 'k')
	b = append(b, data...)
	cd := len(b)
	for i := range n {
		name := fmt.Sprintf("var_log/o%03d.log", i)
		b = le.AppendUint32(b, 0x02014b50) // central directory header
		b = le.AppendUint16(b, 20)         // made by
		b = le.AppendUint16(b, 20)         // needed
		b = le.AppendUint16(b, 0)          // flags
		b = le.AppendUint16(b, method)
		b = le.AppendUint32(b, 0) // time, date
		b = le.AppendUint32(b, crc)
		b = le.AppendUint32(b, uint32(len(data)))
		b = le.AppendUint32(b, uint32(len(body)))
		b = le.AppendUint16(b, uint16(len(name)))
		b = le.AppendUint16(b, 0) // extra
		b = le.AppendUint16(b, 0) // comment
		b = le.AppendUint16(b, 0) // disk
		b = le.AppendUint16(b, 0) // internal attributes
		b = le.AppendUint32(b, 0) // external attributes
		b = le.AppendUint32(b, 0) // local header offset: all the same
		b = append(b, name...)
	}
	end := len(b)
	b = le.AppendUint32(b, 0x06054b50) // end of central directory
	b = le.AppendUint32(b, 0)          // disk numbers
	b = le.AppendUint16(b, uint16(n))
	b = le.AppendUint16(b, uint16(n))
	b = le.AppendUint32(b, uint32(end-cd))
	b = le.AppendUint32(b, uint32(cd))
	b = le.AppendUint16(b, 0)
	return b
}

// textLines is n bytes of one log line repeated: text (so OnFile reads it), ~1000:1 compressible.
func textLines(n int) []byte {
	line := append(bytes.Repeat([]byte("a"), 1023), '\n')
	return bytes.Repeat(line, (n+len(line)-1)/len(line))[:n]
}

// mixedLines is n bytes of log-like lines that deflate about 30:1: under the per-stream ratio
// of the table, so that only the archive-wide sum can stop them.
func mixedLines(n int) []byte {
	noise := randomBytes(7, n/1024*48+48)
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.Write(bytes.Repeat([]byte("a"), 975))
		b.Write(noise[i*48 : i*48+48])
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// onDisk sums the bytes under dest/files.
func onDisk(t *testing.T, w workspace) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(w.dest, "files"), func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExtractBombs feeds archives built to exhaust the disk, the CPU or the index, each built
// here with the limits set low. Every bomb must be refused (or, a compressed member's own
// bomb, cut) within twice its limit, with an error or warning naming the limit and the member;
// and whatever was kept must read back as OnFile saw it: every path the indexer was given is
// stored under that path, and Open returns the very bytes OnFile read, so that every line
// search finds, read can read.
func TestExtractBombs(t *testing.T) {
	zeros := make([]byte, 1<<20)
	tests := []struct {
		name    string
		archive string
		data    func(t *testing.T) []byte
		noHook  bool                      // import without OnFile, as Import does for an archive not named like a collector bundle
		err     []string                  // what the error names; nil: no error
		warn    []string                  // what one warning names
		limit   func(archive int64) int64 // what may be produced: bytes on disk plus compressed members' content
		check   func(t *testing.T, m *Manifest, w workspace)
	}{
		{
			// 40 entries of 1 MiB of zeros, each 1000:1 but under the per-stream floor: only the
			// archive-wide ratio sees the sum.
			name:    "zip of many high-ratio entries",
			archive: "many.zip",
			data: func(t *testing.T) []byte {
				d, crc := deflated(t, zeros, 1<<20)
				var es []rawZipEntry
				for i := range 40 {
					es = append(es, rawZipEntry{name: fmt.Sprintf("var_log/z%02d.log", i), data: d, crc: crc, size: 1 << 20})
				}
				return rawZip(t, es...)
			},
			err:   []string{"MaxArchiveRatio=20", "var_log/z0"},
			limit: archiveLimit,
		},
		{
			// One entry whose header claims 600 KiB of compressed data where 8 KiB deflate to 8
			// MiB: judged on the header it is 14:1; on the bytes read, 1000:1.
			name:    "zip lying about its compressed size",
			archive: "lie.zip",
			data: func(t *testing.T) []byte {
				d, crc := deflated(t, zeros, 8<<20)
				return rawZip(t, rawZipEntry{name: "var_log/lie.log", data: d, crc: crc, size: 8 << 20, claimPad: 600 << 10})
			},
			err:   []string{"MaxRatio=50", "var_log/lie.log"},
			limit: fixed(bombFloor),
		},
		{
			name:    "overlapping zip entries",
			archive: "overlap.zip",
			data:    func(t *testing.T) []byte { return overlappingZip(t, zeros, zip.Deflate, 30) },
			err:     []string{`"var_log/o001.log"`, `inside entry "var_log/o000.log"`, "zip bomb"},
			limit:   fixed(1 << 20), // the first entry only
		},
		{
			// Stored entries sharing a body multiply it as well as deflated ones.
			name:    "overlapping stored zip entries",
			archive: "overlap-stored.zip",
			data:    func(t *testing.T) []byte { return overlappingZip(t, textLines(64<<10), zip.Store, 200) },
			err:     []string{`"var_log/o001.log"`, "zip bomb"},
			limit:   fixed(64 << 10),
		},
		{
			// A compressed member under a name nothing indexes while unpacking: it used to pass
			// unread, to be decompressed whole by the indexer and by every later search.
			name:    "gzip member in an archive not named like a collector bundle",
			archive: "notes.tar.gz",
			noHook:  true,
			data: func(t *testing.T) []byte {
				return gz(t, tarBytes(t, entry{name: "var_log/app.log.1.gz", body: gz(t, textLines(32<<20))},
					file("var_log/messages", syslogLines(nodeShort))))
			},
			warn:  []string{"var_log/app.log.1.gz", "MaxRatio=50"},
			limit: fixed(bombFloor + 64<<10),
			check: func(t *testing.T, m *Manifest, w workspace) {
				f, _ := fileByPath(m, "var_log/app.log.1.gz")
				if !f.Truncated || f.PlainCut == nil || *f.PlainCut < bombFloor || *f.PlainCut > 2*bombFloor {
					t.Errorf("bomb member %+v: want it cut past the %d floor, within twice it", f, bombFloor)
				}
				if _, ok := fileByPath(m, "var_log/messages"); !ok {
					t.Errorf("member after the compressed bomb not kept")
				}
			},
		},
		{
			// Many compressed members, each under the per-stream floor.
			name:    "many gzip members",
			archive: "rotated.tar.gz",
			data: func(t *testing.T) []byte {
				one := gz(t, textLines(1<<20))
				var es []entry
				for i := range 30 {
					es = append(es, entry{name: fmt.Sprintf("var_log/app.log.%d.gz", i+1), body: one})
				}
				return gz(t, tarBytes(t, es...))
			},
			err:   []string{"MaxArchiveRatio=20", "var_log/app.log."},
			limit: archiveLimit,
		},
		{
			name:    "nested tar.gz inside a zip",
			archive: "nested.zip",
			data: func(t *testing.T) []byte {
				var es []entry
				for i := range 8 {
					es = append(es, entry{name: fmt.Sprintf("bottlerocket-logs/f%02d", i), body: mixedLines(512 << 10)})
				}
				inner := gz(t, tarBytes(t, es...))
				return zipBytes(t, file("kubelet/kubelet.log", isoLines(nodeFQDN)),
					entry{name: "bottlerocket/logdog/bottlerocket-logs.tar.gz", body: inner})
			},
			err:   []string{"MaxArchiveRatio=20", "in bottlerocket/logdog/bottlerocket-logs.tar.gz"},
			limit: archiveLimit,
			check: func(t *testing.T, m *Manifest, w workspace) {
				if string(w.stored(t, "kubelet/kubelet.log")) != isoLines(nodeFQDN) {
					t.Errorf("entry before the nested bomb not kept")
				}
			},
		},
		{
			name:    "gzip member inside a nested archive inside a zip",
			archive: "deep.zip",
			data: func(t *testing.T) []byte {
				inner := gz(t, tarBytes(t, entry{name: "bottlerocket-logs/messages.1.gz", body: gz(t, textLines(32<<20))}))
				return zipBytes(t, entry{name: "bottlerocket/logdog/bottlerocket-logs.tar.gz", body: inner})
			},
			warn:  []string{"bottlerocket/logdog/bottlerocket-logs/messages.1.gz", "MaxRatio=50"},
			limit: fixed(bombFloor + 64<<10),
		},
		{
			name:    "duplicate names in a zip",
			archive: "dups.zip",
			data: func(t *testing.T) []byte {
				return zipBytes(t, file("var_log/messages", syslogLines(nodeShort)+"third line\n"),
					file("var_log/messages", "second copy\n"), file("var_log/messages", syslogLines(nodeFQDN)))
			},
			warn:  []string{`"var_log/messages"`, `"var_log/messages.dup2"`},
			limit: fixed(1 << 20),
			check: func(t *testing.T, m *Manifest, w workspace) {
				want := []string{"var_log/messages", "var_log/messages.dup1", "var_log/messages.dup2"}
				if got := paths(m); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("stored %q, want %q", got, want)
				}
				if string(w.stored(t, "var_log/messages.dup1")) != "second copy\n" {
					t.Errorf("the second copy is not stored as var_log/messages.dup1")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			w := newWorkspace(t)
			src := w.put(t, tt.archive, tt.data(t))
			rec := newRecorder()
			opt := bombOptions()
			if !tt.noHook {
				opt.OnFile = rec.hook
			}
			m, err := Extract(context.Background(), src, w.dest, opt)
			took := time.Since(start)
			w.assertContained(t)
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("Extract: %v", err)
			case tt.err != nil && !errors.Is(err, ErrLimit):
				t.Fatalf("Extract error %v, want ErrLimit", err)
			}
			for _, s := range tt.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if tt.err != nil && !strings.Contains(err.Error(), "kept what was stored before it") {
				t.Errorf("error %q does not say what was kept", err)
			}
			if tt.warn != nil && !warningsContain(m, tt.warn...) {
				t.Errorf("no warning names all of %q: %q", tt.warn, m.Warnings)
			}
			if m == nil || len(m.Files) == 0 {
				t.Fatalf("nothing kept: %v", err)
			}

			// Produced: bytes on disk, plus what OnFile (or, without it, Open) got of
			// compressed members.
			produced := onDisk(t, w)
			for _, f := range m.Files {
				info, err := os.Stat(filepath.Join(w.dest, "files", filepath.FromSlash(f.Path)))
				if err != nil || info.Size() != f.Size {
					t.Errorf("%s: the manifest says %d bytes, the disk %v", f.Path, f.Size, err)
				}
				if !f.Compressed || f.Binary {
					continue // a nested archive is stored, not read: its members are
				}
				rc, err := Open(w.dest, f)
				if err != nil {
					t.Fatalf("Open(%s): %v", f.Path, err)
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				produced += int64(len(got))
				if seen, ok := rec.got[f.Path]; ok && !bytes.Equal(got, seen) {
					t.Errorf("%s: Open returns %d bytes, OnFile saw %d", f.Path, len(got), len(seen))
				}
			}
			if limit := tt.limit(fileSize(t, src)); produced > 2*limit {
				t.Errorf("produced %d bytes, more than twice the %d the limit allows", produced, limit)
			}
			// Every path the indexer saw reads back, from that path, as the indexer saw it.
			for p, seen := range rec.got {
				f, ok := fileByPath(m, p)
				if !ok {
					t.Errorf("OnFile saw %s, which the manifest does not list", p)
					continue
				}
				if f.Compressed {
					continue // compared above
				}
				if got := w.stored(t, p); !bytes.Equal(got, seen) {
					t.Errorf("%s: the disk holds %d bytes, OnFile saw %d", p, len(got), len(seen))
				}
			}
			if tt.check != nil {
				tt.check(t, m, w)
			}
			t.Logf("%s (%d bytes): %d bytes produced in %v; %v", tt.archive, fileSize(t, src), produced, took.Round(time.Millisecond), err)
		})
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// manyMembers is a tar.gz of n members: small log files in folders of 1,000, every fifth member
// named so that it is skipped (a "..") and every twentieth a repeat of an earlier name.
func manyMembers(t testing.TB, n int) []byte {
	t.Helper()
	var es []entry
	for i := range n {
		name := fmt.Sprintf("var_log/d%03d/f%06d.log", i/1000, i)
		switch {
		case i%5 == 4:
			name = "../escape/" + name
		case i%20 == 10:
			name = es[len(es)-2].name
		}
		es = append(es, file(name, fmt.Sprintf("Nov 19 08:29:24 %s app: member %d\n", nodeShort, i)))
	}
	return gz(t, tarBytes(t, es...))
}

// An archive of more members than MaxFiles is cut at MaxFiles, says so and what it kept, and
// what it leaves behind stays small: the warnings its members earn are listed up to a bound.
func TestExtractManyMembers(t *testing.T) {
	const n, maxFiles = 3000, 1200
	w := newWorkspace(t)
	src := w.put(t, "many.tar.gz", manyMembers(t, n))
	rec := newRecorder()
	start := time.Now()
	m, err := Extract(context.Background(), src, w.dest, Options{MaxFiles: maxFiles, OnFile: rec.hook})
	took := time.Since(start)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("Extract error %v, want ErrLimit", err)
	}
	for _, s := range []string{"MaxFiles=1200", "var_log/d001/f001200.log", "kept what was stored before it: 960 files"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	w.assertContained(t)
	// 1,200 members: 240 skipped, 60 repeats stored beside their first copy; 300 warnings.
	if len(m.Files) != 960 || len(m.Skipped) != 240 || len(rec.got) != 960 {
		t.Errorf("%d files, %d skipped, %d given to OnFile; want 960, 240, 960", len(m.Files), len(m.Skipped), len(rec.got))
	}
	if len(m.Warnings) != maxWarnings+1 || !strings.Contains(m.Warnings[maxWarnings], fmt.Sprintf("%d more warnings", 300-maxWarnings)) {
		t.Errorf("%d warnings, the last %q; want %d listed and a count of the %d others", len(m.Warnings), m.Warnings[len(m.Warnings)-1], maxWarnings, 300-maxWarnings)
	}
	for p, seen := range rec.got {
		if got := w.stored(t, p); !bytes.Equal(got, seen) {
			t.Errorf("%s: the disk holds %q, OnFile saw %q", p, got, seen)
		}
	}
	data, _ := json.Marshal(m)
	if per := len(data) / len(m.Files); per > 400 {
		t.Errorf("the manifest costs %d bytes per file kept; want it small", per)
	}
	t.Logf("%d members, MaxFiles=%d: %v, manifest %d bytes", n, maxFiles, took.Round(time.Millisecond), len(data))
}

// TestSparseTarBomb: a sparse tar member (GNU tar --sparse) expands holes into bytes no
// decompressor produced; the archive-wide ratio counts what is stored, so a 275-byte archive
// that wrote 8 GiB of zeros is stopped at its ratio. Written with GNU tar when it is installed.
func TestSparseTarBomb(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar to write a sparse archive")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9")
	if err := os.MkdirAll(filepath.Join(src, "kubelet"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(src, "kubelet", "kubelet.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	archive := filepath.Join(dir, "sparse.tar.gz")
	if out, err := exec.Command("tar", "--sparse", "-czf", archive, "-C", dir, filepath.Base(src)).CombinedOutput(); err != nil {
		t.Skipf("tar --sparse: %v %s", err, out)
	}
	info, _ := os.Stat(archive)
	opt := Options{MaxArchiveRatio: 100}
	opt.archiveFloor = 1 << 20
	man, err := Extract(context.Background(), archive, filepath.Join(dir, "out"), opt)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "MaxArchiveRatio") {
		t.Fatalf("a %d-byte sparse archive of 64 MiB: %v, want MaxArchiveRatio", info.Size(), err)
	}
	var stored int64
	if man != nil {
		for _, f := range man.Files {
			stored += f.Size
		}
	}
	if limit := int64(100) * info.Size(); stored > 2*max(limit, opt.archiveFloor) {
		t.Errorf("stored %d bytes, want at most twice the limit (%d)", stored, max(limit, opt.archiveFloor))
	}
}
