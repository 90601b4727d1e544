package mcpserver

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/store"
)

// BenchmarkToolCall measures one tool call, end to end through the SDK client, on the example
// bundle: over the in-memory transport (the server's own cost) and over HTTP on loopback with a
// bearer token (what a remote agent sees, minus the network).
func BenchmarkToolCall(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(b.TempDir(), "store"), nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := st.Import(ctx, exampleArchive, store.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	instance := res.Entry.Manifest.InstanceID

	memory := func() *mcp.ClientSession {
		ct, stt := mcp.NewInMemoryTransports()
		ss, err := New(Options{Store: st}).Connect(ctx, stt, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = ss.Close() })
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	overHTTP := func() *mcp.ClientSession {
		const token = "bench-token-0123456789abcdef"
		srv := New(Options{Store: st})
		h, err := NewHTTPHandler(srv, HTTPOptions{Token: []byte(token)})
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(h)
		b.Cleanup(func() {
			for ss := range srv.Sessions() {
				_ = ss.Close()
			}
			ts.Close()
		})
		cs, err := connectHTTP(ctx, ts.URL, tokenClient(token))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"errors", map[string]any{"instanceId": instance}},
		{"search", map[string]any{"instanceId": instance, "query": "oom-kill|OOMKilled|Out of memory|Memory cgroup"}},
		{"diagnose_crashloop", map[string]any{"instanceId": instance, "namespace": "payments", "pod": "ledger-0"}},
	}
	for _, transport := range []struct {
		name    string
		connect func() *mcp.ClientSession
	}{{"memory", memory}, {"http", overHTTP}} {
		cs := transport.connect()
		for _, c := range calls {
			b.Run(transport.name+"/"+c.tool, func(b *testing.B) {
				for b.Loop() {
					r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
					if err != nil || r.IsError {
						b.Fatalf("%s: %v %+v", c.tool, err, r)
					}
				}
			})
		}
	}
}
