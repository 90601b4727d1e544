package mcpserver

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/app"
)

// window resolves incident_time, start_time and end_time; zero bounds are open.
func window(incident, start, end string) (app.Window, error) {
	return app.WindowSpec{Incident: incident, Start: start, End: end, Names: app.MCPNames}.Resolve(time.Time{})
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
