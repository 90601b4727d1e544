package journal

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/journal/journaltest"
)

// BenchmarkRead reads and renders every entry of the largest test journals, as the agent does
// for one unit: bytes/s are of journalctl-format output. "container-oom-v2" is the agent test's
// file (1479 entries written by systemd-journal-remote from a scenario's node journal).
func BenchmarkRead(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"default", "default.journal.zst"},
		{"container-oom-v2", "../../agent/testdata/container-oom-v2.journal.zst"},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "system.journal")
			if err := os.WriteFile(p, journaltest.Unzstd(b, "testdata/"+c.path), 0o644); err != nil {
				b.Fatal(err)
			}
			for _, flt := range []struct {
				name string
				f    Filter
			}{{"all", Filter{}}, {"kubelet", Filter{Units: []string{"kubelet"}}}} {
				b.Run(flt.name, func(b *testing.B) {
					var out bytes.Buffer
					entries := 0
					b.ReportAllocs()
					for b.Loop() {
						j := Open([]string{p}, Limits{})
						out.Reset()
						n, err := WriteShort(&out, j.Entries(context.Background(), flt.f), time.UTC)
						j.Close()
						if err != nil {
							b.Fatal(err)
						}
						entries = n
					}
					b.SetBytes(int64(out.Len()))
					b.ReportMetric(float64(entries), "entries/op")
				})
			}
		})
	}
}
