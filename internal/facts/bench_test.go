package facts

import (
	"fmt"
	"testing"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

// benchLines holds one typical line per extractor, with the prefix it has in a script bundle.
var benchLines = map[string]string{
	ExtPLEGFinished:     `Nov 20 08:17:43 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: I1120 08:17:43.700000    3187 generic.go:334] "Generic (PLEG): container finished" podID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" exitCode=0`,
	ExtPLEGEvent:        `Nov 20 08:17:43 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: I1120 08:17:43.700000    3187 kubelet.go:2455] "SyncLoop (PLEG): event for pod" pod="shop/api-7d9f8b6c4d-x2x9k" event={"ID":"1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b","Type":"ContainerDied","Data":"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"}`,
	ExtBackOff:          `Nov 20 08:17:44 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: E1120 08:17:44.700000    3187 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 1m20s restarting failed container=api pod=api-7d9f8b6c4d-x2x9k_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)\"" pod="shop/api-7d9f8b6c4d-x2x9k" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
	ExtKilling:          `May 16 18:34:49 ip-10-0-37-142.us-west-2.compute.internal kubelet[4052]: I0516 18:34:49.885621    4052 kuberuntime_container.go:808] "Killing container with a grace period" pod="default/liveness-exec" podUID="93e17ecc-ab55-461a-b526-29248d2554ad" containerName="liveness" containerID="containerd://05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707" gracePeriod=30`,
	ExtProbeFailed:      `May 16 18:34:19 ip-10-0-37-142.us-west-2.compute.internal kubelet[4052]: I0516 18:34:19.885621    4052 prober.go:107] "Probe failed" probeType="Liveness" pod="default/liveness-exec" podUID="93e17ecc-ab55-461a-b526-29248d2554ad" containerName="liveness" probeResult="failure" output="HTTP probe failed with statuscode: 500"`,
	ExtConfigMissing:    `Mar 08 10:11:12 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: E0308 10:11:12.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CreateContainerConfigError: \"secret \\\"db-pass\\\" not found\"" pod="shop/api-5d8" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
	ExtImagePull:        `Mar 08 10:11:12 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: E0308 10:11:12.000001    3187 kuberuntime_image.go:53] "Failed to pull image" err="rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:bad\": not found" image="nginx:bad"`,
	ExtTaskExit:         `Nov 20 08:17:43 ip-10-0-37-142.us-west-2.compute.internal containerd[2954]: time="2026-11-20T08:17:43.030000000Z" level=info msg="received exit event container_id:\"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" id:\"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" pid:4242 exit_status:137 exited_at:{seconds:1763626663 nanos:30000000}"`,
	ExtTaskOOM:          `Nov 20 08:17:43 ip-10-0-37-142.us-west-2.compute.internal containerd[2954]: time="2026-11-20T08:17:43.020000000Z" level=info msg="TaskOOM event container_id:\"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\""`,
	ExtSandboxCreated:   `Nov 20 08:17:03 ip-10-0-37-142.us-west-2.compute.internal containerd[2954]: time="2026-11-20T08:17:03.000000000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:api-7d9f8b6c4d-x2x9k,Uid:1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b,Namespace:shop,Attempt:0,} returns sandbox id \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\""`,
	ExtContainerCreated: `Nov 20 08:17:08 ip-10-0-37-142.us-west-2.compute.internal containerd[2954]: time="2026-11-20T08:17:08.000000000Z" level=info msg="CreateContainer within sandbox \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" for &ContainerMetadata{Name:api,Attempt:4,} returns container id \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\""`,
	ExtExecFailure:      `Nov 20 08:17:08 ip-10-0-37-142.us-west-2.compute.internal containerd[2954]: time="2026-11-20T08:17:08.000000000Z" level=error msg="StartContainer for \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" failed" error="failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"x\": executable file not found in $PATH: unknown"`,
	ExtOOMInvoked:       `[1043802.119001] java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=985`,
	ExtMemcgUsage:       `[1043802.119501] memory: usage 524288kB, limit 524288kB, failcnt 31`,
	ExtOOMTaskIn:        `[Sun Dec 15 23:40:20 2019] Task in /kubepods.slice/kubepods-pod392bf93e_1fcf_11ea_9b5b_3cfdfe576498.slice/27edbc0dd4ec2a3e9a4d8ef8b014eda12e76ff36da95b0a91e842f5dac4fc02f killed as a result of limit of /kubepods.slice/kubepods-pod392bf93e_1fcf_11ea_9b5b_3cfdfe576498.slice`,
	ExtOOMGroup:         aksGroup,
	ExtOOMKill:          aksOOMKill,
	ExtOOMKilledProcess: aksKilled1,
	ExtSegfault:         `Jul  6 04:01:43 ip-10-0-37-142 kernel: a.out[25311]: segfault at 0 ip 0000000000400546 sp 00007fff2fb08610 error 4 in a.out[400000+1000]`,
	ExtArm64Fault:       `[ 7211.004411] app[31882]: unhandled exception: DABT (lower EL), ESR 0x92000007, level 3 translation fault in app[aaaab1230000+2a0000]`,
	ExtTrap:             `[  512.000001] traps: node[12345] general protection fault ip:7f1c2a3b4c5d sp:7ffc12345678 error:0 in libc.so.6[7f1c2a300000+1b5000]`,
}

var (
	sinkFact Fact
	sinkOK   bool
)

func TestBenchLines(t *testing.T) {
	for _, name := range Names() {
		line, ok := benchLines[name]
		if !ok {
			t.Errorf("no benchmark line for %s", name)
			continue
		}
		if _, ok := Extract(name, []byte(line)); !ok {
			t.Errorf("benchmark line for %s yields no fact", name)
		}
	}
}

// BenchmarkExtract measures each extractor on a line it accepts (the hit path: allocations are
// the strings the fact keeps) and on a line of the same source it rejects.
func BenchmarkExtract(b *testing.B) {
	miss := []byte(`Nov 20 08:17:43 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: I1120 08:17:43.700000    3187 kubelet_getters.go:218] "Pod status is inconsistent with cached status for pod, a reconciliation should be triggered" pod="shop/web-5c7d9b8f6d-q8m2n"`)
	for _, name := range Names() {
		line := []byte(benchLines[name])
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				sinkFact, sinkOK = Extract(name, line)
			}
		})
		b.Run(name+"/miss", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(miss)))
			for b.Loop() {
				sinkFact, sinkOK = Extract(name, miss)
			}
		})
	}
}

// BenchmarkAssembleOOMBlock feeds one memory.oom.group block through an Assembler.
func BenchmarkAssembleOOMBlock(b *testing.B) {
	lines := aksBlock(true)
	b.ReportAllocs()
	for b.Loop() {
		a := NewAssembler("dmesg")
		for _, l := range lines {
			a.Add(l.ext, evidence.LineRef{File: "kernel/dmesg.current", Line: l.line}, []byte(l.text))
		}
		_ = a.Finish()
	}
}

// BenchmarkJoinDedupeSort runs the cross-file steps on a bundle-sized fact set: n PLEG exits seen
// in both kubelet.log and messages (as on AL2), plus their containerd exit events.
func BenchmarkJoinDedupeSort(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			base := make([]Fact, 0, 3*n)
			for i := range n {
				cid := fmt.Sprintf("%064x", i+1)
				sec := float64(i) * 5
				exit := Fact{Kind: ContainerExit, Source: ExtPLEGFinished, PodUID: uidShop, ContainerID: cid, ExitCode: intp(0)}
				exit.Ref = lineRef("kubelet/kubelet.log", i+1, sec, logtime.YearInferred)
				base = append(base, exit)
				exit.Ref = lineRef("var_log/messages", 3*i+1, sec, logtime.YearInferred)
				base = append(base, exit)
				ctrd := Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cid, PID: 1000 + i, ExitCode: intp(0)}
				ctrd.Ref = lineRef("containerd/containerd-log.txt", i+1, sec-0.5, logtime.Exact)
				base = append(base, ctrd)
			}
			all := make([]Fact, len(base))
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer() // refilling the input is not part of the work measured
				copy(all, base)
				b.StartTimer()
				out := Dedupe(Join(all))
				Sort(out)
				if len(out) != 2*n {
					b.Fatalf("got %d facts, want %d", len(out), 2*n)
				}
			}
		})
	}
}
