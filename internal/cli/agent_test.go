package cli

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

func TestAgentNeedsANode(t *testing.T) {
	t.Setenv("NODE_NAME", "")
	_, e, code := run(t, "--store", t.TempDir(), "agent")
	if code != ExitUsage || !strings.Contains(e, "--node") {
		t.Errorf("agent without a node: exit %d, %q; want %d naming --node", code, e, ExitUsage)
	}
}

// TestAgentTakesEveryBucket: `nodediag agent` links every bucket driver, so the refusal
// nodediag-agent gives a gs:// store is not its; it goes on to the kubeconfig.
func TestAgentTakesEveryBucket(t *testing.T) {
	_, e, code := run(t, "--store", "gs://nodediag-store", "agent", "--node", "n1", "--kubeconfig", "/dev/null")
	if code == ExitUsage || strings.Contains(e, "driver") || !strings.Contains(e, "kubeconfig") {
		t.Errorf("nodediag agent with a gs:// store: exit %d, %q; want it past the store check, at the kubeconfig", code, e)
	}
}

// TestDiagnoseOnAgentSnapshot: diagnose on the agent's snapshot, with no cluster to read, names
// the snapshot and takes the pod's status from it (the pod is gone with its node).
func TestDiagnoseOnAgentSnapshot(t *testing.T) {
	truth, err := scenario.ReadTruth("../../testdata/example/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	podJSON, err := os.ReadFile("../../testdata/example/pod.json")
	if err != nil {
		t.Fatal(err)
	}
	quiet := func(context.Context, string, ...string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("-- No entries --\n")), nil
	}
	at := time.Date(2026, 11, 20, 10, 29, 0, 0, time.UTC)
	res, err := gather.Local(context.Background(), t.TempDir(), gather.LocalOptions{
		Root: t.TempDir(), Run: quiet, Now: func() time.Time { return at }, Method: gather.MethodAgent, InstanceID: exampleInstance,
		Extra:   []gather.ExtraFile{{Path: "nodediag/pod.json", Source: "test", Data: podJSON}},
		Trigger: &gather.Trigger{Reason: "restart", Namespace: truth.Namespace, Pod: truth.Pod, Container: truth.Container, RestartCount: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := st.Import(context.Background(), res.Dir, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := imp.Entry.Manifest.ID
	t.Setenv("KUBECONFIG", "")
	out, e, code := run(t, "--store", dir, "diagnose", "--instance", exampleInstance, "--pod", truth.Namespace+"/"+truth.Pod, "-o", "json")
	if code != 0 {
		t.Fatalf("diagnose: exit %d: %s", code, e)
	}
	var d struct {
		ExitCode *int     `json:"exit_code"`
		Gaps     []string `json:"gaps"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	gaps := strings.Join(d.Gaps, "\n")
	if !strings.Contains(gaps, "agent's snapshot "+id) || !strings.Contains(gaps, "as the agent saved them") {
		t.Errorf("gaps do not name the snapshot %s and the pod status it gave:\n%s", id, gaps)
	}
	if d.ExitCode == nil || *d.ExitCode != truth.ExitCode {
		t.Errorf("exit code %v, want %d from the pod status the snapshot saved", d.ExitCode, truth.ExitCode)
	}
}
