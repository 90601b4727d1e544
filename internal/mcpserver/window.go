package mcpserver

import (
	"fmt"
	"time"
)

// incidentSpan is how far either side of incident_time a window reaches: the SOP's crash loops
// repeat within minutes, so ±5 minutes holds an exit, its back-off and the restart.
const incidentSpan = 5 * time.Minute

var whenLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// parseWhen reads a time the way an agent writes one: RFC 3339, or a UTC date and time without zone.
func parseWhen(field, s string) (time.Time, error) {
	for _, l := range whenLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a time: use RFC 3339 (2026-11-20T08:17:00Z) or \"2026-11-20 08:17[:00]\" (UTC)", field, s)
}

// window resolves incident_time, start_time and end_time into [from, to); zero bounds are open.
func window(incident, start, end string) (from, to time.Time, err error) {
	if incident != "" {
		if start != "" || end != "" {
			return from, to, fmt.Errorf("incident_time cannot be combined with start_time/end_time: give either incident_time (±5 minutes) or a start_time/end_time range")
		}
		t, err := parseWhen("incident_time", incident)
		if err != nil {
			return from, to, err
		}
		return t.Add(-incidentSpan), t.Add(incidentSpan), nil
	}
	if start != "" {
		if from, err = parseWhen("start_time", start); err != nil {
			return from, to, err
		}
	}
	if end != "" {
		if to, err = parseWhen("end_time", end); err != nil {
			return from, to, err
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, fmt.Errorf("end_time %s is not after start_time %s", end, start)
	}
	return from, to, nil
}
