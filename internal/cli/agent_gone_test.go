package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodediag/nodediag/internal/agentcmd"
	"github.com/nodediag/nodediag/internal/agentcmd/apitest"
	"github.com/nodediag/nodediag/internal/journal/journaltest"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/scenario"
)

// TestDiagnoseAfterTheNodeIsGone is issue 18's promise end to end, through both binaries'
// commands: nodediag-agent on a node whose container crash-loops (a real journal file under the
// host root, the container's logs, an API server) publishes a snapshot to a bucket; then the
// node goes — its disk, the agent's cache, the pod and the cluster's view of it — and
// `nodediag diagnose`, on another machine with an empty cache and no cluster, finds the
// snapshot in the bucket, says it used it, and gives the scenario's class and exit code.
func TestDiagnoseAfterTheNodeIsGone(t *testing.T) {
	s, ok := scenario.Lookup("container-oom-v2")
	if !ok {
		t.Fatal("no scenario container-oom-v2")
	}
	dir := t.TempDir()
	_, err := scenario.Write(filepath.Join(dir, "scenario"), s, scenario.Bottlerocket, scenario.Options{NoiseLines: 300})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := scenario.ReadTruth(filepath.Join(dir, "scenario", "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	pod, err := kube.LoadPodFile(filepath.Join(dir, "scenario", "pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	pod.TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	pod.Spec.NodeName = apitest.Node
	pod.ResourceVersion = "9"

	// The node: the journal systemd-journal-remote wrote from this scenario's node journal
	// (internal/agent/testdata/README.md) and the container's logs.
	host := filepath.Join(dir, "host")
	put := func(rel string, data []byte) {
		t.Helper()
		p := filepath.Join(host, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("var/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4/system.journal", journaltest.Unzstd(t, "../agent/testdata/container-oom-v2.journal.zst"))
	logs := fmt.Sprintf("var/log/pods/%s_%s_%s/%s/", pod.Namespace, pod.Name, pod.UID, truth.Container)
	put(logs+"0.log", []byte("2026-11-20T10:24:00.1Z stdout F starting\n"))
	put(logs+"1.log", []byte("2026-11-20T10:26:00.1Z stdout F starting again\n"))

	api := httptest.NewServer(&apitest.Server{Pods: []corev1.Pod{*pod}})
	defer api.Close()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := apitest.WriteKubeconfig(kubeconfig, api.URL); err != nil {
		t.Fatal(err)
	}
	bucketDir := filepath.Join(dir, "bucket")
	if err := os.MkdirAll(bucketDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bucket := "file://" + filepath.ToSlash(bucketDir)
	nodeCache := filepath.Join(dir, "node-cache")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var agentLog bytes.Buffer
	go func() {
		done <- agentcmd.Main(ctx, []string{"--node", apitest.Node, "--store", bucket, "--cache", nodeCache,
			"--kubeconfig", kubeconfig, "--host-root", host, "--work-dir", t.TempDir(), "--settle", "-1s",
			"--imds", "", "--node-poll", "-1s", "--window", "24h", "--log-level", "info"}, &bytes.Buffer{}, &agentLog)
	}()
	var markers []string
	for deadline := time.Now().Add(30 * time.Second); len(markers) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		markers, _ = filepath.Glob(filepath.Join(bucketDir, "published", "*", "*.json"))
	}
	cancel()
	if code := <-done; code != agentcmd.ExitOK {
		t.Errorf("nodediag-agent: exit %d:\n%s", code, agentLog.String())
	}
	if len(markers) != 1 {
		t.Fatalf("%d snapshots published to the bucket, want 1; the agent's log:\n%s", len(markers), agentLog.String())
	}

	// The node is gone, and with it the agent's cache and the pod: no cluster to ask.
	for _, gone := range []string{host, nodeCache} {
		if err := os.RemoveAll(gone); err != nil {
			t.Fatal(err)
		}
	}
	api.Close()
	t.Setenv("KUBECONFIG", filepath.Join(dir, "no-kubeconfig"))
	instance := filepath.Base(filepath.Dir(markers[0]))
	if instance != apitest.Instance {
		t.Errorf("snapshot published under %s, want the node's instance %s (from its providerID)", instance, apitest.Instance)
	}
	var out, errb bytes.Buffer
	code := MainIO(context.Background(), []string{"--store", bucket, "--cache", filepath.Join(dir, "laptop-cache"),
		"diagnose", "--instance", instance, "--pod", truth.Namespace + "/" + truth.Pod, "-o", "json"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("diagnose: exit %d: %s", code, errb.String())
	}
	var d struct {
		Class    string   `json:"class"`
		ExitCode *int     `json:"exit_code"`
		Gaps     []string `json:"gaps"`
		Evidence []struct {
			Lines []struct{ Ref string } `json:"lines"`
		} `json:"evidence"`
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("diagnose -o json: %v\n%s", err, out.String())
	}
	want := truth.RootCause
	if truth.NodeLogsRootCause != "" {
		want = truth.NodeLogsRootCause
	}
	if d.Class != want {
		t.Errorf("class %q, want %q (the scenario's truth)", d.Class, want)
	}
	if d.ExitCode == nil || *d.ExitCode != truth.ExitCode {
		t.Errorf("exit code %v, want %d", d.ExitCode, truth.ExitCode)
	}
	// The pod status the snapshot saved says OOMKilled too; the node's own lines must back it:
	// the kernel's kill and the kubelet's view of the exit, read from the journal file by
	// nodediag's reader on the node that is gone.
	cited := map[string]bool{}
	for _, ev := range d.Evidence {
		for _, l := range ev.Lines {
			file, _, _ := strings.Cut(l.Ref, ":")
			cited[file] = true
		}
	}
	for _, f := range []string{"kernel/dmesg.journal", "kubelet/kubelet.log"} {
		if !cited[f] {
			t.Errorf("no evidence line from the snapshot's %s; cited: %v", f, cited)
		}
	}
	id := strings.TrimSuffix(filepath.Base(markers[0]), ".json")
	if gaps := strings.Join(d.Gaps, "\n"); !strings.Contains(gaps, "agent's snapshot "+id) {
		t.Errorf("the diagnosis does not say it used the agent's snapshot %s:\n%s", id, gaps)
	}
}
