package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/redact"
)

// Toolsets group the tools as kubernetes-mcp-server does, so a client lists only what it will
// use: every tool's schema is paid for in tokens on every turn.
const (
	SetNodeLogs   = "node-logs"  // the stored bundles: errors, search, read, correlate, …
	SetRunbooks   = "runbooks"   // list_sops, get_sop
	SetKubernetes = "kubernetes" // the live cluster: objects, events, logs, node health
	SetAWS        = "aws"        // collection through SSM, CloudWatch control-plane logs
	SetFleet      = "fleet"      // questions across the stored bundles of many nodes
)

// AllToolsets is every toolset, in the order the flag's help lists them.
var AllToolsets = []string{SetNodeLogs, SetRunbooks, SetKubernetes, SetAWS, SetFleet}

// registry records each tool as it is added, with its toolset and whether the server is
// configured to serve it, so New can drop what a client should not see.
type registry struct {
	srv      *mcp.Server // nil: only record the tools
	fullText bool
	drop     map[string]bool
	tools    []registered
}

type registered struct {
	name, set  string
	readOnly   bool
	configured bool
}

// addTool adds a typed tool. Its output schema is the outline of Out (property names and
// types, no descriptions): the full schemas were 55% of tools/list. Its text content is a few
// lines and the next call, not the structured answer again, unless the server was asked for the
// full text (clients that read only text).
func addTool[In, Out any](r *registry, set string, configured bool, t *mcp.Tool, h mcp.ToolHandlerFor[In, Out]) {
	r.tools = append(r.tools, registered{name: t.Name, set: set, configured: configured,
		readOnly: t.Annotations != nil && t.Annotations.ReadOnlyHint})
	if r.srv == nil || r.drop[t.Name] {
		return // the first pass only records; a dropped tool needs no schema
	}
	if t.OutputSchema == nil {
		t.OutputSchema = outline[Out]()
	}
	if t.InputSchema == nil {
		t.InputSchema = input[In]()
	}
	name, fullText := t.Name, r.fullText
	mcp.AddTool(r.srv, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		res, out, err := h(ctx, req, in)
		return redacted(name, fullText, res, out, err)
	})
}

// redacted is a tool's answer as it may leave the server: every secret a bundle, a pod log or
// an API object carries is replaced by its marker in the structured content, the text and the
// error, whoever asked (the answer goes into a model's context and its provider's logs). Without
// fullText the text is a brief of the answer.
func redacted[Out any](name string, fullText bool, res *mcp.CallToolResult, out Out, err error) (*mcp.CallToolResult, Out, error) {
	if err != nil {
		return nil, out, errors.New(redact.String(err.Error()))
	}
	clean, rerr := redact.Value(out, false)
	if rerr != nil {
		var zero Out
		return nil, zero, fmt.Errorf("%s: the answer could not be checked for secrets, so it is withheld: %w", name, rerr)
	}
	if res == nil && !fullText {
		res = &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: brief(name, clean)}}}
	}
	if res != nil {
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				tc.Text = redact.String(tc.Text)
			}
		}
	}
	return res, clean, nil
}

// outline is the schema of Out's top level: each property with its type. Go infers a slice,
// map or pointer as ["null", T]; clients that map schemas onto one type per property (the
// OpenAPI subset of Gemini's function declarations; MCP Inspector 2.12 warns of it) reject
// that, so a property that is omitted when empty says T alone, and one that can be null says
// anyOf null or T.
func outline[Out any]() *jsonschema.Schema {
	full, err := jsonschema.For[Out](nil)
	if err != nil || full.Properties == nil {
		return &jsonschema.Schema{Type: "object"}
	}
	props := make(map[string]*jsonschema.Schema, len(full.Properties))
	for name, p := range full.Properties {
		t, nullable := oneType(p)
		switch {
		case !nullable:
			props[name] = &jsonschema.Schema{Type: p.Type, Types: slices.Clone(p.Types)}
		case slices.Contains(full.Required, name):
			props[name] = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "null"}, {Type: t}}}
		default:
			props[name] = &jsonschema.Schema{Type: t}
		}
	}
	return &jsonschema.Schema{Type: "object", Properties: props}
}

// input is In's schema with each property of one type: an absent argument and a null one mean
// the same to every tool (the default), so a client need not be able to send null.
func input[In any]() *jsonschema.Schema {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		return nil // mcp.AddTool infers it and reports the error
	}
	for _, p := range s.Properties {
		if t, nullable := oneType(p); nullable {
			p.Type, p.Types = t, nil
		}
	}
	return s
}

// oneType is the type of a property other than null, and whether null was allowed too.
func oneType(p *jsonschema.Schema) (string, bool) {
	if p.Type != "" || len(p.Types) == 0 {
		return p.Type, false
	}
	t := slices.DeleteFunc(slices.Clone(p.Types), func(t string) bool { return t == "null" })
	if len(t) != 1 {
		return p.Type, false // several types: keep them as they are
	}
	return t[0], len(t) < len(p.Types)
}

// brief is the text of a tool's answer for the model to read first: what the structured
// content holds (its counts and list lengths) and the hint of what to call next.
func brief(tool string, out any) string {
	v := reflect.Indirect(reflect.ValueOf(out))
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return tool + ": the answer is in the structured content"
	}
	var sizes []string
	hint := ""
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous && fv.Kind() == reflect.Struct {
				walk(fv)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				name = f.Name
			}
			switch {
			case f.Name == "Hint" && fv.Kind() == reflect.String:
				hint = fv.String()
			case fv.Kind() == reflect.Slice && fv.Len() > 0:
				sizes = append(sizes, fmt.Sprintf("%s: %d", name, fv.Len()))
			case fv.Kind() == reflect.Int && (fv.Int() != 0 || name == "total") && len(sizes) < 12:
				sizes = append(sizes, fmt.Sprintf("%s: %d", name, fv.Int()))
			case fv.Kind() == reflect.Bool && fv.Bool() && len(sizes) < 12:
				sizes = append(sizes, name)
			}
		}
	}
	walk(v)
	text := tool + " answered (structured content)"
	if len(sizes) > 0 {
		text += ": " + strings.Join(sizes, ", ")
	}
	if hint != "" {
		text += "\n" + hint
	}
	return text
}

// choose says which tools a client should not see: those of toolsets not asked for, those the
// server is not configured to serve (they could only say so), and under readOnly those not
// annotated read-only; missing are the toolsets asked for that lost tools for want of
// configuration.
func (r *registry) choose(sets []string, readOnly bool) (drop map[string]bool, missing []string) {
	drop = map[string]bool{}
	for _, t := range r.tools {
		switch {
		case !slices.Contains(sets, t.set), readOnly && !t.readOnly:
			drop[t.name] = true
		case !t.configured:
			drop[t.name] = true
			if !slices.Contains(missing, t.set) {
				missing = append(missing, t.set)
			}
		}
	}
	return drop, missing
}

// ParseToolsets reads the --toolsets flag: names from AllToolsets, comma-separated; empty is all.
func ParseToolsets(list []string) ([]string, error) {
	if len(list) == 0 {
		return slices.Clone(AllToolsets), nil
	}
	var out []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if !slices.Contains(AllToolsets, s) {
			return nil, fmt.Errorf("toolset %q: want one of %s", s, strings.Join(AllToolsets, ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
