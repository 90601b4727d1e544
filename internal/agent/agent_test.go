package agent

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/scenario"
)

const nodeName = "ip-10-0-37-142.us-west-2.compute.internal"

// host is a fake node: a filesystem root with /var/log/pods, and the journal that journalctl
// prints from it, taken from a scenario's Bottlerocket bundle (one journal of every unit).
type host struct {
	root    string
	units   map[string][]journalLine
	pod     *corev1.Pod
	truth   scenario.Truth
	archive string // the scenario's full bundle, as its producer packs it
	capture time.Time

	mu    sync.Mutex
	calls []string
}

type journalLine struct {
	at   time.Time
	text string // as journalctl -o short-iso-precise prints it
}

func newHost(t *testing.T, name string) *host {
	t.Helper()
	s, ok := scenario.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	dir := t.TempDir()
	opt := scenario.Options{NoiseLines: 300}
	bundleDir, err := scenario.Write(filepath.Join(dir, "folder"), s, scenario.Bottlerocket, opt)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := scenario.WriteArchive(filepath.Join(dir, "archive"), s, scenario.Bottlerocket, opt)
	if err != nil {
		t.Fatal(err)
	}
	h := &host{root: filepath.Join(dir, "host"), units: map[string][]journalLine{}, archive: arch, capture: scenario.DefaultCapture}
	if h.truth, err = scenario.ReadTruth(filepath.Join(dir, "folder", "truth.json")); err != nil {
		t.Fatal(err)
	}
	if h.pod, err = kube.LoadPodFile(filepath.Join(dir, "folder", "pod.json")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(bundleDir, "journalctl.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		f := strings.SplitN(l, " ", 5)
		if len(f) < 5 {
			continue
		}
		at, err := time.Parse("Jan 02 15:04:05.000000 2006", strings.Join(f[:3], " ")+fmt.Sprintf(" %d", h.capture.Year()))
		if err != nil {
			t.Fatalf("scenario journal line %q: %v", l, err)
		}
		ident, _, _ := strings.Cut(strings.TrimSuffix(strings.Fields(f[4])[0], ":"), "[")
		h.units[ident] = append(h.units[ident], journalLine{at, at.Format("2006-01-02T15:04:05.000000-0700") + " " + f[3] + " " + f[4]})
	}
	if len(h.units["kubelet"]) == 0 || len(h.units["containerd"]) == 0 || len(h.units["kernel"]) == 0 {
		t.Fatalf("scenario %s: journal lacks kubelet, containerd or kernel lines", name)
	}
	c := h.truth.Container
	logDir := filepath.Join(h.root, "var/log/pods", h.pod.Namespace+"_"+h.pod.Name+"_"+string(h.pod.UID), c)
	writeFile(t, filepath.Join(logDir, "0.log"), "2026-11-20T10:24:00.1Z stdout F starting "+c+"\n")
	writeFile(t, filepath.Join(logDir, "1.log"), "2026-11-20T10:26:00.1Z stdout F starting "+c+" again\n")
	// Another container's log on the same node: a snapshot must not carry it.
	writeFile(t, filepath.Join(h.root, "var/log/pods/other_bystander_0000/app/0.log"), "2026-11-20T10:26:00.1Z stdout F hello\n")
	return h
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run answers journalctl as a node would: --root must point at the fake host, and only the
// entries since --since are printed. dmesg is not installed (the journal has the kernel's).
func (h *host) run(_ context.Context, name string, args ...string) (io.ReadCloser, error) {
	h.mu.Lock()
	h.calls = append(h.calls, name+" "+strings.Join(args, " "))
	h.mu.Unlock()
	if name != "journalctl" {
		return nil, exec.ErrNotFound
	}
	if len(args) < 2 || args[0] != "--root" || args[1] != h.root {
		return nil, fmt.Errorf("journalctl without --root %s: %q", h.root, args)
	}
	args = args[2:]
	unit, since := "", time.Time{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-u":
			i++
			unit = args[i]
		case "-k":
			unit = "kernel"
		case "--since":
			i++
			var err error
			if since, err = time.Parse("2006-01-02 15:04:05 MST", args[i]); err != nil {
				return nil, fmt.Errorf("journalctl --since %q: %w", args[i], err)
			}
		}
	}
	var b strings.Builder
	for _, l := range h.units[unit] {
		if !l.at.Before(since) {
			b.WriteString(l.text + "\n")
		}
	}
	if b.Len() == 0 {
		b.WriteString("-- No entries --\n")
	}
	return io.NopCloser(strings.NewReader(b.String())), nil
}

// before is the pod as it was before its last crash: one restart fewer, running.
func before(p *corev1.Pod) *corev1.Pod {
	b := p.DeepCopy()
	for i := range b.Status.ContainerStatuses {
		s := &b.Status.ContainerStatuses[i]
		if s.RestartCount > 0 {
			s.RestartCount--
		}
		s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	}
	return b
}

// recordSink keeps the triggers of the snapshots it is given, read back from their manifests.
type recordSink struct {
	mu       sync.Mutex
	triggers []gather.Trigger
	files    [][]string
	results  []gather.Result
	next     Sink
	got      chan struct{}
}

func newRecordSink(next Sink) *recordSink {
	return &recordSink{next: next, got: make(chan struct{}, 1000)}
}

func (s *recordSink) Put(ctx context.Context, dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, gather.ManifestName))
	if err != nil {
		return "", err
	}
	var res gather.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return "", err
	}
	if res.Method != Method || res.Trigger == nil {
		return "", fmt.Errorf("snapshot manifest: method %q, trigger %v", res.Method, res.Trigger)
	}
	var files []string
	for _, f := range res.Files {
		files = append(files, f.Path)
	}
	id := fmt.Sprintf("snap-%d", len(s.triggers))
	if s.next != nil {
		if id, err = s.next.Put(ctx, dir); err != nil {
			return "", err
		}
	}
	s.mu.Lock()
	s.triggers = append(s.triggers, *res.Trigger)
	s.files = append(s.files, files)
	s.results = append(s.results, res)
	s.mu.Unlock()
	s.got <- struct{}{}
	return id, nil
}

func (s *recordSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.triggers)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func node(unschedulable bool) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName},
		Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/i-0a1b2c3d4e5f60718", Unschedulable: unschedulable}}
}

// started runs an agent until the test ends and returns it with a function that stops it and
// waits for Run to return.
func started(t *testing.T, opt Options) (*Agent, func() error) {
	t.Helper()
	if opt.Node == "" {
		opt.Node = nodeName
	}
	if opt.Settle == 0 {
		opt.Settle = -1
	}
	if opt.NodePoll == 0 {
		opt.NodePoll = -1
	}
	opt.WorkDir = t.TempDir()
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !a.Metrics().ready.Load() {
		if time.Now().After(deadline) {
			t.Fatal("pod watch did not sync")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("Run did not return")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return a, stop
}

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func counted(a *Agent, result string) int {
	return int(testutil.ToFloat64(a.Metrics().Snapshots.WithLabelValues(result)))
}

func update(t *testing.T, cs *fake.Clientset, p *corev1.Pod) {
	t.Helper()
	if _, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestOneSnapshotPerCrashLoop(t *testing.T) {
	h := newHost(t, "container-oom-v2")
	cs := fake.NewClientset(node(false), before(h.pod))
	sink := newRecordSink(nil)
	clk := &clock{t: h.capture}
	a, _ := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now})

	update(t, cs, h.pod) // the restart: count up, last exit 137, waiting in CrashLoopBackOff
	waitFor(t, "the snapshot", func() bool { return sink.count() == 1 })
	tr := sink.triggers[0]
	if tr.Pod != h.truth.Pod || tr.Container != h.truth.Container || tr.Reason != "restart" || tr.ExitCode == nil || int(*tr.ExitCode) != h.truth.ExitCode {
		t.Errorf("trigger %+v, want pod %s container %s reason restart exit %d", tr, h.truth.Pod, h.truth.Container, h.truth.ExitCode)
	}
	files := strings.Join(sink.files[0], " ")
	for _, want := range []string{"kubelet/kubelet.log", "containerd/containerd-log.txt", "kernel/dmesg.journal", PodFile, EventsFile, "/" + h.truth.Container + "/0.log", "/" + h.truth.Container + "/1.log"} {
		if !strings.Contains(files, want) {
			t.Errorf("snapshot lacks %s: %s", want, files)
		}
	}
	if strings.Contains(files, "bystander") {
		t.Errorf("snapshot carries another pod's log: %s", files)
	}

	// The next restart, five minutes later, is inside the de-duplication window.
	clk.add(5 * time.Minute)
	again := h.pod.DeepCopy()
	again.Status.ContainerStatuses[0].RestartCount++
	update(t, cs, again)
	waitFor(t, "the duplicate verdict", func() bool { return counted(a, Duplicate) == 1 })
	if n := sink.count(); n != 1 {
		t.Errorf("%d snapshots after a second crash in the window, want 1", n)
	}
	// The sink holds the snapshot a moment before the snapshot's goroutine counts it.
	waitFor(t, "the taken counter", func() bool { return counted(a, Taken) >= 1 })
	if n := counted(a, Taken); n != 1 {
		t.Errorf("taken counter %d, want 1", n)
	}
}

func TestHundredPodsStayWithinTheNodeLimit(t *testing.T) {
	cs := fake.NewClientset(node(false))
	sink := newRecordSink(nil)
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	lim := Limits{Dedup: time.Hour, PodEvery: 10 * time.Minute, PerHour: 6, Burst: 3}
	a, _ := started(t, Options{Client: cs, Sink: sink, HostRoot: t.TempDir(), Run: (&host{}).run, Now: clk.now, Limits: lim})

	pods := make([]*corev1.Pod, 100)
	for i := range pods {
		pods[i] = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "load", Name: fmt.Sprintf("p-%03d", i), UID: types.UID(fmt.Sprintf("uid-%03d", i))},
			Spec:       corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app"}}},
			Status:     corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
		}
		if _, err := cs.CoreV1().Pods("load").Create(context.Background(), pods[i], metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	crashAll := func() {
		for _, p := range pods {
			s := &p.Status.ContainerStatuses[0]
			s.RestartCount++
			s.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: metav1.NewTime(clk.now())}}
			s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
			update(t, cs, p)
		}
	}
	verdicts := func() int {
		n := 0
		for _, r := range []string{Taken, Failed, Duplicate, PodLimited, NodeLimited, QueueFull} {
			n += counted(a, r)
		}
		return n
	}
	crashAll()
	waitFor(t, "100 verdicts", func() bool { return verdicts() == 100 && sink.count() == lim.Burst })
	if n := counted(a, NodeLimited); n != 100-lim.Burst {
		t.Errorf("%d crashes refused by the node limit, want %d", n, 100-lim.Burst)
	}
	// Half an hour later every pod crashes again: the bucket has refilled PerHour/2 tokens;
	// the pods already on record are duplicates.
	clk.add(30 * time.Minute)
	for _, p := range pods { // back to running first, so that the next wait is a new one
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	}
	crashAll()
	want := lim.Burst + int(lim.PerHour/2)
	waitFor(t, "200 verdicts", func() bool { return verdicts() == 200 })
	waitFor(t, "the second round's snapshots", func() bool { return sink.count() >= want })
	time.Sleep(50 * time.Millisecond)
	if n := sink.count(); n != want {
		t.Errorf("%d snapshots, want %d (burst %d + %g per hour for half an hour)", n, want, lim.Burst, lim.PerHour)
	}
	if n := counted(a, Duplicate); n != lim.Burst {
		t.Errorf("%d duplicates, want the %d pods snapshotted in the first round", n, lim.Burst)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	m := NewMetrics()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz before the watch synced: %d, want 503", code)
	}
	cs := fake.NewClientset(node(false))
	sink := newRecordSink(nil)
	h := &host{root: t.TempDir()}
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	a, _ := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now, Metrics: m, Limits: oneAtATime})
	crash := crashingPods(t, cs, 2, clk.now)
	crash(0)
	crash(1)
	waitFor(t, "two verdicts", func() bool { return counted(a, Taken)+counted(a, NodeLimited) == 2 })
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz after the watch synced: %d, want 200", code)
	}
	_, body := get("/metrics")
	for _, want := range []string{`nodediag_agent_snapshots_total{result="taken"} 1`, `nodediag_agent_snapshots_total{result="node_rate_limited"} 1`,
		`nodediag_agent_snapshots_total{result="failed"} 0`, "nodediag_agent_watched_pods 2"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "go_goroutines") {
		t.Error("/metrics exports the default registry's collectors: the agent's registry is its own")
	}
}

func TestSnapshotFailureIsCounted(t *testing.T) {
	cs := fake.NewClientset(node(false))
	h := &host{root: t.TempDir()}
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	a, _ := started(t, Options{Client: cs, Sink: failingSink{}, HostRoot: h.root, Run: h.run, Now: clk.now})
	crashingPods(t, cs, 1, clk.now)(0)
	waitFor(t, "the failure", func() bool { return counted(a, Failed) == 1 })
	if n := counted(a, Taken); n != 0 {
		t.Errorf("taken %d after a failed store, want 0", n)
	}
}

type failingSink struct{}

func (failingSink) Put(context.Context, string) (string, error) {
	return "", errors.New("bucket refused the write")
}

func TestByteBudget(t *testing.T) {
	h := newHost(t, "container-oom-v2")
	cs := fake.NewClientset(node(false), before(h.pod))
	sink := newRecordSink(nil)
	clk := &clock{t: h.capture}
	const perFile, total = 8 << 10, 20 << 10
	started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now, MaxFileBytes: perFile, MaxBytes: total, Window: 24 * time.Hour})
	update(t, cs, h.pod)
	waitFor(t, "the snapshot", func() bool { return sink.count() == 1 })
	res := sink.results[0]
	var sum int64
	cut := false
	for _, f := range res.Files {
		sum += f.Bytes
		if f.Bytes > perFile {
			t.Errorf("%s is %d bytes, over the per-file cap %d", f.Path, f.Bytes, perFile)
		}
		cut = cut || f.Truncated
	}
	if sum > total {
		t.Errorf("snapshot holds %d bytes, over the budget %d", sum, total)
	}
	said := false
	for _, m := range res.Missing {
		said = said || strings.Contains(m.Why, "byte budget") || strings.Contains(m.Why, "size cap")
	}
	if !cut || !said {
		t.Errorf("a day of journals fit in %d bytes without a cut being recorded: files %+v, missing %+v", total, res.Files, res.Missing)
	}
}
