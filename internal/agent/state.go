package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/nodediag/nodediag/internal/atomicfile"
	"github.com/nodediag/nodediag/internal/store"
)

// StateKeeper keeps the agent's small state (its rate limits) where the agent's next run on
// the same node finds it.
type StateKeeper interface {
	// Load reads the state saved for node into v; found is false when none was saved.
	Load(ctx context.Context, node string, v any) (found bool, err error)
	Save(ctx context.Context, node string, v any) error
}

// agentState is the saved state; Node guards against a state file copied between nodes.
type agentState struct {
	Node   string       `json:"node"`
	Saved  time.Time    `json:"saved"`
	Limits LimiterState `json:"limits"`
}

// maxStateBytes bounds a state file read back: the limiter prunes to an hour of crashes, far
// below this, so a bigger file is not ours.
const maxStateBytes = 1 << 20

// restoreLimits loads the limiter's state saved by an earlier run on this node. Failing to is
// not fatal: the agent starts with fresh limits and says so.
func (a *Agent) restoreLimits(ctx context.Context) {
	if a.opt.State == nil {
		return
	}
	var s agentState
	found, err := a.opt.State.Load(ctx, a.opt.Node, &s)
	switch {
	case err != nil:
		a.opt.Log.Warn("rate limits not restored; starting with fresh limits", "err", err)
	case !found:
	case s.Node != a.opt.Node:
		a.opt.Log.Warn("saved rate limits are another node's; ignored", "saved_for", s.Node, "node", a.opt.Node)
	default:
		a.lim.Restore(s.Limits, a.opt.Now())
		a.opt.Log.Info("rate limits restored", "saved", s.Saved, "containers", len(s.Limits.Containers))
	}
}

// saveLimits saves the limiter's state after it charged a snapshot.
func (a *Agent) saveLimits(ctx context.Context) {
	if a.opt.State == nil {
		return
	}
	s := agentState{Node: a.opt.Node, Saved: a.opt.Now().UTC(), Limits: a.lim.State()}
	if err := a.opt.State.Save(ctx, a.opt.Node, s); err != nil {
		a.opt.Metrics.StateErrors.Inc()
		a.opt.Log.Warn("rate limits not saved; a restart will forget them", "err", err)
	}
}

// FileState keeps each node's state as a JSON file under Dir (a folder store's agent/).
type FileState struct{ Dir string }

func (f FileState) path(node string) string {
	return filepath.Join(f.Dir, store.SafeName(node)+".json")
}

// Load reads node's state file.
func (f FileState) Load(_ context.Context, node string, v any) (bool, error) {
	path := f.path(node)
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("agent state: %w", err)
	}
	defer file.Close()
	if st, err := file.Stat(); err == nil && st.Size() > maxStateBytes {
		return false, fmt.Errorf("agent state %s: %d bytes, over the %d-byte limit", path, st.Size(), maxStateBytes)
	}
	if err := json.NewDecoder(file).Decode(v); err != nil {
		return false, fmt.Errorf("agent state %s: %w", path, err)
	}
	return true, nil
}

// Save writes node's state file atomically: a crash mid-write leaves the previous state.
func (f FileState) Save(_ context.Context, node string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("agent state: %w", err)
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("agent state: %w", err)
	}
	if err := atomicfile.Write(f.path(node), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("agent state: %w", err)
	}
	return nil
}
