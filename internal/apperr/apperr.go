// Package apperr finds, in a container's previous log (`kubectl logs --previous`), the error that
// ended the process: the exception, panic or fatal message the runtime printed as it died, read
// from the shape each runtime gives it (a Python traceback and its chain, a Java stack with its
// Caused-by chain, a Go panic and its running goroutine, a Node.js throw site, a Ruby, .NET or
// Rust crash report, a shell's "command not found", a fatal- or error-level structured line).
//
// The K3 runbook calls that log the primary source for an application exit (exit code 1). Words
// such as "error" are not enough to find the error: a warning after a traceback, a documentation
// link under an exception, or an exception the process handled an hour before it died all carry
// them. Find reads the log once, recognises every crash report in it, and keeps the last one that
// ended the process.
package apperr

import (
	"strings"
	"unicode/utf8"
)

// Runtimes a Report can name.
const (
	Python     = "python"
	Java       = "java" // also Kotlin and Scala: they share the JVM's report
	Go         = "go"
	Node       = "node"
	Ruby       = "ruby"
	DotNet     = "dotnet"
	Rust       = "rust"
	Shell      = "shell"
	Structured = "structured" // a JSON or logfmt line whose level field says fatal or error
	Text       = "text"       // a plain-text line whose level word says FATAL, CRITICAL or ERROR
)

// Line is one line of the log, numbered from 1.
type Line struct {
	No   int    `json:"no" yaml:"no"`
	Text string `json:"text" yaml:"text"`
}

// Report is the error that ended the process, as the log shows it.
type Report struct {
	// Runtime names the runtime whose report was recognised (one of the constants above), or is
	// empty when nothing was.
	Runtime string `json:"runtime" yaml:"runtime"`
	// Summary is one line: the exception type and message. For a chain (Java's Caused by, .NET's
	// inner exceptions) it leads with the root cause and names the top exception; for a Python
	// chain it leads with the final exception and names the earlier ones.
	Summary string `json:"summary" yaml:"summary"`
	// Lines are the lines that prove it, in log order, at most MaxLines: the report's header,
	// the exception line(s), each cause, and the first frame of the application's own code when
	// the frames tell it apart from library code.
	Lines []Line `json:"lines" yaml:"lines"`
	// Recognised is false when no crash report, fatal or error line was found: Lines then holds
	// the last non-blank lines (at most FallbackLines) and the caller must say it fell back.
	Recognised bool `json:"recognised" yaml:"recognised"`
}

const (
	// MaxLines bounds Report.Lines: a citation, not the stack.
	MaxLines = 8
	// FallbackLines is how many trailing lines an unrecognised log yields.
	FallbackLines = 3
	// maxText bounds one cited line and the Summary: a JSON line can carry a whole stack trace.
	maxText = 400
)

// Find reads a whole previous log and returns the error that ended the process. Lines may carry
// a CRI prefix ("2026-11-20T10:00:00.000000000Z stderr F text"; P partials are joined to the F
// line that ends them, and the record is numbered by its first line) or none, and may carry a
// display prefix (docker compose's "web_1  | ", kubectl --prefix's "[pod/…]", a timestamp every
// line repeats), which recognition looks through and citations keep.
//
// The last complete report wins: a traceback at the end of the log beats one the process logged
// and survived; a fatal line printed after the last crash report beats it; an error-level line
// counts only when no crash report or fatal line does, or when the last crash report is followed
// by much more activity. Warning and info lines never win, nor does a report a logger printed
// under a warning. Cited texts lose the CRI prefix and are cut at 400 bytes.
//
// The cost is linear in the size of the log: each line is split once and tested by cheap
// prefix checks before any expression runs on it.
func Find(log string) Report {
	recs := splitRecords(log)
	stripPrefixes(recs)
	blocks, consumed := scan(recs)
	blocks = append(blocks, tailBlocks(recs, consumed)...)
	b := choose(blocks, recs)
	if b == nil {
		return fallback(recs)
	}
	return b.report(recs)
}

// report turns a block into the caller's Report, capping and ordering the cited lines.
func (b *block) report(recs []record) Report {
	seen := map[int]bool{}
	var idx []int
	for _, i := range b.cite {
		if i < 0 || i >= len(recs) || seen[i] || len(idx) == MaxLines {
			continue
		}
		seen[i] = true
		idx = append(idx, i)
	}
	lines := make([]Line, 0, len(idx))
	for _, i := range idx {
		lines = append(lines, Line{No: recs[i].no, Text: clip(strings.TrimRight(recs[i].raw, " \t"))})
	}
	sortLines(lines)
	return Report{Runtime: b.runtime, Summary: clip(oneLine(b.summary)), Lines: lines, Recognised: true}
}

func fallback(recs []record) Report {
	var lines []Line
	for i := len(recs) - 1; i >= 0 && len(lines) < FallbackLines; i-- {
		if strings.TrimSpace(recs[i].raw) == "" {
			continue
		}
		lines = append(lines, Line{No: recs[i].no, Text: clip(strings.TrimRight(recs[i].raw, " \t"))})
	}
	sortLines(lines)
	return Report{Lines: lines}
}

func sortLines(lines []Line) {
	// Insertion sort: at most MaxLines entries.
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && lines[j].No < lines[j-1].No; j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
}

// clip cuts s to maxText bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	return clipAt(s, maxText) + "…"
}

// clipAt returns at most the first n bytes of s, cut on a rune boundary.
func clipAt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}
