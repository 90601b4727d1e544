package mcpserver

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodediag/nodediag/internal/kube"
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

// exampleCluster is a fake cluster holding the example bundle's pod, its events and its node,
// whose providerID names the instance the bundle was collected from.
func exampleCluster(t *testing.T, instance string) (*fake.Clientset, *corev1.Pod) {
	t.Helper()
	pod, err := kube.LoadPodFile("../../testdata/example/pod.json")
	if err != nil {
		t.Fatal(err)
	}
	events, err := kube.LoadEventsFile("../../testdata/example/events.json")
	if err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: pod.Spec.NodeName},
		Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/" + instance}}
	objs := []runtime.Object{pod, node}
	for i := range events {
		objs = append(objs, &events[i])
	}
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
