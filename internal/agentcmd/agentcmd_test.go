package agentcmd

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodediag/nodediag/internal/agentcmd/apitest"
	"github.com/nodediag/nodediag/internal/buildinfo"
	"github.com/nodediag/nodediag/internal/store"
)

const node = apitest.Node

func TestUsage(t *testing.T) {
	t.Setenv("NODE_NAME", "")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, ExitOK, "--final-deadline"},
		{"no node", nil, ExitUsage, "--node"},
		{"burst 0", []string{"--node", node, "--burst", "0"}, ExitUsage, "--burst"},
		{"log level", []string{"--node", node, "--log-level", "loud"}, ExitUsage, "--log-level"},
		{"unknown flag", []string{"--node", node, "--no-redact"}, ExitUsage, "unknown flag"},
		{"an argument", []string{"--node", node, "agent"}, ExitUsage, "unknown command"},
		{"gs bucket", []string{"--node", node, "--store", "gs://nodediag-store", "--kubeconfig", "/dev/null"}, ExitUsage, "no gs:// driver"},
		{"azblob bucket", []string{"--node", node, "--store", "azblob://nodediag", "--kubeconfig", "/dev/null"}, ExitUsage, "nodediag agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(context.Background(), append([]string{"--store", t.TempDir()}, tc.args...), &out, &errb)
			if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
				t.Errorf("nodediag-agent %q: exit %d, stdout %q, stderr %q; want %d naming %s", tc.args, code, out.String(), errb.String(), tc.code, tc.want)
			}
		})
	}
}

// TestVersion: the agent reports the release stamps nodediag does (-X …/internal/buildinfo).
func TestVersion(t *testing.T) {
	old := buildinfo.Version
	t.Cleanup(func() { buildinfo.Version = old })
	buildinfo.Version = "v1.2.3"
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--version"}, &out, &errb); code != ExitOK || !strings.HasPrefix(out.String(), "nodediag-agent v1.2.3") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want nodediag-agent v1.2.3", code, out.String(), errb.String())
	}
}

// TestRunsAgainstAnAPIServer runs nodediag-agent's command with its own client — the core
// group's typed client from a kubeconfig, not a fake clientset — against an API server whose
// node has a pod waiting in CrashLoopBackOff: it watches the node's pods only, snapshots that
// pod into the folder store, and stops cleanly when its context ends.
func TestRunsAgainstAnAPIServer(t *testing.T) {
	exit := int32(1)
	api := &apitest.Server{Pods: []corev1.Pod{{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "shop", UID: "0b5c6a9e-7f1d-4e2a-9c3b-5d7e9f1a3c5e", ResourceVersion: "9"},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 4,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, FinishedAt: metav1.Now()}}}}},
	}}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := apitest.WriteKubeconfig(kubeconfig, srv.URL); err != nil {
		t.Fatal(err)
	}
	storeDir := filepath.Join(dir, "store")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"--node", node, "--store", storeDir, "--kubeconfig", kubeconfig, "--host-root", t.TempDir(),
			"--work-dir", t.TempDir(), "--settle", "-1s", "--imds", "", "--node-poll", "-1s", "--command-timeout", "5s", "--log-level", "debug"}, &bytes.Buffer{}, &stderr)
	}()
	var entries []*store.Entry
	for deadline := time.Now().Add(30 * time.Second); len(entries) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st, err := store.OpenNoCleanup(storeDir, nil); err == nil {
			entries, _ = st.List()
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the agent did not stop after its context ended")
	}
	if len(entries) == 0 {
		t.Fatalf("no snapshot in the store; the agent's log:\n%s", stderr.String())
	}
	qs := api.PodQueries()
	if len(qs) == 0 {
		t.Fatal("no pod list or watch reached the API server")
	}
	for _, q := range qs {
		if !strings.Contains(q, "fieldSelector=spec.nodeName%3D"+node) {
			t.Errorf("pod query %q does not select the node's pods", q)
		}
	}
}

// TestBinaryLinksNoCloudSDKsNorClientset holds nodediag-agent to its budget's cause: package
// initialisation of what it links is resident memory on every node. The Google Cloud and Azure
// bucket drivers, client-go's clientset and informer factory (every API group) and nodediag's
// other commands stay out.
func TestBinaryLinksNoCloudSDKsNorClientset(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/nodediag/nodediag/cmd/nodediag-agent").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	for _, p := range []string{"gocloud.dev/blob/s3blob", "gocloud.dev/blob/fileblob", "github.com/nodediag/nodediag/internal/agent"} {
		if !deps[p] {
			t.Errorf("nodediag-agent does not link %s", p)
		}
	}
	for _, p := range []string{"gocloud.dev/blob/gcsblob", "gocloud.dev/blob/azureblob", "cloud.google.com/go/storage",
		"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob", "k8s.io/client-go/kubernetes", "k8s.io/client-go/informers",
		"github.com/nodediag/nodediag/internal/kube", "github.com/nodediag/nodediag/internal/cli", "github.com/nodediag/nodediag/internal/blobdrivers"} {
		if deps[p] {
			t.Errorf("nodediag-agent links %s", p)
		}
	}
}
