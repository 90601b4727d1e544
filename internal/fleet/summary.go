// Package fleet answers questions across nodes from small per-bundle summaries of crash
// signatures: which workload's container fails with which class on how many nodes, and what
// one node's bundle holds that another's does not.
//
// A summary is derived from a bundle's index once, at first use, and kept beside it as one
// small JSON file (index/fleet-summary.json), so a question over a thousand nodes reads a
// thousand small files instead of a thousand indexes — and a store in a bucket can answer it
// without fetching any bundle. The summary records the index it was derived from (the index
// file's size and modification time, its schema and rule catalog) and its own format version;
// anything else means it is rebuilt. An index rebuild replaces the whole index folder, which
// takes the old summary with it.
package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/store"
	"github.com/nodediag/nodediag/internal/workload"
)

// FileName is the summary inside a bundle's index folder.
const FileName = "fleet-summary.json"

// Version changes whenever what a summary holds or how it is derived changes: a summary of
// another version is rebuilt, so an old nodediag's summaries never answer for a new one.
const Version = 1

// Summary is what one bundle says about crashes, small enough to read a thousand at once.
type Summary struct {
	Version        int       `json:"version"`
	IndexSchema    int       `json:"indexSchema"`
	CatalogVersion string    `json:"catalogVersion"`
	IndexSize      int64     `json:"indexSize"`
	IndexModTime   time.Time `json:"indexModTime"`

	BundleID   string    `json:"bundleId"`
	InstanceID string    `json:"instanceId"`
	NodeName   string    `json:"nodeName,omitempty"`
	Capture    time.Time `json:"capture,omitzero"`

	Signatures []Signature `json:"signatures"`
	Findings   []Finding   `json:"findings"`
	// FactKinds counts the bundle's crash facts by kind (clean exits and join data aside).
	FactKinds map[facts.Kind]int `json:"factKinds,omitempty"`
}

// Signature is one failing container of one bundle: its workload and how it fails.
type Signature struct {
	Namespace string         `json:"namespace,omitempty"`
	Pod       string         `json:"pod"`
	Workload  workload.Owner `json:"workload"`
	Container string         `json:"container"`
	Class     string         `json:"class"` // diagnose's class; "unclassified" when the logs prove none
	OOMLevel  string         `json:"oomLevel,omitempty"`
	ExitCode  *int           `json:"exitCode"`
	// Count is the container's crashes: its restarts as diagnose counts them (distinct
	// non-zero exits), or, for one that never got to exit (a missing ConfigMap), its crash
	// facts.
	Count int       `json:"count"`
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
}

// Finding is one rule's hits in the bundle.
type Finding struct {
	Rule     string    `json:"rule"`
	Title    string    `json:"title"`
	Severity string    `json:"severity"`
	Count    int       `json:"count"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
}

// Unclassified is the class of a failing container whose logs prove no root cause.
const Unclassified = "unclassified"

// Summarize derives a bundle's summary from its index alone: every container with crash
// facts is classified as diagnose classifies it, without reading a log line.
func Summarize(ctx context.Context, idx *index.Index) (*Summary, error) {
	s := &Summary{Version: Version, IndexSchema: idx.Schema, CatalogVersion: idx.CatalogVersion,
		BundleID: idx.BundleID, InstanceID: idx.InstanceID, Capture: idx.Time.Capture,
		Signatures: []Signature{}, Findings: []Finding{}, FactKinds: map[facts.Kind]int{}}
	type key struct{ ns, pod, ctr string }
	byKey := map[key]*Signature{}
	var order []key
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if !diagnose.CrashFact(f) {
			continue
		}
		n := 1 + f.Repeats
		s.FactKinds[f.Kind] += n
		if f.Pod == "" || f.Container == "" {
			continue // a node daemon's OOM kill, a pod-level line: no container to sign
		}
		k := key{f.Namespace, f.Pod, f.Container}
		sig := byKey[k]
		if sig == nil {
			sig = &Signature{Namespace: f.Namespace, Pod: f.Pod, Workload: workload.Infer(f.Pod), Container: f.Container}
			byKey[k] = sig
			order = append(order, k)
		}
		sig.Count += n
		sig.First, sig.Last = earlier(sig.First, f.Ref.Time), later(sig.Last, f.Ref.Time)
		if f.LastRef != nil {
			sig.Last = later(sig.Last, f.LastRef.Time)
		}
	}
	for _, k := range order {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("summarize %s: %w", idx.BundleID, err)
		}
		sig := byKey[k]
		v, err := diagnose.Classify(ctx, idx, k.ns, k.pod, k.ctr)
		if err != nil {
			return nil, fmt.Errorf("summarize %s: classify %s/%s %s: %w", idx.BundleID, k.ns, k.pod, k.ctr, err)
		}
		sig.Class, sig.OOMLevel, sig.ExitCode = cmp.Or(v.Class, Unclassified), v.OOMLevel, v.ExitCode
		if v.Restarts > 0 {
			sig.Count = v.Restarts
		}
		if sig.OOMLevel == diagnose.LevelNone {
			sig.OOMLevel = ""
		}
		s.Signatures = append(s.Signatures, *sig)
	}
	slices.SortFunc(s.Signatures, func(a, b Signature) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Pod, b.Pod), cmp.Compare(a.Container, b.Container))
	})
	for _, f := range idx.Findings {
		s.Findings = append(s.Findings, Finding{Rule: f.Rule, Title: f.Title, Severity: f.Severity, Count: f.Count, First: f.First, Last: f.Last})
	}
	return s, nil
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Load returns the summary of a stored bundle: the one beside its index when it is current,
// else one derived from the index (loaded, or rebuilt when stale, by the store) and written
// beside it for the next caller. A summary that cannot be written is still returned: the
// store may be read-only.
func Load(ctx context.Context, st *store.Store, e *store.Entry) (*Summary, error) {
	if s, err := read(e); err == nil {
		return s, nil
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errStale) {
		return nil, err
	}
	idx, err := st.Index(ctx, e, false)
	if err != nil {
		return nil, fmt.Errorf("summary of %s: %w", e.Manifest.ID, err)
	}
	info, err := os.Stat(filepath.Join(e.IndexDir(), index.FileName))
	if err != nil {
		return nil, fmt.Errorf("summary of %s: %w", e.Manifest.ID, err)
	}
	s, err := Summarize(ctx, idx)
	if err != nil {
		return nil, err
	}
	s.IndexSize, s.IndexModTime = info.Size(), info.ModTime().UTC()
	// The manifest is what a reader compares with: an index built before an --instance
	// override may carry another id.
	s.BundleID, s.InstanceID, s.NodeName = e.Manifest.ID, e.Manifest.InstanceID, e.Manifest.NodeName
	_ = write(st, e, s) // not kept (a read-only store): the next call derives it again
	return s, nil
}

var errStale = errors.New("summary is stale")

// read loads the summary beside e's index and checks that it is of this nodediag and of the
// index as it is now: one stat, no index load.
func read(e *store.Entry) (*Summary, error) {
	data, err := os.ReadFile(filepath.Join(e.IndexDir(), FileName))
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", errStale, err) // a torn or foreign file: derive it again
	}
	info, err := os.Stat(filepath.Join(e.IndexDir(), index.FileName))
	if err != nil {
		return nil, fmt.Errorf("summary of %s: %w", e.Manifest.ID, err)
	}
	switch {
	case s.Version != Version, s.IndexSchema != index.SchemaVersion, s.CatalogVersion != detect.Version(),
		s.IndexSize != info.Size(), !s.IndexModTime.Equal(info.ModTime()),
		s.BundleID != e.Manifest.ID, s.InstanceID != e.Manifest.InstanceID:
		return nil, errStale
	}
	return &s, nil
}

// write puts s beside e's index atomically: written whole into the store's tmp/ (on the same
// file system, and swept by the store's cleanup when a kill leaves it there), then renamed.
func write(st *store.Store, e *store.Entry, s *Summary) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(st.Root, "tmp"), "fleet-summary-*.json")
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, nothing is left to remove
	// CreateTemp's 0600 would hide the summary from the store's other readers.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write summary: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write summary: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(e.IndexDir(), FileName)); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
