package cli

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/bundle"
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
	cmd.Flags().StringVar(&b.bundle, "bundle", "", "the bundle to read, `ID|PATH`: an id from nodediag bundles, or a bundle archive or folder (imported once, reused while unchanged)")
	_ = cmd.RegisterFlagCompletionFunc("bundle", completeBundles)
	_ = cmd.RegisterFlagCompletionFunc("instance", completeInstances)
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
		if prev, ok := st.Imported(b.bundle); ok && (b.instance == "" || b.instance == prev.Manifest.InstanceID) {
			g.log.Info("reusing the import of an unchanged archive", "bundle", prev.Manifest.ID)
			idx, err := st.Index(ctx, prev, false)
			return prev, idx, err
		}
		bar := newRenderer(g)
		res, err := st.Import(ctx, b.bundle, store.ImportOptions{InstanceID: b.instance, Limits: bundle.Options{Progress: importProgress(bar)}})
		bar.Done()
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
	cmd.Flags().StringVar(&w.incident, "incident-time", "", "look at ±5 minutes around this `TIME` (RFC 3339, or 2006-01-02 15:04[:05] in UTC)")
	cmd.Flags().StringVar(&w.start, "start", "", "window start `TIME` (same formats as --incident-time)")
	cmd.Flags().StringVar(&w.end, "end", "", "window end `TIME` (same formats as --incident-time)")
	cmd.Flags().DurationVar(&w.last, "last", 0, "the last DURATION before the bundle's capture time (not the clock), e.g. 2h")
}

// resolve returns the window; zero bounds are open. Relative windows count back from the
// bundle's capture time (app.WindowSpec.Resolve).
func (w *window) resolve(capture time.Time) (app.Window, error) {
	return w.spec().Resolve(capture)
}

func (w *window) spec() app.WindowSpec {
	return app.WindowSpec{Incident: w.incident, Start: w.start, End: w.end, Last: w.last, Names: app.CLINames}
}
