package mcpserver

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/store"
)

// agentSnapshot stores a capture agent's snapshot of the example pod's node, taken at the given
// time: the pod's status as gather.Local writes it for the agent, and no journal (the node
// printed none), which is enough to tell which bundle a diagnosis read.
func agentSnapshot(t *testing.T, st *store.Store, instance string, at time.Time) string {
	t.Helper()
	pod, err := kube.LoadPodFile("../../testdata/example/pod.json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	quiet := func(context.Context, string, ...string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("-- No entries --\n")), nil
	}
	code := int32(137)
	res, err := gather.Local(context.Background(), t.TempDir(), gather.LocalOptions{
		Root: t.TempDir(), Run: quiet, Now: func() time.Time { return at }, Method: gather.MethodAgent,
		InstanceID: instance, NodeName: pod.Spec.NodeName,
		Extra: []gather.ExtraFile{{Path: "nodediag/pod.json", Source: "test", Data: data}},
		Trigger: &gather.Trigger{Reason: "restart", Namespace: pod.Namespace, Pod: pod.Name, PodUID: string(pod.UID),
			Container: pod.Spec.Containers[0].Name, RestartCount: 4, ExitCode: &code, CrashedAt: at.Add(-time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := st.Import(context.Background(), res.Dir, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return imp.Entry.Manifest.ID
}

// TestDiagnoseUsesTheAgentSnapshot: with no collected bundle of the pod's node, diagnose_crashloop
// reads the agent's snapshot and says so; a collected bundle newer than the snapshot wins.
func TestDiagnoseUsesTheAgentSnapshot(t *testing.T) {
	f := newFixture(t)
	cs, pod := exampleCluster(t, f.instance)
	clusters := fakeClusters{name: "prod", client: kube.NewClientFrom(cs)}
	args := map[string]any{"clusterName": "prod", "namespace": pod.Namespace, "pod": pod.Name}

	only, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := agentSnapshot(t, only, f.instance, time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC))
	f.cs = connect(t, Options{Store: only, Clusters: clusters})
	var d DiagnoseOut
	f.call(t, "diagnose_crashloop", args, &d, false)
	if d.Bundle.BundleID != id {
		t.Fatalf("diagnosed bundle %s, want the agent's snapshot %s", d.Bundle.BundleID, id)
	}
	named := false
	for _, g := range d.Gaps {
		if strings.Contains(g, "agent's snapshot "+id) && strings.Contains(g, pod.Namespace+"/"+pod.Name) {
			named = true
		}
	}
	if !named {
		t.Errorf("no gap names the snapshot %s: %q", id, d.Gaps)
	}

	// The collector's bundle, taken at 10:30, is newer than a snapshot of 10:20.
	both, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	agentSnapshot(t, both, f.instance, time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC))
	full, err := both.Import(context.Background(), exampleArchive, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.cs = connect(t, Options{Store: both, Clusters: clusters})
	d = DiagnoseOut{}
	f.call(t, "diagnose_crashloop", args, &d, false)
	if d.Bundle.BundleID != full.Entry.Manifest.ID {
		t.Errorf("diagnosed bundle %s, want the collected %s", d.Bundle.BundleID, full.Entry.Manifest.ID)
	}
	for _, g := range d.Gaps {
		if strings.Contains(g, "agent's snapshot") {
			t.Errorf("a diagnosis of the collected bundle names a snapshot: %q", g)
		}
	}
}
