package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/search"
	"github.com/nodediag/nodediag/internal/store"
)

const exampleArchive = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

func fileURL(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	return "file://" + filepath.ToSlash(dir) + "?no_tmp_dir=true"
}

// writer imports the example bundle into a cache of url and publishes it, as an indexing pod
// or an engineer's import would.
func writer(t *testing.T, url string) (*Store, *store.Entry) {
	t.Helper()
	ctx := context.Background()
	w, err := Open(ctx, url, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	res, err := w.Cache.Import(ctx, exampleArchive, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := w.PublishAll(ctx)
	if err != nil || len(done) != 1 {
		t.Fatalf("published %v, %v", done, err)
	}
	return w, res.Entry
}

// roundTrip publishes the example bundle to url from one cache, mirrors it into another and reads
// the line of its first crash fact there, which comes down from the bucket: the whole path of a
// store in a bucket, for each driver.
func roundTrip(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	_, src := writer(t, url)
	r := reader(t, url)
	if res, err := r.Sync(ctx); err != nil || len(res.Mirrored) != 1 {
		t.Fatalf("sync from %s: %+v, %v", url, res, err)
	}
	e, err := r.Cache.Resolve("", src.Manifest.ID)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := r.Cache.Index(ctx, e, false)
	if err != nil {
		t.Fatal(err)
	}
	f := idx.Facts[0].Ref
	if out, err := search.Read(ctx, e, idx, search.ReadRequest{LogKey: f.File, StartLine: f.Line, LineCount: 1}); err != nil || len(out.Lines) != 1 {
		t.Fatalf("read %s from %s: %+v, %v", f, url, out, err)
	}
}

// reader opens url with a cache of its own, as another machine would, closed with the test.
func reader(t *testing.T, url string) *Store {
	t.Helper()
	r, err := Open(context.Background(), url, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func filesIn(t *testing.T, e *store.Entry) int {
	n := 0
	filepath.WalkDir(e.FilesDir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestPublishThenAnswerFromTheIndexAlone(t *testing.T) {
	url := fileURL(t)
	ctx := context.Background()
	_, src := writer(t, url)

	r := reader(t, url)
	res, err := r.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 1 || len(res.Mirrored) != 1 || len(res.Failed) != 0 {
		t.Fatalf("sync: %+v", res)
	}
	e, err := r.Cache.Resolve("", src.Manifest.ID)
	if err != nil {
		t.Fatalf("the mirrored bundle does not resolve: %v", err)
	}
	idx, err := r.Cache.Index(ctx, e, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := index.Load(src.IndexDir(), idx.CatalogVersion)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Facts) != len(want.Facts) || len(idx.Findings) != len(want.Findings) || len(idx.Facts) == 0 {
		t.Fatalf("mirrored index: %d facts %d findings; published %d and %d", len(idx.Facts), len(idx.Findings), len(want.Facts), len(want.Findings))
	}
	// errors is answered from the index: no file comes down.
	if got := app.Errors(idx, app.ErrorsRequest{}); len(got.Findings) == 0 {
		t.Fatal("no findings from the mirrored index")
	}
	if n := filesIn(t, e); n != 0 {
		t.Fatalf("%d files downloaded for questions the index answers", n)
	}
	// read needs one file, and gets that one only.
	f := want.Facts[0].Ref.File
	out, err := search.Read(ctx, e, idx, search.ReadRequest{LogKey: f, StartLine: want.Facts[0].Ref.Line, LineCount: 1})
	if err != nil {
		t.Fatalf("read %s from the bucket: %v", f, err)
	}
	if len(out.Lines) != 1 || out.Lines[0].No != want.Facts[0].Ref.Line {
		t.Fatalf("read %s:%d: %+v", f, want.Facts[0].Ref.Line, out.Lines)
	}
	if n := filesIn(t, e); n != 1 {
		t.Errorf("%d files in the cache after reading one", n)
	}
	// The second sync finds nothing new.
	if res, err := r.Sync(ctx); err != nil || res.Current != 1 || len(res.Mirrored) != 0 {
		t.Errorf("second sync: %+v, %v", res, err)
	}
}

// A bundle whose marker is not written yet — a publish killed after its files and index — is
// invisible to a reader.
func TestUnpublishedIsInvisible(t *testing.T) {
	url := fileURL(t)
	ctx := context.Background()
	w, err := Open(ctx, url, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, err := w.Cache.Import(ctx, exampleArchive, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prefix := bundlePrefix(filepath.Base(filepath.Dir(res.Entry.Dir)), res.Entry.Manifest.ID)
	if err := w.uploadFiles(ctx, res.Entry, prefix); err != nil {
		t.Fatal(err)
	}
	idx, _ := os.ReadFile(filepath.Join(res.Entry.IndexDir(), index.FileName))
	if err := w.put(ctx, prefix+"index/x.json", idx); err != nil {
		t.Fatal(err)
	}
	r := reader(t, url)
	sr, err := r.Sync(ctx)
	if err != nil || sr.Published != 0 || len(sr.Mirrored) != 0 {
		t.Fatalf("sync of an unpublished bundle: %+v, %v", sr, err)
	}
	if l, _ := r.Cache.List(); len(l) != 0 {
		t.Fatalf("the cache holds %d bundles", len(l))
	}
}

// A re-index publishes a new generation; a reader moves to it and the old one is removed once
// its grace has passed (none here).
func TestRepublishedIndex(t *testing.T) {
	defer func(g time.Duration) { indexGrace = g }(indexGrace)
	indexGrace = 0
	url := fileURL(t)
	ctx := context.Background()
	w, src := writer(t, url)
	r := reader(t, url)
	if _, err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Cache.Index(ctx, src, true); err != nil {
		t.Fatal(err)
	}
	// Rebuilt in the same second, the index can be byte for byte the old one; make it differ as
	// a new catalog's would.
	p := filepath.Join(src.IndexDir(), index.FileName)
	data, _ := os.ReadFile(p)
	var raw map[string]any
	json.Unmarshal(data, &raw)
	raw["warnings"] = []string{"re-indexed"}
	data, _ = json.Marshal(raw)
	os.WriteFile(p, data, 0o644)
	done, err := w.PublishAll(ctx)
	if err != nil || len(done) != 1 {
		t.Fatalf("republish: %v, %v", done, err)
	}
	res, err := r.Sync(ctx)
	if err != nil || len(res.Mirrored) != 1 {
		t.Fatalf("sync after a new index: %+v, %v", res, err)
	}
	e, _ := r.Cache.Resolve("", src.Manifest.ID)
	idx, err := r.Cache.Index(ctx, e, false)
	if err != nil || len(idx.Warnings) != 1 || idx.Warnings[0] != "re-indexed" {
		t.Fatalf("the reader has not the new index: %v %v", idx.Warnings, err)
	}
	b, _ := blob.OpenBucket(ctx, url)
	defer b.Close()
	gens := 0
	it := b.List(&blob.ListOptions{Prefix: bundlePrefix(filepath.Base(filepath.Dir(src.Dir)), src.Manifest.ID) + "index/"})
	for {
		if _, err := it.Next(ctx); err != nil {
			break
		}
		gens++
	}
	if gens != 1 {
		t.Errorf("%d index generations left, want the current one", gens)
	}
	// Nothing changed since: PublishAll sends nothing.
	if done, err := w.PublishAll(ctx); err != nil || len(done) != 0 {
		t.Errorf("PublishAll with nothing new: %v, %v", done, err)
	}
}

// A broken marker among good ones is named; the others are mirrored.
func TestCorruptMarkerAmongGood(t *testing.T) {
	url := fileURL(t)
	ctx := context.Background()
	writer(t, url)
	b, _ := blob.OpenBucket(ctx, url)
	defer b.Close()
	if err := b.WriteAll(ctx, "published/i-0bad/20260101T0000Z-bad.json", []byte("{half"), nil); err != nil {
		t.Fatal(err)
	}
	r := reader(t, url)
	res, err := r.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 2 || len(res.Mirrored) != 1 || len(res.Failed) != 1 || !strings.Contains(res.Failed[0], "i-0bad") {
		t.Fatalf("sync: %+v", res)
	}
}

// s3blob against a loopback S3 (gofakes3 speaks the REST protocol): the same round trip, and
// the errors a user meets — a bucket that does not exist, access denied, nothing listening.
func TestS3(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	backend := s3mem.New()
	fake := gofakes3.New(backend)
	srv := httptest.NewServer(fake.Server())
	defer srv.Close()
	if err := backend.CreateBucket("nodediag"); err != nil {
		t.Fatal(err)
	}
	s3url := func(bucket, endpoint string) string {
		return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&disable_https=true&region=us-east-1", bucket, endpoint)
	}
	ctx := context.Background()
	roundTrip(t, s3url("nodediag", srv.URL))

	if _, err := Open(ctx, s3url("no-such-bucket", srv.URL), t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("missing bucket: %v", err)
	}
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
	}))
	defer denied.Close()
	if _, err := Open(ctx, s3url("nodediag", denied.URL), t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), "s3://nodediag") {
		t.Errorf("denied: %v", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	if _, err := Open(ctx, s3url("nodediag", closed), t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("nothing listening: %v", err)
	}
}

func TestPushDir(t *testing.T) {
	url := fileURL(t)
	ctx := context.Background()
	r := reader(t, url)
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("facts/instance_id=i-1/b1.parquet", "one")
	write("facts/instance_id=i-2/b2.parquet", "two")
	write("facts/instance_id=i-2/.b3.parquet.123.tmp", "half") // a write in progress
	if w, d, err := r.PushDir(ctx, dir, "export/"); err != nil || w != 2 || d != 0 {
		t.Fatalf("first push: wrote %d deleted %d: %v", w, d, err)
	}
	if w, d, err := r.PushDir(ctx, dir, "export/"); err != nil || w != 0 || d != 0 {
		t.Fatalf("push of nothing new: wrote %d deleted %d: %v", w, d, err)
	}
	write("facts/instance_id=i-1/b1.parquet", "one, rewritten")
	os.Remove(filepath.Join(dir, "facts", "instance_id=i-2", "b2.parquet"))
	if w, d, err := r.PushDir(ctx, dir, "export/"); err != nil || w != 1 || d != 1 {
		t.Fatalf("push after a change and a removal: wrote %d deleted %d: %v", w, d, err)
	}
	b, _ := blob.OpenBucket(ctx, url)
	defer b.Close()
	got, err := b.ReadAll(ctx, "export/facts/instance_id=i-1/b1.parquet")
	if err != nil || string(got) != "one, rewritten" {
		t.Errorf("the bucket holds %q, %v", got, err)
	}
	if ok, _ := b.Exists(ctx, "export/facts/instance_id=i-2/.b3.parquet.123.tmp"); ok {
		t.Error("a hidden file in progress was pushed")
	}
}

// A mirrored bundle indexed by another rule catalog is read as it is, with a warning, not
// rebuilt: a rebuild would download every file of it.
func TestMirroredStaleCatalogNotRebuilt(t *testing.T) {
	url := fileURL(t)
	ctx := context.Background()
	w, src := writer(t, url)
	// Republish the index as an older catalog wrote it.
	p := filepath.Join(src.IndexDir(), index.FileName)
	data, _ := os.ReadFile(p)
	var raw map[string]any
	json.Unmarshal(data, &raw)
	raw["catalogVersion"] = "2020.01.01"
	data, _ = json.Marshal(raw)
	os.WriteFile(p, data, 0o644)
	if _, err := w.PublishAll(ctx); err != nil {
		t.Fatal(err)
	}
	r := reader(t, url)
	if _, err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := r.Cache.Resolve("", src.Manifest.ID)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := r.Cache.Index(ctx, e, false)
	if err != nil {
		t.Fatal(err)
	}
	if idx.CatalogVersion != "2020.01.01" || !slices.ContainsFunc(idx.Warnings, func(w string) bool { return strings.Contains(w, "another rule catalog") }) {
		t.Errorf("catalog %s, warnings %q: want the old index, said so", idx.CatalogVersion, idx.Warnings)
	}
	if n := filesIn(t, e); n != 0 {
		t.Errorf("%d files downloaded: the index was rebuilt", n)
	}
}

// TestRepublishKeepsUploadedFiles: a second publish of a bundle (after an interrupted one, or a
// re-index) uploads none of the files the bucket already holds with their sizes, and uploads a
// file whose object is missing or of another size.
func TestRepublishKeepsUploadedFiles(t *testing.T) {
	url := fileURL(t)
	w, e := writer(t, url)
	dir := strings.TrimPrefix(strings.TrimSuffix(url, "?no_tmp_dir=true"), "file://")
	prefix := bundlePrefix(e.Manifest.InstanceID, filepath.Base(e.Dir))
	var paths []string
	for _, f := range e.Manifest.Files {
		if f.Size >= 2 {
			paths = append(paths, f.Path)
		}
	}
	if len(paths) < 3 {
		t.Fatalf("the example bundle has %d files of 2 bytes or more, want 3", len(paths))
	}
	same, gone, short := paths[0], paths[1], paths[2]
	obj := func(p string) string { return filepath.Join(dir, filepath.FromSlash(prefix+"files/"+p)) }
	// Same size, other bytes: kept means not uploaded again.
	data, err := os.ReadFile(obj(same))
	if err != nil {
		t.Fatal(err)
	}
	marked := bytes.Repeat([]byte{'#'}, len(data))
	if err := os.WriteFile(obj(same), marked, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(obj(gone)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(obj(short), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(obj(same)); !bytes.Equal(got, marked) {
		t.Errorf("%s was uploaded again though the bucket held it with its size", same)
	}
	for _, p := range []string{gone, short} {
		want, _ := os.ReadFile(filepath.Join(e.FilesDir(), filepath.FromSlash(p)))
		if got, err := os.ReadFile(obj(p)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s not uploaded again (missing or of another size in the bucket): %v", p, err)
		}
	}
}
