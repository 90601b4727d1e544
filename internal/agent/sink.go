package agent

import (
	"context"
	"fmt"

	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/store"
)

// Sink keeps a snapshot: dir is the bundle folder gather wrote; it returns the stored id.
type Sink interface {
	Put(ctx context.Context, dir string) (id string, err error)
}

// StoreSink imports snapshots into a store (indexed, so diagnose reads them at once) and, when
// Remote is set, publishes them to its bucket, where they outlive the node, and drops the local
// copy.
type StoreSink struct {
	Store  *store.Store  // with Remote: Remote.Cache
	Remote *remote.Store // nil: a folder store
}

// Put imports and publishes dir.
func (s StoreSink) Put(ctx context.Context, dir string) (string, error) {
	res, err := s.Store.Import(ctx, dir, store.ImportOptions{})
	if err != nil {
		return "", fmt.Errorf("import snapshot %s: %w", dir, err)
	}
	id := res.Entry.Manifest.ID
	if s.Remote != nil {
		if err := s.Remote.Publish(ctx, res.Entry); err != nil {
			return id, fmt.Errorf("publish snapshot %s to %s: %w", id, s.Remote.URL, err)
		}
		// The bucket has it: the node's disk keeps none, so the cache does not grow with every
		// crash for the agent's lifetime.
		if err := s.Store.Remove(ctx, res.Entry); err != nil {
			return id, fmt.Errorf("drop published snapshot %s from the cache: %w", id, err)
		}
	}
	return id, nil
}
