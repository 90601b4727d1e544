package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
)

const example = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

func TestStaleIndexIsRebuilt(t *testing.T) {
	ctx := context.Background()
	st, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(ctx, example, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Pretend an older nodediag wrote the index.
	p := filepath.Join(res.Entry.IndexDir(), index.FileName)
	var raw map[string]any
	data, _ := os.ReadFile(p)
	json.Unmarshal(data, &raw)
	raw["catalogVersion"] = "1999.01.1"
	raw["findings"] = []any{}
	data, _ = json.Marshal(raw)
	os.WriteFile(p, data, 0o644)

	cat, _ := detect.Load()
	if _, err := index.Load(res.Entry.IndexDir(), cat.Version); !errors.Is(err, index.ErrStale) {
		t.Fatalf("doctored index not seen as stale: %v", err)
	}
	idx, err := st.Index(ctx, res.Entry, false)
	if err != nil {
		t.Fatal(err)
	}
	if idx.CatalogVersion != cat.Version || len(idx.Findings) != len(res.Index.Findings) {
		t.Fatalf("rebuilt index: catalog %q with %d findings; want %q with %d", idx.CatalogVersion, len(idx.Findings), cat.Version, len(res.Index.Findings))
	}
	// The streamed import and the rebuild from disk read the same lines: same findings and facts.
	if len(idx.Facts) != len(res.Index.Facts) {
		t.Errorf("rebuild from disk has %d facts, streamed import %d", len(idx.Facts), len(res.Index.Facts))
	}
	for i := range idx.Findings {
		a, b := idx.Findings[i], res.Index.Findings[i]
		if a.Rule != b.Rule || a.Count != b.Count || !a.First.Equal(b.First) || !a.Last.Equal(b.Last) {
			t.Errorf("finding %d differs: rebuilt %s×%d %s–%s, streamed %s×%d %s–%s", i, a.Rule, a.Count, a.First, a.Last, b.Rule, b.Count, b.First, b.Last)
		}
	}
	// And it was saved: loading again needs no rebuild.
	if _, err := index.Load(res.Entry.IndexDir(), cat.Version); err != nil {
		t.Errorf("rebuilt index not saved: %v", err)
	}
}

func TestImportTwiceReusesAndResolve(t *testing.T) {
	ctx := context.Background()
	st, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := st.Import(ctx, example, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.Import(ctx, example, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.Entry.Dir != first.Entry.Dir {
		t.Errorf("second import: existing=%v dir %s, want the first bundle %s reused", again.Existing, again.Entry.Dir, first.Entry.Dir)
	}
	e, err := st.Resolve("i-0a1b2c3d4e5f60718", "")
	if err != nil || e.Dir != first.Entry.Dir {
		t.Fatalf("resolve by instance: %v %v", e, err)
	}
	if _, err := st.Resolve("i-0000", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown instance: %v, want ErrNotFound", err)
	}
	left, _ := filepath.Glob(filepath.Join(st.Root, "tmp", "*"))
	if len(left) != 0 {
		t.Errorf("temporary import folders left: %v", left)
	}
}

// TestResolveNode finds a bundle by its node's name, in the spellings the API and the bundle use.
func TestResolveNode(t *testing.T) {
	st, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), example, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node := res.Entry.Manifest.NodeName
	if node == "" {
		t.Fatal("the example bundle's manifest names no node")
	}
	short, _, _ := strings.Cut(node, ".")
	for _, name := range []string{node, short, short + ".us-west-2.compute.internal"} {
		if e, err := st.ResolveNode(name); err != nil || e.Manifest.ID != res.Entry.Manifest.ID {
			t.Errorf("ResolveNode(%q): %v, want bundle %s", name, err, res.Entry.Manifest.ID)
		}
	}
	for _, name := range []string{"", short + "9", "ip-10-0-0-1.ec2.internal"} {
		if _, err := st.ResolveNode(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("ResolveNode(%q): %v, want ErrNotFound", name, err)
		}
	}
}

// TestImportedReusesAnUnchangedArchive: an archive imported once is found again by its path while
// it is unchanged, and not once it changed (a new size or modification time).
func TestImportedReusesAnUnchangedArchive(t *testing.T) {
	st, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(t.TempDir(), filepath.Base(example))
	if err := os.WriteFile(arch, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Imported(arch); ok {
		t.Fatal("an archive never imported is found")
	}
	res, err := st.Import(context.Background(), arch, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := st.Imported(arch)
	if !ok || e.Manifest.ID != res.Entry.Manifest.ID {
		t.Fatalf("Imported(%s) = %v, %v; want the bundle just imported", arch, e, ok)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(arch, later, later); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Imported(arch); ok {
		t.Error("an archive modified since its import is reused")
	}
}

// TestWorkDirSurvivesOpenWhileHeld: a folder the collector gathers into is not removed by an
// Open in the meantime (flock locks belong to the open file, so this holds within one process
// too), and is gone once released.
func TestWorkDirSurvivesOpenWhileHeld(t *testing.T) {
	root := t.TempDir()
	st, err := Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, release, err := st.WorkDir("gather-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a held work folder was removed by Open: %v", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("released work folder still there: %v", err)
	}
}
