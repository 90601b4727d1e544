package diagnose_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/workload"
)

// TestPeerEscalations: other nodes' signatures escalate the diagnosis only when they are the
// target's workload and container: the same class as widespread, another class as the
// multi-node guardrail; another namespace's or workload's crash loops add nothing.
func TestPeerEscalations(t *testing.T) {
	s, _ := scenario.Lookup("container-oom-v2")
	dir := t.TempDir()
	_, idx, truth := scenariotest.Import(t, dir, s, scenario.AL2023)
	owner := workload.Infer(truth.Pod)
	own := owner.Name
	for _, c := range []struct {
		name  string
		peers []diagnose.Peer
		want  []string // substrings of the fleet escalations, in order; none: no fleet escalation
	}{
		{"same signature", []diagnose.Peer{{Namespace: truth.Namespace, Workload: own, Container: truth.Container, Class: truth.RootCause, Nodes: []string{"i-0b", "i-0a"}}},
			[]string{"the same signature (workload " + owner.String() + " container " + truth.Container + " class " + truth.RootCause + ") is on 2 other nodes: i-0a, i-0b"}},
		{"another class", []diagnose.Peer{{Namespace: truth.Namespace, Workload: own, Container: truth.Container, Class: "app_error", Nodes: []string{"i-0c"}}},
			[]string{"also crash-loops on 1 other node, as app_error: i-0c"}},
		{"another namespace", []diagnose.Peer{{Namespace: "elsewhere", Workload: own, Container: truth.Container, Class: truth.RootCause, Nodes: []string{"i-0d"}}}, nil},
		{"another workload", []diagnose.Peer{{Namespace: truth.Namespace, Workload: "other", Container: truth.Container, Class: truth.RootCause, Nodes: []string{"i-0e"}}}, nil},
		{"another container", []diagnose.Peer{{Namespace: truth.Namespace, Workload: own, Container: "sidecar", Class: truth.RootCause, Nodes: []string{"i-0f"}}}, nil},
	} {
		d, err := diagnose.Diagnose(context.Background(), idx, diagnose.Input{Namespace: truth.Namespace, Pod: truth.Pod, Peers: c.peers})
		if err != nil {
			t.Fatal(err)
		}
		var fleet []string
		for _, e := range d.Escalation {
			if strings.Contains(e, "other node") {
				fleet = append(fleet, e)
			}
		}
		if len(fleet) != len(c.want) {
			t.Errorf("%s: fleet escalations %q, want %d", c.name, fleet, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(fleet[i], w) {
				t.Errorf("%s: %q lacks %q", c.name, fleet[i], w)
			}
		}
	}

	// With the pod from the API, its controller reference names the workload, not its name.
	pod, err := kube.LoadPodFile(filepath.Join(dir, "src", "pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	pod.OwnerReferences = []metav1.OwnerReference{{Kind: "DaemonSet", Name: "shop-agent", Controller: &yes}}
	peers := []diagnose.Peer{{Namespace: truth.Namespace, Workload: "shop-agent", Container: truth.Container, Class: truth.RootCause, Nodes: []string{"i-0a"}}}
	d, err := diagnose.Diagnose(context.Background(), idx, diagnose.Input{PodStatus: pod, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(d.Escalation, func(e string) bool {
		return strings.Contains(e, "(workload DaemonSet/shop-agent container "+truth.Container)
	}) {
		t.Errorf("with an ownerReference: escalations %q, want the DaemonSet's signature on i-0a", d.Escalation)
	}
}
