// Package collect runs node-log collections and remembers each one in the store, so that status —
// in this process or in the next one, after a crash — can finish what collect started: poll the SSM
// automation, download the bundle it uploaded to S3, import and index it. Collections that gather
// logs directly (through the Kubernetes node log API, or on the node itself) finish in one call and
// are recorded the same way, so every bundle in the store says where it came from.
package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nodediag/nodediag/internal/atomicfile"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// States of a collection, as status reports them. running covers everything before the bundle is
// in the store, including the download and the import, which Phase names.
const (
	StateRunning   = "running"
	StateCompleted = "completed"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Methods of collection.
const (
	MethodSSM   = "ssm"
	MethodKube  = "kube"
	MethodLocal = "local"
)

// Record is one collection as the store remembers it under executions/<id>.json.
type Record struct {
	ExecutionID      string    `json:"executionId"`
	Method           string    `json:"method"`
	InstanceID       string    `json:"instanceId"`
	Region           string    `json:"region,omitempty"`
	Cluster          string    `json:"cluster,omitempty"`
	NodeName         string    `json:"nodeName,omitempty"`
	IdempotencyToken string    `json:"idempotencyToken,omitempty"`
	Started          time.Time `json:"started"`
	Updated          time.Time `json:"updated"`
	State            string    `json:"state"`
	// Phase says where a running collection is: "automation" (SSM is collecting on the node),
	// "download" or "import".
	Phase         string `json:"phase,omitempty"`
	CurrentStep   string `json:"currentStep,omitempty"`
	StepsDone     int    `json:"stepsDone,omitempty"`
	StepsTotal    int    `json:"stepsTotal,omitempty"`
	FailureReason string `json:"failureReason,omitempty"`
	Bucket        string `json:"bucket,omitempty"`
	BucketRegion  string `json:"bucketRegion,omitempty"` // when not the instance's region
	Key           string `json:"key,omitempty"`
	ETag          string `json:"etag,omitempty"`
	Size          int64  `json:"size,omitempty"`
	Downloaded    int64  `json:"downloaded,omitempty"`
	BundleID      string `json:"bundleId,omitempty"`
	// Missing lists what a direct gathering could not read; the bundle is still usable.
	Missing []string `json:"missing,omitempty"`
}

// Terminal reports whether status has nothing more to do for the record.
func (r *Record) Terminal() bool {
	return r.State == StateCompleted || r.State == StateFailed || r.State == StateCancelled
}

// ErrUnknownExecution reports an execution id the store has no record of.
var ErrUnknownExecution = errors.New("unknown executionId")

// executionIDPattern bounds ids to what SSM issues (UUIDs) and what this package makes, so that an id
// from a caller can never name a path outside executions/.
var executionIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// records is the executions/ folder of a store.
type records struct{ dir string }

func (rs records) path(id string) (string, error) {
	if !executionIDPattern.MatchString(id) || strings.Contains(id, "..") {
		return "", fmt.Errorf("%w %q: an execution id is letters, digits, '.', '_' and '-' (at most 128)", ErrUnknownExecution, id)
	}
	return filepath.Join(rs.dir, id+".json"), nil
}

func (rs records) load(id string) (*Record, error) {
	p, err := rs.path(id)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %q: no collection with that id was started from this store (%s)", ErrUnknownExecution, id, rs.known())
	}
	if err != nil {
		return nil, fmt.Errorf("reading execution %s: %w", id, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("execution record %s is corrupt (%v): delete %s and collect again", id, err, p)
	}
	return &r, nil
}

// save writes the record atomically, so a crash leaves the previous version, never half of one.
func (rs records) save(r *Record) error {
	p, err := rs.path(r.ExecutionID)
	if err != nil {
		return err
	}
	if err := writeJSON(p, r); err != nil {
		return fmt.Errorf("saving execution %s: %w", r.ExecutionID, err)
	}
	return nil
}

// writeJSON writes v as indented JSON to p atomically (a crash leaves the previous version,
// never half of one), readable by its owner only, as records of AWS executions should be.
func writeJSON(p string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(p, append(data, '\n'), 0o600)
}

// list returns every record, newest first.
func (rs records) list() ([]*Record, error) {
	ents, err := os.ReadDir(rs.dir)
	if err != nil {
		return nil, fmt.Errorf("listing executions: %w", err)
	}
	var out []*Record
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if r, err := rs.load(id); err == nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out, nil
}

// known names a few recent executions for an error message.
func (rs records) known() string {
	all, err := rs.list()
	if err != nil || len(all) == 0 {
		return "the store has no executions"
	}
	var ids []string
	for i, r := range all {
		if i == 5 {
			ids = append(ids, "…")
			break
		}
		ids = append(ids, r.ExecutionID)
	}
	return "recent executions: " + strings.Join(ids, ", ")
}
