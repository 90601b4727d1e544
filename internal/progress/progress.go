// Package progress draws one-line progress bars for long collection phases — SSM automation
// steps, the S3 download, gathering and the import — on a terminal. It writes nothing at all
// unless told the writer is a terminal, so that piped stderr, CI logs and machine-readable
// output (-o json|yaml) never carry carriage returns and escape codes.
//
// A Renderer redraws its single line in place ("\r", the line, erase-to-end "\x1b[K") and ends
// it with a newline when the phase is done, so log lines printed afterwards start clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// barWidth is the number of cells of the bar; 24 keeps a whole line within 80 columns with a
// step name beside it.
const barWidth = 24

// minRedraw bounds how often a line is redrawn: the S3 download reports every chunk, and a
// terminal repainting thousands of times a second slows the download it reports on.
const minRedraw = 100 * time.Millisecond

// Renderer draws progress lines on one writer. The zero value is not usable; call New or
// ForStderr. A Renderer is safe for concurrent use.
type Renderer struct {
	w       io.Writer
	enabled bool
	now     func() time.Time

	mu       sync.Mutex
	label    string    // the phase being drawn; a new label starts a new line
	started  time.Time // when the phase began, for elapsed time and rates
	lastDraw time.Time
	last     string // the last line drawn, to skip identical redraws
	open     bool   // a line is drawn and not yet ended with a newline
}

// New returns a renderer on w. enabled false makes every method a no-op; callers decide with
// IsTerminal (or a test forces it). now may be nil for the wall clock.
func New(w io.Writer, enabled bool, now func() time.Time) *Renderer {
	if now == nil {
		now = time.Now
	}
	return &Renderer{w: w, enabled: enabled && w != nil, now: now}
}

// ForStderr returns a renderer on w that draws only when w is a terminal and quiet is false
// (quiet is set for -o json and -o yaml, whose readers want stderr free of drawing too).
func ForStderr(w io.Writer, quiet bool) *Renderer {
	return New(w, !quiet && IsTerminal(w), nil)
}

// IsTerminal reports whether w is a file connected to a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Enabled reports whether the renderer draws anything.
func (r *Renderer) Enabled() bool { return r != nil && r.enabled }

// Steps draws a phase counted in steps: "automation [======······] 2/4 uploadLogs 1m05s".
// total 0 means the count is not known yet, and the bar is left out.
func (r *Renderer) Steps(label string, done, total int, step string) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.begin(label)
	var b strings.Builder
	b.WriteString(label)
	if total > 0 {
		done = min(max(done, 0), total)
		fmt.Fprintf(&b, " %s %d/%d", bar(float64(done)/float64(total)), done, total)
	}
	if step != "" {
		b.WriteString(" " + step)
	}
	b.WriteString(" " + elapsed(now.Sub(r.started)))
	r.draw(now, b.String(), total > 0 && done == total)
}

// Bytes draws a transfer: "download [======······] 25% 3.0/12.0 MiB 1.5 MiB/s 2s". total 0 or
// less means the size is unknown, and only the amount and the rate are drawn.
func (r *Renderer) Bytes(label string, done, total int64) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.begin(label)
	took := now.Sub(r.started)
	var b strings.Builder
	b.WriteString(label)
	if total > 0 {
		done = min(max(done, 0), total)
		frac := float64(done) / float64(total)
		fmt.Fprintf(&b, " %s %3d%% %s/%s MiB", bar(frac), int(frac*100), mib(done), mib(total))
	} else {
		fmt.Fprintf(&b, " %s MiB", mib(done))
	}
	if took > 0 {
		fmt.Fprintf(&b, " %s MiB/s", mib(int64(float64(done)/took.Seconds())))
	}
	b.WriteString(" " + elapsed(took))
	r.draw(now, b.String(), total > 0 && done == total)
}

// Status draws a phase without a measure, such as the import: "import indexing eks_i-… 3s".
func (r *Renderer) Status(label, text string) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.begin(label)
	line := label
	if text != "" {
		line += " " + text
	}
	r.draw(now, line+" "+elapsed(now.Sub(r.started)), false)
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

// begin starts a new phase when the label changes: the previous line is ended so it stays
// visible above the new one.
func (r *Renderer) begin(label string) time.Time {
	now := r.now()
	if label != r.label || r.started.IsZero() {
		r.end()
		r.label, r.started, r.lastDraw, r.last = label, now, time.Time{}, ""
	}
	return now
}

func (r *Renderer) end() {
	if r.open {
		io.WriteString(r.w, "\n")
		r.open = false
	}
	r.label, r.started, r.last = "", time.Time{}, ""
}

// draw writes line unless it is what is already shown, or the last draw was too recent and
// this frame is not the final one of the phase (which must always be seen).
func (r *Renderer) draw(now time.Time, line string, final bool) {
	if line == r.last {
		return
	}
	if r.open && !final && now.Sub(r.lastDraw) < minRedraw {
		return
	}
	io.WriteString(r.w, "\r"+line+"\x1b[K")
	r.open, r.last, r.lastDraw = true, line, now
}

// bar renders frac (0..1) as barWidth cells.
func bar(frac float64) string {
	n := int(frac * barWidth)
	return "[" + strings.Repeat("=", n) + strings.Repeat("·", barWidth-n) + "]"
}

func mib(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

// elapsed is a duration cut to whole seconds: sub-second digits flicker on every redraw.
func elapsed(d time.Duration) string { return d.Truncate(time.Second).String() }
