package facts

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

var t0 = time.Date(2025, 5, 19, 18, 14, 43, 0, time.UTC)

// feed is one line handed to an Assembler: the extractor its rule names, its line number, its
// time as seconds after t0 (negative: no time), and its text.
type feed struct {
	ext  string
	line int
	sec  float64
	text string
}

func lineRef(file string, line int, sec float64, q logtime.Quality) evidence.LineRef {
	r := evidence.LineRef{File: file, Line: line, Offset: int64(line) * 200, TimeQuality: logtime.None}
	if sec >= 0 {
		r.Time = t0.Add(time.Duration(sec * float64(time.Second)))
		r.TimeQuality = q
	}
	return r
}

func assemble(logType, file string, q logtime.Quality, lines []feed) []Fact {
	a := NewAssembler(logType)
	for _, l := range lines {
		a.Add(l.ext, lineRef(file, l.line, l.sec, q), []byte(l.text))
	}
	return a.Finish()
}

const (
	aksTaskMemcg = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope"
	aksOOMKill   = "[  139.201465] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope,mems_allowed=0,oom_memcg=/kubepods.slice,task_memcg=" + aksTaskMemcg + ",task=bash,pid=7788,uid=0"
	aksKilled1   = "[  139.201482] Memory cgroup out of memory: Killed process 7788 (bash) total-vm:7169492kB, anon-rss:7165824kB, file-rss:956kB, shmem-rss:0kB, UID:0 pgtables:14076kB oom_score_adj:1000"
	aksGroup     = "[  139.208991] Tasks in " + aksTaskMemcg + " are going to be killed due to memory.oom.group set"
	aksKilled2   = "[  139.209001] Memory cgroup out of memory: Killed process 7620 (nginx) total-vm:11464kB, anon-rss:1156kB, file-rss:3900kB, shmem-rss:0kB, UID:0 pgtables:60kB oom_score_adj:1000"
)

// aksBlock is the cgroup v2 memory.oom.group example of the reference (§6.4), preceded by the
// "invoked" and "memory: usage" lines such a block starts with.
func aksBlock(withGroup bool) []feed {
	f := []feed{
		{ExtOOMInvoked, 10, 139.2013, "[  139.201300] bash invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=1000"},
		{ExtMemcgUsage, 45, 139.2014, "[  139.201400] memory: usage 7340032kB, limit 7340032kB, failcnt 12"},
		{ExtOOMKill, 80, 139.201465, aksOOMKill},
		{ExtOOMKilledProcess, 81, 139.201482, aksKilled1},
	}
	if withGroup {
		f = append(f, feed{ExtOOMGroup, 82, 139.208991, aksGroup})
	}
	return append(f, feed{ExtOOMKilledProcess, 83, 139.209001, aksKilled2})
}

func TestAssemblerOOMGroup(t *testing.T) {
	const file = "kernel/dmesg.current"
	first := Fact{Kind: OOMKill, Source: ExtOOMKill, Ref: lineRef(file, 81, 139.201482, logtime.BootAnchored),
		Scope: "cgroup", Constraint: "CONSTRAINT_MEMCG", Process: "bash", PID: 7788, Memcg: "/kubepods.slice", TaskMemcg: aksTaskMemcg,
		PodUID: uidAKSOOM, ContainerID: cidAKSOOM, TotalVMKB: 7169492, AnonRSSKB: 7165824, FileRSSKB: 956,
		UsageKB: 7340032, LimitKB: 7340032, Message: "oom-killer invoked by bash",
		Block: []evidence.LineRef{lineRef(file, 10, 139.2013, logtime.BootAnchored), lineRef(file, 45, 139.2014, logtime.BootAnchored), lineRef(file, 80, 139.201465, logtime.BootAnchored)}}
	second := Fact{Kind: OOMKill, Source: ExtOOMKill, Ref: lineRef(file, 83, 139.209001, logtime.BootAnchored),
		Scope: "cgroup", Constraint: "CONSTRAINT_MEMCG", Process: "nginx", PID: 7620, Memcg: "/kubepods.slice", TaskMemcg: aksTaskMemcg,
		PodUID: uidAKSOOM, ContainerID: cidAKSOOM, TotalVMKB: 11464, AnonRSSKB: 1156, FileRSSKB: 3900,
		UsageKB: 7340032, LimitKB: 7340032, Message: "oom-killer invoked by bash",
		Block: append(slices.Clone(first.Block), lineRef(file, 82, 139.208991, logtime.BootAnchored))}
	// Without the group line nothing on the page says which cgroup the second victim was in.
	secondNoGroup := second
	secondNoGroup.TaskMemcg, secondNoGroup.PodUID, secondNoGroup.ContainerID = "", "", ""
	secondNoGroup.Block = first.Block

	repeated := append(aksBlock(true), feed{ExtOOMKilledProcess, 84, 139.209010, "[  139.209010] Memory cgroup out of memory: Killed process 7788 (bash) total-vm:7169492kB, anon-rss:0kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:14076kB oom_score_adj:1000"})

	for _, tc := range []struct {
		name  string
		lines []feed
		want  []Fact
	}{
		{"with-group-line", aksBlock(true), []Fact{first, second}},
		{"group-line-not-routed", aksBlock(false), []Fact{first, secondNoGroup}},
		{"first-victim-listed-again", repeated, []Fact{first, second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := assemble("dmesg", file, logtime.BootAnchored, tc.lines)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("facts (-want +got):\n%s", d)
			}
		})
	}
}

func TestAssemblerV1Block(t *testing.T) {
	// kubernetes/kubernetes issue #56891 (cgroup v1, cgroupfs driver): the kernel picks pid 24572
	// and sacrifices its child 28438; the block names the cgroup only on the "Task in" line.
	const file = "kernel/dmesg.human.current"
	const taskIn = "/kubepods/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e/6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b"
	const limitOf = "/kubepods/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e"
	lines := []feed{
		{ExtOOMInvoked, 1, 0, "[Thu Dec  7 00:05:14 2017] java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998"},
		{ExtOOMTaskIn, 30, 0, "[Thu Dec  7 00:05:14 2017] Task in " + taskIn + " killed as a result of limit of " + limitOf},
		{ExtMemcgUsage, 31, 0, "[Thu Dec  7 00:05:14 2017] memory: usage 524288kB, limit 524288kB, failcnt 31"},
		{ExtOOMKilledProcess, 70, 1, "[Thu Dec  7 00:05:15 2017] Memory cgroup out of memory: Kill process 24572 (java) score 0 or sacrifice child"},
		{ExtOOMKilledProcess, 71, 1, "[Thu Dec  7 00:05:15 2017] Killed process 28438 (java) total-vm:20255636kB, anon-rss:466160kB, file-rss:13684kB"},
	}
	want := []Fact{{Kind: OOMKill, Source: ExtOOMKill, Ref: lineRef(file, 71, 1, logtime.Exact),
		Scope: "cgroup", Process: "java", PID: 28438, Memcg: limitOf, TaskMemcg: taskIn, PodUID: uidV1, ContainerID: cidV1,
		TotalVMKB: 20255636, AnonRSSKB: 466160, FileRSSKB: 13684, UsageKB: 524288, LimitKB: 524288, Message: "oom-killer invoked by java",
		Block: []evidence.LineRef{lineRef(file, 1, 0, logtime.Exact), lineRef(file, 30, 0, logtime.Exact), lineRef(file, 31, 0, logtime.Exact), lineRef(file, 70, 1, logtime.Exact)}}}
	got := assemble("dmesg", file, logtime.Exact, lines)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("facts (-want +got):\n%s", d)
	}
}

func TestAssemblerGlobalOOMInMessages(t *testing.T) {
	// A node-wide OOM in AL2's var_log/messages: the task table of every process lies between the
	// first line and the kill, and other daemons' lines interleave.
	const file = "var_log/messages"
	const taskMemcg = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1e0f2b7c_3a4d_4e5f_8a9b_0c1d2e3f4a5b.slice/cri-containerd-c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab.scope"
	lines := []feed{
		{ExtOOMInvoked, 100, 0, "Jun 21 19:22:50 ip-10-0-12-209 kernel: kubelet invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=-999"},
		{ExtPLEGFinished, 150, 0, `Jun 21 19:22:50 ip-10-0-12-209 kubelet: I0621 19:22:50.100000    3187 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" exitCode=0`},
		{ExtOOMKill, 2400, 1, "Jun 21 19:22:51 ip-10-0-12-209 kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=" + taskMemcg + ",task=java,pid=4242,uid=1000"},
		{ExtOOMKilledProcess, 2401, 1, "Jun 21 19:22:51 ip-10-0-12-209 kernel: Out of memory: Killed process 4242 (java) total-vm:9123456kB, anon-rss:8012345kB, file-rss:1234kB, shmem-rss:0kB, UID:1000 pgtables:16000kB oom_score_adj:985"},
	}
	want := []Fact{
		{Kind: ContainerExit, Source: ExtPLEGFinished, Ref: lineRef(file, 150, 0, logtime.YearInferred), PodUID: uidAKSNginx, ContainerID: cidAKSNginx, ExitCode: ip(0)},
		{Kind: OOMKill, Source: ExtOOMKill, Ref: lineRef(file, 2401, 1, logtime.YearInferred), Scope: "global", Constraint: "CONSTRAINT_NONE",
			Process: "java", PID: 4242, TaskMemcg: taskMemcg, PodUID: uidShop, ContainerID: cidAKSNginx,
			TotalVMKB: 9123456, AnonRSSKB: 8012345, FileRSSKB: 1234, Message: "oom-killer invoked by kubelet",
			Block: []evidence.LineRef{lineRef(file, 100, 0, logtime.YearInferred), lineRef(file, 2400, 1, logtime.YearInferred)}},
	}
	got := assemble("messages", file, logtime.YearInferred, lines)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("facts (-want +got):\n%s", d)
	}
}

func TestAssemblerBlockBoundaries(t *testing.T) {
	const file = "var_log/messages"
	usage := func(line int, sec float64, kb string) feed {
		return feed{ExtMemcgUsage, line, sec, "Jun 21 19:22:58 ip-10-0-12-209 kernel: memory: usage " + kb + "kB, limit " + kb + "kB, failcnt 3"}
	}
	summary := func(line int, sec float64, pid string) feed {
		return feed{ExtOOMKill, line, sec, "Jun 21 19:22:58 ip-10-0-12-209 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/podruntime.slice,task_memcg=/podruntime.slice/kubelet.service,task=kubelet,pid=" + pid + ",uid=0"}
	}
	// kill is the summary line standing for its kill; block lists the usage lines it was completed from.
	kill := func(pid int, line int, sec float64, q logtime.Quality, usageKB int64, block ...evidence.LineRef) Fact {
		return Fact{Kind: OOMKill, Source: ExtOOMKill, Ref: lineRef(file, line, sec, q), Scope: "cgroup", Constraint: "CONSTRAINT_MEMCG",
			Process: "kubelet", PID: pid, Memcg: "/podruntime.slice", TaskMemcg: "/podruntime.slice/kubelet.service", UsageKB: usageKB, LimitKB: usageKB, Block: block}
	}
	yi := logtime.YearInferred
	for _, tc := range []struct {
		name    string
		logType string
		lines   []feed
		want    []Fact
	}{
		{
			// Neither block's "Killed process" line was routed: each summary stands for its kill,
			// and the second block's usage must not leak into the first.
			name:    "summary-only-blocks",
			logType: "messages",
			lines:   []feed{usage(10, 0, "1000"), summary(20, 0, "989"), usage(30, 5, "2000"), summary(40, 5, "990")},
			want:    []Fact{kill(989, 20, 0, yi, 1000, lineRef(file, 10, 0, yi)), kill(990, 40, 5, yi, 2000, lineRef(file, 30, 5, yi))},
		},
		{
			name:    "time-gap-splits-in-mixed-file",
			logType: "messages",
			lines:   []feed{usage(10, 0, "1000"), summary(20, 60, "989")},
			want:    []Fact{kill(989, 20, 60, yi, 0)},
		},
		{
			name:    "line-gap-splits",
			logType: "messages",
			lines:   []feed{usage(10, 0, "1000"), summary(10+blockMaxLines+1, 0, "989")},
			want:    []Fact{kill(989, 10+blockMaxLines+1, 0, yi, 0)},
		},
		{
			// A ring-buffer dump holds only kernel records: line distance decides, and an
			// unanchored time cannot split a block.
			name:    "ring-buffer-ignores-time",
			logType: "dmesg",
			lines:   []feed{usage(10, 0, "1000"), summary(20, 60, "989")},
			want:    []Fact{kill(989, 20, 60, yi, 1000, lineRef(file, 10, 0, yi))},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := assemble(tc.logType, file, yi, tc.lines)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("facts (-want +got):\n%s", d)
			}
		})
	}
}

func TestAssemblerSameLineTwiceAndUnknown(t *testing.T) {
	const file = "kubelet/kubelet.log"
	line := `E0719 20:54:58.447705     914 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"web\" with ImagePullBackOff: \"Back-off pulling image \\\"nginx:bad\\\"\"" pod="shop/web-0" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`
	got := assemble("kubelet", file, logtime.YearInferred, []feed{
		{ExtBackOff, 7, 0, line},
		{ExtImagePull, 7, 0, line}, // a second rule on the same line
		{"not-an-extractor", 8, 0, line},
		{ExtPLEGFinished, 9, 0, line}, // the wrong extractor for the line: nothing
	})
	if len(got) != 1 || got[0].Kind != ImagePull || got[0].Ref.Line != 7 {
		t.Fatalf("got %d facts %+v, want one ImagePull from line 7", len(got), got)
	}
}
