package cli

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/scenario"
)

const example = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

func TestErrorsOnExampleBundle(t *testing.T) {
	store := t.TempDir()
	out, errOut, code := run(t, "--store", store, "errors", "--bundle", example, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res errorsResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%s", err, out)
	}
	truth, err := scenario.ReadTruth("../../testdata/example/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	if res.InstanceID != "i-0a1b2c3d4e5f60718" || !res.Capture.Equal(truth.CaptureTime) {
		t.Errorf("instance %q capture %s, want i-0a1b2c3d4e5f60718 and %s", res.InstanceID, res.Capture, truth.CaptureTime)
	}
	rules := map[string]bool{}
	for _, f := range res.Findings {
		rules[f.Rule] = true
		if len(f.Samples) == 0 || f.Samples[0].File == "" || f.Samples[0].Line == 0 {
			t.Errorf("%s has no sample with file:line", f.ID)
		}
	}
	// The example is a container OOM crash loop: the OOM kill and the back-off must be findings.
	for _, want := range []string{"kubelet-crashloop-backoff", "containerd-task-oom"} {
		if !rules[want] {
			t.Errorf("finding %s missing; got %v", want, rules)
		}
	}

	// The second call reuses the stored bundle: found by instance id alone.
	out, errOut, code = run(t, "--store", store, "facts", "--instance", "i-0a1b2c3d4e5f60718", "--kind", "OOMKill", "-o", "json")
	if code != 0 {
		t.Fatalf("facts: exit %d: %s", code, errOut)
	}
	var fr factsResult
	if err := json.Unmarshal([]byte(out), &fr); err != nil {
		t.Fatal(err)
	}
	wantOOM := 0
	for _, f := range truth.Facts {
		if f.Kind == "OOMKill" {
			wantOOM++
		}
	}
	if len(fr.Facts) != wantOOM {
		t.Errorf("OOMKill facts: got %d, want %d", len(fr.Facts), wantOOM)
	}
	for _, f := range fr.Facts {
		if f.Pod != truth.Pod || f.Container != truth.Container {
			t.Errorf("OOMKill %s not joined to %s/%s: %q/%q", f.Ref, truth.Pod, truth.Container, f.Pod, f.Container)
		}
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	store := t.TempDir()
	if _, e, code := run(t, "--store", store, "import", example); code != 0 {
		t.Fatalf("import: exit %d: %s", code, e)
	}
	// A truncated archive: what could be read is imported, and the exit code says partial.
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "eks_i-0feedfeedfeedfeed_2026-11-20_1030-UTC_0.7.9.tar.gz")
	if err := os.WriteFile(cut, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // in stderr
	}{
		{"unknown flag", []string{"errors", "--nope"}, ExitUsage, "unknown flag"},
		{"bad output", []string{"-o", "xml", "bundles"}, ExitUsage, `-o "xml"`},
		{"bad severity", []string{"errors", "--severity", "urgent"}, ExitUsage, "--severity"},
		{"legacy warning severity", []string{"errors", "--severity", "warning"}, ExitOK, ""},
		{"end before start", []string{"errors", "--start", "2026-11-20 10:00", "--end", "2026-11-20 09:00"}, ExitUsage, "is not after"},
		{"bad time", []string{"errors", "--incident-time", "yesterday"}, ExitUsage, "is not a time"},
		{"unknown instance", []string{"errors", "--instance", "i-0000000000000000"}, 1, "has no bundle"},
		{"unknown bundle id", []string{"errors", "--bundle", "nope"}, 1, "not found"},
		{"unknown kind", []string{"facts", "--kind", "Explosion"}, ExitUsage, "--kind"},
		{"fail-on hit", []string{"errors", "--fail-on", "high"}, ExitFindings, ""},
		{"fail-on outside window", []string{"errors", "--fail-on", "high", "--start", "2026-11-01 00:00", "--end", "2026-11-02 00:00"}, ExitOK, ""},
		{"missing archive", []string{"import", "/no/such/bundle.tar.gz"}, ExitUsage, "no such file"},
		{"missing archive under --bundle", []string{"errors", "--bundle", "/no/such/bundle.tar.gz"}, ExitUsage, "no such file"},
		{"pod not in the bundle", []string{"diagnose", "--bundle", example, "--pod", "payments/no-such-pod"}, ExitUsage, "payments/ledger-0"},
		{"truncated archive", []string{"import", cut}, ExitPartial, "imported only part"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"--store", store}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.wantCode, stderr)
			}
			if tc.wantErr != "" && !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("stderr %q does not say %q", stderr, tc.wantErr)
			}
		})
	}
}

// A bundle that reaches a limit is imported as far as the limit, and the import exits 3 saying
// which limit stopped it in which member, and what was kept.
func TestImportStopsAtLimits(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 8 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("var_log/z%d.log", i), Method: zip.Deflate, Modified: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, 1<<20)) // 1 MiB of zeros deflates to 1 KiB
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := filepath.Join(t.TempDir(), "zeros.zip")
	if err := os.WriteFile(bomb, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		say   []string
		files string // the summary's line
	}{
		{"MaxTotalBytes", []string{"--max-total-bytes", "2500000"},
			[]string{"MaxTotalBytes=2500000", `"var_log/z2.log"`, "kept what was stored before it: 3 files, 2500000 bytes"}, "files        3 "},
		{"MaxFiles", []string{"--max-files", "5"},
			[]string{"MaxFiles=5", `"var_log/z5.log"`, "kept what was stored before it: 5 files"}, "files        5 "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := run(t, append([]string{"--store", t.TempDir(), "import", bomb}, tc.args...)...)
			if code != ExitPartial {
				t.Errorf("exit %d, want %d; stderr: %s", code, ExitPartial, stderr)
			}
			for _, s := range append(tc.say, "imported only part of") {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q does not say %q", stderr, s)
				}
			}
			if !strings.Contains(out, tc.files) || !strings.Contains(out, "bundle cut short") {
				t.Errorf("stdout does not sum up what was kept (%q): %q", tc.files, out)
			}
		})
	}
}

func TestOutputFormats(t *testing.T) {
	store := t.TempDir()
	for _, o := range []string{"table", "json", "yaml"} {
		out, e, code := run(t, "--store", store, "facts", "--bundle", example, "-o", o)
		if code != 0 {
			t.Fatalf("-o %s: exit %d: %s", o, code, e)
		}
		switch o {
		case "json":
			if !json.Valid([]byte(out)) {
				t.Errorf("-o json is not JSON")
			}
		case "yaml":
			if !strings.Contains(out, "kind: OOMKill") {
				t.Errorf("-o yaml lacks the facts:\n%.400s", out)
			}
		case "table":
			if !strings.Contains(out, "OOMKill") || !strings.Contains(out, "kernel/") {
				t.Errorf("table lacks OOMKill rows with their source:\n%.400s", out)
			}
		}
	}
}

func TestImportRefusesEmptyAndUnsupported(t *testing.T) {
	store := t.TempDir()
	empty := t.TempDir()
	if _, e, code := run(t, "--store", store, "import", empty); code == 0 || !strings.Contains(e, "no files") {
		t.Errorf("empty folder: exit %d, stderr %q; want a failure saying the bundle has no files", code, e)
	}
	junk := filepath.Join(t.TempDir(), "notes.txt.bz2")
	os.WriteFile(junk, []byte("BZh91AY&SY not really"), 0o644)
	if _, e, code := run(t, "--store", store, "import", junk); code == 0 || !strings.Contains(e, ".tar.gz") {
		t.Errorf("unsupported file: exit %d, stderr %q; want a failure listing the supported kinds", code, e)
	}
	out, _, _ := run(t, "--store", store, "bundles", "-o", "json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("failed imports left bundles in the store: %s", out)
	}
}

func TestQueryCommands(t *testing.T) {
	store := t.TempDir()
	if _, e, code := run(t, "--store", store, "import", example); code != 0 {
		t.Fatalf("import: exit %d: %s", code, e)
	}
	truth, err := scenario.ReadTruth("../../testdata/example/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	// The SOP's OOM query finds the kernel lines of every planted OOM kill.
	out, e, code := run(t, "--store", store, "search", "oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score", "-o", "json")
	if code != 0 {
		t.Fatalf("search: exit %d: %s", code, e)
	}
	var sr struct {
		Total int
		Files []struct {
			File    string
			Matches []struct {
				ID, Text string
				Line     int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &sr); err != nil {
		t.Fatal(err)
	}
	for _, f := range truth.Facts {
		if f.Kind != "OOMKill" {
			continue
		}
		found := false
		for _, fm := range sr.Files {
			for _, m := range fm.Matches {
				found = found || strings.Contains(m.Text, fmt.Sprintf("process %d (", f.PID))
			}
		}
		if !found {
			t.Errorf("search found no line killing pid %d", f.PID)
		}
	}
	// read returns the exact line a search match names.
	first := sr.Files[0].Matches[0]
	out, e, code = run(t, "--store", store, "read", sr.Files[0].File, "--start-line", fmt.Sprint(first.Line), "--line-count", "1", "-o", "json")
	if code != 0 {
		t.Fatalf("read: exit %d: %s", code, e)
	}
	var rr struct{ Lines []struct{ Text string } }
	json.Unmarshal([]byte(out), &rr)
	if len(rr.Lines) != 1 || rr.Lines[0].Text != first.Text {
		t.Errorf("read %s:%d = %+v, want %q", sr.Files[0].File, first.Line, rr.Lines, first.Text)
	}
	// correlate: the observed back-off ladder is the planted one.
	out, e, code = run(t, "--store", store, "correlate", "-o", "json")
	if code != 0 {
		t.Fatalf("correlate: exit %d: %s", code, e)
	}
	var cr struct {
		Frequency []struct {
			Container string
			BackOffs  []string
		}
	}
	json.Unmarshal([]byte(out), &cr)
	if len(cr.Frequency) == 0 || strings.Join(cr.Frequency[0].BackOffs, ",") != strings.Join(truth.BackOffs, ",") {
		t.Errorf("back-off ladder %+v, want %v", cr.Frequency, truth.BackOffs)
	}
	// validate: the example is complete.
	if out, e, code = run(t, "--store", store, "validate"); code != 0 || !strings.Contains(out, "complete") {
		t.Errorf("validate: exit %d: %s %s", code, out, e)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"bad regex", []string{"search", "a(b"}, "missing closing )"},
		{"look-around", []string{"search", "(?!x)y"}, "RE2"},
		{"unknown log type", []string{"search", "x", "--log-types", "kubelett"}, "kubelet"},
		{"outside the bundle", []string{"read", "../../etc/passwd"}, "bundle"},
		{"unknown finding", []string{"correlate", "--pivot", "F-999"}, "F-001"},
		{"bad window", []string{"correlate", "--time-window", "0"}, "--time-window"},
		{"last with start", []string{"search", "x", "--last", "1h", "--start", "2026-11-20 10:00"}, "--last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"--store", store}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, ExitUsage, tc.wantErr)
			}
		})
	}
}

func TestDiagnoseAndRunbookCommands(t *testing.T) {
	store := t.TempDir()
	truth, err := scenario.ReadTruth("../../testdata/example/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	pod := truth.Namespace + "/" + truth.Pod
	for _, extra := range [][]string{nil, {"--pod-json", "../../testdata/example/pod.json", "--events-json", "../../testdata/example/events.json"}} {
		args := append([]string{"--store", store, "diagnose", "--bundle", example, "--pod", pod, "-o", "json"}, extra...)
		out, e, code := run(t, args...)
		if code != 0 {
			t.Fatalf("diagnose %v: exit %d: %s", extra, code, e)
		}
		var d struct {
			Class    string `json:"class"`
			ExitCode *int   `json:"exit_code"`
			Evidence []struct {
				Type  string
				Lines []struct{ Ref string }
			}
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if d.Class != truth.RootCause || d.ExitCode == nil || *d.ExitCode != truth.ExitCode {
			t.Errorf("diagnose %v: class %q exit %v, want %q %d", extra, d.Class, d.ExitCode, truth.RootCause, truth.ExitCode)
		}
		// The node's evidence (not pod_state, which comes from the API) cites file:line.
		cited := false
		for _, ev := range d.Evidence {
			if ev.Type == "dmesg_search" && len(ev.Lines) > 0 && strings.Contains(ev.Lines[0].Ref, ":") {
				cited = true
			}
		}
		if !cited {
			t.Errorf("diagnose %v: no dmesg evidence with file:line: %+v", extra, d.Evidence)
		}
	}
	// YAML, the runbook's Output Format, is the default.
	out, _, code := run(t, "--store", store, "diagnose", "--pod", pod)
	if code != 0 || !strings.HasPrefix(out, "root_cause: ") || !strings.Contains(out, "\nexit_code: 137\n") {
		t.Errorf("default output is not the Output Format YAML:\n%.300s", out)
	}
	if _, _, code := run(t, "--store", store, "diagnose", "--pod", pod, "--fail-on", "high"); code != ExitFindings {
		t.Errorf("--fail-on high with a HIGH root cause: exit %d, want %d", code, ExitFindings)
	}
	if _, e, code := run(t, "--store", store, "diagnose", "--pod", pod, "--pod-json", "/no/such.json"); code != ExitUsage {
		t.Errorf("missing --pod-json file: exit %d (%s), want %d", code, e, ExitUsage)
	}
	if out, e, code := run(t, "--store", store, "quick-triage", "-o", "json"); code != 0 || !strings.Contains(out, truth.RootCause) {
		t.Errorf("quick-triage: exit %d %s: %.300s", code, e, out)
	}
	if out, e, code := run(t, "--store", store, "summarize", "F-001", "-o", "json"); code != 0 || !strings.Contains(out, `"claims"`) {
		t.Errorf("summarize: exit %d %s: %.300s", code, e, out)
	}
	out, _, code = run(t, "sops")
	for _, id := range []string{"K3", "G2", "A1", "K2", "K4", "C1", "Z1"} {
		if code != 0 || !strings.Contains(out, id) {
			t.Errorf("sops lacks %s:\n%s", id, out)
		}
	}
	if out, _, code := run(t, "sop", "K3"); code != 0 || !strings.Contains(out, "## Output Format") {
		t.Errorf("sop K3 lacks its Output Format:\n%.300s", out)
	}
	if _, e, code := run(t, "sop", "Q9"); code != ExitUsage || !strings.Contains(e, "K3") {
		t.Errorf("unknown sop: exit %d, stderr %q", code, e)
	}
}

// TestDiagnoseUnreachableCluster: a cluster that cannot be reached is a gap, not a failure — the
// node's logs still give the diagnosis. The kubeconfig points at a closed loopback port.
func TestDiagnoseUnreachableCluster(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
users: [{name: u, user: {token: x}}]
`), 0o600)
	out, e, code := run(t, "--store", t.TempDir(), "diagnose", "--bundle", example, "--pod", "payments/ledger-0", "--kubeconfig", kc, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	var d struct {
		Class string   `json:"class"`
		Gaps  []string `json:"gaps"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.Class != "container_oom" || !strings.Contains(strings.Join(d.Gaps, "\n"), "cluster not read") {
		t.Errorf("class %q gaps %q: want container_oom and a gap naming the unreachable cluster", d.Class, d.Gaps)
	}
}

// TestServeOverStdio speaks MCP to `nodediag serve` the way an agent's client does over stdio:
// initialize, then list the tools and call one, each reply awaited before the next request; the
// server ends when its input closes.
func TestServeOverStdio(t *testing.T) {
	// No kubeconfig, no AWS configuration or credentials, no instance metadata: the server must
	// still serve every tool, the node-log ones working and the others saying what they need.
	empty := t.TempDir()
	for k, v := range map[string]string{"KUBECONFIG": filepath.Join(empty, "kubeconfig"), "AWS_CONFIG_FILE": filepath.Join(empty, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(empty, "aws-credentials"), "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_REGION": "us-west-2"} {
		t.Setenv(k, v)
	}
	store := t.TempDir()
	if _, e, code := run(t, "--store", store, "import", example); code != 0 {
		t.Fatalf("import: exit %d: %s", code, e)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- MainIO(context.Background(), []string{"--store", store, "serve"}, inR, outW, &errb)
		outW.Close()
	}()
	replies := bufio.NewScanner(outR)
	replies.Buffer(make([]byte, 1<<20), 16<<20)
	// ask sends one request and returns the reply with its id (notifications get none).
	ask := func(id int, method, params string) map[string]any {
		t.Helper()
		if id == 0 {
			fmt.Fprintf(inW, `{"jsonrpc":"2.0","method":%q,"params":%s}`+"\n", method, params)
			return nil
		}
		fmt.Fprintf(inW, `{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`+"\n", id, method, params)
		for replies.Scan() {
			var m map[string]any
			if err := json.Unmarshal(replies.Bytes(), &m); err != nil {
				t.Fatalf("stdout carries a non-JSON line %q: %v", replies.Text(), err)
			}
			if got, ok := m["id"].(float64); ok && int(got) == id {
				return m
			}
		}
		t.Fatalf("no reply to %s; stderr: %s", method, errb.String())
		return nil
	}
	ask(1, "initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}`)
	ask(0, "notifications/initialized", `{}`)
	list := ask(2, "tools/list", `{}`)
	call := ask(3, "tools/call", `{"name":"diagnose_crashloop","arguments":{"instanceId":"i-0a1b2c3d4e5f60718","namespace":"payments","pod":"ledger-0"}}`)
	events := ask(4, "tools/call", `{"name":"get_k8s_events","arguments":{"kind":"Pod","name":"ledger-0","namespace":"payments"}}`)
	collected := ask(5, "tools/call", `{"name":"collect","arguments":{"instanceId":"i-0a1b2c3d4e5f60718"}}`)
	inW.Close()
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d: %s", code, errb.String())
	}
	names := map[string]bool{}
	if res, ok := list["result"].(map[string]any); ok {
		for _, tl := range res["tools"].([]any) {
			names[tl.(map[string]any)["name"].(string)] = true
		}
	}
	for want := range runbook.KnownTools {
		if !names[want] {
			t.Errorf("tools/list lacks %s (got %v)", want, names)
		}
	}
	if b, _ := json.Marshal(call); !strings.Contains(string(b), "container_oom") {
		t.Errorf("diagnose_crashloop over stdio did not find container_oom: %.400s", b)
	}
	// Without a kubeconfig the Kubernetes tools fail as tool results naming it; without a bucket
	// collect says which flag it needs.
	for name, tc := range map[string]struct {
		reply map[string]any
		want  string
	}{"get_k8s_events": {events, "kubeconfig"}, "collect": {collected, "--bucket"}} {
		res, _ := tc.reply["result"].(map[string]any)
		b, _ := json.Marshal(res)
		if res == nil || res["isError"] != true || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s without configuration: %.400s, want an isError result naming %s", name, b, tc.want)
		}
	}
}

// shellWords splits a command line the way a POSIX shell splits single-quoted words.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestSearchNextCommands: a cut search prints the command lines that get the rest, and running
// them gets what they announce: the next page without a line of the first, the older matches,
// the routine lines listed.
func TestSearchNextCommands(t *testing.T) {
	store := t.TempDir()
	type result struct {
		Total    int
		Returned int
		Files    []struct {
			Matches []struct {
				File string
				Line int
			}
		}
		Collapsed []struct{ Count int }
		Next      []struct {
			Matches     int
			Offset      int
			Window      bool
			ListRoutine bool
			Call        string
		}
	}
	search := func(args ...string) result {
		t.Helper()
		out, e, code := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, e)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return r
	}
	refs := func(r result) map[string]bool {
		m := map[string]bool{}
		for _, f := range r.Files {
			for _, x := range f.Matches {
				m[fmt.Sprintf("%s:%d", x.File, x.Line)] = true
			}
		}
		return m
	}
	// Exact totals, so that each next command finds what this page announced (the flag carries
	// over to the next commands).
	first := search("--store", store, "search", "--bundle", example, "container.*start|container.*create|RunPodSandbox|StartContainer",
		"--log-types", "containerd", "--max-results", "20", "--exact-total", "-o", "json")
	if len(first.Next) != 3 || len(first.Collapsed) == 0 {
		t.Fatalf("first page: next %+v, collapsed %+v; want a next page, older matches and routine lines", first.Next, first.Collapsed)
	}
	listed := refs(first)
	for _, n := range first.Next {
		words := shellWords(t, n.Call)
		if len(words) < 3 || words[0] != "nodediag" || words[1] != "search" {
			t.Fatalf("next command %q is not a nodediag search", n.Call)
		}
		r := search(words[1:]...)
		switch {
		case n.Offset > 0:
			for ref := range refs(r) {
				if listed[ref] {
					t.Errorf("%s lists %s again", n.Call, ref)
				}
			}
			if r.Returned != min(20, n.Matches) {
				t.Errorf("%s lists %d, announced %d more", n.Call, r.Returned, n.Matches)
			}
		case n.Window:
			if r.Total != n.Matches {
				t.Errorf("%s finds %d, announced %d", n.Call, r.Total, n.Matches)
			}
		case n.ListRoutine:
			if len(r.Collapsed) != 0 || r.Total != first.Total {
				t.Errorf("%s: collapsed %+v of %d matches; want none collapsed of %d", n.Call, r.Collapsed, r.Total, first.Total)
			}
		}
	}
}

// TestSearchCount: --count prints each file's number of matching lines and lists none, the
// same numbers an exact search gives; with a listing flag it is refused.
func TestSearchCount(t *testing.T) {
	store := t.TempDir()
	const q = "container.*start|container.*create|RunPodSandbox|StartContainer"
	type result struct {
		Total, Returned       int
		TotalExact, Truncated bool
		Files                 []struct {
			File    string
			Total   int
			Matches []json.RawMessage
		}
	}
	search := func(args ...string) result {
		t.Helper()
		out, e, code := run(t, append([]string{"--store", store, "search", "--bundle", example, q, "-o", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, e)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	exact, counted := search("--exact-total", "--max-results", "5"), search("--count")
	if counted.Returned != 0 || counted.Truncated || !counted.TotalExact || counted.Total != exact.Total || exact.Total == 0 {
		t.Errorf("--count: total %d (exact %v), %d listed, truncated %v; the exact search counts %d", counted.Total, counted.TotalExact, counted.Returned, counted.Truncated, exact.Total)
	}
	perFile := func(r result) map[string]int {
		m := map[string]int{}
		for _, f := range r.Files {
			m[f.File] = f.Total
			if len(f.Matches) > 0 && r.Returned == 0 {
				t.Errorf("%s lists %d matches under --count", f.File, len(f.Matches))
			}
		}
		return m
	}
	if want, got := perFile(exact), perFile(counted); !maps.Equal(want, got) {
		t.Errorf("per file: --count %v, the exact search %v", got, want)
	}
	if _, e, code := run(t, "--store", store, "search", "--bundle", example, q, "--count", "-C", "2"); code != 2 || !strings.Contains(e, "--count lists no matches, so --context 2") {
		t.Errorf("--count -C 2: exit %d, %q; want 2 and a message naming the conflict", code, e)
	}
}

// TestVersionFlag: --version prints the version as the version command does, on stdout.
func TestVersionFlag(t *testing.T) {
	out, e, code := run(t, "--version")
	if want := "nodediag " + versionLine() + "\n"; code != 0 || out != want {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want %q", code, out, e, want)
	}
}

// TestCompletion: the shell completion completes values — stored bundle ids, instances, the
// output formats, severities and runbook ids — not only flag names.
func TestCompletion(t *testing.T) {
	store := t.TempDir()
	if _, e, code := run(t, "--store", store, "import", example); code != 0 {
		t.Fatalf("import: %s", e)
	}
	bundles, _, _ := run(t, "--store", store, "bundles", "-o", "json")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"errors", "--bundle", ""}, []string{"20261120T1030Z-"}},
		{[]string{"errors", "--instance", "i-0"}, []string{"i-0a1b2c3d4e5f60718"}},
		{[]string{"errors", "-o", ""}, []string{"table", "json", "yaml"}},
		{[]string{"errors", "--severity", "hi"}, []string{"high"}},
		{[]string{"sop", ""}, []string{"K3"}},
		{[]string{"serve", "--toolsets", ""}, []string{"node-logs", "kubernetes"}},
	} {
		out, e, code := run(t, append([]string{"__complete", "--store", store}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, e)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("completing %v offers %q; want %q among them (bundles: %s)", tc.args, out, w, bundles)
			}
		}
	}
}

// TestImportDrawsProgress: on a terminal, an import draws the archive's bytes read, ending at
// 100%, and leaves stdout to the summary; piped (the default in tests) it draws nothing.
func TestImportDrawsProgress(t *testing.T) {
	_, quiet, code := run(t, "--store", t.TempDir(), "import", example)
	if code != 0 || strings.Contains(quiet, "\rimport") {
		t.Fatalf("piped: exit %d, stderr %q; want no drawing", code, quiet)
	}
	forceTerminal(t)
	out, e, code := run(t, "--store", t.TempDir(), "import", example)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(e, "\rimport") || !strings.Contains(e, "100%") || strings.Contains(out, "\r") {
		t.Errorf("stderr %q, stdout %q: want the import's bar on stderr, reaching 100%%", e, out)
	}
}

// TestServeWithoutClusterOrAWS: serve --no-kube --no-aws lists the node-log and runbook tools
// alone — collect and status too are gone, since nothing could collect — and says why.
func TestServeWithoutClusterOrAWS(t *testing.T) {
	store := t.TempDir()
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`,
	}, "\n") + "\n"
	inR, inW := io.Pipe()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- MainIO(context.Background(), []string{"--store", store, "serve", "--no-kube", "--no-aws"}, inR, &out, &errb)
	}()
	go func() {
		io.WriteString(inW, in)
		time.Sleep(500 * time.Millisecond) // let the server answer before stdin ends
		inW.Close()
	}()
	if code := <-done; code != 0 {
		t.Fatalf("serve: exit %d: %s", code, errb.String())
	}
	var instructions string
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m struct {
			ID     int
			Result struct {
				Instructions string
				Tools        []struct{ Name string }
			}
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if m.ID == 1 {
			instructions = m.Result.Instructions
		}
		for _, tool := range m.Result.Tools {
			names = append(names, tool.Name)
		}
	}
	slices.Sort(names)
	// The fleet tools need only the store.
	want := []string{"compare_nodes", "correlate", "diagnose_crashloop", "errors", "fleet_crashloops", "get_sop", "list_sops", "quick_triage", "read", "search", "summarize", "validate"}
	if !slices.Equal(names, want) || !strings.Contains(instructions, "so not listed: aws") || !strings.Contains(instructions, "kubernetes: serve --kubeconfig") {
		t.Errorf("tools %v, instructions %q; want %v and why the rest are not listed", names, instructions, want)
	}
}

// TestReadNextIsACommand: a read that stops before the end of the file prints the command that
// reads on, and running it continues where the first stopped.
func TestReadNextIsACommand(t *testing.T) {
	store := t.TempDir()
	out, e, code := run(t, "--store", store, "read", "kubelet/kubelet.log", "--bundle", example, "--line-count", "3", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	var first struct {
		EndLine int
		Next    string
	}
	if err := json.Unmarshal([]byte(out), &first); err != nil {
		t.Fatal(err)
	}
	words := shellWords(t, first.Next)
	if len(words) < 3 || words[0] != "nodediag" || words[1] != "read" || !strings.Contains(first.Next, "--start-line=4") {
		t.Fatalf("next %q is not the read of line 4 on", first.Next)
	}
	out, e, code = run(t, words[1:]...)
	var second struct{ StartLine, EndLine int }
	if code != 0 || json.Unmarshal([]byte(out), &second) != nil || second.StartLine != 4 || second.EndLine != 6 {
		t.Errorf("running %q: exit %d, lines %d-%d, want 4-6: %s", first.Next, code, second.StartLine, second.EndLine, e)
	}
}

// TestSOPKeepsItsLines: a runbook is Markdown whose line breaks are its layout; the table output
// escapes terminal controls in bundle text, but must not flatten a runbook into one line.
func TestSOPKeepsItsLines(t *testing.T) {
	out, errOut, code := run(t, "sop", "K3")
	if code != 0 || strings.Contains(out, `\n`) || strings.Count(out, "\n") < 50 {
		t.Errorf("sop K3: exit %d %s; %d lines, literal \\n: %v", code, errOut, strings.Count(out, "\n"), strings.Contains(out, `\n`))
	}
}
