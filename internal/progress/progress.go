// Package progress draws one-line progress bars for long phases — SSM automation steps, the S3
// download, gathering and the import — on a terminal, with github.com/schollz/progressbar. It
// writes nothing at all unless told the writer is a terminal, so that piped stderr, CI logs and
// machine-readable output (-o json|yaml) never carry carriage returns and escape codes.
//
// A Renderer keeps one bar per phase: a phase is named by its label, and a new label ends the
// previous bar's line with a newline so it stays visible above the next one.
package progress

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// barWidth is the number of cells of the bar; 24 keeps a whole line within 80 columns with a
// step name beside it.
const barWidth = 24

// minRedraw bounds how often a line is redrawn: the S3 download reports every chunk, and a
// terminal repainting thousands of times a second slows the download it reports on.
const minRedraw = 100 * time.Millisecond

// kind is what a phase measures.
type kind int

const (
	steps kind = iota
	transfer
	status
)

// Renderer draws progress lines on one writer. The zero value is not usable; call New or
// ForStderr. A Renderer is safe for concurrent use.
type Renderer struct {
	w        io.Writer
	enabled  bool
	throttle time.Duration

	mu    sync.Mutex
	label string
	kind  kind
	max   int64
	bar   *progressbar.ProgressBar
}

// New returns a renderer on w. enabled false makes every method a no-op; callers decide with
// IsTerminal (or a test forces it). everyFrame draws every update (tests); otherwise redraws
// closer than minRedraw are skipped.
func New(w io.Writer, enabled, everyFrame bool) *Renderer {
	r := &Renderer{w: w, enabled: enabled && w != nil, throttle: minRedraw}
	if everyFrame {
		r.throttle = 0
	}
	return r
}

// ForStderr returns a renderer on w that draws only when w is a terminal and quiet is false
// (quiet is set for -o json and -o yaml, whose readers want stderr free of drawing too).
func ForStderr(w io.Writer, quiet bool) *Renderer {
	return New(w, !quiet && IsTerminal(w), false)
}

// IsTerminal reports whether w is a file connected to a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Enabled reports whether the renderer draws anything.
func (r *Renderer) Enabled() bool { return r != nil && r.enabled }

// Steps draws a phase counted in steps: the bar, done/total and the current step. total 0 means
// the count is not known yet: a spinner.
func (r *Renderer) Steps(label string, done, total int, step string) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.phase(label, steps, int64(total))
	if step != "" {
		b.Describe(label + " " + step)
	}
	_ = b.Set64(int64(min(max(done, 0), max(total, done))))
}

// Bytes draws a transfer: the bar, the percentage, bytes done of total and the rate. total 0 or
// less means the size is unknown: a spinner with the amount.
func (r *Renderer) Bytes(label string, done, total int64) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.phase(label, transfer, total)
	if total > 0 {
		done = min(max(done, 0), total)
	}
	_ = b.Set64(done)
}

// Status draws a phase without a measure, such as indexing: a spinner and the text.
func (r *Renderer) Status(label, text string) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.phase(label, status, -1)
	if text != "" {
		b.Describe(label + " " + text)
	}
	_ = b.Add64(1)
}

// Done ends the current line with a newline, leaving its last frame on screen.
func (r *Renderer) Done() {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.end()
}

// phase returns the bar of label, starting one (and ending the previous line) when the label,
// the kind or a known total changes.
func (r *Renderer) phase(label string, k kind, total int64) *progressbar.ProgressBar {
	if total <= 0 {
		total = -1 // unknown: a spinner
	}
	if r.bar != nil && r.label == label && r.kind == k && (r.max == total || (k != status && r.max == -1)) {
		if r.max != total {
			r.bar.ChangeMax64(total)
			r.max = total
		}
		return r.bar
	}
	r.end()
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(r.w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionSetWidth(barWidth),
		progressbar.OptionThrottle(r.throttle),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSpinnerType(14),
		// No ticker: a spinner turns when its phase reports, so nothing writes after end() and
		// nothing races the caller's own writes.
		progressbar.OptionSetSpinnerChangeInterval(0),
	}
	switch k {
	case steps:
		opts = append(opts, progressbar.OptionShowCount())
	case transfer:
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true), progressbar.OptionShowCount(), progressbar.OptionUseIECUnits(true))
	}
	r.label, r.kind, r.max = label, k, total
	r.bar = progressbar.NewOptions64(total, opts...)
	return r.bar
}

// end leaves the current bar's last frame on its line and starts a new line.
func (r *Renderer) end() {
	if r.bar == nil {
		return
	}
	_ = r.bar.Exit()
	io.WriteString(r.w, "\n")
	r.bar, r.label = nil, ""
}
