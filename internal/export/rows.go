// Package export writes what nodediag knows of each stored bundle — its crash facts, its
// findings and one row about the bundle itself — as Parquet files that SQL engines read as three
// tables, for the questions nodediag does not ask itself ("which nodes OOM-killed java this
// week", "which rule fires on every node of this AMI").
//
// The layout is Hive's: <root>/<table>/instance_id=<id>/<bundle>.parquet. DuckDB reads it with
// hive_partitioning, Athena and Trino as a table partitioned by instance_id, so the instance is a
// partition column and not repeated in the files. Every string is redacted as the CLI redacts its
// output: an export leaves the machine, and a SQL engine shows whatever it is given.
package export

import (
	"time"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// Tables are the exported tables, in the order they are written.
var Tables = []string{"bundles", "facts", "findings"}

// BundleRow is one bundle: when it was captured and how much of it was read.
type BundleRow struct {
	BundleID       string `parquet:"bundle_id"`
	NodeName       string `parquet:"node_name,optional"`
	CaptureTime    *int64 `parquet:"capture_time,optional,timestamp(millisecond)"`
	CaptureSource  string `parquet:"capture_time_source"`
	IndexBuilt     int64  `parquet:"index_built,timestamp(millisecond)"`
	CatalogVersion string `parquet:"catalog_version"`
	Layout         string `parquet:"layout"`
	Files          int64  `parquet:"files"`
	Lines          int64  `parquet:"lines"`
	Bytes          int64  `parquet:"bytes"`
	Facts          int64  `parquet:"facts"`
	Findings       int64  `parquet:"findings"`
	CleanExits     int64  `parquet:"clean_exits"`
	Warnings       int64  `parquet:"warnings"`
}

// FactRow is one crash fact. Columns that do not apply to its kind are null.
type FactRow struct {
	BundleID    string `parquet:"bundle_id"`
	Kind        string `parquet:"kind"`
	Time        *int64 `parquet:"event_time,optional,timestamp(millisecond)"`
	TimeQuality string `parquet:"time_quality"`
	File        string `parquet:"file"`
	Line        int64  `parquet:"line"`
	Copies      int64  `parquet:"copies"`  // the same event's lines in other files
	Repeats     int64  `parquet:"repeats"` // further lines saying the same of the same subject
	Source      string `parquet:"source"`

	Namespace   *string `parquet:"namespace,optional"`
	Pod         *string `parquet:"pod,optional"`
	PodUID      *string `parquet:"pod_uid,optional"`
	Container   *string `parquet:"container,optional"`
	ContainerID *string `parquet:"container_id,optional"`

	ExitCode     *int32   `parquet:"exit_code,optional"`
	Reason       *string  `parquet:"reason,optional"`
	Signal       *int32   `parquet:"signal,optional"`
	DelaySeconds *float64 `parquet:"delay_seconds,optional"`

	Scope      *string `parquet:"scope,optional"`
	Process    *string `parquet:"process,optional"`
	PID        *int64  `parquet:"pid,optional"`
	JoinedBy   *string `parquet:"joined_by,optional"`
	LimitBytes *int64  `parquet:"memory_limit_bytes,optional"`
	UsageBytes *int64  `parquet:"memory_usage_bytes,optional"`
	AnonRSS    *int64  `parquet:"anon_rss_bytes,optional"`

	FailureKind *string `parquet:"failure_kind,optional"`
	Name        *string `parquet:"missing_name,optional"`
	Image       *string `parquet:"image,optional"`
	Message     *string `parquet:"message,optional"`
}

// FindingRow is one finding: a rule's hits across the bundle, with its first sample line.
type FindingRow struct {
	BundleID   string  `parquet:"bundle_id"`
	FindingID  string  `parquet:"finding_id"`
	Rule       string  `parquet:"rule"`
	Title      string  `parquet:"title"`
	Severity   string  `parquet:"severity"`
	Category   string  `parquet:"category"`
	Count      int64   `parquet:"hits"`
	Copies     int64   `parquet:"copies"`
	First      *int64  `parquet:"first_seen,optional,timestamp(millisecond)"`
	Last       *int64  `parquet:"last_seen,optional,timestamp(millisecond)"`
	SampleFile *string `parquet:"sample_file,optional"`
	SampleLine *int64  `parquet:"sample_line,optional"`
	SampleText *string `parquet:"sample_text,optional"`
}

func millis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func positive(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return &n
}

// kib turns the kernel's kB figures into bytes: a SQL reader compares them with limits set in
// bytes, and a unit in a column name is one less thing to get wrong.
func kib(k int64) *int64 {
	if k <= 0 {
		return nil
	}
	return positive(k << 10)
}

func factRow(bundleID string, f facts.Fact) FactRow {
	r := FactRow{
		BundleID: bundleID, Kind: string(f.Kind), Time: millis(f.Ref.Time),
		TimeQuality: string(f.Ref.TimeQuality), File: f.Ref.File, Line: int64(f.Ref.Line),
		Copies: int64(len(f.Also)), Repeats: int64(f.Repeats), Source: f.Source,
		Namespace: str(f.Namespace), Pod: str(f.Pod), PodUID: str(f.PodUID),
		Container: str(f.Container), ContainerID: str(f.ContainerID),
		Reason: str(f.Reason), Scope: str(f.Scope), Process: str(f.Process),
		PID: positive(int64(f.PID)), JoinedBy: str(f.JoinedBy),
		LimitBytes: kib(f.LimitKB), UsageBytes: kib(f.UsageKB), AnonRSS: kib(f.AnonRSSKB),
		FailureKind: str(f.FailureKind), Name: str(f.Name), Image: str(f.Image), Message: str(f.Message),
	}
	if f.ExitCode != nil {
		c := int32(*f.ExitCode)
		r.ExitCode = &c
	}
	if f.Signal != 0 {
		s := int32(f.Signal)
		r.Signal = &s
	}
	if f.DelaySeconds > 0 {
		d := f.DelaySeconds
		r.DelaySeconds = &d
	}
	return r
}

func findingRow(bundleID string, f index.Finding) FindingRow {
	r := FindingRow{
		BundleID: bundleID, FindingID: f.ID, Rule: f.Rule, Title: f.Title, Severity: f.Severity,
		Category: f.Category, Count: int64(f.Count), Copies: int64(f.Copies),
		First: millis(f.First), Last: millis(f.Last),
	}
	if len(f.Samples) > 0 {
		s := f.Samples[0]
		r.SampleFile, r.SampleLine, r.SampleText = str(s.File), positive(int64(s.Line)), str(s.Text)
	}
	return r
}

func bundleRow(idx *index.Index, captureSource, layout, node string) BundleRow {
	r := BundleRow{
		BundleID: idx.BundleID, NodeName: node, CaptureTime: millis(idx.Time.Capture),
		CaptureSource: captureSource, IndexBuilt: idx.Built.UnixMilli(),
		CatalogVersion: idx.CatalogVersion, Layout: layout, Files: int64(len(idx.Files)),
		Facts: int64(len(idx.Facts)), Findings: int64(len(idx.Findings)),
		CleanExits: int64(idx.CleanExits), Warnings: int64(len(idx.Warnings)),
	}
	for _, f := range idx.Files {
		r.Lines += f.Lines
		r.Bytes += f.Bytes
	}
	return r
}
