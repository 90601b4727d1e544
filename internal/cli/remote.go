package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/store"
)

// openRemote opens the bucket --store names and mirrors what is published in it into the local
// cache, once per run. Bundles that fail to mirror are named on stderr; the rest are used.
func (g *globals) openRemote(ctx context.Context) (*store.Store, error) {
	if g.remote == nil {
		r, err := remote.Open(ctx, g.storeDir, g.cacheDir, g.log)
		if err != nil {
			return nil, err
		}
		g.remote = r
		if err := g.syncRemote(ctx); err != nil {
			return nil, err
		}
	}
	return g.remote.Cache, nil
}

// openRemoteOnly opens the bucket without mirroring it: an indexing worker writes to the
// bucket and reads nothing of what others published.
func (g *globals) openRemoteOnly() (*remote.Store, error) {
	r, err := remote.Open(g.ctx, g.storeDir, g.cacheDir, g.log)
	if err != nil {
		return nil, err
	}
	g.remote = r
	return r, nil
}

func (g *globals) syncRemote(ctx context.Context) error {
	res, err := g.remote.Sync(ctx)
	if err != nil {
		return err
	}
	g.log.Info("store synced", "bucket", g.remote.URL, "published", res.Published, "mirrored", len(res.Mirrored), "current", res.Current)
	for _, f := range res.Failed {
		g.log.Warn("a published bundle could not be read; the others are used", "bundle", f)
	}
	return nil
}

// publishRemote sends what this run imported or re-indexed in the cache to the bucket. It runs
// after the command, whatever the command returned: an import cut short by a limit is kept,
// and published, as it is locally.
func (g *globals) publishRemote(ctx context.Context) error {
	if g.remote == nil {
		return nil
	}
	done, err := g.remote.PublishAll(ctx)
	if len(done) > 0 {
		g.log.Info("published", "bucket", g.remote.URL, "bundles", done)
	}
	if err != nil {
		return fmt.Errorf("the store's bucket: %w (what was imported here stays in %s; the next run with this --store publishes it)", err, g.remote.Cache.Root)
	}
	return nil
}

// followRemote keeps a long-running server's cache in step with the bucket: bundles another
// machine publishes (an indexing Job, a colleague's import) appear within every, and what the
// server imports (collect) is published.
func (g *globals) followRemote(ctx context.Context, every time.Duration) {
	if g.remote == nil || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := g.syncRemote(ctx); err != nil {
				g.log.Warn("bucket sync failed; serving what the cache holds", "err", err)
			}
			if err := g.publishRemote(ctx); err != nil {
				g.log.Warn("publish failed", "err", err)
			}
		}
	}
}
