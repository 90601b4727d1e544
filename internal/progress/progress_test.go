package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// clock is a fake clock the test moves by hand, so elapsed times and rates are exact.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// frame is what one redraw writes: carriage return, the line, erase to the end of the line.
func frame(line string) string { return "\r" + line + "\x1b[K" }

func cells(done int) string {
	return "[" + strings.Repeat("=", done) + strings.Repeat("·", barWidth-done) + "]"
}

func TestFrames(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		name string
		draw func(r *Renderer, c *clock)
		want string
	}{
		{
			name: "automation steps, then a new phase ends the line",
			draw: func(r *Renderer, c *clock) {
				r.Steps("automation", 1, 4, "collectLogs")
				c.advance(65 * time.Second)
				r.Steps("automation", 4, 4, "uploadLogs")
				c.advance(time.Second)
				r.Status("import", "indexing")
				r.Done()
			},
			want: frame("automation "+cells(barWidth/4)+" 1/4 collectLogs 0s") +
				frame("automation "+cells(barWidth)+" 4/4 uploadLogs 1m5s") + "\n" +
				frame("import indexing 0s") + "\n",
		},
		{
			name: "download with a known size: percent, MiB and rate",
			draw: func(r *Renderer, c *clock) {
				r.Bytes("download", 0, 8*mb)
				c.advance(2 * time.Second)
				r.Bytes("download", 2*mb, 8*mb)
				c.advance(2 * time.Second)
				r.Bytes("download", 8*mb, 8*mb)
				r.Done()
			},
			want: frame("download "+cells(0)+"   0% 0.0/8.0 MiB 0s") +
				frame("download "+cells(barWidth/4)+"  25% 2.0/8.0 MiB 1.0 MiB/s 2s") +
				frame("download "+cells(barWidth)+" 100% 8.0/8.0 MiB 2.0 MiB/s 4s") + "\n",
		},
		{
			name: "unknown size and unknown step count",
			draw: func(r *Renderer, c *clock) {
				c.advance(time.Second)
				r.Bytes("download", 3*mb, 0)
				c.advance(time.Second)
				r.Steps("gathering", 0, 0, "node ip-10-0-1-2")
			},
			want: frame("download 3.0 MiB 0s") + "\n" + frame("gathering node ip-10-0-1-2 0s"),
		},
		{
			name: "redraws closer than minRedraw are skipped, the final frame never",
			draw: func(r *Renderer, c *clock) {
				r.Bytes("download", 0, 4*mb)
				c.advance(minRedraw / 2)
				r.Bytes("download", 1*mb, 4*mb) // too soon: skipped
				r.Bytes("download", 4*mb, 4*mb) // final: drawn
			},
			want: frame("download "+cells(0)+"   0% 0.0/4.0 MiB 0s") +
				frame("download "+cells(barWidth)+" 100% 4.0/4.0 MiB 80.0 MiB/s 0s"),
		},
		{
			name: "an identical frame is not written twice, and Done without a line writes nothing",
			draw: func(r *Renderer, c *clock) {
				r.Done()
				r.Steps("gathering", 1, 3, "journalctl -u kubelet")
				c.advance(time.Second / 2)
				r.Steps("gathering", 1, 3, "journalctl -u kubelet")
			},
			want: frame("gathering " + cells(barWidth/3) + " 1/3 journalctl -u kubelet 0s"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := &clock{t: time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)}
			r := New(&buf, true, c.now)
			tc.draw(r, c)
			if got := buf.String(); got != tc.want {
				t.Errorf("frames\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestQuiet: a renderer that is not on a terminal, or is told to be quiet, writes nothing.
func TestQuiet(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for name, r := range map[string]*Renderer{
		"disabled":            New(&buf, false, nil),
		"buffer is no tty":    ForStderr(&buf, false),
		"regular file no tty": ForStderr(f, false),
		"quiet":               ForStderr(f, true),
		"nil":                 nil,
	} {
		r.Steps("automation", 1, 2, "a")
		r.Bytes("download", 1, 2)
		r.Status("import", "x")
		r.Done()
		if r.Enabled() {
			t.Errorf("%s: enabled", name)
		}
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 || st.Size() != 0 {
		t.Errorf("quiet renderers wrote %q and %d bytes to a file", buf.String(), st.Size())
	}
}
