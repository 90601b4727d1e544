// Command agent-idle measures the capture agent's idle cost (issue 18): it serves a fake API
// server on loopback — the pods of one node (list, watch, and the streaming watch-list client-go
// uses by default), that node, its events, and an IMDS with no spot notice — starts the real
// `nodediag agent` binary against it, lets it watch a node where nothing crashes for -for, stops
// it with SIGTERM and prints the agent process's CPU time (getrusage of the child) as a
// percentage of one core and its peak RSS.
//
//	go build -o /tmp/nodediag ./cmd/nodediag && go run ./bench/agent-idle -nodediag /tmp/nodediag -for 10m
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const node = "ip-10-0-1-23.us-west-2.compute.internal"

func main() {
	agentBin := flag.String("agent", "", "the nodediag-agent binary to run")
	nodediag := flag.String("nodediag", "", "the nodediag binary to run as `nodediag agent` instead")
	dur := flag.Duration("for", 10*time.Minute, "how long the agent watches")
	pods := flag.Int("pods", 110, "pods on the node (110 is the kubelet's default maximum)")
	crashMiB := flag.Int("crash-log", 0, "after -crash-after, one pod crash-loops with a previous log of this many MiB, so the peak includes a snapshot (0: nothing crashes)")
	crashAfter := flag.Duration("crash-after", 20*time.Second, "when the pod of -crash-log crashes")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var argv []string
	switch {
	case *agentBin != "" && *nodediag == "":
		argv = []string{*agentBin}
	case *nodediag != "" && *agentBin == "":
		argv = []string{*nodediag, "agent"}
	default:
		log.Error("agent-idle: give one of -agent and -nodediag")
		os.Exit(2)
	}
	if err := run(argv, *dur, *pods, crash{*crashMiB, *crashAfter}, log); err != nil {
		log.Error("agent-idle", "err", err)
		os.Exit(1)
	}
}

// crash is the optional crash of one pod: its previous log's size and when it happens.
type crash struct {
	mib   int
	after time.Duration
}

// run measures the agent started as argv (the binary, then "agent" for nodediag).
func run(argv []string, dur time.Duration, n int, c crash, log *slog.Logger) error {
	api := &fakeAPI{pods: makePods(n), log: log, crash: make(chan *corev1.Pod, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	dir, err := os.MkdirTemp("", "agent-idle-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: %q}}]\n"+
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: fake, user: u}}]\ncurrent-context: c\n", url)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		return err
	}
	if c.mib > 0 {
		if err := writePodLog(dir, &api.pods[0], c.mib); err != nil {
			return err
		}
		go func() {
			time.Sleep(c.after)
			api.crash <- crashed(api.pods[0])
		}()
	}
	cmd := exec.Command(argv[0], append(argv[1:], "--node", node, "--store", filepath.Join(dir, "store"), "--kubeconfig", kubeconfig,
		"--host-root", dir, "--imds", url, "--listen", "127.0.0.1:0", "--log-level", "warn")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", strings.Join(argv, " "), err)
	}
	peak := sampleMemory(cmd.Process.Pid, dur)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	werr := cmd.Wait()
	wall := time.Since(start)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return fmt.Errorf("no rusage for the agent (%v)", werr)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if c.mib > 0 {
		fmt.Printf("crash\tpod %s/%s after %s, previous log %d MiB\n", api.pods[0].Namespace, api.pods[0].Name, c.after, c.mib)
	}
	fmt.Printf("agent\t%s\npods\t%d\nwall\t%s\nagent exit\t%v\nagent CPU\t%s (%.3f %% of one core)\nagent peak RSS\t%.1f MiB (getrusage)\n"+
		"of which, at their peaks\tanonymous %.1f MiB, file-backed %.1f MiB (/proc/PID/status, sampled every second)\nAPI requests\t%s\n",
		strings.Join(append([]string{filepath.Base(argv[0])}, argv[1:]...), " "), n, wall.Round(time.Second), werr, cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(), float64(ru.Maxrss)/1024,
		peak["RssAnon"]/1024, peak["RssFile"]/1024, api.counts())
	return nil
}

// sampleMemory reads the process's RssAnon and RssFile every second for dur and returns their
// peaks in KiB: getrusage gives the peak RSS only, which counts the binary's own pages (shared
// and reclaimable) with the heap.
func sampleMemory(pid int, dur time.Duration) map[string]float64 {
	peak := map[string]float64{}
	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for _, l := range strings.Split(string(data), "\n") {
				k, v, ok := strings.Cut(l, ":")
				if !ok || (k != "RssAnon" && k != "RssFile") {
					continue
				}
				if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil && kb > peak[k] {
					peak[k] = kb
				}
			}
		}
		time.Sleep(min(time.Second, time.Until(end)))
	}
	return peak
}

// fakeAPI answers what the agent asks: its node, the node's pods (list, watch, watch-list),
// events, and the IMDS's spot instance-action (404: none).
type fakeAPI struct {
	pods []corev1.Pod
	log  *slog.Logger
	n    [5]int64 // node, list, watch, events, imds
	// crash takes a pod's new state to the open watch (MODIFIED).
	crash chan *corev1.Pod
}

func (f *fakeAPI) counts() string {
	return fmt.Sprintf("node %d, pod lists %d, pod watches %d, events %d, IMDS %d", f.n[0], f.n[1], f.n[2], f.n[3], f.n[4])
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.URL.Path == "/latest/api/token":
		f.n[4]++
		fmt.Fprint(w, "token")
	case r.URL.Path == "/latest/meta-data/spot/instance-action":
		http.NotFound(w, r)
	case r.URL.Path == "/api/v1/nodes/"+node:
		f.n[0]++
		writeJSON(w, &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: node, ResourceVersion: "100"},
			Spec:       corev1.NodeSpec{ProviderID: "aws:///us-west-2a/i-0123456789abcdef0"}})
	case r.URL.Path == "/api/v1/pods" && q.Get("watch") == "true":
		f.n[2]++
		f.watch(w, r, q.Get("sendInitialEvents") == "true")
	case r.URL.Path == "/api/v1/pods":
		f.n[1]++
		writeJSON(w, &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "1000"}, Items: f.pods})
	case filepath.Base(r.URL.Path) == "events":
		f.n[3]++
		writeJSON(w, &corev1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}})
	default:
		f.log.Warn("unexpected request", "method", r.Method, "url", r.URL.String())
		http.NotFound(w, r)
	}
}

// watch holds a watch open until its timeoutSeconds, as the API server does, sending nothing —
// nothing changes on an idle node — but the -crash-log pod's crash. A watch-list first streams every pod and the bookmark that
// ends the initial events.
func (f *fakeAPI) watch(w http.ResponseWriter, r *http.Request, initial bool) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	if initial {
		for i := range f.pods {
			enc.Encode(map[string]any{"type": "ADDED", "object": &f.pods[i]})
		}
		enc.Encode(map[string]any{"type": "BOOKMARK", "object": &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1000", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}})
	}
	if fl != nil {
		fl.Flush()
	}
	timeout := 5 * time.Minute
	if s, err := strconv.Atoi(r.URL.Query().Get("timeoutSeconds")); err == nil && s > 0 {
		timeout = time.Duration(s) * time.Second
	}
	end := time.After(timeout)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-end:
			return
		case p := <-f.crash:
			enc.Encode(map[string]any{"type": "MODIFIED", "object": p})
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

// crashed is p restarted after exit 1 and waiting in CrashLoopBackOff.
func crashed(p corev1.Pod) *corev1.Pod {
	p = *p.DeepCopy()
	p.ResourceVersion = "2000"
	s := &p.Status.ContainerStatuses[0]
	s.RestartCount++
	s.Ready = false
	s.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: metav1.Now()}}
	s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	return &p
}

// writePodLog writes mib MiB of the kubelet's CRI log lines as p's first container's log of its
// current run, under dir/var/log/pods (the agent's --host-root is dir): after the crash it is
// the previous log the snapshot takes, up to --max-file-bytes.
func writePodLog(dir string, p *corev1.Pod, mib int) error {
	s := p.Status.ContainerStatuses[0]
	folder := filepath.Join(dir, "var", "log", "pods", fmt.Sprintf("%s_%s_%s", p.Namespace, p.Name, p.UID), s.Name)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	at := time.Now().Add(-time.Hour)
	for i := 0; b.Len() < mib<<20; i++ {
		fmt.Fprintf(&b, "%s stdout F request %d served in %d ms path=/api/v1/orders/%d status=200\n", at.Add(time.Duration(i)*time.Millisecond).UTC().Format(time.RFC3339Nano), i, i%97, i)
	}
	return os.WriteFile(filepath.Join(folder, fmt.Sprintf("%d.log", s.RestartCount)), []byte(b.String()), 0o644)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// makePods builds n running pods of the shape a busy node has: a few containers each, labels,
// owner, resources, and the managed fields the agent's cache drops.
func makePods(n int) []corev1.Pod {
	out := make([]corev1.Pod, n)
	for i := range out {
		name := fmt.Sprintf("svc-%03d-7d9f8b6c4d-x%03d", i%37, i)
		ctrs := []corev1.Container{{Name: "app", Image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/svc:1.2.3",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
			Env:       []corev1.EnvVar{{Name: "MODE", Value: "prod"}, {Name: "REGION", Value: "us-west-2"}}},
			{Name: "sidecar", Image: "public.ecr.aws/envoy:v1.30"}}
		var st []corev1.ContainerStatus
		for _, c := range ctrs {
			st = append(st, corev1.ContainerStatus{Name: c.Name, Ready: true, RestartCount: int32(i % 3), Image: c.Image,
				ContainerID: fmt.Sprintf("containerd://%064x", i), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}})
		}
		out[i] = corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: fmt.Sprintf("team-%d", i%9), UID: types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)),
				ResourceVersion: strconv.Itoa(500 + i), Labels: map[string]string{"app.kubernetes.io/name": name[:7], "pod-template-hash": "7d9f8b6c4d"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name[:18], UID: "c6e68caa-8b1d-4e6f-9a7c-2d4b6e8f0a13"}},
				ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:conditions":{},"f:containerStatuses":{},"f:podIP":{}}}`)}}}},
			Spec: corev1.PodSpec{NodeName: node, Containers: ctrs},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.0.%d.%d", i/200, i%200+2), ContainerStatuses: st,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}
	}
	return out
}
