package mcpserver

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/store"
)

// TestStatusReportsProgress: a client that sends a progressToken with status hears the download
// and the import as progress notifications that only grow, ending at their total.
func TestStatusReportsProgress(t *testing.T) {
	ctx := context.Background()
	const instance = "i-0a1b2c3d4e5f60718"
	archive, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	acct := awsfake.New()
	t.Cleanup(acct.Close)
	acct.AddInstance(awsfake.Instance{ID: instance, Region: "us-west-2", State: "running", Tags: map[string]string{"eks:cluster-name": "prod"}})
	acct.AddBucket("node-logs")
	acct.SetBundle(instance, archive)
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := collect.New(st, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "node-logs"}), nil)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var got []*mcp.ProgressNotificationParams
	ct, sst := mcp.NewInMemoryTransports()
	ss, err := New(Options{Store: st, Collector: col, ApproveCollect: true}).Connect(ctx, sst, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			got = append(got, r.Params)
			mu.Unlock()
		}}).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "collect", Arguments: map[string]any{"instanceId": instance}})
	if err != nil || res.IsError {
		t.Fatalf("collect: %v %v", err, res)
	}
	id := res.StructuredContent.(map[string]any)["executionId"].(string)
	for poll := 0; ; poll++ {
		p := &mcp.CallToolParams{Name: "status", Arguments: map[string]any{"executionId": id}}
		p.SetProgressToken("status-" + id)
		res, err := cs.CallTool(ctx, p)
		if err != nil || res.IsError {
			t.Fatalf("status: %v %v", err, res)
		}
		if res.StructuredContent.(map[string]any)["state"] == collect.StateCompleted {
			break
		}
		if poll == 10 {
			t.Fatal("never completed")
		}
	}
	// The server sends every notification before its reply, but the client runs notification
	// handlers on their own goroutine, after it may have handed the reply back: wait (briefly)
	// for the one that says the call is done.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(got)
		done := n > 0 && got[n-1].Total > 0 && got[n-1].Progress == got[n-1].Total
		mu.Unlock()
		if done {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 2 {
		t.Fatalf("%d progress notifications, want the download's and the import's", len(got))
	}
	for i, p := range got {
		if p.ProgressToken != "status-"+id {
			t.Errorf("notification %d has token %v", i, p.ProgressToken)
		}
		if i > 0 && p.Progress < got[i-1].Progress {
			t.Errorf("progress went down: %v then %v", got[i-1].Progress, p.Progress)
		}
	}
	if last := got[len(got)-1]; last.Total == 0 || last.Progress != last.Total {
		t.Errorf("last notification %+v: want progress at its total", last)
	}
}
