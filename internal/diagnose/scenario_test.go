package diagnose

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/nodediag/nodediag/internal/golden"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// imported is one scenario bundle in a temp store with the Kubernetes files written beside it.
type imported struct {
	s       scenario.Scenario
	truth   scenario.Truth
	entry   *store.Entry
	idx     *index.Index
	pod     *corev1.Pod
	events  []corev1.Event
	prevLog string
}

var (
	importMu    sync.Mutex
	importCache = map[string]*imported{}
)

// importScenario writes a scenario in its own layout, imports it once per test binary, and loads
// pod.json, events.json and previous.log with the kube package, as the CLI would.
func importScenario(t testing.TB, s scenario.Scenario) *imported {
	t.Helper()
	importMu.Lock()
	defer importMu.Unlock()
	if im, ok := importCache[s.Name]; ok {
		return im
	}
	dir, err := os.MkdirTemp("", "diagnose-"+s.Name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {}) // the cache outlives the test; TestMain removes the folders
	tempDirs = append(tempDirs, dir)
	src := filepath.Join(dir, "src")
	arch, err := scenario.WriteArchive(src, s, s.Layout, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	im := &imported{s: s}
	if im.truth, err = scenario.ReadTruth(filepath.Join(src, "truth.json")); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), arch, store.ImportOptions{})
	if err != nil {
		t.Fatalf("import %s: %v", s.Name, err)
	}
	im.entry, im.idx = res.Entry, res.Index
	if im.idx == nil {
		if im.idx, err = st.Index(context.Background(), res.Entry, false); err != nil {
			t.Fatal(err)
		}
	}
	if im.pod, err = kube.LoadPodFile(filepath.Join(src, "pod.json")); err != nil {
		t.Fatal(err)
	}
	if im.events, err = kube.LoadEventsFile(filepath.Join(src, "events.json")); err != nil {
		t.Fatal(err)
	}
	im.prevLog, err = kube.LoadLogFile(filepath.Join(src, "previous.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	importCache[s.Name] = im
	return im
}

var tempDirs []string

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// wantClass maps a truth's root cause onto the runbook's classes (see the package doc).
func wantClass(rootCause string) string {
	switch rootCause {
	case "none":
		return ""
	case "sigterm":
		return AppError
	case "kubelet_oom":
		return NodeOOM
	}
	return rootCause
}

// nodeLogsOnly is the truth as the node's logs alone can prove it.
func nodeLogsOnly(truth scenario.Truth) scenario.Truth {
	if truth.NodeLogsRootCause != "" {
		truth.RootCause = truth.NodeLogsRootCause
	}
	return truth
}

// wantLevel is the OOM level the truth's root cause implies.
func wantLevel(rootCause string) string {
	switch rootCause {
	case "container_oom":
		return LevelContainer
	case "node_oom", "kubelet_oom":
		return LevelNode
	}
	return LevelNone
}

func checkTruth(t *testing.T, d *Diagnosis, truth scenario.Truth, withPod bool) {
	t.Helper()
	if want := wantClass(truth.RootCause); d.Class != want {
		t.Errorf("class %q, want %q (truth %s); root_cause: %s", d.Class, want, truth.RootCause, d.RootCause)
	}
	if (d.RootCause == "") != (truth.RootCause == "none") {
		t.Errorf("root_cause %q for truth %s", d.RootCause, truth.RootCause)
	}
	if d.RootCause != "" && !strings.HasPrefix(d.RootCause, d.Class+" — ") {
		t.Errorf("root_cause %q does not start with its class %q", d.RootCause, d.Class)
	}
	if want := wantLevel(truth.RootCause); d.OOMLevel != want {
		t.Errorf("OOM level %q, want %q", d.OOMLevel, want)
	}
	if truth.RootCause == "none" {
		return
	}
	if d.ExitCode == nil || *d.ExitCode != truth.ExitCode {
		t.Errorf("exit code %v, want %d", ptr(d.ExitCode), truth.ExitCode)
	}
	if truth.Pod != "" && (d.Pod != truth.Pod || d.Container != truth.Container) {
		t.Errorf("diagnosed %s/%s container %s, want %s/%s container %s", d.Namespace, d.Pod, d.Container, truth.Namespace, truth.Pod, truth.Container)
	}
	if len(truth.BackOffs) > 0 && strings.Join(d.BackOffs, ",") != strings.Join(truth.BackOffs, ",") {
		t.Errorf("back-offs %v, want %v", d.BackOffs, truth.BackOffs)
	}
	if len(d.Evidence) == 0 {
		t.Errorf("a root cause without evidence")
	}
	for _, e := range d.Evidence {
		for _, l := range e.Lines {
			if !strings.Contains(l.Ref, ":") || l.Text == "" {
				t.Errorf("evidence %s line %+v lacks file:line or text", e.Type, l)
			}
		}
	}
	// The counts the root cause states are the truth's planted events: one OOM kill per
	// container instance however many processes one report killed (memory.oom.group).
	count := map[string]int{}
	killed := map[string]bool{}
	for _, f := range truth.Facts {
		if f.Kind == "OOMKill" && f.ContainerID != "" {
			if killed[f.ContainerID] {
				continue
			}
			killed[f.ContainerID] = true
		}
		count[string(f.Kind)]++
	}
	for kind, phrase := range map[string]string{"OOMKill": "killed %s", "Segfault": "%s", "ProbeFailure": "probe failed %s"} {
		if n := count[kind]; n > 0 && truth.Pod != "" && !strings.Contains(d.RootCause, fmt.Sprintf(phrase, times(n))) {
			t.Errorf("root cause %q does not count the truth's %d %s", d.RootCause, n, kind)
		}
	}
	hasPodState := false
	for _, e := range d.Evidence {
		hasPodState = hasPodState || e.Type == EvPodState
	}
	if hasPodState != withPod {
		t.Errorf("pod_state evidence present = %v, want %v", hasPodState, withPod)
	}
}

// checkCitations: every statement the diagnosis makes cites the lines it stands on, and every
// cited line is quoted in the evidence.
func checkCitations(t *testing.T, d *Diagnosis) {
	t.Helper()
	quoted := map[string]bool{}
	for _, e := range d.Evidence {
		for _, l := range e.Lines {
			quoted[l.Ref] = true
		}
	}
	cited := map[string]bool{}
	for _, c := range d.Citations {
		cited[c.Claim] = true
		for _, r := range c.Refs {
			if !quoted[r] {
				t.Errorf("claim %s cites %s, which no evidence item quotes", c.Claim, r)
			}
		}
	}
	want := []string{}
	if d.RootCause != "" {
		want = append(want, ClaimRootCause)
	}
	if d.Restarts > 0 {
		want = append(want, ClaimCrashFrequency)
	}
	for i := range d.CrossReference {
		want = append(want, claimCrossRef(i))
	}
	for i := range d.Escalation {
		want = append(want, claimEscalation(i))
	}
	for _, w := range want {
		if !cited[w] {
			t.Errorf("claim %s cites no line (citations %+v)", w, d.Citations)
		}
	}
}

func ptr(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestScenarioAccuracy diagnoses every scenario with its pod.json, events.json and previous.log,
// checks class, exit code, OOM level and back-off ladder against the truth, and pins the whole
// Output Format in a golden file.
func TestScenarioAccuracy(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			im := importScenario(t, s)
			d, err := Diagnose(context.Background(), im.idx, Input{PodStatus: im.pod, Events: im.events, PreviousLog: im.prevLog, Entry: im.entry})
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, d, im.truth, true)
			checkCitations(t, d)
			if d.Class == NodeOOM && d.OOMLevel == LevelNode && im.truth.Pod != "" {
				checkMemInfo(t, d)
			}
			checkGolden(t, filepath.Join("testdata", "golden", s.Name+".yaml"), d)
		})
	}
}

// TestScenarioNodeLogsOnly diagnoses every scenario from the node's logs alone (the pod named
// as the truth names it, or nothing when the truth names no pod): class and exit code must still
// come out, and the missing inputs must be listed as gaps.
func TestScenarioNodeLogsOnly(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			im := importScenario(t, s)
			d, err := Diagnose(context.Background(), im.idx, Input{Namespace: im.truth.Namespace, Pod: im.truth.Pod, Container: im.truth.Container})
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, d, nodeLogsOnly(im.truth), false)
			checkCitations(t, d)
			if !hasGap(d, "no pod status") {
				t.Errorf("gaps %q do not say the pod status was missing", d.Gaps)
			}
			// Without a pod named, the engine must find the same container by itself.
			auto, err := Diagnose(context.Background(), im.idx, Input{})
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, auto, nodeLogsOnly(im.truth), false)
		})
	}
}

func hasGap(d *Diagnosis, prefix string) bool {
	for _, g := range d.Gaps {
		if strings.HasPrefix(g, prefix) {
			return true
		}
	}
	return false
}

func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, path, got, *update, "go test ./internal/diagnose -update")
}

// checkMemInfo: with the bundle at hand a global OOM's node memory figures are shown, and they
// come from the newest kill's own report — after the previous kill's line, before its own.
func checkMemInfo(t *testing.T, d *Diagnosis) {
	t.Helper()
	if hasGap(d, "node memory figures") {
		t.Errorf("node memory figures listed as a gap with the bundle at hand")
	}
	text := map[string]string{}
	for _, e := range d.Evidence {
		for _, l := range e.Lines {
			text[l.Ref] = l.Text
		}
	}
	var refs []string
	for _, c := range d.Citations {
		if c.Claim == ClaimMemory {
			refs = c.Refs
		}
	}
	// The claim cites the newest kill first, then its report's lines (the "invoked oom-killer"
	// line opens the report), then the Mem-Info figures read from that same report.
	var kill, invoked int
	var mem []string
	for _, r := range refs {
		switch tx := text[r]; {
		case strings.Contains(tx, "Killed process"):
			kill = lineNo(t, r)
		case strings.Contains(tx, "invoked oom-killer"):
			invoked = lineNo(t, r)
		case strings.Contains(tx, "pages RAM") || strings.Contains(tx, " free:"):
			mem = append(mem, r)
		}
	}
	if kill == 0 || invoked == 0 || len(mem) == 0 {
		t.Fatalf("the memory claim cites %q: want the kill, its invoked line and Mem-Info lines", refs)
	}
	for _, r := range mem {
		if n := lineNo(t, r); n <= invoked || n >= kill {
			t.Errorf("Mem-Info line %s is not inside the newest kill's report (lines %d to %d)", r, invoked, kill)
		}
	}
}

func lineNo(t *testing.T, ref string) int {
	t.Helper()
	_, n, ok := strings.Cut(ref[strings.LastIndex(ref, ":"):], ":")
	if !ok {
		t.Fatalf("ref %q has no line", ref)
	}
	var v int
	if _, err := fmt.Sscan(n, &v); err != nil {
		t.Fatalf("ref %q: %v", ref, err)
	}
	return v
}
