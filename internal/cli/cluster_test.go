package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/cloud/eks"
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
