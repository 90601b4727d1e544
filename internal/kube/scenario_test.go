package kube_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
	"github.com/nodediag/nodediag/internal/scenario"
)

// TestScenariosThroughTheTools serves each scenario's pod.json and events.json from a fake
// cluster and reads them back through the tools an agent calls in the K3 SOP's Phase 1: the
// exit code they show is the scenario's truth, and the events come newest first.
func TestScenariosThroughTheTools(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := scenario.Write(dir, s, s.Layout, scenario.Options{NoiseLines: 1}); err != nil {
				t.Fatal(err)
			}
			truth, err := scenario.ReadTruth(filepath.Join(dir, "truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			pod, err := kube.LoadPodFile(filepath.Join(dir, "pod.json"))
			if err != nil {
				t.Fatal(err)
			}
			events, err := kube.LoadEventsFile(filepath.Join(dir, "events.json"))
			if err != nil {
				t.Fatal(err)
			}
			objs := []runtime.Object{pod}
			podEvents := 0
			for i := range events {
				if events[i].Namespace == "" {
					events[i].Namespace = pod.Namespace
				}
				if events[i].Name == "" {
					events[i].Name = pod.Name + "." + events[i].Reason + "." + string(rune('a'+i%26))
				}
				o := events[i].InvolvedObject
				if o.Kind == "Pod" && o.Name == pod.Name && (o.Namespace == "" || o.Namespace == pod.Namespace) {
					podEvents++
				}
				objs = append(objs, &events[i])
			}
			f := kubetest.New(objs...)
			ctx := context.Background()

			list, err := f.Client.ListResources(ctx, kube.ListRequest{Kind: "pods", Namespace: pod.Namespace})
			if err != nil || len(list.Items) != 1 {
				t.Fatalf("list: %v, %v", list, err)
			}
			row := list.Items[0]
			if truth.Container != "" && truth.RootCause != "none" {
				if lt := row.LastTermination; lt == nil || int(lt.ExitCode) != truth.ExitCode || lt.Container != truth.Container {
					t.Errorf("row last termination %+v; truth: container %s exit %d", lt, truth.Container, truth.ExitCode)
				}
			}

			obj, err := f.Client.ReadResource(ctx, "Pod", "v1", pod.Namespace, pod.Name)
			if err != nil {
				t.Fatal(err)
			}
			var back corev1.Pod
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &back); err != nil {
				t.Fatal(err)
			}
			if truth.Container != "" && truth.RootCause != "none" {
				if term := kube.Terminated(kube.Status(&back, truth.Container)); term == nil || int(term.ExitCode) != truth.ExitCode {
					t.Errorf("read_k8s_resource terminated %+v, truth exit %d", term, truth.ExitCode)
				}
			}

			evs, err := f.Client.Events(ctx, kube.EventsRequest{Kind: "Pod", Name: pod.Name, Namespace: pod.Namespace, Limit: kube.MaxEventLimit})
			if err != nil {
				t.Fatal(err)
			}
			if evs.Total != podEvents || len(evs.Items) != podEvents {
				t.Errorf("%d events (total %d), events.json holds %d of the pod", len(evs.Items), evs.Total, podEvents)
			}
			for i := 1; i < len(evs.Items); i++ {
				prev, _ := time.Parse(time.RFC3339, evs.Items[i-1].Last)
				cur, _ := time.Parse(time.RFC3339, evs.Items[i].Last)
				if cur.After(prev) {
					t.Errorf("event %d (%s) is newer than event %d (%s)", i, evs.Items[i].Last, i-1, evs.Items[i-1].Last)
				}
			}
		})
	}
}
