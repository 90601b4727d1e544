package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
)

// BenchmarkImportManyMembers measures what the member count costs: the import of a bundle of n
// one-line logs (NODEDIAG_BENCH_MEMBERS, default 5,000; bundle.DefaultMaxFiles bounds it, the
// review's bomb had 200,000), the manifest and index it leaves, and the index load that every
// later command pays. Run with -benchtime=1x; /usr/bin/time -v gives the peak RSS.
func BenchmarkImportManyMembers(b *testing.B) {
	n := 5000
	if s := os.Getenv("NODEDIAG_BENCH_MEMBERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	members := make([]member, n)
	for i := range members {
		members[i] = member{fmt.Sprintf("var_log/d%03d/f%06d.log", i/1000, i),
			fmt.Sprintf("Nov 19 08:29:24 ip-10-0-1-229 kernel: oom-kill:constraint=CONSTRAINT_MEMCG task=app%d\n", i)}
	}
	// The collector's name, so that Import indexes while it unpacks, as it does for real bundles.
	src := filepath.Join(b.TempDir(), "eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz")
	if err := os.WriteFile(src, tarGz(b, members...), 0o644); err != nil {
		b.Fatal(err)
	}
	cat, err := detect.Load()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		st, err := Open(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := st.Import(context.Background(), src, ImportOptions{Force: true, Limits: bundle.Options{MaxFiles: n + 1}})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var meta int64
		for _, p := range []string{filepath.Join(res.Entry.Dir, ManifestFile), filepath.Join(res.Entry.IndexDir(), index.FileName)} {
			info, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			meta += info.Size()
		}
		start := time.Now()
		if _, err := index.Load(res.Entry.IndexDir(), cat.Version); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(meta)/float64(n), "meta-B/member")
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "load-ms")
		os.RemoveAll(st.Root)
		b.StartTimer()
	}
}
