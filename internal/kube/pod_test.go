package kube

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod builds a pod with containers named by names and the given statuses.
func pod(names []string, statuses ...corev1.ContainerStatus) *corev1.Pod {
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "shop"}, Spec: corev1.PodSpec{NodeName: "node-a"}}
	for _, n := range names {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
	}
	p.Status.ContainerStatuses = statuses
	return p
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePod(t *testing.T) {
	one := pod([]string{"api"})
	other := pod([]string{"db"})
	other.Name = "db-0"
	list := func(items ...any) []byte {
		return mustJSON(t, map[string]any{"kind": "List", "apiVersion": "v1", "items": items})
	}
	tests := []struct {
		name    string
		data    []byte
		want    string // pod name; empty when an error is expected
		wantErr bool
	}{
		{"a pod", mustJSON(t, one), "api-1", false},
		{"a list of one pod", list(one), "api-1", false},
		{"a list of two pods", list(one, other), "", true},
		{"an empty list", list(), "", true},
		{"an event list", mustJSON(t, corev1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList"}}), "", true},
		{"not JSON", []byte("apiVersion: v1\nkind: Pod\n"), "", true},
		{"a pod without a name", []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{}}`), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePod(tt.data)
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrInput) {
					t.Fatalf("ParsePod = %v, %v; want an ErrInput error", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tt.want {
				t.Fatalf("pod name %q, want %q", p.Name, tt.want)
			}
		})
	}
}

func TestParseEvents(t *testing.T) {
	ev := corev1.Event{TypeMeta: metav1.TypeMeta{Kind: "Event"}, Reason: "BackOff"}
	tests := []struct {
		name    string
		data    []byte
		reasons []string
		wantErr bool
	}{
		{"an event list", mustJSON(t, corev1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList"}, Items: []corev1.Event{ev, ev}}), []string{"BackOff", "BackOff"}, false},
		{"one event", mustJSON(t, ev), []string{"BackOff"}, false},
		{"an empty list", []byte(`{"kind":"EventList","items":[]}`), nil, false},
		{"a pod", mustJSON(t, pod([]string{"api"})), nil, true},
		{"a list holding a pod", mustJSON(t, map[string]any{"kind": "List", "items": []any{pod([]string{"api"})}}), nil, true},
		{"garbage", []byte("{"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvents(tt.data)
			if tt.wantErr {
				if !errors.Is(err, ErrInput) {
					t.Fatalf("ParseEvents err = %v, want ErrInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, e := range got {
				reasons = append(reasons, e.Reason)
			}
			if !slices.Equal(reasons, tt.reasons) {
				t.Fatalf("reasons %v, want %v", reasons, tt.reasons)
			}
		})
	}
}

func TestPickContainer(t *testing.T) {
	waiting := func(name, reason string, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, RestartCount: restarts,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
	}
	tests := []struct {
		name    string
		p       *corev1.Pod
		ask     string
		want    string
		wantErr bool
	}{
		{"named", pod([]string{"api", "proxy"}), "proxy", "proxy", false},
		{"named but absent", pod([]string{"api"}), "nope", "", true},
		{"the crash-looping one beats more restarts", pod([]string{"api", "proxy"}, waiting("api", "CrashLoopBackOff", 2), waiting("proxy", "", 9)), "", "api", false},
		{"most restarts", pod([]string{"api", "proxy"}, waiting("api", "", 1), waiting("proxy", "", 4)), "", "proxy", false},
		{"the only container", pod([]string{"api"}), "", "api", false},
		{"two quiet containers", pod([]string{"api", "proxy"}), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PickContainer(tt.p, tt.ask)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("PickContainer = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestEventsFor(t *testing.T) {
	p := pod([]string{"api", "proxy"})
	ev := func(kind, name, fieldPath, reason string) corev1.Event {
		return corev1.Event{Reason: reason, InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: "shop", FieldPath: fieldPath}}
	}
	all := []corev1.Event{
		ev("Pod", "api-1", "spec.containers{api}", "BackOff"),
		ev("Pod", "api-1", "spec.containers{proxy}", "Pulled"),
		ev("Pod", "api-1", "", "Scheduled"),
		ev("Pod", "other", "spec.containers{api}", "BackOff-other"),
		ev("Node", "node-a", "", "SystemOOM"),
		ev("Node", "node-b", "", "NodeNotReady"),
	}
	var got []string
	for _, e := range EventsFor(all, p, "api") {
		got = append(got, e.Reason)
	}
	if want := []string{"BackOff", "Scheduled", "SystemOOM"}; !slices.Equal(got, want) {
		t.Fatalf("EventsFor = %v, want %v", got, want)
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	pp := filepath.Join(dir, "pod.json")
	if err := os.WriteFile(pp, mustJSON(t, pod([]string{"api"})), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := LoadPodFile(pp); err != nil || p.Name != "api-1" {
		t.Fatalf("LoadPodFile = %v, %v", p, err)
	}
	if _, err := LoadPodFile(filepath.Join(dir, "absent.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadPodFile of a missing file: %v, want ErrNotExist", err)
	}
	if _, err := LoadEventsFile(pp); !errors.Is(err, ErrInput) {
		t.Fatalf("LoadEventsFile of a pod: %v, want ErrInput", err)
	}
}
