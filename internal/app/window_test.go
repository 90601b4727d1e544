package app

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestResolveWindow(t *testing.T) {
	capture := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	at := time.Date(2026, 11, 20, 8, 17, 0, 0, time.UTC)
	tests := []struct {
		name string
		spec WindowSpec
		want Window
		says []string // for an error, in the CLI's and the MCP server's words
	}{
		{"open", WindowSpec{}, Window{}, nil},
		{"incident", WindowSpec{Incident: "2026-11-20 08:17"}, Window{From: at.Add(-5 * time.Minute), To: at.Add(5 * time.Minute), Incident: at}, nil},
		{"rfc3339 with zone", WindowSpec{Incident: "2026-11-20T09:17:00+01:00"}, Window{From: at.Add(-5 * time.Minute), To: at.Add(5 * time.Minute), Incident: at}, nil},
		{"range", WindowSpec{Start: "2026-11-20T08:17:00Z", End: "2026-11-20 09:17"}, Window{From: at, To: at.Add(time.Hour)}, nil},
		{"open end", WindowSpec{Start: "2026-11-20 08:17"}, Window{From: at}, nil},
		{"last", WindowSpec{Last: 2 * time.Hour}, Window{From: capture.Add(-2 * time.Hour), To: capture.Add(time.Second)}, nil},
		{"negative last", WindowSpec{Last: -time.Hour}, Window{}, []string{"--last|last", "-1h0m0s", "positive"}},
		{"last and incident", WindowSpec{Last: time.Hour, Incident: "2026-11-20 08:17"}, Window{}, []string{"--last|last", "--incident-time|incident_time"}},
		{"incident and range", WindowSpec{Incident: "2026-11-20 08:17", End: "2026-11-20 09:00"}, Window{}, []string{"--incident-time|incident_time", "--start|start_time", "--end|end_time"}},
		{"bad time", WindowSpec{Start: "yesterday"}, Window{}, []string{"--start|start_time", `"yesterday"`, "RFC 3339"}},
		{"end before start", WindowSpec{Start: "2026-11-20 09:00", End: "2026-11-20 08:00"}, Window{}, []string{"--end|end_time", "not after", "--start|start_time"}},
	}
	for _, tt := range tests {
		for face, names := range map[int]Names{0: CLINames, 1: MCPNames} {
			spec := tt.spec
			spec.Names = names
			got, err := spec.Resolve(capture)
			if tt.says == nil {
				if err != nil || got != tt.want {
					t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
				}
				continue
			}
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("%s: error %v, want one wrapping ErrBadRequest", tt.name, err)
			}
			for _, s := range tt.says {
				if alt := strings.Split(s, "|"); len(alt) == 2 {
					s = alt[face]
				}
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s (%s): error %q does not say %q", tt.name, names.Incident, err, s)
				}
			}
		}
	}
}

func TestWindowHolds(t *testing.T) {
	at := time.Date(2026, 11, 20, 8, 17, 0, 0, time.UTC)
	w := Window{From: at, To: at.Add(time.Minute)}
	for _, c := range []struct {
		t    time.Time
		want bool
	}{{at, true}, {at.Add(59 * time.Second), true}, {at.Add(time.Minute), false}, {at.Add(-time.Nanosecond), false}, {time.Time{}, false}} {
		if got := w.Holds(c.t); got != c.want {
			t.Errorf("Holds(%s) = %v", c.t, got)
		}
	}
	if !(Window{}).Holds(time.Time{}) || !(Window{}).Holds(at) {
		t.Error("an open window holds every line, timed or not")
	}
}

func TestNormalizeSeverity(t *testing.T) {
	for in, want := range map[string]string{"": "low", "HIGH": "high", " warning ": "medium", "warn": "medium", "info": "info", "critical": "critical"} {
		if got, err := NormalizeSeverity("severity", in); got != want || err != nil {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := NormalizeSeverity("--severity", "urgent")
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), `--severity "urgent"`) {
		t.Errorf("urgent: %v", err)
	}
}
