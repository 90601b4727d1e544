package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/app"
)

// TestImportBatchExitCodes: a folder of bundles with an archive that is not one prints a row per
// archive, -o json included, and exits 3 while the others are indexed; a batch where nothing could
// be imported exits 1; --instance, which names one node, is refused for a batch.
func TestImportBatchExitCodes(t *testing.T) {
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := []string{"eks_i-00000000000000001_2026-11-20_1030-UTC_0.7.9.tar.gz", "eks_i-00000000000000002_2026-11-20_1030-UTC_0.7.9.tar.gz"}
	for _, n := range good {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := filepath.Join(dir, "broken.zip")
	if err := os.WriteFile(bad, []byte("PK\x03\x04 this zip ends here"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := t.TempDir()
	out, stderr, code := run(t, "--store", st, "import", dir, "--jobs", "2", "-o", "json")
	if code != ExitPartial {
		t.Fatalf("exit %d (%s); want %d", code, stderr, ExitPartial)
	}
	var v struct {
		Archives []app.ImportRow `json:"archives"`
		Imported int             `json:"imported"`
		Failed   int             `json:"failed"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	status := map[string]string{}
	for _, r := range v.Archives {
		status[filepath.Base(r.Path)] = r.Status
	}
	if v.Imported != len(good) || v.Failed != 1 || status["broken.zip"] != app.ImportFailed || status[good[0]] != app.ImportImported || status[good[1]] != app.ImportImported {
		t.Errorf("rows %v, %d imported, %d failed; want both bundles imported and broken.zip failed", status, v.Imported, v.Failed)
	}
	if !strings.Contains(stderr, "1 failed") {
		t.Errorf("stderr %q: want how many failed", stderr)
	}
	if _, stderr, code := run(t, "--store", t.TempDir(), "import", bad, filepath.Join(dir, "missing-too.tar.gz")); code != ExitUsage || !strings.Contains(stderr, "missing-too.tar.gz") {
		t.Errorf("a missing path: exit %d, %q; want %d naming it", code, stderr, ExitUsage)
	}
	broken2 := filepath.Join(t.TempDir(), "b.tar")
	if err := os.WriteFile(broken2, []byte("not a tar"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "--store", t.TempDir(), "import", bad, broken2); code != 1 || !strings.Contains(stderr, "none of the 2") {
		t.Errorf("nothing importable: exit %d, %q; want 1, saying none was", code, stderr)
	}
	if _, stderr, code := run(t, "--store", t.TempDir(), "import", dir, "--instance", "i-00000000000000009"); code != ExitUsage || !strings.Contains(stderr, "--instance") {
		t.Errorf("--instance with a batch: exit %d, %q; want %d", code, stderr, ExitUsage)
	}
	out, _, code = run(t, "--store", st, "import", dir)
	if code != ExitPartial || !strings.Contains(out, "2 skipped, 1 failed") {
		t.Errorf("second run's table:\n%s\nwant 2 skipped, 1 failed", out)
	}
}
