package runbook

import (
	"strings"
	"testing"

	"github.com/nodediag/nodediag/runbooks"
)

// FuzzParse checks that Parse never panics and that what it returns points into its input:
// every step's and call's line exists, and a step's first line is its bullet.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"K3.md", "G2.md", "Z1.md"} {
		data, err := runbooks.FS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(head("X1", "x") + body("MUST:\n- Use `search` tool with a and b=`c` and\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, err := Parse("f.md", data)
		if err != nil {
			return
		}
		lines := strings.Split(strings.ReplaceAll(strings.TrimPrefix(string(data), "\ufeff"), "\r\n", "\n"), "\n")
		for _, c := range AllCalls(rb) {
			if c.Line < 1 || c.Line > len(lines) {
				t.Fatalf("call %s at line %d of %d", c.Tool, c.Line, len(lines))
			}
			if !strings.Contains(lines[c.Line-1], c.Tool) {
				t.Fatalf("call %s at line %d, which is %q", c.Tool, c.Line, lines[c.Line-1])
			}
		}
		for _, p := range rb.Phases {
			for _, s := range p.Steps {
				if s.Line < 1 || s.Line > len(lines) || !strings.HasPrefix(lines[s.Line-1], "- ") && !strings.HasPrefix(lines[s.Line-1], "* ") {
					t.Fatalf("step at line %d is not a bullet", s.Line)
				}
			}
		}
	})
}

// BenchmarkMatch ranks the built-in catalog against 10,000 lines, about what an errors listing
// with samples gives; most of them match nothing, as in a real bundle.
func BenchmarkMatch(b *testing.B) {
	c, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	shapes := []string{
		`I1120 10:26:18.098000    2775 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b" containerID="c65a36d4" exitCode=137`,
		`E1120 10:27:26.223000    2775 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"ledger\" with CrashLoopBackOff: \"back-off 10s restarting failed container=ledger\""`,
		`[  139.201482] Memory cgroup out of memory: Killed process 7788 (java) total-vm:7169492kB, anon-rss:7165824kB`,
		`time="2026-11-20T10:26:17.473Z" level=info msg="TaskOOM event container_id:\"9192cb33\""`,
		`I1120 10:00:00.000000    2775 kubelet.go:2400] "SyncLoop (PLEG): event for pod" pod="payments/ledger-0"`,
	}
	texts := make([]string, 10000)
	for i := range texts {
		texts[i] = shapes[i%len(shapes)]
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(c.Match(texts)) == 0 {
			b.Fatal("no match")
		}
	}
}

// BenchmarkBuiltin is the cost of loading the embedded catalog, paid once per command.
func BenchmarkBuiltin(b *testing.B) {
	for b.Loop() {
		if _, err := Builtin(); err != nil {
			b.Fatal(err)
		}
	}
}
