package gather

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

// node is what a scenario tells about the node it ran on, split the way the node log query would
// serve it: journal lines per identifier, in the kubelet's short-precise --utc output.
type node struct {
	truth   scenario.Truth
	pod     *corev1.Pod
	units   map[string][]string // "kubelet", "containerd", "kernel", … → journal lines
	capture time.Time
}

// loadScenario renders a scenario as a Bottlerocket bundle, whose journalctl.log is the whole
// journal in short-precise: the same output the node log query returns.
func loadScenario(t *testing.T, name string) *node {
	t.Helper()
	s, ok := scenario.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	dir := t.TempDir()
	root, err := scenario.Write(dir, s, scenario.Bottlerocket, scenario.Options{NoiseLines: 200})
	if err != nil {
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
	data, err := os.ReadFile(filepath.Join(root, "journalctl.log"))
	if err != nil {
		t.Fatal(err)
	}
	n := &node{truth: truth, pod: pod, units: map[string][]string{}, capture: scenario.DefaultCapture}
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		ident, _, _ := strings.Cut(strings.TrimSuffix(f[4], ":"), "[")
		n.units[ident] = append(n.units[ident], l)
	}
	if len(n.units["kubelet"]) == 0 || len(n.units["containerd"]) == 0 || len(n.units["kernel"]) == 0 {
		t.Fatalf("scenario journal lacks kubelet, containerd or kernel lines: %d units", len(n.units))
	}
	return n
}

// apiServer fakes the API server paths FromNode uses. queryMode says how the kubelet answers the
// node log query: "ok", "disabled" (the file server's HTML listing), "404", "403".
type apiServer struct {
	t         *testing.T
	n         *node
	nodeName  string
	queryMode string
	podLog    map[string]string // "container/previous" → body with timestamps
	mu        sync.Mutex
	queries   []string // raw query strings of node log queries
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	proxy := "/api/v1/nodes/" + a.nodeName + "/proxy/logs/"
	p := r.URL.Path
	switch {
	case p == "/api/v1/nodes/"+a.nodeName:
		writeJSON(w, &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: a.nodeName},
			Spec:       corev1.NodeSpec{ProviderID: "aws:///us-west-2a/i-0a1b2c3d4e5f60718"}})
	case p == proxy:
		a.queries = append(a.queries, r.URL.RawQuery)
		switch a.queryMode {
		case "403":
			status(w, http.StatusForbidden, `nodes "`+a.nodeName+`" is forbidden: User "dev" cannot get resource "nodes/proxy"`)
			return
		case "404":
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		case "disabled":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n<a href=\"messages\">messages</a>\n</pre>\n"))
			return
		}
		unit := r.URL.Query().Get("query")
		if unit == "absent" || len(a.n.units[unit]) == 0 {
			w.Write([]byte("\noptions present and query resolved to log files for [" + unit + "]\ntry without specifying options\n"))
			return
		}
		w.Write([]byte(strings.Join(a.n.units[unit], "\n") + "\n"))
	case p == proxy+"messages":
		// An AL2-style syslog: kernel lines (the only kernel messages the method can reach).
		if a.queryMode == "403" {
			status(w, http.StatusForbidden, "forbidden")
			return
		}
		w.Write([]byte(strings.Join(a.n.units["kernel"], "\n") + "\n"))
	case strings.HasPrefix(p, proxy):
		http.Error(w, "404 page not found", http.StatusNotFound)
	case p == "/api/v1/pods":
		if got := r.URL.Query().Get("fieldSelector"); got != "spec.nodeName="+a.nodeName {
			a.t.Errorf("pods listed with fieldSelector %q, want spec.nodeName=%s", got, a.nodeName)
		}
		writeJSON(w, &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: []corev1.Pod{*a.n.pod}})
	case p == "/api/v1/namespaces/"+a.n.pod.Namespace+"/pods/"+a.n.pod.Name+"/log":
		q := r.URL.Query()
		if q.Get("timestamps") != "true" {
			a.t.Errorf("pod log asked without timestamps=true: %s", r.URL.RawQuery)
		}
		key := q.Get("container") + "/" + q.Get("previous")
		body, ok := a.podLog[key]
		if !ok {
			status(w, http.StatusBadRequest, `container "`+q.Get("container")+`" in pod is waiting to start: CrashLoopBackOff`)
			return
		}
		w.Write([]byte(body))
	default:
		a.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func status(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	reason := metav1.StatusReasonForbidden
	switch code {
	case http.StatusBadRequest:
		reason = metav1.StatusReasonBadRequest
	case http.StatusNotFound:
		reason = metav1.StatusReasonNotFound
	}
	json.NewEncoder(w).Encode(&metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code)})
}

func startAPI(t *testing.T, a *apiServer) *rest.Config {
	t.Helper()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}

// importBundle imports a gathered folder into a fresh store and returns the index's facts.
func importBundle(t *testing.T, dir string) (*store.ImportResult, []facts.Fact) {
	t.Helper()
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), dir, store.ImportOptions{})
	if err != nil {
		t.Fatalf("import %s: %v", dir, err)
	}
	if res.Index == nil {
		if res.Index, err = st.Index(context.Background(), res.Entry, false); err != nil {
			t.Fatal(err)
		}
	}
	return res, res.Index.Facts
}

func TestFromNodeScenario(t *testing.T) {
	n := loadScenario(t, "container-oom-v2")
	ctr := n.truth.Container
	restarts := 0
	for _, s := range n.pod.Status.ContainerStatuses {
		if s.Name == ctr {
			restarts = int(s.RestartCount)
		}
	}
	if restarts == 0 {
		t.Fatalf("scenario pod %s has no restarts of %s", n.pod.Name, ctr)
	}
	prev := "2026-11-20T10:26:10.5Z starting checkout\n2026-11-20T10:26:16.000000001Z heap at 498MiB\ncontinued without a stamp\n"
	a := &apiServer{t: t, n: n, nodeName: n.pod.Spec.NodeName, queryMode: "ok",
		podLog: map[string]string{ctr + "/true": prev}}
	cfg := startAPI(t, a)
	var steps []string
	res, err := FromNode(context.Background(), cfg, a.nodeName, t.TempDir(), KubeOptions{
		Now:      func() time.Time { return n.capture },
		Progress: func(step string, done, total int) { steps = append(steps, step) },
	})
	if err != nil {
		t.Fatal(err)
	}

	// The node log query was asked with the kubelet's parameters: unit and a 10-day sinceTime.
	since := n.capture.Add(-DefaultWindow).Format(time.RFC3339)
	wantQ := []string{"query=kubelet&sinceTime=" + strings.ReplaceAll(since, ":", "%3A"),
		"query=containerd&sinceTime=" + strings.ReplaceAll(since, ":", "%3A")}
	if strings.Join(a.queries, " ") != strings.Join(wantQ, " ") {
		t.Errorf("node log queries\n got %q\nwant %q", a.queries, wantQ)
	}
	if len(steps) == 0 {
		t.Error("no progress reported")
	}
	wantBase := "eks_i-0a1b2c3d4e5f60718_" + n.capture.Format("2006-01-02_1504") + "-UTC_nodediag-kube"
	if filepath.Base(res.Dir) != wantBase || res.InstanceID != "i-0a1b2c3d4e5f60718" {
		t.Errorf("bundle %s instance %q, want %s", filepath.Base(res.Dir), res.InstanceID, wantBase)
	}

	// Each file holds exactly what the server sent for it.
	lines := map[string]int{}
	for _, f := range res.Files {
		lines[f.Path] = f.Lines
	}
	podDir := "var_log/pods/" + n.pod.Namespace + "_" + n.pod.Name + "_" + string(n.pod.UID) + "/" + ctr + "/"
	for path, want := range map[string]int{
		"kubelet/kubelet.log":              len(n.units["kubelet"]),
		"containerd/containerd-log.txt":    len(n.units["containerd"]),
		"var_log/messages":                 len(n.units["kernel"]),
		"system/instance-id.txt":           1,
		podDir + itoa(restarts-1) + ".log": 3,
	} {
		if lines[path] != want {
			t.Errorf("%s: %d lines, want %d (files %v)", path, lines[path], want, lines)
		}
	}
	cri, err := os.ReadFile(filepath.Join(res.Dir, filepath.FromSlash(podDir+itoa(restarts-1)+".log")))
	if err != nil {
		t.Fatal(err)
	}
	wantCRI := "2026-11-20T10:26:10.5Z stdout F starting checkout\n2026-11-20T10:26:16.000000001Z stdout F heap at 498MiB\n" +
		"2026-11-20T10:26:16.000000001Z stdout F continued without a stamp\n"
	if string(cri) != wantCRI {
		t.Errorf("CRI pod log\n got %q\nwant %q", cri, wantCRI)
	}

	// What could not be had is listed: the current log (container waiting), syslog and dmesg
	// (404), and the kernel ring buffer (out of the method's reach).
	missing := map[string]string{}
	for _, m := range res.Missing {
		missing[m.What] = m.Why
	}
	for _, what := range []string{podDir + itoa(restarts) + ".log", "var_log/syslog", "kernel/dmesg.boot", "kernel ring buffer"} {
		if missing[what] == "" {
			t.Errorf("missing %q not listed; missing: %v", what, missing)
		}
	}
	man, err := os.ReadFile(filepath.Join(res.Dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(man, &back); err != nil || len(back.Missing) != len(res.Missing) || len(back.Files) != len(res.Files) {
		t.Errorf("manifest does not match the result (err %v)", err)
	}

	// The proof of the layout: the store classifies the files and the index finds the planted
	// OOM kill in the kernel lines, joined to the pod.
	imp, fs := importBundle(t, res.Dir)
	types := map[string]string{}
	for _, f := range imp.Entry.Manifest.Files {
		types[f.Path] = f.LogType
	}
	for path, want := range map[string]string{
		"kubelet/kubelet.log": "kubelet", "containerd/containerd-log.txt": "containerd",
		"var_log/messages": "messages", podDir + itoa(restarts-1) + ".log": "pods",
	} {
		if types[path] != want {
			t.Errorf("%s classified %q, want %q", path, types[path], want)
		}
	}
	if imp.Entry.Manifest.InstanceID != "i-0a1b2c3d4e5f60718" || !imp.Entry.Manifest.CaptureTime.Equal(n.capture) {
		t.Errorf("store read instance %q capture %s, want i-0a1b2c3d4e5f60718 %s",
			imp.Entry.Manifest.InstanceID, imp.Entry.Manifest.CaptureTime, n.capture)
	}
	for _, want := range n.truth.Facts {
		found := false
		for _, f := range fs {
			if f.Kind == want.Kind && (want.ContainerID == "" || f.ContainerID == want.ContainerID) &&
				(want.Kind != facts.OOMKill || f.PID == want.PID && f.PodUID == n.truth.PodUID && f.Container == n.truth.Container) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("planted %s (container %s pid %d) not among the indexed facts", want.Kind, want.ContainerID, want.PID)
		}
	}
}

func TestFromNodeQueryUnavailable(t *testing.T) {
	n := loadScenario(t, "container-oom-v2")
	ctr := n.truth.Container
	tests := []struct {
		mode      string
		wantWhy   string // in the kubelet.log Missing entry
		forbidden bool
	}{
		{"disabled", "NodeLogQuery", false},
		{"404", "HTTP 404", false},
		{"403", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			a := &apiServer{t: t, n: n, nodeName: n.pod.Spec.NodeName, queryMode: tc.mode,
				podLog: map[string]string{ctr + "/true": "2026-11-20T10:26:10Z boom\n"}}
			dst := t.TempDir()
			res, err := FromNode(context.Background(), startAPI(t, a), a.nodeName, dst, KubeOptions{Now: func() time.Time { return n.capture }})
			if tc.forbidden {
				var fe *ForbiddenError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), `"nodes/proxy"`) || !strings.Contains(err.Error(), "--allow-node-proxy") {
					t.Fatalf("err = %v, want a ForbiddenError naming nodes/proxy and --allow-node-proxy", err)
				}
				if ents, _ := os.ReadDir(dst); len(ents) != 0 {
					t.Errorf("a refused gathering left %d entries in the destination", len(ents))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			why := ""
			for _, m := range res.Missing {
				if m.What == "kubelet/kubelet.log" {
					why = m.Why
				}
			}
			if !strings.Contains(why, tc.wantWhy) {
				t.Errorf("kubelet.log missing because %q, want it to mention %q", why, tc.wantWhy)
			}
			pods := 0
			for _, f := range res.Files {
				if strings.HasPrefix(f.Path, "var_log/pods/") {
					pods++
				}
				if f.Path == "kubelet/kubelet.log" {
					t.Errorf("kubelet.log written although the query was unavailable")
				}
			}
			if pods != 1 {
				t.Errorf("%d pod logs gathered, want the 1 previous log", pods)
			}
		})
	}
}

func TestReplyProblem(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{"Nov 20 10:26:17.000001 ip-10-0-1-2 kubelet[1]: I1120 ok\n", ""},
		{"\noptions present and query resolved to log files for [containerd]\ntry without specifying options\n", "no unit containerd.service"},
		{"\nlog not found for containerd\n", "no unit containerd.service"},
		{"\nerror: journal output not available\n", "could not run journalctl"},
		{"<pre>\n<a href=\"messages\">messages</a>\n</pre>\n", "disabled"},
	}
	for _, tc := range tests {
		got := replyProblem([]byte(tc.body), "containerd")
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("replyProblem(%q) = %q, want it to contain %q", tc.body, got, tc.want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
