// Package journaltest unpacks the real journal files kept for tests. They are 8 MiB each, mostly
// systemd's preallocated zeros, so testdata holds them zstd-compressed (internal/journal's
// testdata/README.md says how they were made); the journal, gather and agent tests all read them.
package journaltest

import (
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Unzstd returns the unpacked content of the zstd-compressed file at path.
func Unzstd(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := d.DecodeAll(data, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}
