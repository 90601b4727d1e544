package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/mcpserver"
)

// fakeClusterAWS is one cluster's AWS view with an instance that lost SSM.
type fakeClusterAWS struct{ reqs []eks.LogsRequest }

func (f *fakeClusterAWS) ClusterHealth(_ context.Context, name string) (*eks.ClusterHealth, error) {
	if name != "prod" {
		return nil, fmt.Errorf("%w: %q in us-west-2", eks.ErrClusterNotFound, name)
	}
	return &eks.ClusterHealth{Region: "us-west-2", Cluster: eks.ClusterInfo{Name: "prod", Status: "ACTIVE", Version: "1.33"},
		Instances: []eks.Instance{{ID: "i-0a1b2c3d4e5f60718", State: "running", SSMPingStatus: "ConnectionLost"}},
		Unhealthy: []eks.Problem{{Subject: "instance/i-0a1b2c3d4e5f60718", Why: "SSM ConnectionLost"}}}, nil
}

func (f *fakeClusterAWS) Logs(_ context.Context, req eks.LogsRequest) (*eks.LogsResult, error) {
	f.reqs = append(f.reqs, req)
	return &eks.LogsResult{Events: []eks.LogEvent{{Time: req.End.Add(-time.Second), Stream: "kube-apiserver-audit-x", Message: "OOMKilled"}}}, nil
}

func TestClusterCommands(t *testing.T) {
	fake := &fakeClusterAWS{}
	old := newClusterAWS
	newClusterAWS = func(context.Context, string) (clusterAWS, error) { return fake, nil }
	t.Cleanup(func() { newClusterAWS = old })

	out, errOut, code := run(t, "cluster-health", "prod", "--no-kube")
	if code != ExitFindings || !strings.Contains(out, "instance/i-0a1b2c3d4e5f60718") || !strings.Contains(out, "ConnectionLost") {
		t.Errorf("cluster-health prod: exit %d, out %q, err %q: want exit 1 listing the instance that lost SSM", code, out, errOut)
	}
	if _, errOut, code := run(t, "cluster-health", "staging", "--no-kube"); code == 0 || !strings.Contains(errOut, "staging") {
		t.Errorf("unknown cluster: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run(t, "cluster-health", "--no-kube", "--no-aws"); code != ExitUsage {
		t.Errorf("nothing to read: exit %d %q, want usage", code, errOut)
	}

	out, errOut, code = run(t, "-o", "json", "cloudwatch-logs", "prod", "--log-type", "audit", "--filter", "OOMKilled", "--end", "2026-11-25T10:00:00Z", "--since", "30m")
	if code != 0 {
		t.Fatalf("cloudwatch-logs: exit %d %s", code, errOut)
	}
	var res eks.LogsResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Events) != 1 {
		t.Fatalf("cloudwatch-logs -o json: %v %q", err, out)
	}
	end := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := fake.reqs[0]
	start, to := r.Window(time.Now())
	if r.ClusterName != "prod" || r.LogType != "audit" || r.FilterPattern != "OOMKilled" || !to.Equal(end) || !start.Equal(end.Add(-30*time.Minute)) {
		t.Errorf("request %+v, want prod audit OOMKilled over 09:30–10:00", r)
	}
	if _, errOut, code := run(t, "cloudwatch-logs", "prod", "--start", "yesterday"); code != ExitUsage || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("bad --start: exit %d %q", code, errOut)
	}
}

// TestClusterViewsSameThroughBothFaces: cluster-health and cloudwatch-logs asked of the CLI and
// of the MCP server over one AWS view answer alike, and a bad window is refused by both in
// their own parameter names.
func TestClusterViewsSameThroughBothFaces(t *testing.T) {
	fake := &fakeClusterAWS{}
	old := newClusterAWS
	newClusterAWS = func(context.Context, string) (clusterAWS, error) { return fake, nil }
	t.Cleanup(func() { newClusterAWS = old })
	ctx := context.Background()
	cs := mcpClient(t, mcpserver.Options{AWS: fake, Version: "test"})
	tool := func(name string, args map[string]any, out any) string {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		if res.IsError {
			return res.Content[0].(*mcp.TextContent).Text
		}
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
		return ""
	}

	type healthView struct {
		AWS       *eks.ClusterHealth
		Unhealthy []eks.Problem
		Gaps      []string
	}
	var viaCLI, viaMCP healthView
	out, errOut, code := run(t, "-o", "json", "cluster-health", "prod", "--no-kube")
	if code != ExitFindings || json.Unmarshal([]byte(out), &viaCLI) != nil {
		t.Fatalf("cluster-health: exit %d %s %q", code, errOut, out)
	}
	if msg := tool("cluster_health", map[string]any{"clusterName": "prod"}, &viaMCP); msg != "" {
		t.Fatal(msg)
	}
	if d := cmp.Diff(viaCLI, viaMCP); d != "" || viaCLI.AWS == nil || len(viaCLI.Unhealthy) == 0 {
		t.Errorf("cluster health: the faces differ (-CLI +MCP):\n%s", d)
	}

	var logsCLI, logsMCP eks.LogsResult
	out, errOut, code = run(t, "-o", "json", "cloudwatch-logs", "prod", "--log-type", "audit", "--filter", "OOMKilled",
		"--end", "2026-11-25T10:00:00Z", "--since", "30m", "--limit", "5")
	if code != 0 || json.Unmarshal([]byte(out), &logsCLI) != nil {
		t.Fatalf("cloudwatch-logs: exit %d %s", code, errOut)
	}
	if msg := tool("get_cloudwatch_logs", map[string]any{"clusterName": "prod", "log_type": "audit", "filter_pattern": "OOMKilled",
		"end_time": "2026-11-25T10:00:00Z", "minutes": 30, "limit": 5}, &logsMCP); msg != "" {
		t.Fatal(msg)
	}
	if d := cmp.Diff(logsCLI, logsMCP); d != "" || len(fake.reqs) != 2 || len(logsCLI.Events) == 0 {
		t.Errorf("control-plane logs: the faces differ (-CLI +MCP):\n%s", d)
	}
	if d := cmp.Diff(fake.reqs[0], fake.reqs[1]); d != "" {
		t.Errorf("the faces asked AWS differently (-CLI +MCP):\n%s", d)
	}

	_, errOut, code = run(t, "cloudwatch-logs", "prod", "--start", "2026-11-25T10:00:00Z", "--end", "2026-11-25T09:00:00Z")
	msg := tool("get_cloudwatch_logs", map[string]any{"clusterName": "prod", "start_time": "2026-11-25T10:00:00Z", "end_time": "2026-11-25T09:00:00Z"}, nil)
	if code != ExitUsage || !strings.Contains(errOut, "--start 2026-11-25T10:00:00Z is not before --end") ||
		!strings.Contains(msg, "start_time 2026-11-25T10:00:00Z is not before end_time") {
		t.Errorf("an empty window: CLI exit %d %q, MCP %q; want each to name its own parameters", code, errOut, msg)
	}
	if len(fake.reqs) != 2 {
		t.Errorf("%d requests reached AWS; a refused window must not", len(fake.reqs))
	}
}

// mcpClient is a client of an MCP server with opts, over memory, closed with the test.
func mcpClient(t *testing.T, opts mcpserver.Options) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	ct, sst := mcp.NewInMemoryTransports()
	ss, err := mcpserver.New(opts).Connect(ctx, sst, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "faces", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}
