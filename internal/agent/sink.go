package agent

import (
	"context"
	"fmt"
	"path/filepath"

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

// State is where the agent's state belongs with this sink's store: the bucket's agent/ for a
// bucket store, the folder store's agent/ folder otherwise.
func (s StoreSink) State() StateKeeper {
	if s.Remote != nil {
		return RemoteState{Remote: s.Remote}
	}
	return FileState{Dir: filepath.Join(s.Store.Root, "agent")}
}

// RemoteState keeps each node's agent state in the bucket, under agent/<node>/limits.json,
// where a new agent pod on the same node finds it: a DaemonSet rollout replaces the pod and
// with it any emptyDir.
type RemoteState struct{ Remote *remote.Store }

func stateKey(node string) string { return "agent/" + store.SafeName(node) + "/limits.json" }

// Load reads node's state object.
func (s RemoteState) Load(ctx context.Context, node string, v any) (bool, error) {
	found, err := s.Remote.GetJSON(ctx, stateKey(node), v)
	if err != nil {
		return false, fmt.Errorf("agent state in %s: %w", s.Remote.URL, err)
	}
	return found, nil
}

// Save writes node's state object with one PUT, which object stores make atomic.
func (s RemoteState) Save(ctx context.Context, node string, v any) error {
	if err := s.Remote.PutJSON(ctx, stateKey(node), v); err != nil {
		return fmt.Errorf("agent state in %s: %w", s.Remote.URL, err)
	}
	return nil
}
