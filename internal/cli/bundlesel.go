package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/store"
)

// bundleFlags pick the bundle a command works on.
type bundleFlags struct {
	instance string
	bundle   string
}

func (b *bundleFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.instance, "instance", "", "EC2 instance id: use that instance's newest bundle")
	cmd.Flags().StringVar(&b.bundle, "bundle", "", "bundle id from `nodediag bundles`, or the path of a bundle archive or folder (imported first)")
}

// open resolves the bundle and loads (or builds) its index.
func (b *bundleFlags) open(ctx context.Context, g *globals) (*store.Entry, *index.Index, error) {
	st, err := g.openStore()
	if err != nil {
		return nil, nil, err
	}
	var e *store.Entry
	if b.bundle != "" && looksLikePath(b.bundle) {
		if _, err := os.Stat(b.bundle); err != nil {
			return nil, nil, usageError("--bundle %s: %v", b.bundle, err)
		}
		res, err := st.Import(ctx, b.bundle, store.ImportOptions{InstanceID: b.instance})
		if err != nil {
			return nil, nil, err
		}
		if res.Partial != nil {
			g.log.Warn("bundle imported partially", "err", res.Partial)
		}
		e = res.Entry
		if res.Index != nil {
			return e, res.Index, nil
		}
	} else {
		e, err = st.Resolve(b.instance, b.bundle)
		if err != nil {
			return nil, nil, err
		}
	}
	idx, err := st.Index(ctx, e, false)
	if err != nil {
		return nil, nil, err
	}
	return e, idx, nil
}

func looksLikePath(s string) bool {
	if strings.ContainsAny(s, `/\`) {
		return true
	}
	for _, ext := range []string{".tar.gz", ".tgz", ".tar", ".zip"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	_, err := os.Stat(s)
	return err == nil
}

// window is a time range given on the command line.
type window struct {
	incident   string
	start, end string
	last       time.Duration
}

func (w *window) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.incident, "incident-time", "", "look at ±5 minutes around this time (RFC 3339, or `2006-01-02 15:04[:05]` in UTC)")
	cmd.Flags().StringVar(&w.start, "start", "", "window start (same formats as --incident-time)")
	cmd.Flags().StringVar(&w.end, "end", "", "window end (same formats as --incident-time)")
	cmd.Flags().DurationVar(&w.last, "last", 0, "the last DURATION before the bundle's capture time (not the clock), e.g. 2h")
}

// resolve returns the window bounds; zero values are open ends. Relative windows count back from
// the bundle's capture time: a bundle is read days after it was taken.
func (w *window) resolve(capture time.Time) (from, to time.Time, err error) {
	if w.last < 0 {
		return from, to, usageError("--last %s: want a positive duration", w.last)
	}
	if w.last > 0 {
		if w.incident != "" || w.start != "" || w.end != "" {
			return from, to, usageError("--last cannot be combined with --incident-time or --start/--end")
		}
		return capture.Add(-w.last), capture.Add(time.Second), nil
	}
	if w.incident != "" {
		if w.start != "" || w.end != "" {
			return from, to, usageError("--incident-time cannot be combined with --start/--end")
		}
		t, err := parseWhen(w.incident)
		if err != nil {
			return from, to, usageError("--incident-time: %v", err)
		}
		return t.Add(-5 * time.Minute), t.Add(5 * time.Minute), nil
	}
	if w.start != "" {
		if from, err = parseWhen(w.start); err != nil {
			return from, to, usageError("--start: %v", err)
		}
	}
	if w.end != "" {
		if to, err = parseWhen(w.end); err != nil {
			return from, to, usageError("--end: %v", err)
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, usageError("--end %s is not after --start %s", stamp(to), stamp(from))
	}
	return from, to, nil
}

var whenLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

func parseWhen(s string) (time.Time, error) {
	for _, l := range whenLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-20T08:17:00Z) or `2026-11-20 08:17[:00]` (UTC)", s)
}

func inWindow(t, from, to time.Time) bool {
	if t.IsZero() {
		return from.IsZero() && to.IsZero()
	}
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}
