package redact

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/corpus"
)

// TestCatalog: every example of every rule loses its secret and says which rule took it; every
// near miss comes out unchanged through the whole catalog.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for i := range Catalog {
		r := &Catalog[i]
		if seen[r.ID] || r.What == "" || r.Source == "" || len(r.Examples) == 0 || len(r.NearMisses) == 0 {
			t.Errorf("rule %q: duplicate id, or missing what, source, examples or near misses", r.ID)
		}
		seen[r.ID] = true
		for _, ex := range r.Examples {
			secrets := Secrets(*r, ex) // the pattern's own spans, found without String
			if len(secrets) == 0 {
				t.Errorf("%s: example %q: the pattern finds no secret in it", r.ID, ex)
			}
			got := String(ex)
			for _, s := range secrets {
				if len(s) >= 4 && strings.Contains(got, s) {
					t.Errorf("%s: example %q keeps %q: %q", r.ID, ex, s, got)
				}
			}
			if !strings.Contains(got, "[REDACTED:") {
				t.Errorf("%s: example %q: no marker in %q", r.ID, ex, got)
			}
		}
		for _, nm := range r.NearMisses {
			if got := String(nm); got != nm {
				t.Errorf("%s: near miss %q became %q", r.ID, nm, got)
			}
		}
	}
}

// TestNoFalseRedactions: the identifiers every bundle is full of pass untouched — container
// ids, image digests, pod UIDs, cgroup paths, instance ids, kubelet and containerd lines.
func TestNoFalseRedactions(t *testing.T) {
	for _, line := range []string{
		"220c8e8bface3fb4d4058b49d89d8daf6fcd2246470384f3c502d16db13d3885",
		"sha256:4f53f2d1b9e7a4c8d3e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f",
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause@sha256:529cf6b1b6e5b76e901abc43aee825badbd93f9c5ee5f1e316d46a83abbce5a2",
		"aaa2e8fe-bc21-41f8-7abb-c9ea50487435",
		"i-0a1b2c3d4e5f60718 ip-10-0-37-142.us-west-2.compute.internal",
		`[1040730.018007] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-220c8e8bface3fb4d4058b49d89d8daf6fcd2246470384f3c502d16db13d3885.scope,mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podaaa2e8fe_bc21_41f8_7abb_c9ea50487435.slice`,
		`time="2026-11-20T08:17:49.035985782Z" level=info msg="TaskExit event container_id:\"220c8e8bface3fb4d4058b49d89d8daf6fcd2246470384f3c502d16db13d3885\" pid:51438 exit_status:137"`,
		`I1120 08:17:49.424985    3051 kubelet.go:2414] "SyncLoop (PLEG): event for pod" pod="shop/api-7d9f8b6c4d-x2x9k" event={"ID":"aaa2e8fe-bc21-41f8-7abb-c9ea50487435","Type":"ContainerDied","Data":"220c8e8bface3fb4d4058b49d89d8daf6fcd2246470384f3c502d16db13d3885"}`,
		`E1120 08:23:02.545985    3051 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 2m40s restarting failed container=api pod=api-7d9f8b6c4d-x2x9k_shop(aaa2e8fe-bc21-41f8-7abb-c9ea50487435)\""`,
		`Nov 20 08:17:49 ip-10-0-37-142 kernel: Memory cgroup out of memory: Killed process 51438 (java) total-vm:2617335kB, anon-rss:523467kB`,
		`E1120 10:01:12.000000 3051 secret.go:194] Couldn't get secret shop/db-creds: secret "db-creds" not found`,
		`I1120 10:01:12.000000 3051 reconciler.go:357] "operationExecutor.MountVolume started for volume \"kube-api-access-9x8kq\" (UniqueName: \"kubernetes.io/projected/aaa2e8fe-bc21-41f8-7abb-c9ea50487435-kube-api-access-9x8kq\")"`,
	} {
		if got := String(line); got != line {
			t.Errorf("changed a line that holds no secret:\n  %s\n→ %s", line, got)
		}
	}
}

func TestTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"plain line":                  "plain line",
		"evil\x1b[2J\x1b]0;title\x07": `evil\x1b[2J\x1b]0;title\x07`,
		"forged\nnodediag: all good":  `forged\nnodediag: all good`,
		"col\tumn\r":                  `col\tumn\r`,
		"c1 \u009b31m":                `c1 \x9b31m`,
		"bidi \u202egnp.exe":          `bidi \u202egnp.exe`,
		"ünïcödé stays":               "ünïcödé stays",
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValue(t *testing.T) {
	type line struct {
		Ref  string
		Text string
		raw  string
	}
	type answer struct {
		Lines []line
		ByKey map[string]*line
		Any   any
		Raw   []byte
	}
	secret := "Authorization: Bearer sha256~QWxhZGRpbjpvcGVuIHNlc2FtZQ\x1b[2J"
	in := answer{Lines: []line{{Ref: "kubelet/kubelet.log:7", Text: secret, raw: secret}}, ByKey: map[string]*line{"k": {Text: secret}},
		Any: []any{secret}, Raw: []byte(`{"t":"` + "Bearer sha256~QWxhZGRpbjpvcGVuIHNlc2FtZQ" + `"}`)}
	out, err := Value(in, true)
	if err != nil {
		t.Fatal(err)
	}
	want := `Authorization: Bearer [REDACTED:authorization]\x1b[2J`
	if out.Lines[0].Text != want || out.ByKey["k"].Text != want || out.Any.([]any)[0] != want || out.Lines[0].Ref != "kubelet/kubelet.log:7" {
		t.Errorf("redacted copy %+v, want every text %q and the ref kept", out, want)
	}
	if string(out.Raw) != `{"t":"Bearer [REDACTED:authorization]"}` {
		t.Errorf("raw %s", out.Raw)
	}
	if out.Lines[0].raw != secret {
		t.Error("an unexported field must be copied as it is (no output reads it)")
	}
	if in.Lines[0].Text != secret || in.ByKey["k"].Text != secret {
		t.Error("Value changed its input: answers share the index other calls read")
	}
}

// TestRealLinesUnchanged: the corpus of real lines quoted from public issues and upstream
// source (testdata/corpus, 1,296 lines of kubelet, containerd, kernel and node programs) holds no
// credential, so redaction must change none of them. Every line it would change is printed.
func TestRealLinesUnchanged(t *testing.T) {
	entries, err := corpus.LoadDir("../../testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, e := range entries {
		for _, l := range append([]string{e.Line}, e.Before...) {
			if got := String(l); got != l {
				changed++
				t.Errorf("%s (%s): a real line without a secret was redacted:\n  %s\n→ %s", e.File, e.Source, l, got)
			}
		}
	}
	t.Logf("%d real lines, %d changed", len(entries), changed)
}

// BenchmarkString redacts the real-line corpus: the cost per byte of text an answer carries.
func BenchmarkString(b *testing.B) {
	entries, err := corpus.LoadDir("../../testdata/corpus")
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	n := 0
	for _, e := range entries {
		lines = append(lines, e.Line)
		n += len(e.Line)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, l := range lines {
			String(l)
		}
	}
}

func TestHandler(t *testing.T) {
	var b strings.Builder
	log := slog.New(Handler(slog.NewTextHandler(&b, nil), func(s string) string { return Terminal(String(s)) }))
	log.With("member", "evil\x1b[2J").Warn("skipped AKIAIOSFODNN7EXAMPLE", "err", errors.New("DB_PASSWORD=hunter2hunter2"), "names", []string{"Bearer sha256~QWxhZGRpbjpvcGVuIHNlc2FtZQ"})
	out := b.String()
	for _, leak := range []string{"AKIAIOSFODNN7EXAMPLE", "hunter2hunter2", "QWxhZGRpbjpvcGVuIHNlc2FtZQ", "\x1b"} {
		if strings.Contains(out, leak) {
			t.Errorf("log shows %q: %s", leak, out)
		}
	}
}

// TestEnvSecrets: a pod spec holds an environment variable's value apart from its name; a name
// that marks it secret redacts the value, in typed (corev1.EnvVar-like) and unstructured form.
func TestEnvSecrets(t *testing.T) {
	type envVar struct{ Name, Value string }
	typed, err := Value([]envVar{{"DB_PASSWORD", "hunter2"}, {"LOG_LEVEL", "debug"}, {"GITHUB_TOKEN", "x"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if typed[0].Value != Marker("env-secret") || typed[1].Value != "debug" || typed[2].Value != Marker("env-secret") {
		t.Errorf("typed env %+v", typed)
	}
	obj := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"env": []any{
		map[string]any{"name": "API_KEY", "value": "0123456789"}, map[string]any{"name": "PORT", "value": "8080"}}}}}}
	clean, err := Value(obj, false)
	if err != nil {
		t.Fatal(err)
	}
	env := clean["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"].([]any)
	if env[0].(map[string]any)["value"] != Marker("env-secret") || env[1].(map[string]any)["value"] != "8080" {
		t.Errorf("unstructured env %v", env)
	}
}

func TestTerminalText(t *testing.T) {
	in := "# K3\n\n| a\t| b |\r\x1b[2Jdone"
	if got, want := TerminalText(in), "# K3\n\n| a\t| b |\\r\\x1b[2Jdone"; got != want {
		t.Errorf("TerminalText(%q) = %q, want %q", in, got, want)
	}
}
