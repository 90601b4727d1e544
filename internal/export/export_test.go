package export

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

const exampleArchive = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

// fleetStore imports the example bundle and scenarios of other kinds into one store, each under
// an instance of its own, and an older bundle of one of those instances, so that "each node's
// newest bundle" leaves one out.
func fleetStore(t *testing.T) (*store.Store, map[string]*index.Index) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]*index.Index{}
	add := func(archive, instance string) {
		res, err := st.Import(context.Background(), archive, store.ImportOptions{InstanceID: instance})
		if err != nil {
			t.Fatal(err)
		}
		i := res.Index
		if i == nil {
			if i, err = st.Index(context.Background(), res.Entry, false); err != nil {
				t.Fatal(err)
			}
		}
		idx[res.Entry.Manifest.ID] = i
	}
	add(exampleArchive, "")
	for _, n := range []struct {
		scenario, instance string
		captured           time.Time
	}{
		{"segfault", "i-0000000000000000a", scenario.DefaultCapture},
		{"container-oom-v2", "i-0000000000000000a", scenario.DefaultCapture.Add(-24 * time.Hour)},
		{"missing-configmap", "i-0000000000000000b", scenario.DefaultCapture},
		{"healthy", "i-0000000000000000c", scenario.DefaultCapture},
	} {
		s, ok := scenario.Lookup(n.scenario)
		if !ok {
			t.Fatalf("no scenario %q", n.scenario)
		}
		a, err := scenario.WriteArchive(filepath.Join(dir, n.scenario), s, scenario.AL2023, scenario.Options{Capture: n.captured})
		if err != nil {
			t.Fatal(err)
		}
		add(a, n.instance)
	}
	return st, idx
}

func readTable[T any](t *testing.T, dir, table string) map[string][]T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, table, "instance_id=*", "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]T{}
	for _, f := range files {
		rows, err := parquet.ReadFile[T](f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".parquet")] = rows
	}
	return out
}

func TestExportRoundTrip(t *testing.T) {
	st, idx := fleetStore(t)
	res, err := Run(context.Background(), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Count(Written); got != len(idx) {
		t.Fatalf("written %d bundles, want %d: %+v", got, len(idx), res.Bundles)
	}
	factsOf := readTable[FactRow](t, res.Dir, "facts")
	findingsOf := readTable[FindingRow](t, res.Dir, "findings")
	bundlesOf := readTable[BundleRow](t, res.Dir, "bundles")
	if len(factsOf) != len(idx) || len(findingsOf) != len(idx) || len(bundlesOf) != len(idx) {
		t.Fatalf("files: facts %d, findings %d, bundles %d; want %d each", len(factsOf), len(findingsOf), len(bundlesOf), len(idx))
	}
	kinds := map[string]bool{}
	for id, ix := range idx {
		rows := factsOf[id]
		if len(rows) != len(ix.Facts) {
			t.Errorf("%s: %d fact rows, index has %d", id, len(rows), len(ix.Facts))
			continue
		}
		for i, f := range ix.Facts {
			r := rows[i]
			kinds[r.Kind] = true
			if r.Kind != string(f.Kind) || r.File != f.Ref.File || r.Line != int64(f.Ref.Line) || r.BundleID != id {
				t.Errorf("%s row %d = %s %s:%d, fact is %s %s", id, i, r.Kind, r.File, r.Line, f.Kind, f.Ref)
			}
			if (r.ExitCode == nil) != (f.ExitCode == nil) || (f.ExitCode != nil && int(*r.ExitCode) != *f.ExitCode) {
				t.Errorf("%s row %d: exit code %v, fact has %v", id, i, r.ExitCode, f.ExitCode)
			}
			if f.Kind == facts.OOMKill && f.LimitKB > 0 && (r.LimitBytes == nil || *r.LimitBytes != f.LimitKB*1024) {
				t.Errorf("%s row %d: limit %v bytes, fact says %d kB", id, i, r.LimitBytes, f.LimitKB)
			}
			if f.Ref.Time.IsZero() != (r.Time == nil) || (r.Time != nil && *r.Time != f.Ref.Time.UnixMilli()) {
				t.Errorf("%s row %d: time %v, fact at %v", id, i, r.Time, f.Ref.Time)
			}
			if (r.Pod == nil) != (f.Pod == "") {
				t.Errorf("%s row %d: pod %v, fact names %q", id, i, r.Pod, f.Pod)
			}
		}
		if got := findingsOf[id]; len(got) != len(ix.Findings) {
			t.Errorf("%s: %d finding rows, index has %d", id, len(got), len(ix.Findings))
		} else {
			for i, f := range ix.Findings {
				if got[i].Rule != f.Rule || got[i].Count != int64(f.Count) {
					t.Errorf("%s finding %d: %s ×%d, index has %s ×%d", id, i, got[i].Rule, got[i].Count, f.Rule, f.Count)
				}
			}
		}
		b := bundlesOf[id]
		if len(b) != 1 || b[0].Facts != int64(len(ix.Facts)) || b[0].IndexBuilt != ix.Built.UnixMilli() {
			t.Errorf("%s: bundle rows %+v", id, b)
		}
	}
	for _, k := range []facts.Kind{facts.OOMKill, facts.Segfault, facts.ConfigMissing, facts.ContainerExit} {
		if !kinds[string(k)] {
			t.Errorf("no %s fact exported from the three bundles; kinds %v", k, kinds)
		}
	}
}

func TestExportIsIncremental(t *testing.T) {
	st, idx := fleetStore(t)
	ctx := context.Background()
	if _, err := Run(ctx, st, Options{}); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Count(Current); got != len(idx) {
		t.Errorf("second run: %d current, want %d: %+v", got, len(idx), res.Bundles)
	}
	if res, _ = Run(ctx, st, Options{Force: true}); res.Count(Written) != len(idx) {
		t.Errorf("forced run: %+v", res.Bundles)
	}

	// A rebuilt index makes its bundle's files stale; the others stay current.
	entries, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := entries[0]
	if _, err := st.Index(ctx, rebuilt, true); err != nil {
		t.Fatal(err)
	}
	res, err = Run(ctx, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range res.Bundles {
		want := Current
		if b.BundleID == rebuilt.Manifest.ID {
			want = Written
		}
		if b.Status != want {
			t.Errorf("after rebuilding %s's index: %s is %s, want %s", rebuilt.Manifest.ID, b.BundleID, b.Status, want)
		}
	}

	// A bundle that leaves the store leaves the export; a killed run's leftover goes too.
	leftover := filepath.Join(res.Dir, "facts", "instance_id="+filepath.Base(filepath.Dir(rebuilt.Dir)), ".x.parquet.123.tmp")
	if err := os.WriteFile(leftover, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(rebuilt.Dir); err != nil {
		t.Fatal(err)
	}
	res, err = Run(ctx, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count(Removed) != 1 || res.Count(Current) != len(idx)-1 {
		t.Errorf("after removing %s: %+v", rebuilt.Manifest.ID, res.Bundles)
	}
	for _, table := range Tables {
		if got := readTable[struct{}](t, res.Dir, table); len(got) != len(idx)-1 {
			t.Errorf("%s: %d files after a removal, want %d", table, len(got), len(idx)-1)
		}
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover of a killed run is still there: %v", err)
	}
}

// A bundle whose index cannot be read or rebuilt is named with its reason; the rest are exported.
func TestExportKeepsGoingPastABrokenBundle(t *testing.T) {
	st, idx := fleetStore(t)
	entries, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	broken := entries[1]
	// Its files are gone and its index unreadable: the index cannot be rebuilt either.
	if err := os.RemoveAll(broken.FilesDir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken.IndexDir(), index.FileName), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), st, Options{})
	if !errors.Is(err, ErrSomeFailed) {
		t.Fatalf("err = %v, want ErrSomeFailed", err)
	}
	i := slices.IndexFunc(res.Bundles, func(b BundleResult) bool { return b.BundleID == broken.Manifest.ID })
	if i < 0 || res.Bundles[i].Status != Failed || res.Bundles[i].Error == "" {
		t.Fatalf("broken bundle's row: %+v", res.Bundles)
	}
	if res.Count(Written) != len(idx)-1 {
		t.Errorf("written %d, want the other %d", res.Count(Written), len(idx)-1)
	}
}

// Secrets in a fact's message are redacted in the file, and only in the file: the index that
// other calls read keeps them.
func TestExportRedacts(t *testing.T) {
	const secret = "AKIAIOSFODNN7EXAMPLE"
	ix := &index.Index{BundleID: "b", Facts: []facts.Fact{{
		Kind: facts.ExecFailure, Message: "exec: aws --access-key " + secret + " not found",
	}}}
	rows := tables{Facts: []FactRow{factRow(ix.BundleID, ix.Facts[0])}}
	dir := t.TempDir()
	p := filepath.Join(dir, "facts.parquet")
	cleaned, err := redacted(rows)
	if err != nil {
		t.Fatal(err)
	}
	// Uncompressed, so that the bytes of the file show what it holds; the unredacted twin
	// proves the check would see the key.
	if err := publish(p, cleaned.Facts, nil); err != nil {
		t.Fatal(err)
	}
	if err := publish(p+".raw", rows.Facts, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	unredacted, err := os.ReadFile(p + ".raw")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) || !strings.Contains(string(unredacted), secret) {
		t.Errorf("the access key id is in the exported file (%v) or the check cannot see it (%v)",
			strings.Contains(string(raw), secret), !strings.Contains(string(unredacted), secret))
	}
	if !strings.Contains(ix.Facts[0].Message, secret) {
		t.Error("redaction changed the index itself")
	}
	got, err := parquet.ReadFile[FactRow](p)
	if err != nil || len(got) != 1 || got[0].Message == nil || !strings.Contains(*got[0].Message, "REDACTED") {
		t.Errorf("read back %+v, %v", got, err)
	}
}
