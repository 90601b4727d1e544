package benchdata

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	t.Setenv("NODEDIAG_BENCH_DIR", "/data")
	if got := Dir(1024); got != "/data/nodediag-bench" {
		t.Errorf("Dir(1024) = %s; bench/run.sh writes the 1 GiB bundle into nodediag-bench", got)
	}
	if got := Dir(4096); got != "/data/nodediag-bench-4096m" {
		t.Errorf("Dir(4096) = %s", got)
	}
}

// TestFound: a folder with the archive, its extraction and expected.json is found; one the
// generator has not finished (no expected.json) is not, and a test then skips instead of writing.
func TestFound(t *testing.T) {
	base := t.TempDir()
	t.Setenv("NODEDIAG_BENCH_DIR", base)
	t.Setenv("NODEDIAG_BENCH_BUNDLE", "")
	dir := Dir(64)
	folder := filepath.Join(dir, "eks_i-0abc_2026-11-20_1030-UTC_0.7.9")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(folder+".tar.gz", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("unfinished", func(t *testing.T) {
		Folder(t, 64)
		t.Error("an unfinished bundle was used: a test without the bundle must skip")
	})
	if err := os.WriteFile(filepath.Join(dir, "expected.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Folder(t, 64); got != folder {
		t.Errorf("Folder = %s, want %s", got, folder)
	}
	if got := Archive(t, 64); got != folder+".tar.gz" {
		t.Errorf("Archive = %s", got)
	}
	t.Setenv("NODEDIAG_BENCH_BUNDLE", "/elsewhere/b.tar.gz")
	if got := Folder(t, 64); got != "/elsewhere/b" {
		t.Errorf("Folder with NODEDIAG_BENCH_BUNDLE = %s", got)
	}
}
