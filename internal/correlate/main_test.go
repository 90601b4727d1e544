package correlate

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden timelines under testdata/golden")

var tmpRoot string

// tempDir gives a folder that outlives one test, for the shared import cache; TestMain removes
// them all.
func tempDir() (string, error) { return os.MkdirTemp(tmpRoot, "bundle-") }

func TestMain(m *testing.M) {
	var err error
	if tmpRoot, err = os.MkdirTemp("", "correlate-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}
