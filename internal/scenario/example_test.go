package scenario

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/example from the generator")

// exampleDir is the example bundle shipped with the repository.
const exampleDir = "../../testdata/example"

// TestExampleUpToDate keeps the shipped example equal to what
// `go run ./internal/scenario/mkscenario -scenario container-oom-v1 -layout al2 -archive -out testdata/example`
// writes now. Archive members are compared after decompression, so a different compressor
// (another Go release) does not count as a change.
func TestExampleUpToDate(t *testing.T) {
	s, _ := Lookup("container-oom-v1")
	dir := t.TempDir()
	if *update {
		old, _ := filepath.Glob(filepath.Join(exampleDir, "*.tar.gz"))
		for _, p := range old { // the archive name carries the capture time; the JSON files are overwritten
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
		dir = exampleDir
	}
	p, err := WriteArchive(dir, s, AL2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		return
	}
	shipped := filepath.Join(exampleDir, filepath.Base(p))
	st, err := os.Stat(shipped)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/scenario -run TestExampleUpToDate -update)", err)
	}
	if st.Size() > 300<<10 {
		t.Errorf("example archive is %d bytes, over the 300 KB budget", st.Size())
	}
	got, want := readArchive(t, p), readArchive(t, shipped)
	if len(got) != len(want) {
		t.Fatalf("generator writes %d members, the example has %d (run with -update)", len(got), len(want))
	}
	for i := range got {
		if got[i].name != want[i].name || got[i].dir != want[i].dir || !bytes.Equal(got[i].data, want[i].data) {
			t.Fatalf("member %d: generator writes %s, the example has %s with other content (run with -update)", i, got[i].name, want[i].name)
		}
	}
	for _, side := range []string{"pod.json", "events.json", "truth.json"} {
		g, err := os.ReadFile(filepath.Join(dir, side))
		if err != nil {
			t.Fatal(err)
		}
		w, err := os.ReadFile(filepath.Join(exampleDir, side))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g, w) {
			t.Errorf("%s differs from the example (run with -update)", side)
		}
	}
}
