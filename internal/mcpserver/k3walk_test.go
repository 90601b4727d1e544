package mcpserver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/store"
)

// TestK3WalkEndToEnd is an agent following the K3 SOP's Examples block call by call against a
// server with a fake cluster (the example pod, its events and node) and a fake AWS account whose
// log-collection automation uploads the example bundle: Phase 1's Kubernetes calls, collect and
// status until the bundle is indexed, the searches, correlate and summarize — then
// diagnose_crashloop without an instanceId, whose Output Format must match the golden file and
// the scenario's truth.
func TestK3WalkEndToEnd(t *testing.T) {
	f := newFixture(t) // for the truth and the instance id; the walk's store starts empty
	pod, _, objs := exampleObjects(t, f.instance)
	archive, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	acct := awsfake.New()
	t.Cleanup(acct.Close)
	acct.AddInstance(awsfake.Instance{ID: f.instance, Region: "us-west-2", State: "running", PrivateDNSName: pod.Spec.NodeName,
		Tags: map[string]string{"eks:cluster-name": "prod"}})
	acct.AddBucket("node-logs")
	acct.SetBundle(f.instance, archive)

	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := collect.New(st, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "node-logs"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	fk := kubetest.New(objs...)
	f.cs = connect(t, Options{Store: st, Collector: col, ApproveCollect: true, Clusters: fakeClusters{name: "my-cluster", client: fk.Client}})

	var rb runbook.Runbook
	f.call(t, "get_sop", map[string]any{"sopId": "K3"}, &rb, false)
	// The runbook's examples use placeholders for the pod and the instance; an agent fills in
	// the ones of its incident.
	fill := map[string]string{"crashing-pod": pod.Name, "default": pod.Namespace, "i-0abc123def456": f.instance}
	var executionID string
	var ids []string
	called := map[string]int{}
	for _, c := range rb.ExampleCalls {
		args := map[string]any{}
		for _, p := range c.Params {
			v := p.Value
			if r, ok := fill[v]; ok {
				v = r
			}
			switch {
			case p.Name == "timeWindow":
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("K3 line %d: timeWindow %q", c.Line, v)
				}
				args[p.Name] = n
			case v == "true" || v == "false":
				args[p.Name] = v == "true"
			default:
				args[p.Name] = v
			}
		}
		called[c.Tool]++
		switch c.Tool {
		case "read_k8s_resource":
			var r ReadK8sOut
			f.call(t, c.Tool, args, &r, false)
			if meta, _ := r.Object["metadata"].(map[string]any); meta["name"] != pod.Name {
				t.Errorf("K3 line %d: read %v, want pod %s", c.Line, meta["name"], pod.Name)
			}
		case "get_k8s_events":
			var e EventsOut
			f.call(t, c.Tool, args, &e, false)
			if len(e.Items) == 0 {
				t.Errorf("K3 line %d: no events for %s", c.Line, pod.Name)
			}
		case "get_pod_logs":
			var l PodLogsOut
			f.call(t, c.Tool, args, &l, false)
			if !l.Previous || l.Container != f.truth.Container {
				t.Errorf("K3 line %d: log of %q previous %v, want %s's previous", c.Line, l.Container, l.Previous, f.truth.Container)
			}
		case "collect":
			var co CollectOut
			f.call(t, c.Tool, args, &co, false)
			executionID = co.ExecutionID
			if co.Execution.Bucket != "node-logs" {
				t.Errorf("K3 line %d: the record keeps bucket %q, want node-logs for a later status without --bucket", c.Line, co.Execution.Bucket)
			}
			if got := acct.RequestsFor("StartAutomationExecution"); len(got) != 1 || !strings.Contains(string(got[0].Body), f.instance) {
				t.Fatalf("K3 line %d: %d automations started, want one for %s", c.Line, len(got), f.instance)
			}
		case "status":
			args["executionId"] = executionID
			var so StatusOut
			for poll := 0; so.State != collect.StateCompleted; poll++ {
				if poll == 10 {
					t.Fatalf("K3 line %d: still %s after %d polls: %+v", c.Line, so.State, poll, so.Execution)
				}
				f.call(t, c.Tool, args, &so, false)
			}
			if so.Execution.BundleID == "" || !strings.Contains(so.NextStep, "errors(") {
				t.Errorf("K3 line %d: completed without a bundle or a next step: %+v", c.Line, so)
			}
			var errs ErrorsOut
			f.call(t, "errors", map[string]any{"instanceId": f.instance}, &errs, false)
			for _, fo := range errs.Findings {
				ids = append(ids, fo.ID)
			}
		case "search":
			var s SearchOut
			f.call(t, c.Tool, args, &s, false)
		case "correlate":
			var co CorrelateOut
			f.call(t, c.Tool, args, &co, false)
			if co.Occurrences == 0 {
				t.Errorf("K3 line %d: correlate found no pivot occurrence", c.Line)
			}
		case "summarize":
			args["finding_ids"] = ids
			var s SummarizeOut
			f.call(t, c.Tool, args, &s, false)
			if !strings.HasPrefix(s.RootCause, f.truth.RootCause+" ") {
				t.Errorf("K3 line %d: summarize root cause %q, want class %s", c.Line, s.RootCause, f.truth.RootCause)
			}
		default:
			t.Errorf("K3 line %d calls %s, which this walk does not know", c.Line, c.Tool)
		}
	}
	for _, tool := range []string{"read_k8s_resource", "get_k8s_events", "get_pod_logs", "collect", "status", "search", "correlate", "summarize"} {
		if called[tool] == 0 {
			t.Errorf("the K3 Examples never call %s", tool)
		}
	}

	var d DiagnoseOut
	f.call(t, "diagnose_crashloop", map[string]any{"clusterName": "my-cluster", "namespace": pod.Namespace, "pod_name": pod.Name}, &d, false)
	if d.Class != f.truth.RootCause || d.ExitCode == nil || *d.ExitCode != f.truth.ExitCode || d.Bundle.InstanceID != f.instance {
		t.Errorf("diagnose_crashloop: class %q exit %v instance %s, want %s %d %s", d.Class, d.ExitCode, d.Bundle.InstanceID, f.truth.RootCause, f.truth.ExitCode, f.instance)
	}
	// The pod's state came from the cluster: its last termination is evidence beside the logs.
	term := kube.Terminated(kube.Status(pod, d.Container))
	var podState string
	for _, ev := range d.Evidence {
		if ev.Type == diagnose.EvPodState {
			podState = ev.Content
		}
	}
	if term == nil || !strings.Contains(podState, strconv.Itoa(int(term.ExitCode))) {
		t.Errorf("diagnose_crashloop pod-state evidence %q, want the pod's last exit code %v", podState, term)
	}
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "k3walk.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); diff != "" {
		t.Errorf("diagnose_crashloop differs from %s (-want +got):\n%s", golden, diff)
	}
}
