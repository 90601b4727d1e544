package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoctor: a fresh store is healthy (exit 0); a bundle with a file gone is a problem (exit 1)
// that the table names and --repair fixes, saying what it did; arguments are usage errors.
func TestDoctor(t *testing.T) {
	store := t.TempDir()
	if _, errOut, code := run(t, "--store", store, "import", example); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	out, errOut, code := run(t, "--store", store, "doctor", "-o", "json")
	if code != ExitOK {
		t.Fatalf("doctor on a fresh store: exit %d: %s%s", code, out, errOut)
	}
	var res doctorResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Healthy || res.Bundles != 1 {
		t.Fatalf("doctor -o json: %v %+v", err, res)
	}

	logs, _ := filepath.Glob(filepath.Join(store, "bundles", "*", "*", "files", "kubelet", "kubelet.log"))
	if len(logs) != 1 {
		t.Fatalf("kubelet.log not found in the store: %v", logs)
	}
	os.Remove(logs[0])
	out, _, code = run(t, "--store", store, "doctor")
	if code != ExitProblems || !strings.Contains(out, "files") || !strings.Contains(out, "kubelet/kubelet.log: missing") || !strings.Contains(out, "doctor --repair") {
		t.Errorf("doctor on a damaged bundle: exit %d, want %d, naming the missing file:\n%s", code, ExitProblems, out)
	}
	// A reader is told, not answered from part of the bundle.
	if _, errOut, code := run(t, "--store", store, "errors"); code == ExitOK || !strings.Contains(errOut, "damaged bundle") {
		t.Errorf("errors on a damaged bundle: exit %d: %s", code, errOut)
	}

	out, errOut, code = run(t, "--store", store, "doctor", "--repair", "-o", "yaml")
	if code != ExitOK || !strings.Contains(out, "did: removed bundle") || !strings.Contains(out, "healthy: true") {
		t.Errorf("doctor --repair: exit %d:\n%s%s", code, out, errOut)
	}
	if _, _, code := run(t, "--store", store, "doctor", "extra"); code != ExitUsage {
		t.Errorf("doctor with an argument: exit %d, want %d", code, ExitUsage)
	}
}
