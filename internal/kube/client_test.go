package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func TestInstanceID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"aws:///us-west-2a/i-0a1b2c3d4e5f60718", "i-0a1b2c3d4e5f60718"},
		{"aws:///i-0abc", "i-0abc"},
		{"aws:///us-west-2a/fargate-ip-10-0-1-2", ""},
		{"gce://project/zone/vm-1", ""},
		{"", ""},
		{"aws:///us-west-2a/i-", ""},
	}
	for _, tt := range tests {
		if got := InstanceID(tt.in); got != tt.want {
			t.Errorf("InstanceID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClientFetch(t *testing.T) {
	p := pod([]string{"api"}, corev1.ContainerStatus{Name: "api", RestartCount: 4,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}})
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}, Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/i-0123456789abcdef0"}}
	mine := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: "shop"}, Reason: "BackOff",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-1", Namespace: "shop", FieldPath: "spec.containers{api}"}}
	other := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e2", Namespace: "shop"}, Reason: "Pulled",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", Namespace: "shop"}}

	tests := []struct {
		name     string
		objects  []runtime.Object
		wantErr  bool
		instance string
		events   []string
		gap      string
	}{
		{"pod, events and node", []runtime.Object{p, node, mine, other}, false, "i-0123456789abcdef0", []string{"BackOff"}, ""},
		{"node gone", []runtime.Object{p, mine}, false, "", []string{"BackOff"}, "node node-a no longer exists"},
		{"no pod", []runtime.Object{node}, true, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(tt.objects...)
			info, err := NewClientFrom(cs).Fetch(context.Background(), "shop", "api-1", "")
			if tt.wantErr {
				if err == nil {
					t.Fatal("Fetch of a missing pod succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Container != "api" || info.InstanceID != tt.instance || info.NodeName != "node-a" {
				t.Errorf("container %q instance %q node %q; want api, %q, node-a", info.Container, info.InstanceID, info.NodeName, tt.instance)
			}
			var reasons []string
			for _, e := range info.Events {
				reasons = append(reasons, e.Reason)
			}
			if strings.Join(reasons, ",") != strings.Join(tt.events, ",") {
				t.Errorf("events %v, want %v", reasons, tt.events)
			}
			// The fake serves "fake logs" for any pod log request.
			if info.PreviousLog == "" {
				t.Errorf("previous log not read; gaps %q", info.Gaps)
			}
			if tt.gap != "" && !strings.Contains(strings.Join(info.Gaps, "\n"), tt.gap) {
				t.Errorf("gaps %q lack %q", info.Gaps, tt.gap)
			}
		})
	}
	if _, err := NewClientFrom(fake.NewClientset()).Fetch(context.Background(), "", "api-1", ""); err == nil {
		t.Error("Fetch without a namespace succeeded")
	}
}

func TestNewClientKubeconfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	const kc = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: one
  context: {cluster: c, user: u}
current-context: one
`
	if err := os.WriteFile(cfg, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(cfg, ""); err != nil {
		t.Errorf("current context: %v", err)
	}
	if _, err := NewClient(cfg, "one"); err != nil {
		t.Errorf("named context: %v", err)
	}
	if _, err := NewClient(cfg, "absent"); err == nil {
		t.Error("a context the kubeconfig lacks was accepted")
	}
	if _, err := NewClient(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("a missing kubeconfig was accepted")
	}
}
