package report

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/store"
)

// BenchmarkReportRender builds the example bundle's report (diagnosis, timeline, line reads,
// redaction) and renders its HTML: what `nodediag report` and GET /report/{instance} pay per page
// once the index is loaded. The browser's own time is logged by TestReportInChromium.
func BenchmarkReportRender(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(b.TempDir(), "store"), nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := st.Import(ctx, exampleArchive, store.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	idx := res.Index
	if idx == nil {
		if idx, err = st.Index(ctx, res.Entry, false); err != nil {
			b.Fatal(err)
		}
	}
	req := Request{Entry: res.Entry, Index: idx, Input: diagnose.Input{Namespace: "payments", Pod: "ledger-0"}}
	for b.Loop() {
		r, err := Build(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Render(r); err != nil {
			b.Fatal(err)
		}
	}
}
