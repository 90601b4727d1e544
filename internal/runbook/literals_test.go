package runbook

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		trigger string
		want    []string
	}{
		{"CrashLoopBackOff", []string{"crashloopbackoff"}},
		{"exit code 13[7-9]", []string{"exit code 13"}},
		{"container.*exited with.*code", []string{"exited with"}},
		{`\b(error|panic|fatal)\b`, []string{"error", "panic", "fatal"}},
		// the parser factors "fa" out of failed|fatal; either branch's rest is still required
		{"failed|fatal", []string{"iled", "tal"}},
		// the alternation's shortest literal (7) is longer than "task=" (5)
		{"task=(kubelet|containerd)", []string{"kubelet", "containerd"}},
		{"OOM(Killed)?", []string{"oom"}},
		{"(a|b.*)x", []string{"a", "b"}}, // a tie on length keeps the first part
		{"(abc|[0-9]+)", nil},            // one branch has no literal
		{"[a-z]+", nil},
		{"(?:x)*", nil},
		{"\u212aill", nil}, // a Kelvin sign: ToLower cannot stand in for (?i)
		{"(", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, requiredLiterals(tt.trigger)); diff != "" {
			t.Errorf("requiredLiterals(%q) (-want +got):\n%s", tt.trigger, diff)
		}
	}
}

// FuzzTriggerPrefilter checks that the prefilter never drops a text a built-in trigger matches.
func FuzzTriggerPrefilter(f *testing.F) {
	c, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"CRASHLOOPBACKOFF", "Exit Code 137", "task=KUBELET,pid=1", "\u212a", "ErrImagePull", "level=error", "oom_memcg=/kubepods.slice,", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lower := ""
		if isASCII(text) {
			lower = strings.ToLower(text)
		}
		for _, rb := range c.List() {
			for _, tr := range c.triggers[rb.ID] {
				if tr.re.MatchString(text) && !tr.may(text, lower) {
					t.Fatalf("%s trigger %q matches %q but its literals %v drop it", rb.ID, tr.src, text, tr.lits)
				}
			}
		}
	})
}
