package mcpserver

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/store"
)

// TestScenariosThroughCluster diagnoses every scenario the way an agent with cluster access
// does: diagnose_crashloop(namespace, pod) without instanceId, on a fake cluster holding the
// scenario's pod (its lastState.terminated as the generator wrote it), events and node. The answer
// must come from the node's bundle (found through the node's providerID) and match the truth.
func TestScenariosThroughCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: imports every scenario")
	}
	for _, sc := range scenario.All() {
		t.Run(sc.Name, func(t *testing.T) {
			dir := t.TempDir()
			e, _, truth := scenariotest.Import(t, dir, sc, sc.Layout)
			if truth.Pod == "" {
				t.Skip("no crash-looping pod in this scenario")
			}
			pod, err := kube.LoadPodFile(filepath.Join(dir, "src", "pod.json"))
			if err != nil {
				t.Fatal(err)
			}
			events, err := kube.LoadEventsFile(filepath.Join(dir, "src", "events.json"))
			if err != nil {
				t.Fatal(err)
			}
			objs := []runtime.Object{pod, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: pod.Spec.NodeName},
				Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2b/" + e.Manifest.InstanceID}}}
			for i := range events {
				objs = append(objs, &events[i])
			}
			st, err := store.Open(filepath.Join(dir, "store"), nil)
			if err != nil {
				t.Fatal(err)
			}
			f := &fixture{cs: connect(t, Options{Store: st, Clusters: fakeClusters{name: "prod", client: kubetest.New(objs...).Client}})}

			var l ListK8sOut
			f.call(t, "list_k8s_resources", map[string]any{"clusterName": "prod", "kind": "po", "namespace": truth.Namespace}, &l, false)
			if truth.RootCause != "none" {
				if len(l.Items) != 1 || l.Items[0].LastTermination == nil || int(l.Items[0].LastTermination.ExitCode) != truth.ExitCode {
					t.Errorf("list pods: %+v, want %s with last exit %d", l.Items, truth.Pod, truth.ExitCode)
				}
			}

			var d DiagnoseOut
			f.call(t, "diagnose_crashloop", map[string]any{"cluster_name": "prod", "namespace": truth.Namespace, "pod": truth.Pod}, &d, false)
			if d.Bundle.InstanceID != e.Manifest.InstanceID {
				t.Errorf("diagnosed instance %s, want the pod's node's %s", d.Bundle.InstanceID, e.Manifest.InstanceID)
			}
			want := map[string]string{"none": "", "sigterm": "app_error", "kubelet_oom": "node_oom"}[truth.RootCause]
			if _, mapped := map[string]bool{"none": true, "sigterm": true, "kubelet_oom": true}[truth.RootCause]; !mapped {
				want = truth.RootCause
			}
			// client-go's fake serves "fake logs" as every container's log, so a cause that only
			// the container's own output states cannot be found through it.
			if d.Class != want && truth.NodeLogsRootCause == "" {
				t.Errorf("class %q, want %q (truth %s): %s", d.Class, want, truth.RootCause, d.RootCause)
			}
			if truth.RootCause != "none" && (d.ExitCode == nil || *d.ExitCode != truth.ExitCode) {
				t.Errorf("exit code %v, want %d", d.ExitCode, truth.ExitCode)
			}
		})
	}
}

// TestClusterWideEscalation: diagnose_crashloop escalates "pods on multiple nodes" only when the
// cluster shows crash loops on other nodes, never for other pods backing off on the same node.
func TestClusterWideEscalation(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: imports a scenario")
	}
	sc, _ := scenario.Lookup("busy-node-crashloops")
	for _, tc := range []struct {
		name      string
		elsewhere bool
	}{{"same node only", false}, {"other nodes too", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e, _, truth := scenariotest.Import(t, dir, sc, sc.Layout)
			pod, err := kube.LoadPodFile(filepath.Join(dir, "src", "pod.json"))
			if err != nil {
				t.Fatal(err)
			}
			objs := []runtime.Object{pod, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: pod.Spec.NodeName},
				Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2b/" + e.Manifest.InstanceID}}}
			node := pod.Spec.NodeName
			others := []string{node, node}
			if tc.elsewhere {
				others = []string{"ip-10-0-88-1.us-west-2.compute.internal", "ip-10-0-91-7.us-west-2.compute.internal"}
			}
			for i, n := range others {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "crasher-" + string(rune('a'+i))}, Spec: corev1.PodSpec{NodeName: n},
					Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "c",
						State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}}}
				objs = append(objs, p)
			}
			st, err := store.Open(filepath.Join(dir, "store"), nil)
			if err != nil {
				t.Fatal(err)
			}
			f := &fixture{cs: connect(t, Options{Store: st, Clusters: fakeClusters{name: "prod", client: kubetest.New(objs...).Client}})}
			var d DiagnoseOut
			f.call(t, "diagnose_crashloop", map[string]any{"cluster_name": "prod", "namespace": truth.Namespace, "pod": truth.Pod}, &d, false)
			escalated := false
			for _, x := range d.Escalation {
				escalated = escalated || strings.Contains(x, "possible cluster-wide issue")
			}
			if escalated != tc.elsewhere {
				t.Errorf("cluster-wide escalation %v, want %v: %q", escalated, tc.elsewhere, d.Escalation)
			}
		})
	}
}
