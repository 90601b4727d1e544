package runbook

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func catalogOf(t *testing.T, texts ...string) *Catalog {
	t.Helper()
	c := NewCatalog()
	for _, text := range texts {
		rb, err := Parse("t.md", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		c.Add(rb)
	}
	return c
}

func TestMatchRanking(t *testing.T) {
	b := body("MUST:\n- a\n")
	low := func(s string) string { return strings.Replace(s, "severity: HIGH", "severity: LOW", 1) }
	c := catalogOf(t,
		head("M1", "oom", "killed")+b,
		head("M2", "back-?off")+b,
		head("M3", "restart")+b,
		low(head("M4", "restart"))+b,
		head("M5", "pull")+b,
		head(CatchAll, "error")+b,
		head("M6", "never there")+b,
	)
	texts := []string{
		"container OOM Killed",            // 0: M1 twice (case-insensitive)
		"Back-off restarting: error",      // 1: M2, M3, M4, Z1
		"error only",                      // 2: Z1
		"nothing",                         // 3
		"restart again",                   // 4: M3, M4
		"image pull failed and restarted", // 5: M5, M3, M4
	}
	want := []Match{
		// two distinct triggers beat one
		{ID: "M1", Severity: "HIGH", Triggers: []string{"oom", "killed"}, Lines: []MatchedLine{{0, texts[0], []string{"oom", "killed"}}}},
		// one trigger on three lines beats one trigger on one line; HIGH beats LOW on a tie
		{ID: "M3", Severity: "HIGH", Triggers: []string{"restart"}, Lines: []MatchedLine{{1, texts[1], []string{"restart"}}, {4, texts[4], []string{"restart"}}, {5, texts[5], []string{"restart"}}}},
		{ID: "M4", Severity: "LOW", Triggers: []string{"restart"}, Lines: []MatchedLine{{1, texts[1], []string{"restart"}}, {4, texts[4], []string{"restart"}}, {5, texts[5], []string{"restart"}}}},
		// a full tie goes by id
		{ID: "M2", Severity: "HIGH", Triggers: []string{"back-?off"}, Lines: []MatchedLine{{1, texts[1], []string{"back-?off"}}}},
		{ID: "M5", Severity: "HIGH", Triggers: []string{"pull"}, Lines: []MatchedLine{{5, texts[5], []string{"pull"}}}},
		// the catch-all comes last although it matched two lines
		{ID: CatchAll, Severity: "HIGH", Triggers: []string{"error"}, Lines: []MatchedLine{{1, texts[1], []string{"error"}}, {2, texts[2], []string{"error"}}}},
	}
	got := c.Match(texts)
	for i := range got {
		got[i].Title = ""
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Match (-want +got):\n%s", diff)
	}
	if got := c.Match(nil); len(got) != 0 {
		t.Errorf("Match(nil) = %v, want none", got)
	}
}

// TestMatchBuiltin feeds real line shapes (from kubelet, the kernel and containerd, as
// node-log-bundles.md quotes them) to the built-in catalog and checks which SOP ranks first.
func TestMatchBuiltin(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		lines []string
		first string
	}{
		{"crash loop", []string{`E0719 20:54:58.447705     914 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"nfs\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=nfs pod=nfs-56f77ff677-wkfmq_default(80ce594f-dfaa-40fd-ae06-032ec1187193)\""`}, "K3"},
		{"kubelet OOM-killed", []string{`[  147.358790] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/podruntime.slice,task_memcg=/podruntime.slice/kubelet.service,task=kubelet,pid=989,uid=0`}, "A1"},
		{"liveness probe", []string{`I0516 18:34:49.000000    4052 prober.go:107] "Probe failed" probeType="Liveness" pod="default/liveness-exec" containerName="liveness" probeResult="failure" output=<`, `I0516 18:34:49.885621    4052 kuberuntime_container.go:808] "Killing container with a grace period" pod="default/liveness-exec" gracePeriod=30`}, "K2"},
		{"global OOM", []string{`[ 9000.1] Out of memory: Killed process 4242 (java) total-vm:9000000kB, anon-rss:8000000kB`, `I1120 10:00:00.000000 2775 oom_watcher_linux.go:80] "Got sys oom event"`}, "G2"},
		{"image pull", []string{`E1120 10:00:00.000000 2775 log.go:32] "PullImage from image service failed" err="rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/ngnix:latest\": failed to resolve reference \"docker.io/library/ngnix:latest\": not found"`, `"Failed to pull image" image="ngnix"`}, "C1"},
		{"runc start", []string{`time="2026-11-20T10:00:00Z" level=error msg="StartContainer for \"abc\" failed" error="failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/app\": permission denied: unknown"`}, "K4"},
		{"nothing specific", []string{`level=error msg="something odd"`}, CatchAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Match(tt.lines)
			if len(got) == 0 || got[0].ID != tt.first {
				ids := make([]string, len(got))
				for i, m := range got {
					ids[i] = m.ID
				}
				t.Fatalf("ranking %v, want %s first", ids, tt.first)
			}
			for _, l := range got[0].Lines {
				if tt.lines[l.Index] != l.Text || len(l.Triggers) == 0 {
					t.Errorf("matched line %d = %q with triggers %v, input has %q", l.Index, l.Text, l.Triggers, tt.lines[l.Index])
				}
			}
		})
	}
}
