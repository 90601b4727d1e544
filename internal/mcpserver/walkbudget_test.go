package mcpserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/benchdata"
	"github.com/nodediag/nodediag/internal/store"
)

// walkBudget is what the runbook's node-log walk may cost in tool output, all calls together:
// issue 14's 40 KB (it was 245 KB). It holds because a concise search lists a kernel line once
// with its copies in dmesg -T and messages named, and a correlate event names its lines
// file:line with the rest of a kernel OOM report folded into the kill.
const walkBudget = 40 << 10

// TestK3WalkBudget follows the K3 runbook's node-log calls on the 50 MB benchmark bundle, with
// the runbook's own arguments, and sums the bytes of every answer as the client receives it
// (structured content and text): an agent pays for each of them. It runs where bench/run.sh
// --size-mb 50 or a benchmark wrote the bundle.
func TestK3WalkBudget(t *testing.T) {
	folder := benchdata.Folder(t, 50)
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), folder, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Entry.Manifest.InstanceID
	cs := connect(t, Options{Store: st, Version: "test"})
	total := 0
	shown := map[string][]int{} // file → lines the walk's answers name
	call := func(tool string, args map[string]any, out any) {
		t.Helper()
		args["instanceId"] = id
		r, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil || r.IsError {
			t.Fatalf("%s(%v): %v %v", tool, args, err, r)
		}
		b, _ := json.Marshal(r)
		total += len(b)
		t.Logf("%s: %d bytes", tool, len(b))
		raw, _ := json.Marshal(r.StructuredContent)
		var v any
		_ = json.Unmarshal(raw, &v)
		collectRefs(v, shown)
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatal(err)
			}
		}
	}
	var errs ErrorsOut
	call("errors", map[string]any{}, &errs)
	call("search", map[string]any{"query": "oom-kill|OOMKilled|Out of memory|Memory cgroup"}, nil)
	call("search", map[string]any{"query": "CrashLoopBackOff|Back-off restarting|exit code", "logTypes": "kubelet"}, nil)
	call("correlate", map[string]any{"pivotEvent": "CrashLoopBackOff", "timeWindow": 300}, nil)
	var ids []string
	for _, f := range errs.Findings[:min(3, len(errs.Findings))] {
		ids = append(ids, f.ID)
	}
	call("summarize", map[string]any{"finding_ids": ids}, nil)
	t.Logf("the walk: %d bytes", total)
	if total > walkBudget {
		t.Errorf("the runbook's node-log walk costs %d bytes of tool output, budget %d", total, walkBudget)
	}
	// Every line the diagnosis cites is in the walk's answers, or one read away: within a page
	// (readPage lines) of a line they name in the same file.
	var want struct{ Namespace, Pod string }
	b, err := os.ReadFile(filepath.Join(benchdata.Dir(50), "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	var d DiagnoseOut
	r, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "diagnose_crashloop",
		Arguments: map[string]any{"instanceId": id, "namespace": want.Namespace, "pod": want.Pod}})
	if err != nil || r.IsError {
		t.Fatalf("diagnose_crashloop: %v %v", err, r)
	}
	raw, _ := json.Marshal(r.StructuredContent)
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, c := range d.Citations {
		for _, ref := range c.Refs {
			cited++
			file, line, ok := splitRef(ref)
			if !ok {
				t.Errorf("citation %q is not file:line", ref)
				continue
			}
			if !slices.ContainsFunc(shown[file], func(n int) bool { return n-readPage <= line && line <= n+readPage }) {
				t.Errorf("%s (cited for %s) is not within a read of any line the walk showed", ref, c.Claim)
			}
		}
	}
	if cited == 0 {
		t.Error("the diagnosis cites no line")
	}
}

// readPage is how far around a line one read reaches.
const readPage = 20

// collectRefs records every file and line an answer names: objects with "file" and "line", and
// "ref" strings written file:line.
func collectRefs(v any, into map[string][]int) {
	switch x := v.(type) {
	case map[string]any:
		if f, ok := x["file"].(string); ok {
			if n, ok := x["line"].(float64); ok {
				into[f] = append(into[f], int(n))
			}
		}
		if ref, ok := x["ref"].(string); ok {
			if f, n, ok := splitRef(ref); ok {
				into[f] = append(into[f], n)
			}
		}
		for _, list := range []string{"copies", "also", "block"} {
			refs, _ := x[list].([]any)
			for _, r := range refs {
				if s, ok := r.(string); ok {
					if f, n, ok := splitRef(s); ok {
						into[f] = append(into[f], n)
					}
				}
			}
		}
		for _, y := range x {
			collectRefs(y, into)
		}
	case []any:
		for _, y := range x {
			collectRefs(y, into)
		}
	}
}

func splitRef(ref string) (string, int, bool) {
	i := strings.LastIndexByte(ref, ':')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(ref[i+1:])
	return ref[:i], n, err == nil
}
