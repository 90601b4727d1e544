package store

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
)

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, r)
		if de.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDoctorFindsAndRepairs damages copies of a stored bundle in every way Check knows, and
// checks that each is reported as what it is, that readers do not take a damaged bundle for a
// whole one, and that Repair leaves a healthy store: broken bundles gone, indexes of intact
// ones rebuilt.
func TestDoctorFindsAndRepairs(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	good := importOnce(t, root, example).Entry
	inst := filepath.Dir(good.Dir)
	damage := map[string]func(dir string){
		"files-missing": func(d string) { os.Remove(filepath.Join(d, "files", "kubelet", "kubelet.log")) },
		"files-resized": func(d string) {
			os.WriteFile(filepath.Join(d, "files", "kubelet", "kubelet.log"), []byte("cut\n"), 0o644)
		},
		"no-manifest":  func(d string) { os.Remove(filepath.Join(d, ManifestFile)) },
		"bad-manifest": func(d string) { os.WriteFile(filepath.Join(d, ManifestFile), []byte("{not json"), 0o644) },
		"no-index":     func(d string) { os.RemoveAll(filepath.Join(d, "index")) },
		"bad-index":    func(d string) { os.WriteFile(filepath.Join(d, "index", index.FileName), []byte(`{"schema":`), 0o644) },
		"stale-index": func(d string) {
			rewriteJSON(t, filepath.Join(d, "index", index.FileName), "catalogVersion", "1999.01.1")
		},
		"other-index": func(d string) { rewriteJSON(t, filepath.Join(d, ManifestFile), "id", "20261120T1030Z-other") },
	}
	want := map[string]string{
		"files-missing": ProblemFiles, "files-resized": ProblemFiles, "no-manifest": ProblemIncomplete,
		"bad-manifest": ProblemUnreadable, "no-index": ProblemIndexMissing, "bad-index": ProblemIndexUnloadable,
		"stale-index": ProblemIndexStale, "other-index": ProblemIndexMismatch,
	}
	for name, f := range damage {
		d := filepath.Join(inst, name)
		copyDir(t, good.Dir, d)
		f(d)
	}
	// What an older nodediag's interrupted index writes left.
	os.Mkdir(filepath.Join(good.Dir, "index.old"), 0o755)
	os.Mkdir(filepath.Join(good.Dir, ".index-123"), 0o755)
	dead := filepath.Join(root, "tmp", "import-dead")
	os.MkdirAll(filepath.Join(dead, "bundle", "files"), 0o755)
	os.WriteFile(dead+lockSuffix, nil, 0o644)

	// As in a store an older nodediag wrote: no lock files yet.
	if err := os.RemoveAll(filepath.Join(root, "locks")); err != nil {
		t.Fatal(err)
	}
	st, err := OpenNoCleanup(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range h.Problems {
		got[p.Path] = p.Kind
	}
	rel := func(name string) string { return st.rel(filepath.Join(inst, name)) }
	for name, kind := range want {
		if got[rel(name)] != kind {
			t.Errorf("%s: reported %q, want %q", name, got[rel(name)], kind)
		}
	}
	for _, p := range []string{"tmp/import-dead", rel(filepath.Base(good.Dir)) + "/index.old", rel(filepath.Base(good.Dir)) + "/.index-123"} {
		if got[p] != ProblemLeftover {
			t.Errorf("%s: reported %q, want leftover", p, got[p])
		}
	}
	if h.Healthy || h.Bundles != len(damage)+1 {
		t.Errorf("healthy=%v bundles=%d, want unhealthy with %d", h.Healthy, h.Bundles, len(damage)+1)
	}

	// Readers: a bundle without an index is not listed; one with missing files does not resolve.
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if n := filepath.Base(e.Dir); n == "no-index" || n == "no-manifest" {
			t.Errorf("%s listed", n)
		}
	}
	if _, err := st.loadIntact(filepath.Join(inst, "files-missing")); !errors.Is(err, ErrDamaged) {
		t.Errorf("a bundle with a missing file loads as whole: %v", err)
	}

	did, err := st.Repair(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(did) < len(damage)+3 {
		t.Errorf("repair did %d things, want at least %d: %+v", len(did), len(damage)+3, did)
	}
	if h, err = st.Check(ctx); err != nil || !h.Healthy {
		t.Fatalf("after repair: %v %+v", err, h)
	}
	for name, kind := range want {
		_, err := os.Stat(filepath.Join(inst, name))
		removed := errors.Is(err, fs.ErrNotExist)
		wantRemoved := kind == ProblemFiles || kind == ProblemIncomplete || kind == ProblemUnreadable
		if removed != wantRemoved {
			t.Errorf("%s (%s): removed=%v, want %v", name, kind, removed, wantRemoved)
		}
	}
	for _, name := range []string{"no-index", "bad-index", "stale-index", "other-index"} {
		e, err := st.loadIntact(filepath.Join(inst, name))
		if err != nil {
			t.Errorf("%s: index of an intact bundle not rebuilt: %v", name, err)
			continue
		}
		if _, err := index.Load(e.IndexDir(), detect.Version()); err != nil {
			t.Errorf("%s: rebuilt index does not load: %v", name, err)
		}
	}
}

func rewriteJSON(t *testing.T, path, key string, value any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m[key] = value
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
