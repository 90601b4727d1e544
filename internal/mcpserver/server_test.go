package mcpserver

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/tools.golden.json from the server's tool list")

const exampleArchive = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

// fixture is one imported example bundle and a client session on a server over it.
type fixture struct {
	cs       *mcp.ClientSession
	store    *store.Store
	instance string
	bundle   string
	truth    scenario.Truth
}

// newFixture imports the shipped example bundle into a temporary store and connects the real SDK
// client to the server over the in-memory transport.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(ctx, exampleArchive, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := scenario.ReadTruth("../../testdata/example/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{cs: connect(t, Options{Store: st, Version: "test"}), store: st, instance: res.Entry.Manifest.InstanceID,
		bundle: res.Entry.Manifest.ID, truth: truth}
}

func connect(t *testing.T, opts Options) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := New(opts).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call calls a tool and decodes its structured content into out. It fails the test on a protocol
// error and, unless wantErr, on an isError result; it returns the result's text.
// maxBriefBytes bounds the text beside a structured answer.
const maxBriefBytes = 1024

func (f *fixture) call(t *testing.T, name string, args map[string]any, out any, wantErr bool) string {
	t.Helper()
	res, err := f.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): protocol error %v", name, args, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	if res.IsError != wantErr {
		t.Fatalf("%s(%v): isError %v, want %v: %s", name, args, res.IsError, wantErr, text.String())
	}
	if wantErr {
		return text.String()
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	// The text is a few lines for the model, not the structured answer a second time.
	if tx := text.String(); !strings.HasPrefix(tx, name+" answered") || len(tx) > maxBriefBytes {
		t.Errorf("%s: text content %d bytes, %.80q…; want a brief naming the tool", name, len(tx), tx)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: decoding structured content: %v", name, err)
		}
	}
	return text.String()
}

// wantTools are the tools the server registers: every tool of runbook.KnownTools.
var wantTools = func() []string {
	var names []string
	for name := range runbook.KnownTools {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}()

func TestToolList(t *testing.T) {
	_, opts := everythingConfigured(t, newFixture(t).instance)
	f := &fixture{cs: connect(t, opts)}
	res, err := f.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		switch {
		case tool.Annotations == nil:
			t.Errorf("%s has no annotations", tool.Name)
		case tool.Name == "collect" || tool.Name == "status":
			// collect starts an automation and status downloads and imports what it made: they
			// must say so, and that they destroy nothing.
			if tool.Annotations.ReadOnlyHint || tool.Annotations.DestructiveHint == nil || *tool.Annotations.DestructiveHint {
				t.Errorf("%s: annotations %+v, want not read-only and not destructive", tool.Name, tool.Annotations)
			}
		case !tool.Annotations.ReadOnlyHint:
			t.Errorf("%s is not annotated read-only", tool.Name)
		}
		// A tool that reaches AWS or the cluster is open-world; one that reads only the store is not.
		outside := slices.Contains([]string{"collect", "status", "cluster_health", "get_cloudwatch_logs", "list_k8s_resources",
			"read_k8s_resource", "get_k8s_events", "get_pod_logs", "diagnose_crashloop"}, tool.Name)
		if a := tool.Annotations; a != nil && (a.OpenWorldHint == nil || *a.OpenWorldHint != outside) {
			t.Errorf("%s: openWorldHint %v, want %v", tool.Name, a.OpenWorldHint, outside)
		}
		if tool.OutputSchema == nil {
			t.Errorf("%s has no output schema", tool.Name)
		}
		// The runbooks may only name parameters the tool takes; the server must take every one
		// of them, spelt the same, or an agent following a runbook gets a validation error.
		known, ok := runbook.KnownTools[tool.Name]
		if !ok {
			t.Errorf("%s is not in runbook.KnownTools", tool.Name)
			continue
		}
		props := schemaProps(t, tool.InputSchema)
		for _, p := range known.Params {
			if !slices.Contains(props, p) {
				t.Errorf("%s: runbook parameter %q is not in the input schema %v", tool.Name, p, props)
			}
		}
	}
	slices.Sort(names)
	if diff := cmp.Diff(wantTools, names); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}

	got, err := json.MarshalIndent(res.Tools, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "tools.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
		t.Errorf("tool list drifted from %s (go test -update to accept):\n%s", golden, diff)
	}
}

func schemaProps(t *testing.T, schema any) []string {
	t.Helper()
	raw, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range s.Properties {
		out = append(out, k)
	}
	return out
}

// unlisted connects a server with opts and checks it does not list tool; it returns the
// server's instructions, which must say why.
func unlisted(t *testing.T, opts Options, tool string) string {
	t.Helper()
	cs := connect(t, opts)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res.Tools {
		if x.Name == tool {
			t.Errorf("%s is listed by a server not configured for it", tool)
		}
	}
	return cs.InitializeResult().Instructions
}
