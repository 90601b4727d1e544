package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
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

// incidentAt is the moment incident_time names, or zero; window has already refused a bad one.
func incidentAt(incident string) time.Time {
	if incident == "" {
		return time.Time{}
	}
	t, _ := parseWhen("incident_time", incident)
	return t
}

// whenOf writes a time the way start_time and end_time read it; zero (an open bound) is "".
func whenOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// callOf writes a tool call the way the runbook writes them, tool(name=value, …): the input's
// parameters that are set, in the order of its fields, each value as JSON. An agent that passes
// them back makes exactly that call.
func callOf(tool string, in any) string {
	v := reflect.ValueOf(in)
	var parts []string
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || v.Field(i).IsZero() {
			continue
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // a regex's <, > and & stay as written
		if err := enc.Encode(v.Field(i).Interface()); err != nil {
			continue // strings, numbers and booleans always encode
		}
		parts = append(parts, name+"="+strings.TrimSuffix(b.String(), "\n"))
	}
	return tool + "(" + strings.Join(parts, ", ") + ")"
}
