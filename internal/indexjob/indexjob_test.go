package indexjob

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/nodediag/nodediag/internal/remote"
)

const exampleArchive = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

// sourceBucket writes n copies of the example archive under the names the EKS log collector
// would give n nodes, and one archive that is not gzip at all.
func sourceBucket(t *testing.T, n int) (url string, instances []string, bad string) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "incoming"), 0o755)
	for i := range n {
		id := fmt.Sprintf("i-%017x", 0xa00+i)
		instances = append(instances, id)
		name := fmt.Sprintf("eks_%s_2026-11-20_1030-UTC_0.7.9.tar.gz", id)
		if err := os.WriteFile(filepath.Join(dir, "incoming", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad = "incoming/eks_i-0badbadbadbadbad0_2026-11-20_1030-UTC_0.7.9.tar.gz"
	os.WriteFile(filepath.Join(dir, filepath.FromSlash(bad)), []byte("not a gzip stream at all"), 0o644)
	os.WriteFile(filepath.Join(dir, "incoming", "README.txt"), []byte("not an archive"), 0o644)
	return "file://" + filepath.ToSlash(dir) + "?no_tmp_dir=true", instances, bad
}

func worker(t *testing.T, storeURL string) *remote.Store {
	t.Helper()
	r, err := remote.Open(context.Background(), storeURL, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestShardsIndexEverythingOnce(t *testing.T) {
	const nodes, shards = 7, 3
	src, instances, bad := sourceBucket(t, nodes)
	storeURL := "file://" + filepath.ToSlash(t.TempDir()) + "?no_tmp_dir=true"
	ctx := context.Background()

	seen := map[string]int{}
	for shard := range shards {
		res, err := Run(ctx, Options{Source: src, Store: worker(t, storeURL), Shard: shard, Shards: shards})
		if err != nil {
			t.Fatalf("shard %d: %v", shard, err)
		}
		if res.Listed != nodes+1 {
			t.Errorf("shard %d listed %d archives, want %d (the README is no archive)", shard, res.Listed, nodes+1)
		}
		for _, a := range res.Archives {
			seen[a.Key]++
			if a.Key == bad {
				if a.Status != Failed || !strings.Contains(a.Error, "not a recognised archive") || strings.Contains(a.Error, os.TempDir()) {
					t.Errorf("the corrupt archive: %+v", a)
				}
			} else if a.Status != Indexed {
				t.Errorf("%s: %+v", a.Key, a)
			}
		}
	}
	if len(seen) != nodes+1 {
		t.Errorf("the shards took %d archives, want all %d", len(seen), nodes+1)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s taken by %d shards", k, n)
		}
	}

	// A reader sees every node's bundle, and nothing of the corrupt one.
	reader := worker(t, storeURL)
	if _, err := reader.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	entries, _ := reader.Cache.List()
	var got []string
	for _, e := range entries {
		got = append(got, e.Manifest.InstanceID)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(instances) {
		t.Errorf("the store holds %v, want %v", got, instances)
	}

	// A rerun (a restarted pod) does nothing again, the corrupt archive included.
	res, err := Run(ctx, Options{Source: src, Store: worker(t, storeURL), Shard: 0, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count(Skipped) != nodes || res.Count(Failed) != 1 || res.Count(Indexed) != 0 {
		t.Errorf("rerun: %d skipped, %d failed, %d indexed: %+v", res.Count(Skipped), res.Count(Failed), res.Count(Indexed), res.Archives)
	}
}

// Two workers given the same shard (a pod and its replacement, both alive for a while) finish
// with one copy of each bundle.
func TestRacingWorkers(t *testing.T) {
	src, instances, _ := sourceBucket(t, 4)
	storeURL := "file://" + filepath.ToSlash(t.TempDir()) + "?no_tmp_dir=true"
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		w := worker(t, storeURL)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Run(ctx, Options{Source: src, Store: w, Shard: 0, Shards: 1, Force: true, Jobs: 2})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	reader := worker(t, storeURL)
	sr, err := reader.Sync(ctx)
	if err != nil || sr.Published != len(instances) || len(sr.Failed) != 0 {
		t.Fatalf("after racing workers: %+v, %v", sr, err)
	}
	entries, _ := reader.Cache.List()
	for _, e := range entries {
		if _, err := reader.Cache.Index(ctx, e, false); err != nil {
			t.Errorf("%s: %v", e.Manifest.ID, err)
		}
	}
}

func TestOneKey(t *testing.T) {
	src, instances, _ := sourceBucket(t, 3)
	storeURL := "file://" + filepath.ToSlash(t.TempDir()) + "?no_tmp_dir=true"
	key := "incoming/eks_" + instances[1] + "_2026-11-20_1030-UTC_0.7.9.tar.gz"
	res, err := Run(context.Background(), Options{Source: src, Key: key, Store: worker(t, storeURL), Shards: 1})
	if err != nil || len(res.Archives) != 1 || res.Archives[0].Status != Indexed || res.Archives[0].Instance != instances[1] {
		t.Fatalf("one key: %+v, %v", res, err)
	}
	if _, err := Run(context.Background(), Options{Source: src, Key: "incoming/nope.tar.gz", Store: worker(t, storeURL), Shards: 1}); err == nil || !strings.Contains(err.Error(), "incoming/nope.tar.gz") {
		t.Errorf("a missing key: %v", err)
	}
}

func TestShardOfIsStable(t *testing.T) {
	counts := make([]int, 4)
	for i := range 1000 {
		s := ShardOf(fmt.Sprintf("incoming/eks_i-%017x_2026-11-20_1030-UTC_0.7.9.tar.gz", i), 4)
		if s != ShardOf(fmt.Sprintf("incoming/eks_i-%017x_2026-11-20_1030-UTC_0.7.9.tar.gz", i), 4) {
			t.Fatal("ShardOf differs for one key")
		}
		counts[s]++
	}
	for s, n := range counts {
		if n < 200 || n > 300 {
			t.Errorf("shard %d of 4 gets %d of 1000 archives", s, n)
		}
	}
}
