package collect

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Batch is a collection from many nodes, remembered under batches/<id>.json so that status can
// follow every node of it later, from another process. Each node's own progress lives in its
// execution record; the batch keeps which executions belong together and the nodes whose
// collection never started, with why.
type Batch struct {
	ID      string      `json:"id" yaml:"id"`
	Created time.Time   `json:"created" yaml:"created"`
	Source  string      `json:"source" yaml:"source"` // how the nodes were chosen, e.g. "node group ng-1 of cluster prod"
	Nodes   []BatchNode `json:"nodes" yaml:"nodes"`
}

// StartedExecutions lists the executions of the nodes whose collection started, in the batch's order.
func (b *Batch) StartedExecutions() []string {
	var ids []string
	for _, n := range b.Nodes {
		if n.ExecutionID != "" {
			ids = append(ids, n.ExecutionID)
		}
	}
	return ids
}

// BatchNode is one node of a batch: its execution, or why none was started.
type BatchNode struct {
	InstanceID  string `json:"instanceId" yaml:"instanceId"`
	NodeName    string `json:"nodeName,omitempty" yaml:"nodeName,omitempty"`
	ExecutionID string `json:"executionId,omitempty" yaml:"executionId,omitempty"`
	// Existing is set when the idempotency token named an execution started before.
	Existing bool   `json:"alreadyStarted,omitempty" yaml:"alreadyStarted,omitempty"`
	Error    string `json:"error,omitempty" yaml:"error,omitempty"`
}

// ErrUnknownBatch reports a batch id the store has no record of.
var ErrUnknownBatch = errors.New("unknown batch")

// NewBatchID names a batch by its start time and a random suffix, so two batches started in the
// same second do not overwrite each other's record.
func NewBatchID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on the platforms Go supports
	return "batch-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func (c *Collector) batchPath(id string) (string, error) {
	if !executionIDPattern.MatchString(id) || strings.Contains(id, "..") {
		return "", fmt.Errorf("%w %q: a batch id is letters, digits, '.', '_' and '-' (at most 128)", ErrUnknownBatch, id)
	}
	return filepath.Join(c.store.Root, "batches", id+".json"), nil
}

// SaveBatch writes the batch atomically: a crash leaves the previous version or none.
func (c *Collector) SaveBatch(b *Batch) error {
	p, err := c.batchPath(b.ID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("saving batch %s: %w", b.ID, err)
	}
	if err := writeJSON(p, b); err != nil {
		return fmt.Errorf("saving batch %s: %w", b.ID, err)
	}
	return nil
}

// LoadBatch reads a batch the store recorded.
func (c *Collector) LoadBatch(id string) (*Batch, error) {
	p, err := c.batchPath(id)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %q: no batch with that id was started from this store (%s)", ErrUnknownBatch, id, c.knownBatches())
	}
	if err != nil {
		return nil, fmt.Errorf("reading batch %s: %w", id, err)
	}
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("batch record %s is corrupt (%v): its executions are still listed by `nodediag status`", p, err)
	}
	return &b, nil
}

// knownBatches names the newest batches for an error message.
func (c *Collector) knownBatches() string {
	ents, err := os.ReadDir(filepath.Join(c.store.Root, "batches"))
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && !strings.HasPrefix(id, ".") {
			ids = append(ids, id)
		}
	}
	if err != nil || len(ids) == 0 {
		return "the store has no batches"
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids))) // ids start with their time
	if len(ids) > 5 {
		ids = append(ids[:5], "…")
	}
	return "recent batches: " + strings.Join(ids, ", ")
}

// Batches returns every batch recorded in the store, newest first. A record that cannot be read
// is left out and logged: the executions it named are still listed by List.
func (c *Collector) Batches() ([]*Batch, error) {
	ents, err := os.ReadDir(filepath.Join(c.store.Root, "batches"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing batches: %w", err)
	}
	var out []*Batch
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(id, ".") {
			continue
		}
		b, err := c.LoadBatch(id)
		if err != nil {
			c.log.Warn("skipping an unreadable batch record", "batch", id, "err", err)
			continue
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}
