package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/mcpserver"
	"github.com/nodediag/nodediag/internal/progress"
	"github.com/nodediag/nodediag/internal/store"
)

const exampleInstance = "i-0a1b2c3d4e5f60718"

// hook replaces a package-level test hook for the length of the test.
func hook[T any](t *testing.T, v *T, with T) {
	t.Helper()
	old := *v
	*v = with
	t.Cleanup(func() { *v = old })
}

// forceTerminal makes every command draw progress as if stderr were a terminal, every frame.
func forceTerminal(t *testing.T) {
	hook(t, &newRenderer, func(g *globals) *progress.Renderer { return progress.New(g.stderr, g.output == "table", true) })
}

func TestCollectUsage(t *testing.T) {
	hook(t, &newAWS, func(context.Context, string, cloud.Options) (collect.AWS, error) {
		t.Error("a usage error reached AWS")
		return nil, nil
	})
	t.Setenv(bucketEnv, "")
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no instance id", []string{"collect"}, ExitUsage, "needs the node's EC2 instance id"},
		{"bad instance id", []string{"collect", "i-xyz", "--bucket", "b"}, ExitUsage, `invalid EC2 instance id "i-xyz"`},
		{"kube with many instance ids", []string{"collect", "--method", "kube", "--allow-node-proxy", "--instance-id", exampleInstance + ",i-0123456789abcdef0"}, ExitUsage, "collects one node"},
		{"nodegroup without cluster", []string{"collect", "--nodegroup", "ng-1", "--bucket", "b"}, ExitUsage, "--nodegroup and --cluster go together"},
		{"nodegroup and selector", []string{"collect", "--nodegroup", "ng-1", "--cluster", "c", "--selector", "a=b"}, ExitUsage, "choose the nodes one way"},
		{"kubeconfig without selector", []string{"collect", exampleInstance, "--kubeconfig", "k"}, ExitUsage, "without --selector"},
		{"zero concurrency", []string{"collect", exampleInstance, "i-0123456789abcdef0", "--concurrency", "0"}, ExitUsage, "--concurrency 0"},
		{"many nodes, no bucket", []string{"collect", exampleInstance, "i-0123456789abcdef0"}, 1, "NODEDIAG_BUCKET"},
		{"local and kube", []string{"collect", "--local", "--method", "kube"}, ExitUsage, "--local is --method local"},
		{"unknown method", []string{"collect", "--method", "scp"}, ExitUsage, "want ssm (the default), kube or local"},
		{"node without kube", []string{"collect", "--node", "n1"}, ExitUsage, "--node applies to --method kube, not to ssm"},
		{"bucket with local", []string{"collect", "--local", "--bucket", "b"}, ExitUsage, "--bucket applies to --method ssm, not to local"},
		{"since with ssm", []string{"collect", exampleInstance, "--since", "1h"}, ExitUsage, "--since applies to --method kube and local, not to ssm"},
		{"instance argument with kube", []string{"collect", "--method", "kube", exampleInstance}, ExitUsage, "takes none"},
		{"kube without opt-in", []string{"collect", "--method", "kube", "--node", "n1"}, ExitUsage, `"nodes/proxy"`},
		{"kube without node", []string{"collect", "--method", "kube", "--allow-node-proxy"}, ExitUsage, "needs --node"},
		{"negative since", []string{"collect", "--local", "--since", "-1h"}, ExitUsage, "positive duration"},
		{"zero poll interval", []string{"collect", exampleInstance, "--poll-interval", "0s"}, ExitUsage, "positive durations"},
		{"no bucket", []string{"collect", exampleInstance}, 1, "NODEDIAG_BUCKET"},
		{"status wait without id", []string{"status", "--wait"}, ExitUsage, "give an EXECUTION_ID or --batch ID"},
		{"status ids and batch", []string{"status", "a", "--batch", "b"}, ExitUsage, "not both"},
		{"status two unknown ids", []string{"status", "a", "b"}, 1, "none of the 2 executions"},
		{"status unknown batch", []string{"status", "--batch", "batch-x"}, 1, `unknown batch "batch-x"`},
		{"status unknown id", []string{"status", "nope"}, 1, `unknown executionId "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"--store", t.TempDir()}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
		})
	}
}

// fakeAWS is an account with one running EKS node whose automation reports statuses, one per
// poll, and whose bucket holds the example bundle once the automation has succeeded.
type fakeAWS struct {
	mu       sync.Mutex
	statuses []cloud.Execution
	polls    int
	bucket   string
	findErr  error
}

const fakeExecution = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

func (f *fakeAWS) FindInstance(_ context.Context, id, region string) (cloud.Instance, error) {
	if f.findErr != nil {
		return cloud.Instance{}, f.findErr
	}
	if id != exampleInstance {
		return cloud.Instance{}, fmt.Errorf("%w: %s", cloud.ErrInstanceNotFound, id)
	}
	return cloud.Instance{ID: id, Region: "us-west-2", State: "running", Cluster: "prod"}, nil
}

func (f *fakeAWS) StartCollection(context.Context, cloud.Instance, string) (string, error) {
	return fakeExecution, nil
}

func (f *fakeAWS) Execution(_ context.Context, region, id string) (cloud.Execution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ex := f.statuses[min(f.polls, len(f.statuses)-1)]
	f.polls++
	ex.ID, ex.Region = id, region
	return ex, nil
}

func (f *fakeAWS) FindBundle(context.Context, string, string, string, time.Time) (cloud.Object, error) {
	st, err := os.Stat(example)
	if err != nil {
		return cloud.Object{}, err
	}
	return cloud.Object{Bucket: f.bucket, Key: filepath.Base(example), Size: st.Size()}, nil
}

// Download writes the example archive in two halves, reporting each, as the S3 download does
// per chunk.
func (f *fakeAWS) Download(_ context.Context, _ string, obj cloud.Object, path string, progress func(done, total int64)) error {
	data, err := os.ReadFile(example)
	if err != nil {
		return err
	}
	if progress != nil {
		progress(int64((len(data)+1)/2), obj.Size) // the half, rounded up: 50% whatever the size's parity
		progress(int64(len(data)), obj.Size)
	}
	return os.WriteFile(path, data, 0o644)
}

func runningStep(step string, done int) cloud.Execution {
	return cloud.Execution{Status: collect.StateRunning, RawStatus: "InProgress", CurrentStep: step, StepsDone: done, StepsTotal: 4}
}

// TestCollectSSMWait follows `collect --wait` from the automation's start to the imported bundle,
// and shows its progress: automation steps, then the download, then the import.
func TestCollectSSMWait(t *testing.T) {
	aws := &fakeAWS{statuses: []cloud.Execution{runningStep("collectLogs", 1), runningStep("uploadLogs", 3),
		{Status: collect.StateCompleted, RawStatus: "Success", StepsDone: 4, StepsTotal: 4}}}
	var gotOpts cloud.Options
	hook(t, &newAWS, func(_ context.Context, region string, opts cloud.Options) (collect.AWS, error) {
		gotOpts = opts
		aws.bucket = opts.Bucket
		return aws, nil
	})
	forceTerminal(t)
	t.Setenv(bucketEnv, "eks-logs")
	dir := t.TempDir()
	out, stderr, code := run(t, "--store", dir, "collect", exampleInstance, "--wait", "--poll-interval", "1ms", "--role-arn", "arn:aws:iam::1:role/r")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if gotOpts.Bucket != "eks-logs" || gotOpts.RoleARN != "arn:aws:iam::1:role/r" {
		t.Errorf("AWS options %+v: want the bucket from $%s and the role", gotOpts, bucketEnv)
	}
	st, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.Resolve(exampleInstance, "")
	if err != nil {
		t.Fatalf("no bundle of %s in the store after collect --wait: %v", exampleInstance, err)
	}
	for _, want := range []string{"execution  " + fakeExecution, "state      completed", "bundle     " + e.Manifest.ID,
		"object     s3://eks-logs/" + filepath.Base(example), "next       nodediag errors --bundle " + e.Manifest.ID} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// Progress frames, in order: each automation step seen, the download's halves, the import.
	frames := [][]string{{"automation collectLogs", "1/4"}, {"automation uploadLogs", "3/4"},
		{"download", " 50%"}, {"download", "100%"}, {"import indexing the bundle"}}
	rest := stderr
	for _, f := range frames {
		at := -1
		for _, frame := range strings.Split(rest, "\r") {
			if strings.Contains(frame, f[0]) && (len(f) == 1 || strings.Contains(frame, f[1])) {
				at = strings.Index(rest, frame) + len(frame)
				break
			}
		}
		if at < 0 {
			t.Fatalf("stderr lacks a frame with %q after the ones before it:\n%q", f, stderr)
		}
		rest = rest[at:]
	}

	// status of the finished collection answers from the record, and lists it.
	out, stderr, code = run(t, "--store", dir, "status", fakeExecution, "-o", "json")
	var v collectionView
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("status: exit %d %s\n%s", code, stderr, out)
	}
	if v.State != collect.StateCompleted || v.BundleID != e.Manifest.ID || v.Region != "us-west-2" || v.Cluster != "prod" {
		t.Errorf("status record %+v: want completed with bundle %s in us-west-2, cluster prod", v, e.Manifest.ID)
	}
	if stderr != "" {
		t.Errorf("status -o json drew on stderr: %q", stderr)
	}
	out, _, code = run(t, "--store", dir, "status")
	wantRow := []string{fakeExecution, collect.MethodSSM, exampleInstance, collect.StateCompleted, "-", e.Manifest.ID}
	if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(wantRow, " ")) {
		t.Errorf("status list: exit %d\n%s\nwant a row %v", code, out, wantRow)
	}
}

// TestCollectSSMOutcomes: without --wait the record is printed as running; a failed automation
// exits 1 with its reason; AWS errors come out with the cloud package's message.
func TestCollectSSMOutcomes(t *testing.T) {
	t.Setenv(bucketEnv, "")
	for _, tc := range []struct {
		name     string
		aws      *fakeAWS
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"started, not waited for", &fakeAWS{statuses: []cloud.Execution{runningStep("a", 0)}},
			[]string{"--bucket", "b", "-o", "json"}, 0, `"nextStep": "nodediag status ` + fakeExecution + ` --wait"`, ""},
		{"automation failed", &fakeAWS{statuses: []cloud.Execution{runningStep("collectLogs", 1),
			{Status: collect.StateFailed, RawStatus: "Failed", FailureReason: "Step collectLogs failed: no space left on device"}}},
			[]string{"--bucket", "b", "--wait", "--poll-interval", "1ms"}, 1, "failure    Step collectLogs failed",
			"collection " + fakeExecution + " failed: Step collectLogs failed: no space left on device"},
		{"cancelled", &fakeAWS{statuses: []cloud.Execution{{Status: collect.StateCancelled, RawStatus: "Cancelled"}}},
			[]string{"--bucket", "b", "--wait", "--poll-interval", "1ms"}, 1, "state      cancelled", "cancelled: the automation ended with status Cancelled"},
		{"timed out waiting", &fakeAWS{statuses: []cloud.Execution{runningStep("collectLogs", 1)}},
			[]string{"--bucket", "b", "--wait", "--poll-interval", "1ms", "--timeout", "30ms"}, 1, "",
			"still running (automation) after --timeout 30ms; it goes on without nodediag: follow it with `nodediag status " + fakeExecution + " --wait`"},
		{"not an EKS node", &fakeAWS{findErr: fmt.Errorf("%w: %s has no eks:cluster-name tag", cloud.ErrNotEKSNode, exampleInstance)},
			[]string{"--bucket", "b"}, 1, "", "instance is not an EKS node: " + exampleInstance + " has no eks:cluster-name tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook(t, &newAWS, func(_ context.Context, _ string, opts cloud.Options) (collect.AWS, error) {
				tc.aws.bucket = opts.Bucket
				return tc.aws, nil
			})
			out, stderr, code := run(t, append([]string{"--store", t.TempDir(), "collect", exampleInstance}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d\nstdout %s\nstderr %s\nwant exit %d, stdout with %q, stderr with %q", code, out, stderr, tc.wantCode, tc.wantOut, tc.wantErr)
			}
		})
	}
}

// TestCollectNoCredentials runs the real AWS side with no credentials anywhere against a loopback
// endpoint: the message is the cloud package's, saying how to configure credentials.
func TestCollectNoCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request was sent without credentials: %s %s", r.Method, r.URL)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL": srv.URL, "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		os.Unsetenv(k) // set (to "") by t.Setenv above, which restores them after the test
	}
	_, stderr, code := run(t, "--store", t.TempDir(), "collect", exampleInstance, "--bucket", "b")
	if code != 1 || !strings.Contains(stderr, "no AWS credentials") || !strings.Contains(stderr, "AWS_PROFILE") {
		t.Errorf("exit %d, stderr %q; want exit 1 with the no-credentials message naming AWS_PROFILE", code, stderr)
	}
}

// fakeNode is a node's files and commands for `collect --local`; anything else is not installed.
type fakeNode struct {
	t     *testing.T
	out   map[string]string
	calls []string
}

func (f *fakeNode) run(_ context.Context, name string, args ...string) (io.ReadCloser, error) {
	line := strings.Join(append([]string{name}, args...), "|")
	f.calls = append(f.calls, line)
	if out, ok := f.out[line]; ok {
		return io.NopCloser(strings.NewReader(out)), nil
	}
	return nil, exec.ErrNotFound
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// kubeletJournal is a few kubelet lines of a crash loop, in journalctl's short-iso-precise form.
const kubeletJournal = `2026-11-20T10:26:18.098000+0000 ip-10-0-37-142 kubelet[2211]: I1120 10:26:18.098000    2211 kuberuntime_container.go:808] "Container exited" pod="payments/ledger-0" containerName="ledger" exitCode=137
2026-11-20T10:27:26.223000+0000 ip-10-0-37-142 kubelet[2211]: E1120 10:27:26.223000    2211 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"ledger\" with CrashLoopBackOff: \"back-off 10s restarting failed container=ledger pod=ledger-0_payments(8f1c)\"" pod="payments/ledger-0"
`

func TestCollectLocal(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"sys/devices/virtual/dmi/id/board_asset_tag": exampleInstance + "\n",
		"etc/hostname": "ip-10-0-37-142\n",
	})
	since := "86400 seconds ago" // --since 24h in journalctl's syntax
	node := &fakeNode{t: t, out: map[string]string{
		"journalctl|-u|kubelet|--since|" + since + "|-o|short-iso-precise|--no-pager": kubeletJournal,
	}}
	hook(t, &localHook, func(o *gather.LocalOptions) { o.Root, o.Run = root, node.run })
	forceTerminal(t)
	dir := t.TempDir()
	out, stderr, code := run(t, "--store", dir, "collect", "--local", "--since", "24h")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if node.calls[0] != "journalctl|-u|kubelet|--since|"+since+"|-o|short-iso-precise|--no-pager" {
		t.Errorf("first command %q: want journalctl for kubelet since %q", node.calls[0], since)
	}
	st, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.Resolve(exampleInstance, "")
	if err != nil {
		t.Fatalf("the gathered bundle of %s is not in the store: %v", exampleInstance, err)
	}
	got, err := os.ReadFile(filepath.Join(e.FilesDir(), "kubelet", "kubelet.log"))
	if err != nil || string(got) != kubeletJournal {
		t.Errorf("stored kubelet.log (%v):\n%s\nwant what journalctl printed:\n%s", err, got, kubeletJournal)
	}
	for _, want := range []string{"method     local", "instance   " + exampleInstance, "node       ip-10-0-37-142", "state      completed",
		"bundle     " + e.Manifest.ID, "missing    containerd/containerd-log.txt", "missing    var_log/messages"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "gathering ") || !strings.Contains(stderr, "import indexing eks_"+exampleInstance) {
		t.Errorf("stderr lacks the gathering and import frames:\n%q", stderr)
	}
	// The staging folder is gone once the store has the bundle.
	if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "gather-*")); len(left) != 0 {
		t.Errorf("gathering left %v behind", left)
	}

	// The same under -o json: the record is JSON, and nothing is drawn.
	out, stderr, code = run(t, "--store", dir, "collect", "--local", "--since", "24h", "-o", "json")
	var v collectionView
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("-o json: exit %d %s\n%s", code, stderr, out)
	}
	if v.Method != collect.MethodLocal || v.BundleID == "" || !strings.HasPrefix(v.Next, "nodediag errors --bundle "+v.BundleID) {
		t.Errorf("-o json record %+v", v)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("-o json drew progress: %q", stderr)
	}
}

// apiServer answers what collect --method kube asks the API server: the node, the node log query
// for kubelet (other units and files are absent) and the node's pods (none).
type apiServer struct {
	node, instance string
	forbid         bool
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	proxy := "/api/v1/nodes/" + a.node + "/proxy/logs/"
	writeJSON := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	node := corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: a.node},
		Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/" + a.instance}}
	switch {
	case r.URL.Path == "/api/v1/nodes/"+a.node:
		writeJSON(200, &node)
	case r.URL.Path == "/api/v1/nodes":
		writeJSON(200, &corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, Items: []corev1.Node{node}})
	case strings.HasPrefix(r.URL.Path, proxy) && a.forbid:
		writeJSON(403, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
			Reason: metav1.StatusReasonForbidden, Code: 403, Message: `nodes "` + a.node + `" is forbidden: User "dev" cannot get resource "nodes/proxy"`})
	case r.URL.Path == proxy && r.URL.Query().Get("query") == "kubelet":
		// The node log query prints short-precise; the lines' content is what matters here.
		w.Write([]byte("Nov 20 10:26:18.098000 " + a.node + " kubelet[2211]: I1120 10:26:18.098000    2211 kuberuntime_container.go:808] \"Container exited\" exitCode=137\n"))
	case r.URL.Path == "/api/v1/pods":
		writeJSON(200, &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}})
	default:
		http.NotFound(w, r)
	}
}

func TestCollectKube(t *testing.T) {
	const node = "ip-10-0-37-142.us-west-2.compute.internal"
	for _, tc := range []struct {
		name     string
		which    []string // how the node is named
		forbid   bool
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{"gathered", []string{"--node", node}, false, 0, []string{"method     kube", "instance   " + exampleInstance, "node       " + node,
			"cluster    prod-cluster", "missing    kernel ring buffer"}, ""},
		// The node whose providerID names the instance, as the MCP collect finds it (app.CollectKube).
		{"by instance id", []string{"--instance-id", exampleInstance}, false, 0, []string{"node       " + node}, ""},
		{"an instance no node has", []string{"--instance-id", "i-0123456789abcdef0"}, false, 2, nil,
			"no node of cluster \"prod-cluster\" has a providerID naming i-0123456789abcdef0; its nodes: " + node},
		{"nodes/proxy refused", []string{"--node", node}, true, 1, nil, `RBAC verb "get" on resource "nodes/proxy"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&apiServer{node: node, instance: exampleInstance, forbid: tc.forbid})
			defer srv.Close()
			kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
			writeTree(t, filepath.Dir(kubeconfig), map[string]string{"kubeconfig": `apiVersion: v1
kind: Config
clusters:
- name: prod-cluster
  cluster: {server: "` + srv.URL + `"}
- name: other
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: dev
  user: {token: t0k3n}
contexts:
- name: prod
  context: {cluster: prod-cluster, user: dev}
- name: other
  context: {cluster: other, user: dev}
current-context: other
`})
			dir := t.TempDir()
			out, stderr, code := run(t, append([]string{"--store", dir, "collect", "--method", "kube", "--allow-node-proxy",
				"--kubeconfig", kubeconfig, "--context", "prod", "--since", "2h"}, tc.which...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			st, err := store.Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := st.List()
			if err != nil || len(entries) != map[bool]int{true: 1, false: 0}[tc.wantCode == 0] {
				t.Errorf("store holds %d bundles (%v) after exit %d", len(entries), err, code)
			}
		})
	}
}

// TestCollectThroughFakeAccount is the SSM method end to end with the real SDK clients, configured
// the way a user configures them (environment variables, AWS_ENDPOINT_URL), against a fake AWS
// account on loopback: collect starts the automation, status --wait follows it to the imported
// bundle.
func TestCollectThroughFakeAccount(t *testing.T) {
	acct := fakeAccount(t)
	dir := t.TempDir()
	out, stderr, code := run(t, "--store", dir, "collect", exampleInstance, "--bucket", "eks-logs", "-o", "json")
	var started collectionView
	if code != 0 || json.Unmarshal([]byte(out), &started) != nil {
		t.Fatalf("collect: exit %d %s\n%s", code, stderr, out)
	}
	if started.State != collect.StateRunning || started.Cluster != "prod" || started.Region != "us-west-2" {
		t.Errorf("started %+v: want running in us-west-2 for cluster prod", started)
	}
	if got := acct.Executions(); len(got) != 1 || got[0] != started.ExecutionID {
		t.Errorf("executions in the account %v, want only %s", got, started.ExecutionID)
	}
	// The body breaks off five times: more than one Download call retries, so --wait must resume
	// it itself. status finds the bucket in the record, without --bucket.
	acct.Inject(awsfake.Fault{Action: "GetObject", Times: 5, CutAfter: 1000})
	out, stderr, code = run(t, "--store", dir, "status", started.ExecutionID, "--wait", "--poll-interval", "1ms", "-o", "json")
	var done collectionView
	if code != 0 || json.Unmarshal([]byte(out), &done) != nil {
		t.Fatalf("status --wait: exit %d %s\n%s", code, stderr, out)
	}
	st, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.Resolve(exampleInstance, "")
	if err != nil || done.State != collect.StateCompleted || done.BundleID != e.Manifest.ID {
		t.Errorf("after status --wait: %+v (store: %v); want completed with the store's bundle of %s", done, err, exampleInstance)
	}
	if !strings.Contains(stderr, "download interrupted; resuming") {
		t.Errorf("stderr %q: want the resumed download said", stderr)
	}
}

// fakeAccount is a fake AWS account on loopback holding the example node with its bundle and the
// bucket eks-logs, and the environment that points the SDK at it as a user would.
func fakeAccount(t *testing.T) *awsfake.Account {
	t.Helper()
	acct := awsfake.New()
	t.Cleanup(acct.Close)
	acct.AddInstance(awsfake.Instance{ID: exampleInstance, Region: "us-west-2", State: "running",
		PrivateDNSName: "ip-10-0-37-142.us-west-2.compute.internal", Tags: map[string]string{"eks:cluster-name": "prod"}})
	acct.AddBucket("eks-logs")
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	acct.SetBundle(exampleInstance, data)
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret", "AWS_REGION": "us-west-2",
		"AWS_ENDPOINT_URL": acct.Server.URL, "AWS_CONFIG_FILE": filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"), "AWS_EC2_METADATA_DISABLED": "true", bucketEnv: "",
	} {
		t.Setenv(k, v)
	}
	return acct
}

// TestCollectStatusSameThroughBothFaces: a collection started by the CLI is the one the MCP
// collect returns for the same idempotency token, the MCP status follows it to the imported
// bundle, and the CLI's status then reports the same execution, state and bundle.
func TestCollectStatusSameThroughBothFaces(t *testing.T) {
	acct := fakeAccount(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := collect.New(st, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "eks-logs"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := mcpClient(t, mcpserver.Options{Store: st, Collector: col, ApproveCollect: true, Version: "test"})
	tool := func(name string, args map[string]any, out any) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s(%v): %v %v", name, args, err, res)
		}
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
	// The fields both faces name alike.
	type collection struct {
		ExecutionID, InstanceID, Region, Cluster, State, BundleID string
		AlreadyStarted                                            bool
	}
	type answer struct {
		ExecutionID    string
		AlreadyStarted bool
		Execution      collection
	}

	out, errOut, code := run(t, "--store", dir, "collect", exampleInstance, "--bucket", "eks-logs", "--idempotency-token", "t-1", "-o", "json")
	var viaCLI collection
	if code != 0 || json.Unmarshal([]byte(out), &viaCLI) != nil {
		t.Fatalf("collect: exit %d %s\n%s", code, errOut, out)
	}
	var again answer
	tool("collect", map[string]any{"instanceId": exampleInstance, "idempotencyToken": "t-1"}, &again)
	if again.ExecutionID != viaCLI.ExecutionID || !again.AlreadyStarted || len(acct.Executions()) != 1 {
		t.Errorf("MCP collect with the CLI's token: %+v, executions %v; want %s again, alreadyStarted", again, acct.Executions(), viaCLI.ExecutionID)
	}
	again.Execution.AlreadyStarted = again.AlreadyStarted
	if d := cmp.Diff(viaCLI, again.Execution, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "AlreadyStarted" }, cmp.Ignore())); d != "" {
		t.Errorf("collect: the faces differ (-CLI +MCP):\n%s", d)
	}

	var status struct {
		State     string
		Execution collection
	}
	for i := 0; status.State != collect.StateCompleted; i++ {
		if i == 20 {
			t.Fatalf("status: still %q after 20 calls", status.State)
		}
		tool("status", map[string]any{"executionId": viaCLI.ExecutionID}, &status)
	}
	out, errOut, code = run(t, "--store", dir, "status", viaCLI.ExecutionID, "-o", "json")
	var done collection
	if code != 0 || json.Unmarshal([]byte(out), &done) != nil {
		t.Fatalf("status: exit %d %s\n%s", code, errOut, out)
	}
	if d := cmp.Diff(done, status.Execution); d != "" || done.BundleID == "" {
		t.Errorf("status: the faces differ (-CLI +MCP):\n%s", d)
	}
}
