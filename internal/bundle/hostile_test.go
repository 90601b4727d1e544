package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Members that must never be stored as they are named; the good members around them are kept.
func TestExtractHostileMembers(t *testing.T) {
	escape := fmt.Sprintf("nodediag-escape-%d", os.Getpid())
	good1 := file("kubelet/kubelet.log", isoLines(nodeFQDN))
	good2 := file("var_log/messages", syslogLines(nodeShort))
	tests := []struct {
		name       string
		bad        []entry
		skipped    []string // member names that must be listed in Skipped
		warn       []string // substrings one warning must hold
		stored     map[string]string
		notOutside []string // absolute paths that must not exist afterwards
	}{
		{
			name:    "dot-dot",
			bad:     []entry{file("../../../"+escape, "x"), file("kubelet/../../"+escape, "x")},
			skipped: []string{"../../../" + escape, "kubelet/../../" + escape},
			warn:    []string{`"../../../` + escape + `"`, `".."`},
		},
		{
			name:       "absolute name is made relative",
			bad:        []entry{file("/etc/"+escape, "etc"), file("/tmp/"+escape, "abs")},
			warn:       []string{`"/etc/` + escape + `"`, "absolute"},
			stored:     map[string]string{"etc/" + escape: "etc", "tmp/" + escape: "abs"},
			notOutside: []string{"/etc/" + escape, "/tmp/" + escape},
		},
		{
			name:    "symlink to /etc/passwd",
			bad:     []entry{{name: "system/passwd", typ: tar.TypeSymlink, link: "/etc/passwd"}},
			skipped: []string{"system/passwd"},
			warn:    []string{`"system/passwd"`, `"/etc/passwd"`, "never followed"},
		},
		{
			name:    "relative symlink leaving the bundle",
			bad:     []entry{{name: "system/up", typ: tar.TypeSymlink, link: "../../../" + escape}},
			skipped: []string{"system/up"},
			warn:    []string{`"system/up"`, "outside the bundle"},
		},
		{
			name:    "hard link to a file outside",
			bad:     []entry{{name: "system/shadow", typ: tar.TypeLink, link: "/etc/shadow"}},
			skipped: []string{"system/shadow"},
			warn:    []string{`"system/shadow"`, "not a file stored earlier"},
		},
		{
			name:   "hard link to an earlier member is copied",
			bad:    []entry{{name: "kubelet/copy.log", typ: tar.TypeLink, link: "kubelet/kubelet.log"}},
			warn:   []string{`"kubelet/copy.log"`, "copy of"},
			stored: map[string]string{"kubelet/copy.log": isoLines(nodeFQDN)},
		},
		{
			name:   "symlink to an earlier member is copied",
			bad:    []entry{{name: "kubelet/latest.log", typ: tar.TypeSymlink, link: "kubelet.log"}},
			warn:   []string{`"kubelet/latest.log"`, "copy of"},
			stored: map[string]string{"kubelet/latest.log": isoLines(nodeFQDN)},
		},
		{
			name: "repeated name is stored beside the first copy",
			bad: []entry{file("kubelet/kubelet.log", "second copy\n"), file("kubelet/kubelet.log", "third copy\n"),
				file("kubelet/kubelet.log.dup1", "named like a copy\n")},
			warn: []string{`"kubelet/kubelet.log"`, `"kubelet/kubelet.log.dup2"`},
			stored: map[string]string{"kubelet/kubelet.log.dup1": "second copy\n", "kubelet/kubelet.log.dup2": "third copy\n",
				"kubelet/kubelet.log.dup1.dup1": "named like a copy\n"},
		},
		{
			name:    "character device",
			bad:     []entry{{name: "dev/null", typ: tar.TypeChar}},
			skipped: []string{"dev/null"},
			warn:    []string{`"dev/null"`, "character device"},
		},
		{
			name:    "block device",
			bad:     []entry{{name: "dev/sda", typ: tar.TypeBlock}},
			skipped: []string{"dev/sda"},
			warn:    []string{`"dev/sda"`, "block device"},
		},
		{
			name:    "fifo",
			bad:     []entry{{name: "var_log/pipe", typ: tar.TypeFifo}},
			skipped: []string{"var_log/pipe"},
			warn:    []string{`"var_log/pipe"`, "fifo"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range tt.notOutside {
				os.Remove(p)
			}
			entries := append([]entry{good1}, tt.bad...)
			entries = append(entries, good2)
			w := newWorkspace(t)
			src := w.put(t, "h.tar.gz", gz(t, tarBytes(t, entries...)))
			m, err := Extract(context.Background(), src, w.dest, Options{})
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			w.assertContained(t)
			for _, p := range tt.notOutside {
				if _, err := os.Lstat(p); err == nil {
					os.Remove(p)
					t.Errorf("%s was written outside the destination", p)
				}
			}
			for _, g := range []entry{good1, good2} {
				if string(w.stored(t, g.name)) != string(g.body) {
					t.Errorf("good member %s not kept", g.name)
				}
			}
			for p, body := range tt.stored {
				if string(w.stored(t, p)) != body {
					t.Errorf("%s: stored content differs", p)
				}
			}
			var skipped []string
			for _, s := range m.Skipped {
				skipped = append(skipped, s.Path)
			}
			if strings.Join(skipped, "|") != strings.Join(tt.skipped, "|") {
				t.Errorf("skipped %q, want %q", skipped, tt.skipped)
			}
			if !warningsContain(m, tt.warn...) {
				t.Errorf("no warning holds all of %q: %q", tt.warn, m.Warnings)
			}
		})
	}
}

func TestExtractHostileFolder(t *testing.T) {
	w := newWorkspace(t)
	d := filepath.Join(w.in, "f")
	writeTree(t, d, file("kubelet/kubelet.log", isoLines(nodeFQDN)))
	secret := filepath.Join(w.in, "secret.txt") // outside the source folder in/f
	if err := os.WriteFile(secret, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"system/passwd":    "/etc/passwd",
		"system/secret":    secret,
		"system/up":        "../../secret.txt",
		"kubelet/current":  "kubelet.log",
		"kubelet/loop-dir": "..",
		"system/nothing":   "does-not-exist",
	} {
		p := filepath.Join(d, filepath.FromSlash(link))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Extract(context.Background(), d, w.dest, Options{})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	w.assertContained(t)
	if got := string(w.stored(t, "kubelet/current")); got != isoLines(nodeFQDN) {
		t.Errorf("symlink inside the folder not copied from its target: %q", got)
	}
	skipped := map[string]bool{}
	for _, s := range m.Skipped {
		skipped[s.Path] = true
	}
	for _, p := range []string{"system/passwd", "system/secret", "system/up", "kubelet/loop-dir", "system/nothing"} {
		if !skipped[p] {
			t.Errorf("%s not skipped: %+v", p, m.Skipped)
		}
		if _, err := os.Lstat(filepath.Join(w.dest, "files", p)); err == nil {
			t.Errorf("%s stored", p)
		}
	}
}

// zerosGzip is one gzip member holding n zero bytes; concatenated members are one gzip stream.
func zerosGzip(t testing.TB, n int) []byte {
	return gz(t, make([]byte, n))
}

// A 2 GiB member of zeros behind a small gzip stream: the ratio check stops it long before the
// disk or the test's time budget would notice.
func TestExtractGzipBomb(t *testing.T) {
	const chunk = 1 << 20
	const total = 2 << 30
	hdr := tarBytes(t, file("kubelet/kubelet.log", isoLines(nodeFQDN)))
	hdr = hdr[:len(hdr)-1024] // drop the end-of-archive blocks; the bomb member follows
	var bomb bytes.Buffer
	tw := tar.NewWriter(&bomb)
	tw.WriteHeader(&tar.Header{Name: "var_log/zeros", Typeflag: tar.TypeReg, Size: total, Mode: 0o644})
	head := gz(t, append(hdr, bomb.Bytes()[:512]...))
	z := zerosGzip(t, chunk)
	parts := []io.Reader{bytes.NewReader(head)}
	for range total / chunk {
		parts = append(parts, bytes.NewReader(z))
	}
	w := newWorkspace(t)
	src := filepath.Join(w.in, "bomb.tar.gz")
	out, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, io.MultiReader(parts...)); err != nil {
		t.Fatal(err)
	}
	out.Close()

	m, err := Extract(context.Background(), src, w.dest, Options{MaxRatio: 100})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("Extract error = %v, want ErrLimit", err)
	}
	for _, s := range []string{"bomb.tar.gz", "MaxRatio=100"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	w.assertContained(t)
	if string(w.stored(t, "kubelet/kubelet.log")) != isoLines(nodeFQDN) {
		t.Errorf("member before the bomb not kept")
	}
	f, ok := fileByPath(m, "var_log/zeros")
	if !ok || !f.Truncated || f.Size >= total || f.Size < ratioFloor {
		t.Errorf("bomb member %+v: want truncated between %d and %d bytes", f, ratioFloor, total)
	}
}

// A compressed member that is a bomb only stops its own decompression; the import goes on.
func TestExtractMemberGzipBomb(t *testing.T) {
	line := bytes.Repeat([]byte("a"), 1023)
	line = append(line, '\n')
	chunk := gz(t, bytes.Repeat(line, 1024)) // 1 MiB of text per gzip member
	var member bytes.Buffer
	for range 100 {
		member.Write(chunk)
	}
	w := newWorkspace(t)
	src := w.put(t, "m.tar.gz", gz(t, tarBytes(t,
		entry{name: "var_log/aws-routed-eni/ipamd.log.1.gz", body: member.Bytes()},
		file("var_log/messages", syslogLines(nodeShort)))))
	read := map[string]int64{}
	count := func(_ context.Context, f *File, r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		read[f.Path] = n
		return err
	}
	m, err := Extract(context.Background(), src, w.dest, Options{MaxRatio: 100, OnFile: count})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	f, _ := fileByPath(m, "var_log/aws-routed-eni/ipamd.log.1.gz")
	if !f.Truncated || !strings.Contains(f.Problem, "MaxRatio=100") {
		t.Errorf("member %+v: want truncated for MaxRatio=100", f)
	}
	if n := read[f.Path]; n < ratioFloor || n >= 100<<20 {
		t.Errorf("OnFile read %d decompressed bytes, want past the %d floor and short of all", n, ratioFloor)
	}
	if !bytes.Equal(w.stored(t, f.Path), member.Bytes()) {
		t.Errorf("compressed member not stored as it is")
	}
	if !warningsContain(m, f.Path, "MaxRatio=100") {
		t.Errorf("no warning names %s and the limit: %q", f.Path, m.Warnings)
	}
	if read["var_log/messages"] != int64(len(syslogLines(nodeShort))) {
		t.Errorf("member after the bomb not indexed")
	}
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26)) // text, but incompressible enough to spread over the stream
	}
	return b
}

func TestExtractTruncatedGzip(t *testing.T) {
	first := file("kubelet/kubelet.log", isoLines(nodeFQDN))
	second := file("var_log/messages", syslogLines(nodeShort))
	last := entry{name: "containerd/containerd-log.txt", body: randomBytes(1, 1<<20)}
	whole := gz(t, tarBytes(t, first, second, last))
	cut := whole[:len(whole)-100<<10]
	w := newWorkspace(t)
	src := w.put(t, "t.tar.gz", cut)
	rec := newRecorder()
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatalf("Extract: %v (a truncated bundle keeps what was read)", err)
	}
	w.assertContained(t)
	for _, g := range []entry{first, second} {
		if !bytes.Equal(w.stored(t, g.name), g.body) || !bytes.Equal(rec.got[g.name], g.body) {
			t.Errorf("member %s before the break not kept whole", g.name)
		}
	}
	f, _ := fileByPath(m, last.name)
	stored := w.stored(t, last.name)
	if !f.Truncated || len(stored) == 0 || len(stored) >= len(last.body) || !bytes.HasPrefix(last.body, stored) {
		t.Errorf("member at the break: truncated=%v, %d of %d bytes stored; want a proper prefix", f.Truncated, len(stored), len(last.body))
	}
	if !bytes.Equal(rec.got[last.name], stored) {
		t.Errorf("OnFile saw %d bytes of the broken member, disk has %d", len(rec.got[last.name]), len(stored))
	}
	if !warningsContain(m, "t.tar.gz", "broke at byte", fmt.Sprintf("compressed byte %d", len(cut))) {
		t.Errorf("no warning names the archive and the byte offset: %q", m.Warnings)
	}
}

func TestExtractCorruptGzipChecksum(t *testing.T) {
	a := file("kubelet/kubelet.log", isoLines(nodeFQDN))
	b := file("var_log/messages", syslogLines(nodeShort))
	data := gz(t, tarBytes(t, a, b))
	data[len(data)-8] ^= 0xff // CRC-32 in the trailer
	w := newWorkspace(t)
	m, err := Extract(context.Background(), w.put(t, "c.tar.gz", data), w.dest, Options{})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	for _, g := range []entry{a, b} {
		if !bytes.Equal(w.stored(t, g.name), g.body) {
			t.Errorf("%s not kept", g.name)
		}
	}
	if !warningsContain(m, "c.tar.gz", "checksum") {
		t.Errorf("no warning about the checksum: %q", m.Warnings)
	}
}

func TestExtractTruncatedGzipMember(t *testing.T) {
	body := randomBytes(2, 256<<10)
	member := gz(t, body)
	member = member[:len(member)/2]
	w := newWorkspace(t)
	src := w.put(t, "tm.tar.gz", gz(t, tarBytes(t,
		entry{name: "var_log/aws-routed-eni/ipamd.log.2.gz", body: member},
		file("var_log/messages", syslogLines(nodeShort)))))
	rec := newRecorder()
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	p := "var_log/aws-routed-eni/ipamd.log.2.gz"
	f, _ := fileByPath(m, p)
	got := rec.got[p]
	if !f.Truncated || len(got) == 0 || len(got) >= len(body) || !bytes.HasPrefix(body, got) {
		t.Errorf("OnFile got %d of %d bytes (truncated=%v); want a proper prefix", len(got), len(body), f.Truncated)
	}
	if !bytes.Equal(w.stored(t, p), member) {
		t.Errorf("broken compressed member not stored as it is")
	}
	if !warningsContain(m, p, fmt.Sprintf("decompressed byte %d", len(got))) {
		t.Errorf("no warning names %s and the decompressed offset %d: %q", p, len(got), m.Warnings)
	}
	if string(rec.got["var_log/messages"]) != syslogLines(nodeShort) {
		t.Errorf("member after the broken one not indexed")
	}
}

func TestExtractCorruptZip(t *testing.T) {
	a := file("kubelet/kubelet.log", string(logLines(5, 300, nodeFQDN)))
	b := file("var_log/messages", string(logLines(6, 300, nodeShort)))
	c := file("kernel/dmesg.current", "[    1.000000] ok\n")
	data := zipBytes(t, a, b, c)
	// Damage b's deflate data: find its local header and flip bytes well inside its data.
	i := bytes.Index(data, []byte("var_log/messages"))
	for k := i + 100; k < i+140; k++ {
		data[k] ^= 0x55
	}
	w := newWorkspace(t)
	m, err := Extract(context.Background(), w.put(t, "z.zip", data), w.dest, Options{})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	w.assertContained(t)
	for _, g := range []entry{a, c} {
		if !bytes.Equal(w.stored(t, g.name), g.body) {
			t.Errorf("intact entry %s not kept", g.name)
		}
	}
	if !warningsContain(m, "var_log/messages", "corrupt zip entry") {
		t.Errorf("no warning names the corrupt entry: %q", m.Warnings)
	}

	w2 := newWorkspace(t)
	_, err = Extract(context.Background(), w2.put(t, "junk.zip", append([]byte("PK\x03\x04"), randomBytes(3, 4096)...)), w2.dest, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "junk.zip") {
		t.Errorf("unreadable zip: error %v, want ErrCorrupt naming junk.zip", err)
	}
}

func TestExtractLimits(t *testing.T) {
	k := func(i int) entry { return file(fmt.Sprintf("var_log/f%02d.log", i), strings.Repeat("x", 1000)) }
	t.Run("MaxFileBytes", func(t *testing.T) {
		w := newWorkspace(t)
		src := w.put(t, "l.tar.gz", gz(t, tarBytes(t, file("kubelet/kubelet.log", strings.Repeat("k", 10000)), k(1))))
		rec := newRecorder()
		m, err := Extract(context.Background(), src, w.dest, Options{MaxFileBytes: 4096, OnFile: rec.hook})
		if err != nil {
			t.Fatalf("Extract: %v", err)
		}
		if got := w.stored(t, "kubelet/kubelet.log"); string(got) != strings.Repeat("k", 4096) || len(rec.got["kubelet/kubelet.log"]) != 4096 {
			t.Errorf("kept %d bytes on disk, %d for OnFile; want 4096", len(got), len(rec.got["kubelet/kubelet.log"]))
		}
		if f, _ := fileByPath(m, "kubelet/kubelet.log"); !f.Truncated {
			t.Errorf("cut member not marked truncated")
		}
		if !warningsContain(m, `"kubelet/kubelet.log"`, "MaxFileBytes=4096") {
			t.Errorf("no warning names the member and the limit: %q", m.Warnings)
		}
		if len(w.stored(t, k(1).name)) != 1000 {
			t.Errorf("member after the cut one not kept")
		}
	})
	t.Run("MaxFiles", func(t *testing.T) {
		var entries []entry
		for i := range 10 {
			entries = append(entries, k(i))
		}
		w := newWorkspace(t)
		m, err := Extract(context.Background(), w.put(t, "n.tar.gz", gz(t, tarBytes(t, entries...))), w.dest, Options{MaxFiles: 5})
		if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "MaxFiles=5") || !strings.Contains(err.Error(), k(5).name) {
			t.Fatalf("error %v: want ErrLimit naming MaxFiles=5 and %s", err, k(5).name)
		}
		if m == nil || len(m.Files) != 5 || m.Files[4].Path != k(4).name {
			t.Errorf("manifest so far = %v, want the first 5 files", paths(m))
		}
		w.assertContained(t)
	})
	t.Run("MaxTotalBytes", func(t *testing.T) {
		w := newWorkspace(t)
		m, err := Extract(context.Background(), w.put(t, "s.tar.gz", gz(t, tarBytes(t, k(1), k(2), k(3), k(4)))), w.dest, Options{MaxTotalBytes: 2500})
		if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "MaxTotalBytes=2500") || !strings.Contains(err.Error(), k(3).name) {
			t.Fatalf("error %v: want ErrLimit naming MaxTotalBytes=2500 and %s", err, k(3).name)
		}
		if m == nil || len(m.Files) != 3 {
			t.Fatalf("manifest so far = %v, want 3 files", paths(m))
		}
		if len(w.stored(t, k(2).name)) != 1000 || len(w.stored(t, k(3).name)) != 500 {
			t.Errorf("want 1000 bytes of %s and the 500 that fit of %s", k(2).name, k(3).name)
		}
		if _, err := os.Stat(filepath.Join(w.dest, "files", k(4).name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("member after the limit was stored")
		}
	})
}

func TestExtractBinaryAndInvalidUTF8(t *testing.T) {
	bin := append([]byte("ELF"), make([]byte, 100)...)
	lateNUL := append(bytes.Repeat([]byte("x"), 9000), 0)
	invalid := []byte("Nov 19 08:29:24 host kernel: \xff\xfe\xc3\x28 bad utf-8\n")
	w := newWorkspace(t)
	src := w.put(t, "b.tar.gz", gz(t, tarBytes(t,
		entry{name: "system/core", body: bin},
		entry{name: "var_log/late.log", body: lateNUL},
		entry{name: "var_log/messages", body: invalid},
		entry{name: "var_log/aws-routed-eni/blob.gz", body: gz(t, bin)})))
	rec := newRecorder()
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatal(err)
	}
	for p, wantBinary := range map[string]bool{"system/core": true, "var_log/late.log": false,
		"var_log/messages": false, "var_log/aws-routed-eni/blob.gz": true} {
		f, _ := fileByPath(m, p)
		_, indexed := rec.got[p]
		if f.Binary != wantBinary || indexed == wantBinary {
			t.Errorf("%s: binary=%v given to OnFile=%v; want binary=%v", p, f.Binary, indexed, wantBinary)
		}
	}
	if !bytes.Equal(w.stored(t, "system/core"), bin) {
		t.Errorf("binary file not stored")
	}
	if !bytes.Equal(rec.got["var_log/messages"], invalid) || !bytes.Equal(w.stored(t, "var_log/messages"), invalid) {
		t.Errorf("invalid UTF-8 not kept as bytes")
	}
}

func TestExtractBadSources(t *testing.T) {
	tests := []struct {
		name   string
		make   func(t *testing.T, w workspace) string
		target error
		says   []string
	}{
		{"missing", func(t *testing.T, w workspace) string { return filepath.Join(w.in, "nope.tar.gz") },
			fs.ErrNotExist, []string{"nope.tar.gz", SupportedKinds}},
		{"text file", func(t *testing.T, w workspace) string { return w.put(t, "notes.txt", []byte("hello\n")) },
			ErrUnsupported, []string{"notes.txt", SupportedKinds}},
		{"zstd", func(t *testing.T, w workspace) string {
			return w.put(t, "b.tar.zst", append([]byte{0x28, 0xb5, 0x2f, 0xfd}, randomBytes(4, 600)...))
		}, ErrUnsupported, []string{"zstd", SupportedKinds}},
		{"gzip without tar", func(t *testing.T, w workspace) string {
			return w.put(t, "kubelet.log.gz", gz(t, []byte(isoLines(nodeFQDN))))
		}, ErrUnsupported, []string{"kubelet.log.gz", SupportedKinds}},
		{"empty file", func(t *testing.T, w workspace) string { return w.put(t, "e.tar.gz", nil) },
			ErrEmpty, []string{"bundle has no files"}},
		{"empty tar", func(t *testing.T, w workspace) string { return w.put(t, "e.tar", tarBytes(t)) },
			ErrEmpty, []string{"bundle has no files"}},
		{"only folders", func(t *testing.T, w workspace) string {
			return w.put(t, "d.tar.gz", gz(t, tarBytes(t, dir("./"), dir("./kubelet/"))))
		}, ErrEmpty, []string{"bundle has no files"}},
		{"only links", func(t *testing.T, w workspace) string {
			return w.put(t, "l.tgz", gz(t, tarBytes(t, entry{name: "a", typ: tar.TypeSymlink, link: "/etc/passwd"})))
		}, ErrEmpty, []string{"bundle has no files"}},
		{"empty zip", func(t *testing.T, w workspace) string { return w.put(t, "e.zip", zipBytes(t)) },
			ErrEmpty, []string{"bundle has no files"}},
		{"empty folder", func(t *testing.T, w workspace) string {
			d := filepath.Join(w.in, "empty")
			os.Mkdir(d, 0o755)
			return d
		}, ErrEmpty, []string{"bundle has no files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorkspace(t)
			_, err := Extract(context.Background(), tt.make(t, w), w.dest, Options{})
			if !errors.Is(err, tt.target) {
				t.Fatalf("error %v, want %v", err, tt.target)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			w.assertContained(t)
		})
	}
}

func TestExtractDestMustBeEmpty(t *testing.T) {
	w := newWorkspace(t)
	writeTree(t, w.dest, file("old", "x"))
	_, err := Extract(context.Background(), w.put(t, "a.tar", tarBytes(t, file("a.log", "x"))), w.dest, Options{})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("error %v, want a refusal of a non-empty destination", err)
	}
}

// A top folder guessed from a streamed archive's first member is undone when a later member
// is not under it; paths given to OnFile are corrected in place.
func TestExtractWrongTopFolderGuess(t *testing.T) {
	w := newWorkspace(t)
	src := w.put(t, "g.tar.gz", gz(t, tarBytes(t,
		dir("top/"), file("top/a.log", "a\n"), file("top/top/b.log", "b\n"), file("c.log", "c\n"))))
	rec := newRecorder()
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatal(err)
	}
	w.assertContained(t)
	want := []string{"top/a.log", "top/top/b.log", "c.log"}
	if diff := cmp.Diff(want, paths(m)); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	for _, p := range want {
		if got := string(w.stored(t, p)); got != strings.TrimSuffix(filepath.Base(p), ".log")+"\n" {
			t.Errorf("%s holds %q", p, got)
		}
	}
	var hooked []string
	for _, p := range rec.order {
		hooked = append(hooked, rec.files[p].Path)
	}
	if diff := cmp.Diff(want, hooked); diff != "" {
		t.Errorf("File.Path seen through OnFile's pointers (-want +got):\n%s", diff)
	}
	if m.TopFolder != "" || !warningsContain(m, `"c.log"`, `"top"`) {
		t.Errorf("top folder %q, warnings %q", m.TopFolder, m.Warnings)
	}
}

func TestExtractOnFileErrorAborts(t *testing.T) {
	boom := errors.New("index full")
	w := newWorkspace(t)
	src := w.put(t, "a.tar.gz", gz(t, tarBytes(t, file("a.log", "a\n"), file("b.log", "b\n"), file("c.log", "c\n"))))
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: func(_ context.Context, f *File, _ io.Reader) error {
		if f.Path == "b.log" {
			return boom
		}
		return nil
	}})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "b.log") {
		t.Fatalf("error %v, want the hook's error naming b.log", err)
	}
	if m == nil || len(m.Files) != 2 {
		t.Errorf("manifest so far %v, want a.log and b.log", paths(m))
	}
}

func TestExtractCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorkspace(t)
	src := w.put(t, "a.tar.gz", gz(t, tarBytes(t, file("a.log", "a\n"), file("b.log", "b\n"))))
	_, err := Extract(ctx, src, w.dest, Options{OnFile: func(context.Context, *File, io.Reader) error {
		cancel()
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestExtractZipLinks(t *testing.T) {
	log := file("kubelet/kubelet.log", isoLines(nodeFQDN))
	w := newWorkspace(t)
	src := w.put(t, "l.zip", zipBytes(t, log,
		entry{name: "system/passwd", typ: tar.TypeSymlink, link: "/etc/passwd"},
		entry{name: "system/up", typ: tar.TypeSymlink, link: "../../x"},
		entry{name: "kubelet/current.log", typ: tar.TypeSymlink, link: "kubelet.log"}))
	m, err := Extract(context.Background(), src, w.dest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.assertContained(t)
	var skipped []string
	for _, s := range m.Skipped {
		skipped = append(skipped, s.Path)
	}
	if diff := cmp.Diff([]string{"system/passwd", "system/up"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if string(w.stored(t, "kubelet/current.log")) != string(log.body) {
		t.Errorf("link to an earlier entry not stored as a copy")
	}
}

// A broken archive inside the bundle costs only its own tail.
func TestExtractBrokenNestedArchive(t *testing.T) {
	first := file("bottlerocket-logs/journalctl.log", "Mar 14 10:12:40.000001 h kubelet[1]: x\n")
	inner := gz(t, tarBytes(t, first, entry{name: "bottlerocket-logs/dmesg", body: randomBytes(9, 512<<10)}))
	inner = inner[:len(inner)-64<<10]
	after := file("var_log/messages", syslogLines(nodeShort))
	w := newWorkspace(t)
	src := w.put(t, "n.tar.gz", gz(t, tarBytes(t, entry{name: "bottlerocket/logdog/bottlerocket-logs.tar.gz", body: inner}, after)))
	m, err := Extract(context.Background(), src, w.dest, Options{})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	w.assertContained(t)
	if string(w.stored(t, "bottlerocket/logdog/bottlerocket-logs/journalctl.log")) != string(first.body) {
		t.Errorf("nested member before the break not kept")
	}
	if !bytes.Equal(w.stored(t, "bottlerocket/logdog/bottlerocket-logs.tar.gz"), inner) {
		t.Errorf("broken nested archive not stored as it is")
	}
	if string(w.stored(t, after.name)) != string(after.body) {
		t.Errorf("member after the nested archive not kept")
	}
	if !warningsContain(m, "bottlerocket/logdog/bottlerocket-logs.tar.gz", "broke at byte") {
		t.Errorf("no warning names the nested archive and where it broke: %q", m.Warnings)
	}
}

func TestExtractFolderWithNestedArchive(t *testing.T) {
	journal := "Mar 14 10:12:40.000001 " + nodeFQDN + " kubelet[1]: x\n"
	w := newWorkspace(t)
	d := filepath.Join(w.in, "nma")
	writeTree(t, d, file("kubelet/kubelet.log", isoLines(nodeFQDN)),
		entry{name: "bottlerocket/logdog/bottlerocket-logs.tar.gz",
			body: gz(t, tarBytes(t, dir("bottlerocket-logs/"), file("bottlerocket-logs/journalctl.log", journal)))})
	rec := newRecorder()
	m, err := Extract(context.Background(), d, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatal(err)
	}
	p := "bottlerocket/logdog/bottlerocket-logs/journalctl.log"
	if string(rec.got[p]) != journal {
		t.Errorf("nested journal not given to OnFile: %v", rec.order)
	}
	if m.Layout != LayoutNMA {
		t.Errorf("layout %q, want %q", m.Layout, LayoutNMA)
	}
}
