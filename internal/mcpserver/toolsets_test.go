package mcpserver

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func listed(t *testing.T, cs *mcp.ClientSession) (names []string, bytes int) {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names, len(b)
}

// TestToolsetsAndBudget: --toolsets lists what was asked, --read-only drops the tools that are
// not read-only, and tools/list stays within its budget: 20 KB for the node-log and runbook
// toolsets an agent reading bundles needs, 40 KB with everything.
func TestToolsetsAndBudget(t *testing.T) {
	_, opts := everythingConfigured(t, newFixture(t).instance)
	all, size := listed(t, connect(t, opts))
	if !slices.Equal(all, wantTools) || size > 40<<10 {
		t.Errorf("every toolset: %d bytes, tools %v; want at most 40 KB and %v", size, all, wantTools)
	}
	t.Logf("tools/list: %d bytes with every toolset", size)

	opts.Toolsets = []string{SetNodeLogs, SetRunbooks}
	logs, size := listed(t, connect(t, opts))
	want := []string{"correlate", "diagnose_crashloop", "errors", "get_sop", "list_sops", "quick_triage", "read", "search", "summarize", "validate"}
	if !slices.Equal(logs, want) || size > 20<<10 {
		t.Errorf("node-logs,runbooks: %d bytes, tools %v; want at most 20 KB and %v", size, logs, want)
	}
	t.Logf("tools/list: %d bytes with node-logs,runbooks", size)

	opts.Toolsets, opts.ReadOnly = nil, true
	ro, _ := listed(t, connect(t, opts))
	if slices.Contains(ro, "collect") || slices.Contains(ro, "status") || len(ro) != len(wantTools)-2 {
		t.Errorf("--read-only lists %v", ro)
	}

	if _, err := ParseToolsets([]string{"node-logs", "k8s"}); err == nil || !strings.Contains(err.Error(), "kubernetes") {
		t.Errorf("an unknown toolset: %v, want the names", err)
	}
}

// TestFullText: with FullText the text content is the structured answer as JSON, for clients
// that read only text; without it, a brief.
func TestFullText(t *testing.T) {
	f := newFixture(t)
	for _, full := range []bool{false, true} {
		_, opts := everythingConfigured(t, f.instance)
		opts.FullText = full
		cs := connect(t, opts)
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_sops", Arguments: map[string]any{}})
		if err != nil || res.IsError {
			t.Fatalf("list_sops: %v %v", err, res)
		}
		text := res.Content[0].(*mcp.TextContent).Text
		var asJSON map[string]any
		isJSON := json.Unmarshal([]byte(text), &asJSON) == nil
		if isJSON != full {
			t.Errorf("full text %v: text content %.100q", full, text)
		}
	}
}

// TestDefaultAnswersAreSmall: get_sop sends a runbook once (its parsed steps; the Markdown on
// request) and read a neighbourhood of 40 lines unless asked for more.
func TestDefaultAnswersAreSmall(t *testing.T) {
	f := newFixture(t)
	var rb, withBody struct {
		Body   string
		Phases []json.RawMessage
	}
	f.call(t, "get_sop", map[string]any{"sopId": "K3"}, &rb, false)
	f.call(t, "get_sop", map[string]any{"sopId": "K3", "body": true}, &withBody, false)
	if rb.Body != "" || len(rb.Phases) == 0 || withBody.Body == "" || len(withBody.Phases) != len(rb.Phases) {
		t.Errorf("get_sop K3: body %d bytes and %d phases by default, %d bytes with body=true", len(rb.Body), len(rb.Phases), len(withBody.Body))
	}
	var r struct{ Lines []json.RawMessage }
	f.call(t, "read", map[string]any{"instanceId": f.instance, "logKey": "kubelet/kubelet.log"}, &r, false)
	if len(r.Lines) != defaultReadLines {
		t.Errorf("read by default: %d lines, want %d", len(r.Lines), defaultReadLines)
	}
}

// TestDiagnoseGapsNameTools: the gaps of a diagnosis made without the cluster tell an MCP
// client what it can call, never a CLI flag.
func TestDiagnoseGapsNameTools(t *testing.T) {
	f := newFixture(t)
	var d DiagnoseOut
	f.call(t, "diagnose_crashloop", map[string]any{"instanceId": f.instance, "namespace": f.truth.Namespace, "pod": f.truth.Pod}, &d, false)
	gaps := strings.Join(d.Gaps, "\n")
	if len(d.Gaps) == 0 || strings.Contains(gaps, "--pod-json") || strings.Contains(gaps, "--events-json") || strings.Contains(gaps, "--previous-log") {
		t.Errorf("gaps %q name CLI flags (or there are none)", d.Gaps)
	}
}

// TestSchemasOneTypePerProperty: no property of a tool's input or output schema has a type list
// with null in it (Go's inference for slices, maps and pointers). MCP Inspector 2.12 warns of
// every one (48 on this server before) because clients that map schemas onto the OpenAPI subset
// reject them; a property that can really be null says so with anyOf.
func TestSchemasOneTypePerProperty(t *testing.T) {
	_, opts := everythingConfigured(t, newFixture(t).instance)
	res, err := connect(t, opts).ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		for which, schema := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
			b, _ := json.Marshal(schema)
			var s struct {
				Properties map[string]struct {
					Type  any   `json:"type"`
					AnyOf []any `json:"anyOf"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			for name, p := range s.Properties {
				if _, ok := p.Type.(string); !ok && p.AnyOf == nil {
					t.Errorf("%s %s schema: property %s has type %v, want one type (or anyOf)", tool.Name, which, name, p.Type)
				}
			}
		}
	}
}
