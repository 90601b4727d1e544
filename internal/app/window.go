package app

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadRequest marks a request the caller must fix: the CLI exits 2 on it, the MCP server
// returns it as a tool error naming the parameter.
var ErrBadRequest = errors.New("bad request")

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// IncidentSpan is how far either side of an incident time a window reaches: the runbook's crash
// loops repeat within minutes, so ±5 minutes holds an exit, its back-off and the restart.
const IncidentSpan = 5 * time.Minute

// Names are a face's spellings of the window's parameters, for its messages.
type Names struct{ Incident, Start, End, Last string }

// CLINames and MCPNames are the two faces' spellings.
var (
	CLINames = Names{Incident: "--incident-time", Start: "--start", End: "--end", Last: "--last"}
	MCPNames = Names{Incident: "incident_time", Start: "start_time", End: "end_time", Last: "last"}
)

// WindowSpec is a time window as a caller writes it: an incident time (±IncidentSpan), a start
// and an end, or the last stretch before the bundle's capture.
type WindowSpec struct {
	Incident, Start, End string
	Last                 time.Duration
	Names                Names
}

// Window is a resolved [From, To); a zero bound is open. Incident is the moment asked about,
// when one was.
type Window struct {
	From, To, Incident time.Time
}

// Open says the window bounds nothing.
func (w Window) Open() bool { return w.From.IsZero() && w.To.IsZero() }

// Holds says whether t lies in the window; a zero t lies only in an open window.
func (w Window) Holds(t time.Time) bool {
	if t.IsZero() {
		return w.Open()
	}
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// Check resolves what can be resolved without the bundle, so that a bad window is refused
// before anything is imported or read.
func (s WindowSpec) Check() error {
	_, err := s.Resolve(time.Time{})
	return err
}

// Resolve turns the spec into a window. Last counts back from the bundle's capture time, not
// the clock: a bundle is read days after it was taken.
func (s WindowSpec) Resolve(capture time.Time) (Window, error) {
	n := s.Names
	switch {
	case s.Last < 0:
		return Window{}, badf("%s %s: want a positive duration", n.Last, s.Last)
	case s.Last > 0 && (s.Incident != "" || s.Start != "" || s.End != ""):
		return Window{}, badf("%s cannot be combined with %s or %s/%s", n.Last, n.Incident, n.Start, n.End)
	case s.Last > 0:
		return Window{From: capture.Add(-s.Last), To: capture.Add(time.Second)}, nil
	case s.Incident != "" && (s.Start != "" || s.End != ""):
		return Window{}, badf("%s cannot be combined with %s/%s: give either %s (±5 minutes) or a %s/%s range",
			n.Incident, n.Start, n.End, n.Incident, n.Start, n.End)
	case s.Incident != "":
		t, err := ParseWhen(n.Incident, s.Incident)
		if err != nil {
			return Window{}, err
		}
		return Window{From: t.Add(-IncidentSpan), To: t.Add(IncidentSpan), Incident: t}, nil
	}
	var w Window
	var err error
	if s.Start != "" {
		if w.From, err = ParseWhen(n.Start, s.Start); err != nil {
			return Window{}, err
		}
	}
	if s.End != "" {
		if w.To, err = ParseWhen(n.End, s.End); err != nil {
			return Window{}, err
		}
	}
	if !w.From.IsZero() && !w.To.IsZero() && !w.To.After(w.From) {
		return Window{}, badf("%s %s is not after %s %s", n.End, w.To.Format(time.RFC3339), n.Start, w.From.Format(time.RFC3339))
	}
	return w, nil
}

var whenLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// ParseWhen reads a time as people and agents write one: RFC 3339, or a UTC date and time
// without a zone. field names the parameter in the error.
func ParseWhen(field, s string) (time.Time, error) {
	for _, l := range whenLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badf("%s %q is not a time: use RFC 3339 (2026-11-20T08:17:00Z) or \"2026-11-20 08:17[:00]\" (UTC)", field, s)
}
