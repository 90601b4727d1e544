package index

import (
	"bytes"
	"context"
	"time"

	"github.com/nodediag/nodediag/internal/detect"
)

// IndexText indexes text as the only file of a bundle, of log type logType, the way an import
// indexes each file. It answers "what does nodediag make of these lines" with the
// real pipeline — matcher, extractors, OOM assembly, joins, dedupe — for the format matrix and
// the real-line corpus, whose verdicts must not drift from what a user's bundle gets.
func IndexText(ctx context.Context, cat *detect.Catalog, logType string, text []byte, capture time.Time) (*Index, error) {
	b, err := NewBuilder(cat, Options{BundleID: "text", Capture: capture, CaptureSource: "given"})
	if err != nil {
		return nil, err
	}
	if err := b.IndexFile(ctx, "text/"+logType, logType, bytes.NewReader(text)); err != nil {
		return nil, err
	}
	return b.Finish(), nil
}
