package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/cli"
	"github.com/nodediag/nodediag/internal/mcpserver"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/store"
	"github.com/nodediag/nodediag/internal/tartest"
)

// secretCorpus is every example line of the redaction catalog, with the secret spans each holds
// (what no output may show).
func secretCorpus(t *testing.T) (lines []corpusLine, secrets []string) {
	t.Helper()
	for _, r := range redact.Catalog {
		for _, ex := range r.Examples {
			lines = append(lines, corpusLine{text: ex, whole: r.AtMessage})
		}
	}
	for _, l := range lines {
		for _, r := range redact.Catalog {
			secrets = append(secrets, exampleSecrets(r, l.text)...)
		}
	}
	if len(secrets) < len(redact.Catalog) {
		t.Fatalf("%d secrets from %d rules", len(secrets), len(redact.Catalog))
	}
	return lines, secrets
}

// corpusLine is an example of the catalog; whole says it is a line of its own (a key's body
// line), not text a program quotes inside its message.
type corpusLine struct {
	text  string
	whole bool
}

// exampleSecrets finds a rule's secret spans in a line with the rule's own pattern.
func exampleSecrets(r redact.Rule, line string) []string {
	var out []string
	for _, s := range redact.Secrets(r, line) {
		if len(s) >= 6 {
			out = append(out, s)
		}
	}
	return out
}

// secretBundle is the example bundle with every secret of the corpus written into kubelet's,
// containerd's, messages' and a pod's log lines (in lines the detection rules report, so they
// reach findings, samples and claims too), into the kubelet's kubeconfig and into a PEM key file.
func secretBundle(t *testing.T, lines []corpusLine) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9")
	tartest.Untar(t, exampleArchive, dir)
	appendTo := func(rel string, text string) {
		f, err := os.OpenFile(filepath.Join(dir, rel), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
	var kubelet, ctrd, messages, pod strings.Builder
	for i, l := range lines {
		ex := l.text
		if l.whole {
			// A key file's body line or a kubeconfig line is a line of its own: a pod prints it,
			// or a program logs it as its message; it is not quoted inside another message.
			sec := 10 + i%50
			fmt.Fprintf(&pod, "2026-11-20T10:29:%02d.000000000Z stdout F %s\n", sec, ex)
			fmt.Fprintf(&messages, "Nov 20 10:29:%02d ip-10-0-37-142 setup-node[4242]: %s\n", sec, ex)
			continue
		}
		sec := 10 + i%50
		quoted := strings.ReplaceAll(ex, `"`, `\"`)
		fmt.Fprintf(&kubelet, "Nov 20 10:29:%02d ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: E1120 10:29:%02d.118312    3187 log.go:32] \"PullImage from image service failed\" err=\"rpc error: %s\" image=\"registry.example.com/payments/ledger:2.1\"\n", sec, sec, quoted)
		fmt.Fprintf(&ctrd, "Nov 20 10:29:%02d ip-10-0-37-142.us-west-2.compute.internal containerd[2954]: time=\"2026-11-20T10:29:%02d.100000000Z\" level=error msg=\"PullImage \\\"registry.example.com/payments/ledger:2.1\\\" failed\" error=\"%s\"\n", sec, sec, quoted)
		fmt.Fprintf(&messages, "Nov 20 10:29:%02d ip-10-0-37-142 kubelet: E1120 10:29:%02d.118312    3187 log.go:32] \"Failed to pull image\" err=\"%s\"\n", sec, sec, quoted)
		fmt.Fprintf(&pod, "2026-11-20T10:29:%02d.000000000Z stderr F %s\n", sec, ex)
	}
	appendTo("kubelet/kubelet.log", kubelet.String())
	appendTo("containerd/containerd-log.txt", ctrd.String())
	appendTo("var_log/messages", messages.String())
	appendTo("var_log/ledger-0_payments_ledger-8a4f2c613d7e4b95a0c86e1f9d2b7a348a4f2c613d7e4b95a0c86e1f9d2b7a34.log", pod.String())
	appendTo("kubelet/kubeconfig", "apiVersion: v1\nkind: Config\nusers:\n- name: kubelet\n  user:\n"+
		"    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=\n    token: 7c2d9a1b-0f3e-4e5d-9a8b-1c2d3e4f5a6b\n")
	appendTo("system/debug-key.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAyb0Ybz2qTfG9sDkQ7pWx3J5v8Zt1LmN4oPqRsTuVwXyZaBcDeFgH\n"+
		"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn\n-----END RSA PRIVATE KEY-----\n")
	return dir
}

// TestNoSecretLeavesAnyFace imports a bundle holding every secret form of the catalog in
// kubelet, containerd, messages and pod log lines, a kubeconfig and a key file, then asks every
// node-log question of the CLI (JSON and table) and of the MCP server, and fails on any secret
// in any answer. --no-redact shows them again, so the test can fail.
func TestNoSecretLeavesAnyFace(t *testing.T) {
	lines, secrets := secretCorpus(t)
	folder := secretBundle(t, lines)
	ctx := context.Background()
	storeDir := filepath.Join(t.TempDir(), "store")
	if d := os.Getenv("LEAK_STORE"); d != "" {
		storeDir = d
	}
	st, err := store.Open(storeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(ctx, folder, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Entry.Manifest.ID
	leaks := func(face, what, out string) {
		t.Helper()
		for _, s := range secrets {
			js, _ := json.Marshal(s)
			if strings.Contains(out, s) || strings.Contains(out, strings.Trim(string(js), `"`)) {
				t.Errorf("%s %s shows the secret %q", face, what, s)
			}
		}
	}

	files := []string{"kubelet/kubelet.log", "containerd/containerd-log.txt", "var_log/messages", "kubelet/kubeconfig", "system/debug-key.pem",
		"var_log/ledger-0_payments_ledger-8a4f2c613d7e4b95a0c86e1f9d2b7a348a4f2c613d7e4b95a0c86e1f9d2b7a34.log"}
	query := "pull|PullImage|stderr F|key-data|token|PRIVATE|[A-Za-z0-9+/]{60}"
	commands := [][]string{
		{"errors", "--severity", "info"}, {"facts"}, {"search", query, "--max-results", "5000"}, {"correlate"},
		{"diagnose", "--pod", "payments/ledger-0"}, {"quick-triage"}, {"summarize"}, {"validate"},
	}
	for _, f := range files {
		commands = append(commands, []string{"read", f, "--start-line", "-60", "--line-count", "60"})
	}
	run := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		code := cli.MainIO(ctx, append([]string{"--store", storeDir}, args...), nil, &stdout, &stderr)
		return stdout.String() + stderr.String(), code
	}
	for _, c := range commands {
		for _, o := range []string{"json", "table"} {
			args := append(append([]string{}, c...), "--bundle", id, "-o", o)
			out, code := run(args...)
			if code > 1 {
				t.Errorf("nodediag %v: exit %d: %s", args, code, out)
			}
			leaks("CLI", strings.Join(args, " "), out)
		}
	}
	// The test can fail: the same search with --no-redact shows them.
	out, _ := run("search", query, "--max-results", "5000", "--bundle", id, "-o", "json", "--no-redact")
	shown := 0
	for _, s := range secrets {
		if strings.Contains(out, s) {
			shown++
		}
	}
	if shown == 0 {
		t.Error("--no-redact shows none of the corpus's secrets: the corpus does not reach the outputs")
	}

	ct, sst := mcp.NewInMemoryTransports()
	ss, err := mcpserver.New(mcpserver.Options{Store: st, Version: "test"}).Connect(ctx, sst, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "leaks", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"errors", map[string]any{"severity": "info", "response_format": "detailed", "pageSize": 200}},
		{"search", map[string]any{"query": query, "maxResults": 5000}},
		{"search", map[string]any{"query": query, "maxResults": 5000, "response_format": "detailed", "context": 3}},
		{"correlate", map[string]any{"response_format": "detailed", "maxChains": 0}},
		{"summarize", map[string]any{}},
		{"quick_triage", map[string]any{}},
		{"diagnose_crashloop", map[string]any{"namespace": "payments", "pod": "ledger-0"}},
		{"validate", map[string]any{}},
		{"read", map[string]any{"logKey": "no/such/" + secrets[0]}}, // an error that quotes its input
	}
	for _, f := range files {
		calls = append(calls, struct {
			tool string
			args map[string]any
		}{"read", map[string]any{"logKey": f, "startLine": -60, "lineCount": 60}})
	}
	for _, c := range calls {
		c.args["bundleId"] = id
		r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		b, _ := json.Marshal(r)
		leaks("MCP", c.tool, string(b))
	}
}
