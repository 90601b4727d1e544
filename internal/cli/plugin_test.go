package cli

import (
	"strings"
	"testing"
)

// TestKubectlPlugin: run as kubectl-nodediag (kubectl's plugin name, .exe on windows) it is
// nodediag, and its help names it `kubectl nodediag`; run as anything else its help is nodediag's.
func TestKubectlPlugin(t *testing.T) {
	for _, tc := range []struct{ prog, name string }{
		{"kubectl-nodediag", "kubectl nodediag"},
		{"kubectl-nodediag.exe", "kubectl nodediag"},
		{"KUBECTL-NODEDIAG.EXE", "kubectl nodediag"},
		{"nodediag", "nodediag"},
		{"cli.test", "nodediag"},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			old := programName
			t.Cleanup(func() { programName = old })
			programName = func() string { return tc.prog }
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"diagnose", "--help"}, "Usage:\n  " + tc.name + " diagnose [POD]"},
				{[]string{"--help"}, "Usage:\n  " + tc.name + " [command]"},
			} {
				out, e, code := run(t, c.args...)
				if code != 0 || !strings.Contains(out, c.want) {
					t.Errorf("as %s, %v: exit %d, stderr %q; want %q in\n%s", tc.prog, c.args, code, e, c.want, out)
				}
			}
		})
	}
	// The plugin is the whole of nodediag: a diagnosis, as kubectl users write the pod.
	old := programName
	t.Cleanup(func() { programName = old })
	programName = func() string { return "kubectl-nodediag" }
	out, e, code := run(t, "--store", t.TempDir(), "diagnose", "ledger-0", "-n", "payments", "--bundle", example)
	if code != 0 || !strings.HasPrefix(out, "root_cause: 'container_oom") {
		t.Errorf("kubectl nodediag diagnose ledger-0 -n payments: exit %d, stderr %q\n%.300s", code, e, out)
	}
}

// TestDiagnosePodArg: the POD argument and -n NAMESPACE are --pod NAMESPACE/NAME spelled as
// kubectl spells it; --pod alone still works, and contradictions are usage errors.
func TestDiagnosePodArg(t *testing.T) {
	for _, tc := range []struct {
		pod, ns string
		args    []string
		want    string
		bad     bool
	}{
		{pod: "payments/ledger-0", want: "payments/ledger-0"},
		{pod: "ledger-0", want: "ledger-0"},
		{args: []string{"payments/ledger-0"}, want: "payments/ledger-0"},
		{args: []string{"ledger-0"}, ns: "payments", want: "payments/ledger-0"},
		{pod: "ledger-0", ns: "payments", want: "payments/ledger-0"},
		{pod: "payments/ledger-0", ns: "payments", want: "payments/ledger-0"},
		{pod: "payments/ledger-0", args: []string{"payments/ledger-0"}, want: "payments/ledger-0"},
		{want: ""},
		{pod: "payments/ledger-0", ns: "shop", bad: true},
		{pod: "a/b", args: []string{"a/c"}, bad: true},
		{ns: "payments", bad: true},
	} {
		got, err := podArg(tc.pod, tc.ns, tc.args)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("podArg(--pod %q, -n %q, %q) = %q, %v; want %q, error %v", tc.pod, tc.ns, tc.args, got, err, tc.want, tc.bad)
		}
	}
	store := t.TempDir()
	if _, e, code := run(t, "--store", store, "diagnose", "--bundle", example, "-n", "shop", "--pod", "payments/ledger-0"); code != ExitUsage || !strings.Contains(e, "not in namespace shop") {
		t.Errorf("--pod payments/… -n shop: exit %d, %q; want %d", code, e, ExitUsage)
	}
	if _, e, code := run(t, "--store", store, "diagnose", "--bundle", example, "a", "b"); code != ExitUsage {
		t.Errorf("two POD arguments: exit %d, %q; want %d", code, e, ExitUsage)
	}
}
