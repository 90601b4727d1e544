// Package evidence holds the provenance of every claim nodediag makes: the exact place in a
// bundle a line was read from, and when it was written.
package evidence

import (
	"strconv"
	"time"

	"github.com/nodediag/nodediag/internal/logtime"
)

// LineRef points at one line of one file of a bundle.
type LineRef struct {
	File        string          `json:"file" yaml:"file"`                    // path inside the bundle, slash-separated
	Line        int             `json:"line" yaml:"line"`                    // 1-based
	Offset      int64           `json:"offset" yaml:"offset"`                // byte offset of the line's first byte in the (decompressed) file
	Time        time.Time       `json:"time,omitzero" yaml:"time,omitempty"` // UTC; zero when TimeQuality is none
	TimeQuality logtime.Quality `json:"timeQuality" yaml:"timeQuality"`
}

// String renders file:line, the form people paste into `nodediag read`.
func (r LineRef) String() string {
	return r.File + ":" + strconv.Itoa(r.Line)
}
