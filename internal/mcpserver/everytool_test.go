package mcpserver

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
	"github.com/nodediag/nodediag/internal/store"
)

// everythingConfigured are the options of a server with every toolset configured: the example
// bundle, a fake cluster holding the example's pod, a fake AWS account for collect and status,
// and a fake AWS view for the cluster tools.
func everythingConfigured(t *testing.T, instance string) (*corev1.Pod, Options) {
	t.Helper()
	pod, _, objs := exampleObjects(t, instance)
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), exampleArchive, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	archive, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	acct := awsfake.New()
	t.Cleanup(acct.Close)
	acct.AddInstance(awsfake.Instance{ID: instance, Region: "us-west-2", State: "running", Tags: map[string]string{"eks:cluster-name": "prod"}})
	acct.AddBucket("node-logs")
	acct.SetBundle(instance, archive)
	col, err := collect.New(st, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "node-logs"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	aws := &fakeClusterAWS{name: "prod", health: &eks.ClusterHealth{Cluster: eks.ClusterInfo{Name: "prod", Status: "ACTIVE"}}}
	return pod, Options{Store: st, Collector: col, ApproveCollect: true, AWS: aws, Version: "test", Clusters: fakeClusters{name: "prod", client: kubetest.New(objs...).Client}}
}

// TestEveryToolOverHTTP calls every tool the server lists, over streamable HTTP with a bearer
// token, on a server with everything configured: the example bundle, a fake cluster, a fake AWS
// account for collect and status, and a fake AWS view for the cluster tools. A tool added
// without a call here fails the test.
func TestEveryToolOverHTTP(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pod, opts := everythingConfigured(t, f.instance)
	// A second node for compare_nodes: the example's bundle under another instance id.
	const other = "i-0f0e0d0c0b0a09080"
	if _, err := opts.Store.Import(ctx, exampleArchive, store.ImportOptions{InstanceID: other}); err != nil {
		t.Fatal(err)
	}
	const token = "every-tool-token-0123456789"
	srv := New(opts)
	h, err := NewHTTPHandler(srv, HTTPOptions{Token: []byte(token)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		for ss := range srv.Sessions() {
			_ = ss.Close()
		}
		ts.Close()
	})
	cs, err := connectHTTP(ctx, ts.URL, tokenClient(token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })

	id, ns := f.instance, pod.Namespace
	var co CollectOut
	calls := []struct {
		tool string
		args map[string]any
		out  any
	}{
		{"validate", map[string]any{"instanceId": id}, nil},
		{"errors", map[string]any{"instanceId": id, "severity": "high"}, nil},
		{"search", map[string]any{"instanceId": id, "query": "OOMKilled", "logTypes": "kubelet"}, nil},
		{"read", map[string]any{"instanceId": id, "logKey": "kubelet/kubelet.log", "startLine": -5}, nil},
		{"correlate", map[string]any{"instanceId": id, "pivotEvent": "CrashLoopBackOff", "timeWindow": 300}, nil},
		{"summarize", map[string]any{"instanceId": id}, nil},
		{"quick_triage", map[string]any{"instanceId": id}, nil},
		{"list_sops", map[string]any{"query": "oom"}, nil},
		{"get_sop", map[string]any{"sopId": "k3"}, nil},
		{"diagnose_crashloop", map[string]any{"clusterName": "prod", "namespace": ns, "pod": pod.Name}, nil},
		{"list_k8s_resources", map[string]any{"cluster_name": "prod", "kind": "pods", "namespace": ns}, nil},
		{"read_k8s_resource", map[string]any{"clusterName": "prod", "kind": "Pod", "name": pod.Name, "namespace": ns}, nil},
		{"get_k8s_events", map[string]any{"clusterName": "prod", "kind": "Pod", "name": pod.Name, "namespace": ns}, nil},
		{"get_pod_logs", map[string]any{"clusterName": "prod", "namespace": ns, "pod_name": pod.Name, "previous": true, "tail_lines": 20}, nil},
		{"cluster_health", map[string]any{"clusterName": "prod"}, nil},
		{"get_cloudwatch_logs", map[string]any{"clusterName": "prod", "log_type": "audit", "filter_pattern": "OOMKilled", "minutes": 30}, nil},
		{"fleet_crashloops", map[string]any{"min_nodes": 2}, nil},
		{"compare_nodes", map[string]any{"failingInstanceId": id, "healthyInstanceId": other}, nil},
		{"collect", map[string]any{"instanceId": id, "idempotencyToken": "every-tool"}, &co},
		{"status", nil, nil}, // filled in from collect's answer
	}
	called := map[string]bool{}
	for _, c := range calls {
		if c.tool == "status" {
			c.args = map[string]any{"executionId": co.ExecutionID}
		}
		out := c.out
		if out == nil {
			out = &map[string]any{}
		}
		if err := callInto(ctx, cs, c.tool, c.args, out); err != nil {
			t.Errorf("%s over HTTP: %v", c.tool, err)
		}
		called[c.tool] = true
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if !called[tool.Name] {
			t.Errorf("%s is served but this test never calls it", tool.Name)
		}
	}
}
