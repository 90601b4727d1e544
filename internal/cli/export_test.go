package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodediag/nodediag/internal/export"
)

func TestExportCommand(t *testing.T) {
	store := t.TempDir()
	if _, e, code := run(t, "--store", store, "import", example); code != 0 {
		t.Fatalf("import: exit %d: %s", code, e)
	}
	decode := func(out string) export.Result {
		t.Helper()
		var res export.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return res
	}
	out, e, code := run(t, "--store", store, "export", "-o", "json")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, e)
	}
	res := decode(out)
	if len(res.Bundles) != 1 || res.Bundles[0].Status != export.Written || res.Bundles[0].Facts == 0 {
		t.Fatalf("first export: %+v", res)
	}
	files, _ := filepath.Glob(filepath.Join(store, "export", "*", "instance_id=i-0a1b2c3d4e5f60718", "*.parquet"))
	if len(files) != len(export.Tables) {
		t.Errorf("files %v, want one per table", files)
	}

	// A bundle whose index cannot be rebuilt is named, the exit code says part was done.
	entries, _ := filepath.Glob(filepath.Join(store, "bundles", "*", "*", "files"))
	if len(entries) != 1 {
		t.Fatalf("bundle folders %v", entries)
	}
	if err := os.RemoveAll(entries[0]); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "--store", store, "export", "-o", "json", "--force")
	if code != ExitPartial {
		t.Errorf("export of a damaged store: exit %d, want %d", code, ExitPartial)
	}
	if res := decode(out); len(res.Bundles) != 1 || res.Bundles[0].Status != export.Failed || res.Bundles[0].Error == "" {
		t.Errorf("damaged bundle's row: %+v", res.Bundles)
	}
}
