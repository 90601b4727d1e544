package bundle

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// benchBundle writes a log-like collector bundle of about size bytes (uncompressed) as a
// .tar.gz and returns its path and uncompressed size. NODEDIAG_BENCH_BUNDLE names an existing
// .tar.gz to measure instead (e.g. the 1 GiB one of shared/bench/mkbundle.py).
func benchBundle(b *testing.B, size int) (string, int64) {
	if p := os.Getenv("NODEDIAG_BENCH_BUNDLE"); p != "" {
		fh, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		zr, err := kgzip.NewReader(fh)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err != nil {
			b.Fatal(err)
		}
		return p, n
	}
	shares := []struct {
		name  string
		share float64
		gzip  bool
	}{
		{"./kubelet/kubelet.log", 0.45, false},
		{"./var_log/messages", 0.25, false},
		{"./containerd/containerd-log.txt", 0.15, false},
		{"./var_log/aws-routed-eni/ipamd.log", 0.06, false},
		{"./var_log/aws-routed-eni/ipamd.log.1.gz", 0.03, true},
		{"./var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log", 0.06, false},
	}
	var entries []entry
	var total int64
	for i, s := range shares {
		want := int(float64(size) * s.share)
		body := logLines(uint64(i+10), want/220, nodeFQDN)
		total += int64(len(body))
		if s.gzip {
			var buf bytes.Buffer
			zw := kgzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			body = buf.Bytes()
		}
		entries = append(entries, entry{name: s.name, body: body})
	}
	var buf bytes.Buffer
	zw := kgzip.NewWriter(&buf) // default level, like gzip -6 in the collector's tar czf
	zw.Write(tarBytes(b, entries...))
	zw.Close()
	p := filepath.Join(b.TempDir(), "eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return p, total
}

// BenchmarkExtractTarGz compares extraction with each gzip decoder, with and without an
// OnFile reader, against decompression alone (what `gzip -dc >/dev/null` does). MB/s are of
// uncompressed bytes.
func BenchmarkExtractTarGz(b *testing.B) {
	src, size := benchBundle(b, 64<<20)
	fi, _ := os.Stat(src)
	b.Logf("bundle %s: %d bytes compressed, %d uncompressed", filepath.Base(src), fi.Size(), size)
	for _, c := range []gzipCodec{codecStdlib, codecKlauspost, codecPgzip} {
		b.Run("gunzip/"+c.String(), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				fh, err := os.Open(src)
				if err != nil {
					b.Fatal(err)
				}
				zr, err := newGzipReader(c, bufioSized(fh))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, zr); err != nil {
					b.Fatal(err)
				}
				fh.Close()
			}
		})
	}
	lines := func(_ context.Context, _ *File, r io.Reader) error {
		buf := make([]byte, 256<<10)
		for {
			n, err := r.Read(buf)
			bytes.Count(buf[:n], []byte{'\n'})
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	// scan stands in for the indexer: a line split plus a per-line literal test, roughly the
	// cost of the multi-literal prefilter, so the decoder has a busy consumer to overlap with.
	scan := func(_ context.Context, _ *File, r io.Reader) error {
		buf := make([]byte, 256<<10)
		for {
			n, err := r.Read(buf)
			for rest := buf[:n]; len(rest) > 0; {
				i := bytes.IndexByte(rest, '\n')
				if i < 0 {
					break
				}
				line := rest[:i]
				if bytes.Contains(line, []byte("oom")) || bytes.Contains(line, []byte("exit")) {
					_ = line[0]
				}
				rest = rest[i+1:]
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	hooks := []struct {
		name string
		fn   func(context.Context, *File, io.Reader) error
	}{{"extract", nil}, {"extract+lines", lines}, {"extract+scan", scan}}
	for _, c := range []gzipCodec{codecStdlib, codecKlauspost, codecPgzip} {
		for _, hook := range hooks {
			name := hook.name + "/" + c.String()
			opt := Options{OnFile: hook.fn}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(size)
				tmp := b.TempDir()
				i := 0
				for b.Loop() {
					dest := filepath.Join(tmp, fmt.Sprint(i))
					i++
					if _, err := extract(context.Background(), src, dest, opt, c); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					os.RemoveAll(dest)
					b.StartTimer()
				}
			})
		}
	}
}

// bufioSized buffers the compressed file as extract does, so the baselines compare decoders
// on equal terms.
func bufioSized(r io.Reader) io.Reader {
	return bufio.NewReaderSize(r, 64<<10)
}
