package facts

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/logtime"
)

// The chain of one crash-looping pod, shop/api-7d9f8b6c4d-x2x9k, as its lines appear in three
// files: containerd creates the sandbox and two containers (api, log-shipper); the kernel
// OOM-kills api's java (pid 4242) and log-shipper's fluent-bit (pid 5151) segfaults; containerd
// reports the OOM and both exits; kubelet reports the exits, the sandbox's death and the back-off.
const (
	chainPod  = "api-7d9f8b6c4d-x2x9k"
	chainNS   = "shop"
	chainUID  = uidShop
	chainSB   = sbAKSNginx
	chainAPI  = cidAKSNginx // container "api"
	chainLog  = cidGKE      // container "log-shipper"
	strayCID  = cidKind     // a container whose creation is not in the logs
	chainMemc = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1e0f2b7c_3a4d_4e5f_8a9b_0c1d2e3f4a5b.slice/cri-containerd-" + chainAPI + ".scope"
)

func chainFacts() []Fact {
	ctrd := func(msg string) string {
		return "Nov 20 08:17:03 ip-10-0-37-142 containerd[2954]: " + logfmt("info", msg)
	}
	kub := func(msg string) string {
		return "Nov 20 08:17:03 ip-10-0-37-142 kubelet[3187]: I1120 08:17:03.000000    3187 x.go:1] " + msg
	}
	var all []Fact
	all = append(all, assemble("containerd", "containerd/containerd-log.txt", logtime.Exact, []feed{
		{ExtSandboxCreated, 1, 0, ctrd(`RunPodSandbox for &PodSandboxMetadata{Name:` + chainPod + `,Uid:` + chainUID + `,Namespace:` + chainNS + `,Attempt:0,} returns sandbox id \"` + chainSB + `\"`)},
		{ExtContainerCreated, 2, 5, ctrd(`CreateContainer within sandbox \"` + chainSB + `\" for &ContainerMetadata{Name:api,Attempt:4,} returns container id \"` + chainAPI + `\"`)},
		{ExtContainerCreated, 3, 5, ctrd(`CreateContainer within sandbox \"` + chainSB + `\" for &ContainerMetadata{Name:log-shipper,Attempt:0,} returns container id \"` + chainLog + `\"`)},
		{ExtTaskOOM, 4, 40.02, ctrd(`TaskOOM event container_id:\"` + chainAPI + `\"`)},
		{ExtTaskExit, 5, 40.03, ctrd(`received exit event container_id:\"` + chainAPI + `\"  id:\"` + chainAPI + `\"  pid:4242  exit_status:137  exited_at:{seconds:1763626663  nanos:30000000}`)},
		{ExtTaskExit, 6, 50.01, ctrd(`received exit event container_id:\"` + chainLog + `\"  id:\"` + chainLog + `\"  pid:5151  exit_status:139  exited_at:{seconds:1763626673  nanos:10000000}`)},
		{ExtTaskExit, 7, 60, ctrd(`received exit event container_id:\"` + chainSB + `\"  id:\"` + chainSB + `\"  pid:3001  exit_status:137  exited_at:{seconds:1763626683  nanos:0}`)},
		{ExtTaskExit, 8, 200, ctrd(`received exit event container_id:\"` + strayCID + `\"  id:\"` + strayCID + `\"  pid:7777  exit_status:139  exited_at:{seconds:1763626823  nanos:0}`)},
	})...)
	all = append(all, assemble("dmesg", "kernel/dmesg.current", logtime.BootAnchored, []feed{
		{ExtOOMKill, 1, 40, "[1043802.120001] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-" + chainAPI + ".scope,mems_allowed=0,oom_memcg=" + chainMemc + ",task_memcg=" + chainMemc + ",task=java,pid=4242,uid=1000"},
		{ExtOOMKilledProcess, 2, 40, "[1043802.120012] Memory cgroup out of memory: Killed process 4242 (java) total-vm:2621440kB, anon-rss:523800kB, file-rss:20000kB, shmem-rss:0kB, UID:1000 pgtables:2000kB oom_score_adj:985"},
		{ExtSegfault, 3, 50, "[1043812.120000] fluent-bit[5151]: segfault at 0 ip 00005581a3b4c5d6 sp 00007ffd2e3f4a50 error 4 in fluent-bit[558100000000+2000000]"},
		// Same pid as the stray container's exit, but 100 s earlier: not the same process.
		{ExtSegfault, 4, 100, "[1043862.120000] worker[7777]: segfault at 10 ip 00005581a3b4c5d6 sp 00007ffd2e3f4a50 error 6 in worker[558100000000+2000000]"},
	})...)
	all = append(all, assemble("kubelet", "kubelet/kubelet.log", logtime.YearInferred, []feed{
		{ExtPLEGFinished, 1, 40.7, kub(`"Generic (PLEG): container finished" podID="` + chainUID + `" containerID="` + chainAPI + `" exitCode=137`)},
		{ExtPLEGEvent, 2, 40.7, kub(`"SyncLoop (PLEG): event for pod" pod="` + chainNS + `/` + chainPod + `" event={"ID":"` + chainUID + `","Type":"ContainerDied","Data":"` + chainAPI + `"}`)},
		{ExtBackOff, 3, 41.7, kub(`"Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 1m20s restarting failed container=api pod=` + chainPod + `_` + chainNS + `(` + chainUID + `)\"" pod="` + chainNS + `/` + chainPod + `" podUID="` + chainUID + `"`)},
		{ExtPLEGFinished, 4, 51, kub(`"Generic (PLEG): container finished" podID="` + chainUID + `" containerID="` + chainLog + `" exitCode=139`)},
		{ExtPLEGEvent, 5, 61, kub(`"SyncLoop (PLEG): event for pod" pod="` + chainNS + `/` + chainPod + `" event={"ID":"` + chainUID + `","Type":"ContainerDied","Data":"` + chainSB + `"}`)},
	})...)
	return all
}

func TestJoinChain(t *testing.T) {
	type want struct {
		kind                            Kind
		ns, pod, container, containerID string
		sandboxID, reason               string
	}
	api := func(k Kind, reason string) want { return want{k, chainNS, chainPod, "api", chainAPI, chainSB, reason} }
	logs := func(k Kind) want { return want{k, chainNS, chainPod, "log-shipper", chainLog, chainSB, ""} }
	sandbox := func(k Kind) want { return want{k, chainNS, chainPod, "", "", chainSB, ""} }
	wants := map[string]want{
		"containerd/containerd-log.txt:1": sandbox(SandboxCreated),
		"containerd/containerd-log.txt:2": api(ContainerCreated, ""),
		"containerd/containerd-log.txt:3": logs(ContainerCreated),
		"containerd/containerd-log.txt:4": api(TaskOOM, ""),
		"containerd/containerd-log.txt:5": api(ContainerExit, "OOMKilled"),
		"containerd/containerd-log.txt:6": logs(ContainerExit),
		"containerd/containerd-log.txt:7": sandbox(SandboxExit),
		"containerd/containerd-log.txt:8": {kind: ContainerExit, containerID: strayCID},
		"kernel/dmesg.current:2":          api(OOMKill, ""),
		"kernel/dmesg.current:3":          logs(Segfault),
		"kernel/dmesg.current:4":          {kind: Segfault},
		"kubelet/kubelet.log:1":           api(ContainerExit, "OOMKilled"),
		"kubelet/kubelet.log:2":           api(ContainerDied, ""),
		"kubelet/kubelet.log:3":           {kind: BackOff, ns: chainNS, pod: chainPod, container: "api"},
		"kubelet/kubelet.log:4":           logs(ContainerExit),
		"kubelet/kubelet.log:5":           sandbox(ContainerDied),
	}
	got := Join(chainFacts())
	if len(got) != len(wants) {
		t.Errorf("got %d facts, want %d", len(got), len(wants))
	}
	for _, f := range got {
		w, ok := wants[f.Ref.String()]
		if !ok {
			t.Errorf("unexpected fact at %s: %+v", f.Ref, f)
			continue
		}
		g := want{f.Kind, f.Namespace, f.Pod, f.Container, f.ContainerID, f.SandboxID, f.Reason}
		if g != w {
			t.Errorf("%s:\n got %+v\nwant %+v", f.Ref, g, w)
		}
		if w.pod != "" && f.PodUID != chainUID {
			t.Errorf("%s: podUID %q, want %q", f.Ref, f.PodUID, chainUID)
		}
		joinedBy := map[string]string{"kernel/dmesg.current:2": "cgroup", "kernel/dmesg.current:3": "pid"}[f.Ref.String()]
		if f.JoinedBy != joinedBy {
			t.Errorf("%s: joined by %q, want %q", f.Ref, f.JoinedBy, joinedBy)
		}
	}
}

func TestJoinAttemptAndOrderIndependence(t *testing.T) {
	// Join fills from maps built before any filling, so the order of files does not matter.
	a := chainFacts()
	b := chainFacts()
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	byRef := map[string]Fact{}
	for _, f := range Join(a) {
		byRef[f.Ref.String()] = f
	}
	for _, f := range Join(b) {
		if g := byRef[f.Ref.String()]; fmt.Sprint(g.Pod, g.Container, g.ContainerID, g.PodUID) != fmt.Sprint(f.Pod, f.Container, f.ContainerID, f.PodUID) {
			t.Errorf("%s: joined differently when files come in reverse order", f.Ref)
		}
	}
	if f := byRef["kubelet/kubelet.log:1"]; f.Attempt == nil || *f.Attempt != 4 {
		t.Errorf("PLEG exit of api: attempt %v, want 4 (from CreateContainer)", f.Attempt)
	}
}

func TestJoinNeverGuesses(t *testing.T) {
	mk := func(line string, ext string) Fact {
		f, ok := Extract(ext, []byte(line))
		if !ok {
			t.Fatalf("no fact from %q", line)
		}
		return f
	}
	facts := []Fact{
		// Two lines claim different names for the same pod UID: neither is used.
		mk(`"SyncLoop (PLEG): event for pod" pod="shop/web-0" event={"ID":"`+uidShop+`","Type":"ContainerStarted","Data":"`+cidAKSNginx+`"}`, ExtPLEGEvent),
		mk(`"Killing container with a grace period" pod="shop/web-1" podUID="`+uidShop+`" containerName="web" containerID="containerd://`+cidGKE+`" gracePeriod=30`, ExtKilling),
		mk(`"Generic (PLEG): container finished" podID="`+uidShop+`" containerID="`+cidKind+`" exitCode=1`, ExtPLEGFinished),
		// A segfault without a time cannot be matched to an exit by pid.
		mk(`[  10.000000] app[4242]: segfault at 0 ip 0000000000400546 sp 00007fff2fb08610 error 4 in app[400000+1000]`, ExtSegfault),
		mk(`received exit event container_id:\"`+cidAKSOOM+`\" id:\"`+cidAKSOOM+`\" pid:4242 exit_status:139`, ExtTaskExit),
	}
	facts[4].Ref = lineRef("containerd/containerd-log.txt", 9, 10, logtime.Exact)
	got := Join(facts)
	if f := got[2]; f.Pod != "" || f.Namespace != "" {
		t.Errorf("exit of a pod with conflicting names got %s/%s", f.Namespace, f.Pod)
	}
	if f := got[3]; f.ContainerID != "" {
		t.Errorf("untimed segfault joined to %s", f.ContainerID)
	}
	if f := got[1]; f.Pod != "web-1" || f.Container != "web" {
		t.Errorf("Killing lost its own names: %+v", f)
	}
}

// TestJoinByExitCode: containerd 1.6.0–1.6.36 and 1.7.0–1.7.23 log exit events only at debug
// level, so on most nodes no line carries a crashed container's pid. A segfault is then tied to
// the one container whose exit with 128+SIGSEGV follows it (kubelet's PLEG, 0.7 s later), and
// never when two containers could be it.
func TestJoinByExitCode(t *testing.T) {
	kub := func(cid string, code int) string {
		return fmt.Sprintf(`I1120 08:17:03.000000    3187 generic.go:334] "Generic (PLEG): container finished" podID="%s" containerID="%s" exitCode=%d`, uidShop, cid, code)
	}
	segv := "[1043812.120000] fluent-bit[5151]: segfault at 0 ip 00005581a3b4c5d6 sp 00007ffd2e3f4a50 error 4 in fluent-bit[558100000000+2000000]"
	ill := "[1043812.120000] traps: app[5152] trap invalid opcode ip:7f00aa sp:7fff00bb error:0 in libtorch_cpu.so[7f0000000000+100000]"
	kernel := func(lines ...string) []Fact {
		var fs []feed
		for i, l := range lines {
			ext := ExtSegfault
			if strings.Contains(l, "traps:") {
				ext = ExtTrap
			}
			fs = append(fs, feed{ext, i + 1, 50, l})
		}
		return assemble("dmesg", "kernel/dmesg.current", logtime.BootAnchored, fs)
	}
	cases := []struct {
		name   string
		kernel []Fact
		exits  []feed
		want   string // container the first kernel fact joins, "" for none
	}{
		{"the only 139 after it", kernel(segv), []feed{{ExtPLEGFinished, 1, 50.7, kub(cidGKE, 139)}}, cidGKE},
		{"SIGILL is 132", kernel(ill), []feed{{ExtPLEGFinished, 1, 50.7, kub(cidGKE, 139)}, {ExtPLEGFinished, 2, 50.8, kub(cidKind, 132)}}, cidKind},
		{"two candidates", kernel(segv), []feed{{ExtPLEGFinished, 1, 50.7, kub(cidGKE, 139)}, {ExtPLEGFinished, 2, 51, kub(cidKind, 139)}}, ""},
		{"an exit before it", kernel(segv), []feed{{ExtPLEGFinished, 1, 45, kub(cidGKE, 139)}}, ""},
		{"too late", kernel(segv), []feed{{ExtPLEGFinished, 1, 75, kub(cidGKE, 139)}}, ""},
		{"another code", kernel(segv), []feed{{ExtPLEGFinished, 1, 50.7, kub(cidGKE, 137)}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := append(tc.kernel, assemble("kubelet", "kubelet/kubelet.log", logtime.YearInferred, tc.exits)...)
			f := Join(all)[0]
			if f.ContainerID != tc.want {
				t.Fatalf("joined to %q, want %q", f.ContainerID, tc.want)
			}
			if tc.want != "" && (f.JoinedBy != "exit code" || f.PodUID != uidShop) {
				t.Errorf("joined by %q with pod UID %q, want by exit code with %s", f.JoinedBy, f.PodUID, uidShop)
			}
		})
	}
}
