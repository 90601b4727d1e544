package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/store"
)

// bundleFolder writes n copies of the example archive under collector names of n different
// instances, so that each is a bundle of its own, and returns the folder and the instance ids.
func bundleFolder(t *testing.T, n int) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("i-0a1b2c3d4e5f6%04x", i)
		ids = append(ids, id)
		if err := os.WriteFile(filepath.Join(dir, "eks_"+id+"_2026-11-20_1030-UTC_0.7.9.tar.gz"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, ids
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestImportManyFolder: a folder of bundles with one corrupt archive among them imports the
// rest, names the corrupt file and its problem, and a second run skips every bundle it holds.
func TestImportManyFolder(t *testing.T) {
	const n = 12
	dir, ids := bundleFolder(t, n)
	// A gzip header and then bytes that are no deflate stream: broken before the first member.
	corrupt := filepath.Join(dir, "eks_i-0badbadbadbadbad0_2026-11-20_1030-UTC_0.7.9.tar.gz")
	if err := os.WriteFile(corrupt, append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, strings.Repeat("\xff\xfe", 500)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	sources, ignored, batch, err := app.ImportSources(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if !batch || len(sources) != n+1 || len(ignored) != 1 || filepath.Base(ignored[0].Path) != "notes.txt" {
		t.Fatalf("ImportSources: batch %v, %d sources, ignored %v; want a batch of %d and notes.txt ignored", batch, len(sources), ignored, n+1)
	}
	st := openStore(t)
	var inFlight, peak atomic.Int32
	defer app.SetImporting(func(string) func() {
		now := inFlight.Add(1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond) // so that the jobs overlap even on a busy machine
		return func() { inFlight.Add(-1) }
	})()
	var doneCalls atomic.Int32
	res, err := app.ImportMany(context.Background(), st, app.ImportManyRequest{Sources: sources, Jobs: 3,
		Done: func(app.ImportRow, int, int) { doneCalls.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("at most %d imports ran at once; want 2 or 3 with --jobs 3", p)
	}
	if res.Imported != n || res.Failed != 1 || res.Skipped != 0 || int(doneCalls.Load()) != n+1 {
		t.Errorf("imported %d, failed %d, skipped %d, %d done calls; want %d, 1, 0, %d", res.Imported, res.Failed, res.Skipped, doneCalls.Load(), n, n+1)
	}
	for i, r := range res.Archives {
		if r.Path != sources[i] {
			t.Errorf("row %d is %s; want the sources' order (%s)", i, r.Path, sources[i])
		}
		if r.Path == corrupt {
			if r.Status != app.ImportFailed || !strings.Contains(r.Reason, "corrupt") || !strings.Contains(r.Reason, filepath.Base(corrupt)) {
				t.Errorf("corrupt archive's row: %+v; want failed, naming the file and that it is corrupt", r)
			}
			continue
		}
		want := "eks_" + r.InstanceID + "_"
		if r.Status != app.ImportImported || !strings.HasPrefix(filepath.Base(r.Path), want) {
			t.Errorf("row %+v: want imported as the instance its name gives", r)
		}
	}
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range all {
		got[e.Manifest.InstanceID] = true
	}
	for _, id := range ids {
		if !got[id] {
			t.Errorf("instance %s has no bundle in the store", id)
		}
	}
	if len(all) != n {
		t.Errorf("the store holds %d bundles; want %d", len(all), n)
	}

	// Again: nothing is opened (the hook sees only the corrupt archive, which is not indexed).
	var opened []string
	var mu sync.Mutex
	defer app.SetImporting(func(src string) func() {
		mu.Lock()
		opened = append(opened, src)
		mu.Unlock()
		return func() {}
	})()
	again, err := app.ImportMany(context.Background(), st, app.ImportManyRequest{Sources: sources, Jobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if again.Skipped != n || again.Failed != 1 || len(opened) != 1 || opened[0] != corrupt {
		t.Errorf("second run: %d skipped, %d failed, opened %v; want %d skipped, the corrupt one failing again and opened alone", again.Skipped, again.Failed, opened, n)
	}
	for _, r := range again.Archives {
		if r.Status == app.ImportSkipped && (r.BundleID == "" || !strings.Contains(r.Reason, "already indexed")) {
			t.Errorf("skipped row %+v: want the bundle id and why it is indexed", r)
		}
	}

	// A copy under another path, same name and size: the same bundle id, so skipped unopened;
	// --force imports it again.
	other := filepath.Join(t.TempDir(), filepath.Base(sources[1]))
	data, _ := os.ReadFile(sources[1])
	if err := os.WriteFile(other, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opened = nil
	moved, err := app.ImportMany(context.Background(), st, app.ImportManyRequest{Sources: []string{other}})
	if err != nil {
		t.Fatal(err)
	}
	if r := moved.Archives[0]; r.Status != app.ImportSkipped || r.BundleID != res.Archives[1].BundleID || len(opened) != 0 {
		t.Errorf("a copy of an imported archive: %+v, opened %v; want skipped as bundle %s without opening it", r, opened, res.Archives[1].BundleID)
	}
	forced, err := app.ImportMany(context.Background(), st, app.ImportManyRequest{Sources: []string{other}, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := forced.Archives[0]; r.Status != app.ImportImported || len(opened) != 1 {
		t.Errorf("--force: %+v, opened %v; want imported again", r, opened)
	}
}

// TestImportManyCancelled: archives not started when the caller gives up say so, and nothing
// else is lost.
func TestImportManyCancelled(t *testing.T) {
	dir, _ := bundleFolder(t, 4)
	sources, _, _, err := app.ImportSources(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := app.ImportMany(ctx, openStore(t), app.ImportManyRequest{Sources: sources, Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != len(sources) {
		t.Fatalf("%d of %d failed; want all, cancelled before they started", res.Failed, len(sources))
	}
	for _, r := range res.Archives {
		if r.Path == "" || !strings.Contains(r.Reason, "not started") {
			t.Errorf("row %+v: want the path and that it was not started", r)
		}
	}
}

// TestImportSources: what a path stands for — an archive, a bundle folder, a folder of logs (one
// bundle, as before batches), a folder of bundles — and a missing path is a request error.
func TestImportSources(t *testing.T) {
	dir, _ := bundleFolder(t, 2)
	bundleDir := filepath.Join(t.TempDir(), "eks_i-0a1b2c3d4e5f60718")
	if err := os.MkdirAll(filepath.Join(bundleDir, "kubelet"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	if err := os.WriteFile(filepath.Join(logs, "messages"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A folder of bundles that holds a bundle folder too.
	if err := os.Rename(bundleDir, filepath.Join(dir, filepath.Base(bundleDir))); err != nil {
		t.Fatal(err)
	}
	bundleDir = filepath.Join(dir, filepath.Base(bundleDir))
	for _, tc := range []struct {
		name    string
		paths   []string
		batch   bool
		sources int
	}{
		{"one archive", []string{exampleArchive}, false, 1},
		{"the same archive twice", []string{exampleArchive, exampleArchive}, true, 1},
		{"a bundle folder", []string{bundleDir}, false, 1},
		{"a folder of log files", []string{logs}, false, 1},
		{"a folder of bundles", []string{dir}, true, 3},
		{"two paths", []string{exampleArchive, logs}, true, 2},
	} {
		src, _, batch, err := app.ImportSources(context.Background(), tc.paths)
		if err != nil || batch != tc.batch || len(src) != tc.sources {
			t.Errorf("%s: %d sources, batch %v, err %v; want %d, %v", tc.name, len(src), batch, err, tc.sources, tc.batch)
		}
	}
	if _, _, _, err := app.ImportSources(context.Background(), []string{dir, filepath.Join(dir, "nope.tar.gz")}); err == nil || !strings.Contains(err.Error(), "nope.tar.gz") {
		t.Errorf("a missing path: %v; want an error naming it", err)
	}
}

// TestImportManyPartialStaysPartial: an archive cut short is imported as far as it can be read,
// and a second run, which skips it, still says it is partial and what is missing.
func TestImportManyPartialStaysPartial(t *testing.T) {
	data, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "eks_i-0c0c0c0c0c0c0c0c0_2026-11-20_1030-UTC_0.7.9.tar.gz")
	if err := os.WriteFile(cut, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	for run := 1; run <= 2; run++ {
		res, err := app.ImportMany(context.Background(), st, app.ImportManyRequest{Sources: []string{cut}})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Archives[0]
		if r.Status != app.ImportPartial || res.Partial != 1 || !strings.Contains(r.Reason, "broke") || r.BundleID == "" {
			t.Errorf("run %d: %+v; want partial, saying where the archive broke, with its bundle", run, r)
		}
		if run == 2 && !strings.Contains(r.Reason, "already indexed") {
			t.Errorf("run 2: %q; want that it was skipped as indexed", r.Reason)
		}
	}
}

// TestImportBucketPrefix: a bucket prefix is a batch like a folder — every archive under it,
// including one named after its host and kept under its instance's folder; a corrupt one is
// named by its URL; a second run skips what the store has from those very objects.
func TestImportBucketPrefix(t *testing.T) {
	dir, ids := bundleFolder(t, 3)
	os.MkdirAll(filepath.Join(dir, "i-0feedfeedfeedfee0"), 0o755)
	data, _ := os.ReadFile(exampleArchive)
	// The example archive under a host name: its instance comes from the folder.
	os.WriteFile(filepath.Join(dir, "i-0feedfeedfeedfee0", "ip-10-0-1-2.ec2.internal-logs.tar.gz"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "eks_i-0badbadbadbadbad0_2026-11-20_1030-UTC_0.7.9.tar.gz"), []byte("no archive"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a bundle"), 0o644)
	bucket := "file://" + filepath.ToSlash(dir)
	ctx := context.Background()
	st := openStore(t)

	sources, _, batch, err := app.ImportSources(ctx, []string{bucket})
	if err != nil || !batch || len(sources) != 5 {
		t.Fatalf("sources %d (batch %v): %v", len(sources), batch, err)
	}
	res, err := app.ImportMany(ctx, st, app.ImportManyRequest{Sources: sources, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 4 || res.Failed != 1 {
		t.Fatalf("imported %d, failed %d: %+v", res.Imported, res.Failed, res.Archives)
	}
	instances := map[string]bool{}
	for _, r := range res.Archives {
		if !strings.HasPrefix(r.Path, bucket+"/") {
			t.Errorf("row names %q, want the object's URL under %s", r.Path, bucket)
		}
		if r.Status == app.ImportFailed && (!strings.Contains(r.Reason, "eks_i-0badbadbadbadbad0") || strings.Contains(r.Reason, "fetch-")) {
			t.Errorf("the corrupt archive's reason %q: want its URL, not the download's path", r.Reason)
		}
		instances[r.InstanceID] = r.Status == app.ImportImported
	}
	for _, id := range append(ids, "i-0feedfeedfeedfee0") {
		if !instances[id] {
			t.Errorf("instance %s not imported: %+v", id, res.Archives)
		}
	}

	again, err := app.ImportMany(ctx, st, app.ImportManyRequest{Sources: sources, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if again.Skipped != 4 || again.Failed != 1 || again.Imported != 0 {
		t.Errorf("second run: skipped %d, failed %d, imported %d: %+v", again.Skipped, again.Failed, again.Imported, again.Archives)
	}
	if _, _, _, err := app.ImportSources(ctx, []string{"file://" + filepath.ToSlash(dir) + "/missing"}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing prefix: %v", err)
	}
}

// TestImportInstanceFolders: archives kept under <instance>/ folders (named after their host, as
// logdog's and the monitoring agent's are) are a batch, each with its folder's instance.
func TestImportInstanceFolders(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"}
	for _, id := range want {
		os.MkdirAll(filepath.Join(dir, id), 0o755)
		os.WriteFile(filepath.Join(dir, id, "ip-10-0-1-2.ec2.internal-logs.tar.gz"), data, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "fleet.json"), []byte("{}"), 0o644)
	ctx := context.Background()
	sources, ignored, batch, err := app.ImportSources(ctx, []string{dir})
	if err != nil || !batch || len(sources) != 2 || len(ignored) != 1 {
		t.Fatalf("sources %v, ignored %v, batch %v: %v", sources, ignored, batch, err)
	}
	res, err := app.ImportMany(ctx, openStore(t), app.ImportManyRequest{Sources: sources, Jobs: 1})
	if err != nil || res.Imported != 2 {
		t.Fatalf("%+v, %v", res, err)
	}
	for i, r := range res.Archives {
		if r.InstanceID != want[i] {
			t.Errorf("%s: instance %s, want its folder's %s", r.Path, r.InstanceID, want[i])
		}
	}
}
