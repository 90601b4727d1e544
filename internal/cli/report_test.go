package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/scenario"
)

// TestReportCommand writes the example's report with the diagnose selection flags: to the
// default file name, to --out FILE and to stdout, with the root cause diagnose prints, and with
// a Kubernetes events lane when --events-json is given.
func TestReportCommand(t *testing.T) {
	// The test changes folder below: the inputs' paths are made absolute.
	bundle, err := filepath.Abs(example)
	if err != nil {
		t.Fatal(err)
	}
	events, err := filepath.Abs("../../testdata/example/events.json")
	if err != nil {
		t.Fatal(err)
	}
	store := t.TempDir()
	truth, err := scenario.ReadTruth("../../testdata/example/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	pod := truth.Namespace + "/" + truth.Pod
	out, e, code := run(t, "--store", store, "diagnose", "--bundle", bundle, "--pod", pod, "-o", "json")
	if code != 0 {
		t.Fatalf("diagnose: exit %d: %s", code, e)
	}
	var d struct {
		RootCause string `json:"root_cause"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.RootCause == "" {
		t.Fatalf("diagnose gave no root cause (%v): %.200s", err, out)
	}

	// The default file goes to the current folder.
	dir := t.TempDir()
	t.Chdir(dir)
	_, e, code = run(t, "--store", store, "report", truth.Pod, "-n", truth.Namespace, "--instance", "i-0a1b2c3d4e5f60718")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, e)
	}
	name := "nodediag-report-" + truth.Namespace + "-" + truth.Pod + ".html"
	page, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("the default file %s: %v (stderr %s)", name, err, e)
	}
	if !strings.Contains(string(page), htmlEscape(d.RootCause)) {
		t.Errorf("%s does not state diagnose's root cause %q", name, d.RootCause)
	}
	if !strings.Contains(e, name) {
		t.Errorf("stderr does not say where the report went: %q", e)
	}
	if strings.Contains(string(page), `class="mark k8s"`) {
		t.Error("a Kubernetes event lane without --events-json")
	}

	out, e, code = run(t, "--store", store, "report", "--bundle", bundle, "--pod", pod, "--out", "-",
		"--events-json", events)
	if code != 0 || !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Fatalf("--out -: exit %d, stdout %.100q, stderr %s", code, out, e)
	}
	if !strings.Contains(out, `class="mark k8s"`) || !strings.Contains(out, `id="k8s-events"`) {
		t.Error("--events-json gives no Kubernetes event lane and table")
	}

	file := filepath.Join(dir, "sub.html")
	if _, e, code = run(t, "--store", store, "report", "--bundle", bundle, "--pod", pod, "--out", file); code != 0 {
		t.Fatalf("--out FILE: exit %d: %s", code, e)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		t.Errorf("--out %s: %v", file, err)
	}

	// An unknown pod is a usage error naming the pod that does crash-loop.
	_, e, code = run(t, "--store", store, "report", "--bundle", bundle, "--pod", "nowhere/ghost-0", "--out", "-")
	if code == 0 || !strings.Contains(e, pod) {
		t.Errorf("unknown pod: exit %d, stderr %q; want an error naming %s", code, e, pod)
	}
}

// htmlEscape escapes s as html/template escapes text.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
