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
		{"pod IP exhaustion", []string{`{"level":"error","ts":"2026-11-20T08:17:02.540Z","caller":"ipamd/ipamd.go:845","msg":"Failed to increase pool size due to not able to allocate ENI AllocENI: error creating ENI: InsufficientFreeAddressesInSubnet: insufficient free address to create network interface"}`, `Nov 20 08:17:02 ip-10-0-37-142 kubelet[3187]: E1120 08:17:02.118312    3187 log.go:32] "RunPodSandbox from runtime service failed" err="rpc error: code = Unknown desc = failed to setup network for sandbox \"14bffa7734d01abd808dead23744386135518961ab240ba48b88a9e269398126\": plugin type=\"aws-cni\" name=\"aws-cni\" failed (add): add cmd: failed to assign an IP address to container"`}, "N1"},
		{"EBS stall", []string{`[  592.948075] nvme nvme0: I/O 407 QID 1 timeout, aborting`, `Nov 20 08:17:02 ip-10-0-37-142 kernel: EXT4-fs (nvme0n1p1): Remounting filesystem read-only`, `Nov 20 08:17:02 ip-10-0-37-142 kernel: INFO: task jbd2/nvme1n1-8:412 blocked for more than 122 seconds.`}, "S1"},
		{"disk pressure", []string{`Jun 17 16:18:42 ip-10-0-37-142 kubelet[3187]: I0617 16:18:42.080925    3187 eviction_manager.go:381] "Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"`, `Nov 20 08:17:02 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: I1120 08:17:02.118312    3187 kubelet_node_status.go:687] "Recording event message for node" node="ip-10-0-37-142.us-west-2.compute.internal" event="NodeHasDiskPressure"`}, "S1"},
		{"node join rejected", []string{`Apr 04 08:57:17 ip-10-0-3-248.eu-west-1.compute.internal nodeadm[1918]: {"level":"fatal","ts":1712221037.5944886,"caller":"nodeadm/main.go:36","msg":"Command failed","error":"failed to validate NodeConfig: Name is missing in cluster configuration"}`, `Nov 20 08:17:02 ip-10-0-37-142 kubelet[3187]: E1120 08:17:02.118312    3187 kubelet_node_status.go:96] "Unable to register node with API server" err="Unauthorized" node="ip-10-0-37-142.us-west-2.compute.internal"`}, "B1"},
		{"CoreDNS loop", []string{`2026-11-20T08:17:02.90545154Z stdout F [FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."`, `Nov 20 08:17:02 ip-10-0-37-142 kubelet: E1120 08:17:02.118312    3187 dns.go:153] "Nameserver limits exceeded" err="Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.0.0.2 10.0.0.3 10.0.0.4"`}, "D1"},
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
