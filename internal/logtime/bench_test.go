package logtime

import (
	"testing"
)

// benchLines are one typical line per format (and per journal body kind, since refinement is
// where the time goes), taken from the reference's real examples.
var benchLines = []struct {
	name string
	f    Format
	line string
}{
	{"journal-short", JournalShort, "Feb 08 12:46:09 ip-10-0-1-229.us-west-2.compute.internal systemd[1]: Started kubelet.service - Kubernetes Kubelet."},
	{"journal-short-klog", JournalShort, "Feb 18 12:46:09 ip-10-0-1-229.us-west-2.compute.internal kubelet[4015]: I0218 12:46:09.118312    4015 kubelet_node_status.go:79] Attempting to register node ip-10-0-1-229.us-west-2.compute.internal"},
	{"journal-short-containerd", JournalShort, `Nov 29 18:20:18 aks-np2-39852331-vmss000000 containerd[2506]: time="2024-11-29T18:20:18.329810628Z" level=info msg="shim disconnected" id=c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab namespace=k8s.io`},
	{"journal-short-precise", JournalShortPrecise, "Mar 14 10:12:31.545053 localhost kernel: x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT"},
	{"journal-iso", JournalISO, "2025-02-12T06:25:29.149489+00:00 ip-10-0-1-5.ec2.internal systemd[1]: Started kubelet.service."},
	{"syslog", Syslog, "Jun 21 19:22:58 ip-10-0-12-209 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-ca0c308b91e6712a9f57d9c4eb300cc8e3acb80a2d3f342f6c858d4998bbb945.scope,mems_allowed=0"},
	{"klog", Klog, `I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" exitCode=0`},
	{"logfmt", Logfmt, `time="2024-11-29T18:13:10.764041708Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:nginx,Uid:5da5612b-9738-493c-af51-a213072997f6,Namespace:default,Attempt:0,}"`},
	{"cri", CRI, `2022-11-21T02:50:53.90545154Z stderr F {"level":"info","ts":"2022-11-21T02:50:53.905Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"ac5a143a5c9bfc26 is starting a new election at term 5"}`},
	{"json", JSON, `{"level":"info","ts":"2023-01-11T19:31:35.197Z","caller":"datastore/data_store.go:826","msg":"AssignPodIPv4Address: Assign IP 10.133.43.217 to sandbox aws-cni/6327bffa3f317e243ad00ce41e4a0934f3596b91d631edb850db3f21b051803d/eth0"}`},
	{"json-epoch", JSON, `{"level":"info","ts":1712221037.5944886,"caller":"init/init.go:49","msg":"Checking user is root.."}`},
	{"dmesg-raw", DmesgRaw, "[  139.201482] Memory cgroup out of memory: Killed process 7788 (bash) total-vm:7169492kB, anon-rss:7165824kB, file-rss:956kB, shmem-rss:0kB, UID:0 pgtables:14076kB oom_score_adj:1000"},
	{"dmesg-ctime", DmesgCtime, "[Thu Oct 10 03:06:53 2024] pt_main_thread[2536443]: segfault at 7f797fe00000 ip 00007f7c7ac69996 sp 00007f7c12fd7c30 error 4 in libnccl.so.2[7f7c7ac00000+d3d3000]"},
	{"iso", ISO, "2026-11-20 10:30:00 INFO [HealthCheck] HealthCheck reporting agent health."},
}

var benchContext = Context{
	Capture: utc(2026, 11, 20, 10, 30, 0, 0),
	Boot:    utc(2026, 11, 8, 7, 12, 19, 0),
}

var sinkStamp Stamp

func BenchmarkParse(b *testing.B) {
	for _, bl := range benchLines {
		line := []byte(bl.line)
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				sinkStamp = benchContext.Parse(bl.f, line)
			}
		})
	}
}

// BenchmarkParseZoned measures the cost of a real time zone (DST rules) for zone-less stamps.
func BenchmarkParseZoned(b *testing.B) {
	c := benchContext
	c.Location = plus10
	line := []byte(benchLines[0].line)
	b.ReportAllocs()
	for b.Loop() {
		sinkStamp = c.Parse(JournalShort, line)
	}
}

func BenchmarkSniff(b *testing.B) {
	var ls [][]byte
	for range 8 {
		ls = append(ls, []byte(benchLines[2].line))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Sniff(ls)
	}
}

// TestParseAllocs holds Parse to zero allocations per line for every format: the indexer
// calls it on every hit line, and garbage per line is what makes a 1 GiB bundle slow.
func TestParseAllocs(t *testing.T) {
	c := benchContext
	c.Location = plus10
	for _, bl := range benchLines {
		line := []byte(bl.line)
		for _, ctx := range []*Context{&benchContext, &c} {
			if s := ctx.Parse(bl.f, line); s.Quality == None {
				t.Fatalf("%s: benchmark line does not parse", bl.name)
			}
			if n := testing.AllocsPerRun(100, func() { sinkStamp = ctx.Parse(bl.f, line) }); n != 0 {
				t.Errorf("%s: %v allocs per Parse", bl.name, n)
			}
		}
	}
}
