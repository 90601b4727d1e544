// Package index builds, saves and loads the index of one bundle: findings (rule hits grouped by
// rule, with counts, first and last time and samples), crash facts, a directory of containers for
// joins, and per-file line/time sidecars that let search and read skip what a query cannot match.
// It is built in one streaming pass over every line of every log file.
package index

import (
	"github.com/nodediag/nodediag/internal/detect/literal"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/logtime"
)

// SchemaVersion changes when the saved index layout changes; an index of another schema or
// catalog version is stale and rebuilt.
const SchemaVersion = 6

// Index is everything nodediag knows about a bundle after reading it once.
type Index struct {
	Schema         int       `json:"schema" yaml:"schema"`
	CatalogVersion string    `json:"catalogVersion" yaml:"catalogVersion"`
	BundleID       string    `json:"bundleId" yaml:"bundleId"`
	InstanceID     string    `json:"instanceId" yaml:"instanceId"`
	Built          time.Time `json:"built" yaml:"built"`

	Time TimeContext `json:"time" yaml:"time"`

	// Vocabulary is the words each checkpoint's Words records, in bit order.
	Vocabulary []literal.Literal `json:"vocabulary,omitempty" yaml:"-"`

	Files      []File          `json:"files" yaml:"files"`
	Findings   []Finding       `json:"findings" yaml:"findings"`
	Facts      []facts.Fact    `json:"facts" yaml:"facts"`
	Containers []ContainerInfo `json:"containers,omitempty" yaml:"containers,omitempty"`
	// CleanExits counts container exits with code 0 (completions): not crash facts, but a reader
	// asking "did it ever exit cleanly" gets an answer.
	CleanExits int      `json:"cleanExits" yaml:"cleanExits"`
	Warnings   []string `json:"warnings,omitempty" yaml:"warnings,omitempty"`
	Stats      Stats    `json:"stats" yaml:"stats"`
}

// TimeContext records how times were resolved, so every output can say it.
type TimeContext struct {
	Capture       time.Time `json:"capture" yaml:"capture"`
	CaptureSource string    `json:"captureSource" yaml:"captureSource"`
	Zone          string    `json:"zone" yaml:"zone"` // e.g. "UTC (assumed)" or "UTC+10:00 (from containerd time= offsets)"
	Boot          time.Time `json:"boot,omitzero" yaml:"boot,omitempty"`
	BootSource    string    `json:"bootSource,omitempty" yaml:"bootSource,omitempty"`
}

// File is one file of the bundle as the index saw it.
type File struct {
	Path     string          `json:"path" yaml:"path"`
	LogType  string          `json:"logType" yaml:"logType"`
	Format   logtime.Format  `json:"format" yaml:"format"`
	Bytes    int64           `json:"bytes" yaml:"bytes"` // decompressed
	Lines    int64           `json:"lines" yaml:"lines"`
	First    time.Time       `json:"first,omitzero" yaml:"first,omitempty"`
	Last     time.Time       `json:"last,omitzero" yaml:"last,omitempty"`
	Quality  logtime.Quality `json:"timeQuality" yaml:"timeQuality"`
	CutLines int             `json:"cutLines,omitempty" yaml:"cutLines,omitempty"` // lines longer than the cap, cut and flagged
	Hits     int             `json:"hits" yaml:"hits"`
	Warning  string          `json:"warning,omitempty" yaml:"warning,omitempty"`
	// Zone is the zone the file's own first lines state ("UTC", "UTC+10:00"), in which its
	// zone-less stamps were read; empty when they state none and the bundle's zone applies.
	Zone string `json:"zone,omitempty" yaml:"zone,omitempty"`
	// Checkpoints is the line/time sidecar: one entry per block, in file order.
	Checkpoints []Checkpoint `json:"checkpoints,omitempty" yaml:"-"`
}

// Checkpoint maps a line number to its byte offset and, when the line has one, its time.
type Checkpoint struct {
	Line   int64     `json:"l"`
	Offset int64     `json:"o"`
	Time   time.Time `json:"t,omitzero"`
	// Words has one bit per word of the index's Vocabulary the block holds (in any ASCII case),
	// and after the last word one bit set when it holds a character RE2 folds onto an ASCII
	// letter (ſ, K). Empty: not recorded; the block may hold anything.
	Words []uint64 `json:"w,omitempty"`
}

// Finding is the hits of one rule across the bundle.
type Finding struct {
	ID          string   `json:"id" yaml:"id"`
	Rule        string   `json:"rule" yaml:"rule"`
	Title       string   `json:"title" yaml:"title"`
	Severity    string   `json:"severity" yaml:"severity"`
	Category    string   `json:"category" yaml:"category"`
	Description string   `json:"description" yaml:"description"`
	SOPs        []string `json:"sops,omitempty" yaml:"sops,omitempty"`
	// Count is the number of events: a line that several files hold (the kernel ring buffer
	// and its --ctime rendering, a kubelet line in kubelet.log and in var_log/messages) counts
	// once, and Copies says how many further lines were such copies.
	Count  int       `json:"count" yaml:"count"`
	Copies int       `json:"copies,omitempty" yaml:"copies,omitempty"`
	First  time.Time `json:"first,omitzero" yaml:"first,omitempty"`
	Last   time.Time `json:"last,omitzero" yaml:"last,omitempty"`
	// Files counts hits per file, copies included.
	Files   map[string]int `json:"files" yaml:"files"`
	Samples []Sample       `json:"samples" yaml:"samples"`
	// Minutes counts timed hits per UTC minute, so a time window gets exact counts without
	// rereading the bundle. Hits without a time are in Untimed.
	Minutes Minutes `json:"minutes,omitempty" yaml:"-"`
	Untimed int     `json:"untimed,omitempty" yaml:"untimed,omitempty"`
}

// MinuteCount is the number of hits in the minute starting at Unix minute M.
type MinuteCount struct {
	M int64 `json:"m"`
	N int   `json:"n"`
}

// CountBetween returns the hits in [from, to), to the minute: minutes partly inside the window
// count whole. A zero bound is open.
func (f *Finding) CountBetween(from, to time.Time) int {
	n := 0
	for _, m := range f.Minutes {
		start := time.Unix(m.M*60, 0)
		end := start.Add(time.Minute)
		if (!from.IsZero() && !end.After(from)) || (!to.IsZero() && !start.Before(to)) {
			continue
		}
		n += m.N
	}
	return n
}

// Sample is one line that a finding stands on; Also are the same line's copies in other files.
type Sample struct {
	evidence.LineRef `yaml:",inline"`
	Text             string             `json:"text" yaml:"text"`
	Also             []evidence.LineRef `json:"also,omitempty" yaml:"also,omitempty"`
}

// ContainerInfo is what the bundle proves about one container ID: the join table behind
// every pod/container name nodediag prints.
type ContainerInfo struct {
	ContainerID string `json:"containerID" yaml:"containerID"`
	Container   string `json:"container,omitempty" yaml:"container,omitempty"`
	Attempt     *int   `json:"attempt,omitempty" yaml:"attempt,omitempty"`
	SandboxID   string `json:"sandboxID,omitempty" yaml:"sandboxID,omitempty"`
	Namespace   string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Pod         string `json:"pod,omitempty" yaml:"pod,omitempty"`
	PodUID      string `json:"podUID,omitempty" yaml:"podUID,omitempty"`
}

// Stats are the costs of the build, for performance notes and progress output.
type Stats struct {
	Files    int           `json:"files" yaml:"files"`
	Bytes    int64         `json:"bytes" yaml:"bytes"`
	Lines    int64         `json:"lines" yaml:"lines"`
	Hits     int64         `json:"hits" yaml:"hits"`
	Duration time.Duration `json:"duration" yaml:"duration"`
}

// SeverityRank orders severities, most severe first; unknown severities sort last.
func SeverityRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "high":
		return 1
	case "medium":
		return 2
	case "low":
		return 3
	case "info":
		return 4
	}
	return 5
}
