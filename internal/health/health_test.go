package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
)

type awsView struct{ h *eks.ClusterHealth }

func (a awsView) ClusterHealth(_ context.Context, name string) (*eks.ClusterHealth, error) {
	if a.h == nil || name != a.h.Cluster.Name {
		return nil, fmt.Errorf("%w: %q", eks.ErrClusterNotFound, name)
	}
	return a.h, nil
}

type kubeView struct {
	c   *kube.Client
	err error
}

func (k kubeView) Client(context.Context, string) (*kube.Client, error) { return k.c, k.err }

func node(name, instance string, ready corev1.ConditionStatus, reason string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/" + instance},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, Reason: reason}}}}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	const sick, well = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"
	cluster := kubetest.New(node("ip-10-0-0-1", sick, corev1.ConditionFalse, "KubeletNotReady"), node("ip-10-0-0-2", well, corev1.ConditionTrue, "KubeletReady"))
	aws := awsView{&eks.ClusterHealth{Cluster: eks.ClusterInfo{Name: "prod", Status: "ACTIVE"},
		Instances: []eks.Instance{{ID: sick, State: "running", SSMPingStatus: "ConnectionLost"}, {ID: well, State: "running", SSMPingStatus: "Online"}},
		Unhealthy: []eks.Problem{{Subject: "instance/" + sick, Why: "SSM ConnectionLost"}}}}

	r, err := Check(ctx, "prod", aws, kubeView{c: cluster.Client})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range r.Unhealthy {
		got[p.Subject] = p.Why
	}
	if len(got) != 2 || !strings.Contains(got["node/ip-10-0-0-1"], "KubeletNotReady") || !strings.Contains(got["node/ip-10-0-0-1"], "SSM ConnectionLost") {
		t.Errorf("unhealthy %v: want the AWS problem and node ip-10-0-0-1 with its kubelet reason and SSM status", got)
	}
	if len(r.Gaps) != 0 {
		t.Errorf("gaps %v with both views read", r.Gaps)
	}

	// One view failing is a gap; both failing is an error naming both.
	r, err = Check(ctx, "prod", aws, kubeView{err: errors.New("no kubeconfig context for the cluster")})
	if err != nil || len(r.Gaps) != 1 || !strings.Contains(r.Gaps[0], "kubeconfig") || len(r.Unhealthy) != 1 {
		t.Errorf("kube view failing: %v %+v", err, r)
	}
	if _, err := Check(ctx, "staging", aws, kubeView{err: errors.New("no kubeconfig context")}); err == nil ||
		!strings.Contains(err.Error(), "staging") || !strings.Contains(err.Error(), "kubeconfig") {
		t.Errorf("both failing: %v", err)
	}
	if _, err := Check(ctx, "prod", nil, nil); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("no views: %v", err)
	}
}
