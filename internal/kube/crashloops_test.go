package kube

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func podOn(ns, name, node string, waiting string, init bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node}}
	s := corev1.ContainerStatus{Name: "c"}
	if waiting != "" {
		s.State.Waiting = &corev1.ContainerStateWaiting{Reason: waiting}
	}
	if init {
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{s}
	} else {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{s}
	}
	return p
}

func TestCrashLoopsAcrossTheCluster(t *testing.T) {
	cs := fake.NewSimpleClientset(
		podOn("shop", "api-1", "node-a", "CrashLoopBackOff", false),
		podOn("shop", "api-2", "node-b", "", false),
		podOn("web", "ui-0", "node-c", "CrashLoopBackOff", true), // an init container backing off
		podOn("web", "ui-1", "node-c", "ImagePullBackOff", false),
	)
	loops, truncated, err := NewClientFrom(cs).CrashLoops(context.Background())
	if err != nil || truncated {
		t.Fatalf("CrashLoops: %v, truncated %v", err, truncated)
	}
	want := []CrashLoop{{Namespace: "shop", Name: "api-1", Node: "node-a"}, {Namespace: "web", Name: "ui-0", Node: "node-c"}}
	if d := cmp.Diff(want, loops); d != "" {
		t.Errorf("crash loops (-want +got):\n%s", d)
	}
}
