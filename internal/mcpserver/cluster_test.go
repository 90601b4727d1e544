package mcpserver

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
	"github.com/nodediag/nodediag/internal/store"
)

// fakeClusters serves one fake cluster under a name; any other name is unknown, like a kubeconfig
// without that context.
type fakeClusters struct {
	name   string
	client *kube.Client
}

func (f fakeClusters) Client(_ context.Context, clusterName string) (*kube.Client, error) {
	if clusterName != "" && clusterName != f.name {
		return nil, fmt.Errorf("no kubeconfig context matches cluster %q (contexts: %s)", clusterName, f.name)
	}
	return f.client, nil
}

// exampleCluster is a fake clientset holding the example bundle's pod, its events and its node,
// whose providerID names the given instance.
func exampleCluster(t *testing.T, instance string) (*fake.Clientset, *corev1.Pod) {
	t.Helper()
	pod, _, objs := exampleObjects(t, instance)
	return fake.NewClientset(objs...), pod
}

// TestDiagnoseFindsTheNode: without instanceId, diagnose_crashloop finds the pod's node in the
// cluster, takes the instance id from its providerID and diagnoses that instance's bundle.
func TestDiagnoseFindsTheNode(t *testing.T) {
	f := newFixture(t)
	cs, pod := exampleCluster(t, f.instance)
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), exampleArchive, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	f.cs = connect(t, Options{Store: st, Clusters: fakeClusters{name: "prod", client: kube.NewClientFrom(cs)}})

	var d DiagnoseOut
	f.call(t, "diagnose_crashloop", map[string]any{"clusterName": "prod", "namespace": pod.Namespace, "pod": pod.Name}, &d, false)
	if d.Bundle.InstanceID != f.instance {
		t.Errorf("diagnosed instance %q, want %q from the node's providerID", d.Bundle.InstanceID, f.instance)
	}
	if d.Class != f.truth.RootCause || d.ExitCode == nil || *d.ExitCode != f.truth.ExitCode {
		t.Errorf("class %q exit %v, want %s %d", d.Class, d.ExitCode, f.truth.RootCause, f.truth.ExitCode)
	}

	text := f.call(t, "diagnose_crashloop", map[string]any{"clusterName": "staging", "namespace": pod.Namespace, "pod": pod.Name}, nil, true)
	for _, want := range []string{"staging", "instanceId"} {
		if !strings.Contains(text, want) {
			t.Errorf("unknown cluster: %q does not mention %q", text, want)
		}
	}
	text = f.call(t, "diagnose_crashloop", map[string]any{"namespace": pod.Namespace, "pod": "gone-0"}, nil, true)
	if !strings.Contains(text, "gone-0") {
		t.Errorf("missing pod: %q does not name it", text)
	}
}

// TestDiagnoseNoBundleForNode: the node is known but nothing was collected from it; the answer
// says which collect call would get a bundle.
func TestDiagnoseNoBundleForNode(t *testing.T) {
	f := newFixture(t)
	const other = "i-0fedcba9876543210"
	cs, pod := exampleCluster(t, other)
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.cs = connect(t, Options{Store: st, Clusters: fakeClusters{name: "prod", client: kube.NewClientFrom(cs)}})
	text := f.call(t, "diagnose_crashloop", map[string]any{"namespace": pod.Namespace, "pod_name": pod.Name}, nil, true)
	for _, want := range []string{other, `collect(instanceId="` + other + `")`} {
		if !strings.Contains(text, want) {
			t.Errorf("no bundle: %q does not say %q", text, want)
		}
	}
}

// exampleObjects are the example bundle's pod (with managedFields, which read_k8s_resource must
// strip), its events, its node and a Secret the tools must not reveal.
func exampleObjects(t *testing.T, instance string) (*corev1.Pod, []corev1.Event, []runtime.Object) {
	t.Helper()
	pod, err := kube.LoadPodFile("../../testdata/example/pod.json")
	if err != nil {
		t.Fatal(err)
	}
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate}}
	events, err := kube.LoadEventsFile("../../testdata/example/events.json")
	if err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: pod.Spec.NodeName},
		Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/" + instance}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: pod.Namespace},
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2-do-not-show")}}
	objs := []runtime.Object{pod, node, secret}
	for i := range events {
		objs = append(objs, &events[i])
	}
	return pod, events, objs
}

// TestKubeTools calls the four Kubernetes tools the K3 SOP's Phase 1 uses, in both parameter
// spellings, on a fake cluster holding the example pod.
func TestKubeTools(t *testing.T) {
	f := newFixture(t)
	pod, events, objs := exampleObjects(t, f.instance)
	fk := kubetest.New(objs...)
	f.cs = connect(t, Options{Clusters: fakeClusters{name: "prod", client: fk.Client}})
	status := kube.Status(pod, f.truth.Container)
	if status == nil || status.LastTerminationState.Terminated == nil {
		t.Fatalf("example pod has no last termination for %s", f.truth.Container)
	}
	term := status.LastTerminationState.Terminated

	t.Run("list", func(t *testing.T) {
		var l ListK8sOut
		f.call(t, "list_k8s_resources", map[string]any{"cluster_name": "prod", "kind": "pods", "namespace": pod.Namespace}, &l, false)
		if len(l.Items) != 1 || l.Items[0].Name != pod.Name {
			t.Fatalf("pods of %s: %+v, want just %s", pod.Namespace, l.Items, pod.Name)
		}
		row := l.Items[0]
		if row.LastTermination == nil || row.LastTermination.ExitCode != term.ExitCode || row.LastTermination.Reason != term.Reason ||
			row.Restarts == nil || *row.Restarts != status.RestartCount || row.Node != pod.Spec.NodeName {
			t.Errorf("pod row %+v, want exit %d %s, %d restarts on %s", row, term.ExitCode, term.Reason, status.RestartCount, pod.Spec.NodeName)
		}
		var nodes ListK8sOut
		f.call(t, "list_k8s_resources", map[string]any{"clusterName": "prod", "kind": "Node", "api_version": "v1"}, &nodes, false)
		if len(nodes.Items) != 1 || nodes.Items[0].InstanceID != f.instance {
			t.Errorf("nodes: %+v, want one with instance %s", nodes.Items, f.instance)
		}
		var secrets ListK8sOut
		text := f.call(t, "list_k8s_resources", map[string]any{"kind": "secret", "namespace": pod.Namespace}, &secrets, false)
		if len(secrets.Items) != 1 || strings.Contains(text, "hunter2") {
			t.Errorf("secrets list: %d rows, text %q: want the name without the data", len(secrets.Items), text)
		}
	})

	t.Run("read", func(t *testing.T) {
		var r ReadK8sOut
		text := f.call(t, "read_k8s_resource", map[string]any{"clusterName": "prod", "kind": "Pod", "apiVersion": "v1", "name": pod.Name, "namespace": pod.Namespace}, &r, false)
		if strings.Contains(text, "managedFields") {
			t.Error("read_k8s_resource kept metadata.managedFields")
		}
		st, _ := r.Object["status"].(map[string]any)
		if cs, _ := st["containerStatuses"].([]any); len(cs) != len(pod.Status.ContainerStatuses) {
			t.Errorf("read pod: %d container statuses, want %d", len(cs), len(pod.Status.ContainerStatuses))
		}
		msg := f.call(t, "read_k8s_resource", map[string]any{"kind": "Secret", "name": "db-password", "namespace": pod.Namespace}, nil, true)
		if strings.Contains(msg, "hunter2") || !strings.Contains(msg, "Secret") {
			t.Errorf("reading a Secret: %q, want a refusal without its data", msg)
		}
	})

	t.Run("events", func(t *testing.T) {
		want := kube.EventsFor(events, pod, "")
		var e EventsOut
		f.call(t, "get_k8s_events", map[string]any{"clusterName": "prod", "kind": "Pod", "name": pod.Name, "namespace": pod.Namespace}, &e, false)
		if e.Total != len(want) || len(e.Items) == 0 {
			t.Fatalf("events: %d of %d, want %d", len(e.Items), e.Total, len(want))
		}
		for i := 1; i < len(e.Items); i++ {
			if e.Items[i-1].Last < e.Items[i].Last {
				t.Errorf("event %d (%s) older than event %d (%s): want newest first", i-1, e.Items[i-1].Last, i, e.Items[i].Last)
			}
		}
	})

	t.Run("logs", func(t *testing.T) {
		var l PodLogsOut
		f.call(t, "get_pod_logs", map[string]any{"clusterName": "prod", "namespace": pod.Namespace, "pod_name": pod.Name, "previous": true}, &l, false)
		if l.Container != f.truth.Container || !l.Previous || l.Text == "" {
			t.Errorf("previous log: container %q previous %v text %q, want %s's previous log", l.Container, l.Previous, l.Text, f.truth.Container)
		}
		var found bool
		for _, a := range fk.Clientset.Actions() {
			if a.GetSubresource() == "log" {
				found = true
			}
		}
		if !found {
			t.Error("get_pod_logs did not ask the API for the log")
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			tool string
			args map[string]any
			want string
		}{
			{"list_k8s_resources", map[string]any{"clusterName": "prod", "cluster_name": "staging", "kind": "pods"}, "disagree"},
			{"list_k8s_resources", map[string]any{"kind": "gizmos"}, "gizmos"},
			{"read_k8s_resource", map[string]any{"kind": "Pod", "name": "nope-0", "namespace": pod.Namespace}, "nope-0"},
			{"get_pod_logs", map[string]any{"namespace": pod.Namespace}, "pod"},
			{"get_k8s_events", map[string]any{"clusterName": "staging", "name": pod.Name}, "staging"},
		} {
			msg := f.call(t, tc.tool, tc.args, nil, true)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("%s(%v): %q does not mention %q", tc.tool, tc.args, msg, tc.want)
			}
		}
	})

	t.Run("not configured", func(t *testing.T) {
		if msg := unlisted(t, Options{}, "get_k8s_events"); !strings.Contains(msg, "--kubeconfig") {
			t.Errorf("without cluster access the instructions say %q; want how to configure it", msg)
		}
	})
}

// fakeClusterAWS answers for one cluster and records the log requests it got.
type fakeClusterAWS struct {
	name   string
	health *eks.ClusterHealth
	reqs   []eks.LogsRequest
}

func (f *fakeClusterAWS) ClusterHealth(_ context.Context, name string) (*eks.ClusterHealth, error) {
	if name != f.name {
		return nil, fmt.Errorf("%w: %q in us-west-2", eks.ErrClusterNotFound, name)
	}
	return f.health, nil
}

func (f *fakeClusterAWS) Logs(_ context.Context, req eks.LogsRequest) (*eks.LogsResult, error) {
	f.reqs = append(f.reqs, req)
	return &eks.LogsResult{LogGroup: "/aws/eks/" + req.ClusterName + "/cluster", LogType: "all", Start: req.Start, End: req.End,
		Events: []eks.LogEvent{{Time: req.End.Add(-time.Minute), Stream: "kube-apiserver-audit-1", Message: `{"verb":"patch","reason":"OOMKilled"}`}}}, nil
}

// TestClusterHealth merges the AWS view and the nodes' conditions: a NotReady node whose instance
// lost SSM is listed once per source, with the SSM state beside the node's own reason.
func TestClusterHealth(t *testing.T) {
	f := newFixture(t)
	pod, _, objs := exampleObjects(t, f.instance)
	for _, o := range objs {
		if n, ok := o.(*corev1.Node); ok {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", Message: "PLEG is not healthy"}}
		}
	}
	aws := &fakeClusterAWS{name: "prod", health: &eks.ClusterHealth{
		Cluster:   eks.ClusterInfo{Name: "prod", Status: "ACTIVE"},
		Instances: []eks.Instance{{ID: f.instance, PrivateDNSName: pod.Spec.NodeName, State: "running", SSMPingStatus: "ConnectionLost"}},
		Unhealthy: []eks.Problem{{Subject: "instance/" + f.instance, Why: "SSM agent ConnectionLost: collect cannot run on it"}},
	}}
	fk := kubetest.New(objs...)
	f.cs = connect(t, Options{Clusters: fakeClusters{name: "prod", client: fk.Client}, AWS: aws})

	var h ClusterHealthOut
	f.call(t, "cluster_health", map[string]any{"cluster_name": "prod"}, &h, false)
	subjects := map[string]string{}
	for _, p := range h.Unhealthy {
		subjects[p.Subject] = p.Why
	}
	if why := subjects["node/"+pod.Spec.NodeName]; !strings.Contains(why, "KubeletNotReady") || !strings.Contains(why, "ConnectionLost") {
		t.Errorf("node %s: why %q, want the kubelet's reason and the SSM status", pod.Spec.NodeName, why)
	}
	if _, ok := subjects["instance/"+f.instance]; !ok || len(h.Nodes) != 1 || h.AWS == nil {
		t.Errorf("unhealthy %v, %d nodes, aws %v: want the AWS problem kept and both views", subjects, len(h.Nodes), h.AWS != nil)
	}

	// An unknown cluster on the AWS side still gets the nodes' view, with the AWS error as a gap.
	var partial ClusterHealthOut
	f.call(t, "cluster_health", map[string]any{"clusterName": ""}, &partial, false)
	if partial.AWS != nil || len(partial.Nodes) != 1 || len(partial.Gaps) == 0 || !strings.Contains(strings.Join(partial.Gaps, " "), "clusterName") {
		t.Errorf("no cluster name: aws %v nodes %d gaps %v, want the nodes' view and a gap naming clusterName", partial.AWS, len(partial.Nodes), partial.Gaps)
	}

	if msg := unlisted(t, Options{}, "cluster_health"); !strings.Contains(msg, "kubernetes: serve --kubeconfig") {
		t.Errorf("cluster_health without AWS or cluster: instructions %q", msg)
	}
}

func TestCloudWatchLogs(t *testing.T) {
	aws := &fakeClusterAWS{name: "prod"}
	f := &fixture{cs: connect(t, Options{AWS: aws})}
	var out CloudWatchOut
	f.call(t, "get_cloudwatch_logs", map[string]any{"clusterName": "prod", "resource_type": "cluster", "log_type": "control-plane",
		"filter_pattern": "OOMKilled", "end_time": "2026-11-25T10:00:00Z", "minutes": 30, "limit": 5}, &out, false)
	if len(aws.reqs) != 1 {
		t.Fatalf("%d log requests", len(aws.reqs))
	}
	r := aws.reqs[0]
	wantEnd := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	start, end := r.Window(time.Now())
	if r.ClusterName != "prod" || r.LogType != "control-plane" || r.FilterPattern != "OOMKilled" || r.Limit != 5 ||
		!end.Equal(wantEnd) || !start.Equal(wantEnd.Add(-30*time.Minute)) {
		t.Errorf("request %+v, want prod control-plane OOMKilled limit 5 over 09:30–10:00", r)
	}
	if len(out.Events) != 1 || out.Cluster != "prod" {
		t.Errorf("answer %+v", out)
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"clusterName": "prod", "resource_type": "pod"}, "get_pod_logs"},
		{map[string]any{"clusterName": "prod", "start_time": "yesterday"}, "RFC 3339"},
		{map[string]any{"clusterName": "prod", "start_time": "2026-11-25T10:00:00Z", "end_time": "2026-11-25T09:00:00Z"}, "not before"},
		{map[string]any{"log_type": "audit"}, "clusterName is required"},
	} {
		if msg := f.call(t, "get_cloudwatch_logs", tc.args, nil, true); !strings.Contains(msg, tc.want) {
			t.Errorf("get_cloudwatch_logs(%v): %q, want %q", tc.args, msg, tc.want)
		}
	}
	if msg := unlisted(t, Options{}, "get_cloudwatch_logs"); !strings.Contains(msg, "aws: AWS credentials") {
		t.Errorf("without AWS: instructions %q", msg)
	}
}
