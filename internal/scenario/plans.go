package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
)

// The incidents. Each plan works from the Truth written for its scenario (names, UID) and plants
// the events that truth lists, in every file a real node would show them.

// newPod builds the scenario's pod from its truth; the sandbox id and IP are drawn.
func (b *builder) newPod(t Truth, image, process string, q qos, limitMi, requestMi int64, owner string) *pod {
	p := &pod{ns: t.Namespace, name: t.Pod, uid: t.PodUID, container: t.Container, image: image, process: process,
		qos: q, limitMi: limitMi, requestMi: requestMi, owner: owner, uidNum: 1000}
	p.sandbox = b.g.hex(64)
	p.ip = fmt.Sprintf("10.0.%d.%d", 32+b.g.r.IntN(31), 2+b.g.r.IntN(250))
	return p
}

// containerOOM: a JVM outgrows its 512 MiB limit; the kernel kills it in its own memcg.
func containerOOM(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/"+t.Container+":3.18.2", "java", burstable, 512, 256, "ReplicaSet")
	if strings.HasSuffix(t.Pod, "-0") {
		p.owner = "StatefulSet"
	}
	invokers := []string{"C2 CompilerThre", "java", "GC Thread#0", "http-nio-8080-e"}
	return b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(25*time.Second, 70*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			cg := b.n.containerCgroup(p.qos, p.uid, cid)
			inv := invokers[b.g.r.IntN(len(invokers))]
			invPID := pid
			if inv != "java" {
				invPID = pid + b.g.intn(12, 80) // a JVM thread: its own TID
			}
			file := int64(b.g.intn(9000, 21000))
			limit := p.limitMi * 1024
			anon := limit - file - int64(b.g.intn(300, 1200))
			kill := b.kernelOOM(at, oomReport{
				invoker: inv, invokerPID: invPID, victim: "java", pid: pid, uid: p.uidNum, scoreAdj: 968,
				oomMemcg: cg, taskMemcg: cg, cpuset: b.n.cpusetName(cid), limitKB: limit,
				anonKB: anon, fileKB: file, totalVMKB: 4_900_000 + int64(b.g.intn(0, 90000)), pgtablesKB: int64(b.g.intn(1900, 2600)),
				failcnt: b.g.intn(40, 900),
			})
			b.plant(TruthFact{Kind: facts.OOMKill, Container: p.container, ContainerID: cid, PID: pid, Process: "java"})
			b.scopeOOM(kill, cid)
			return kill.Add(b.g.between(time.Millisecond, 6*time.Millisecond)), 137, true, "OOMKilled"
		},
	})
}

// scopeOOM is systemd's view of a container OOM (cgroup v2 only; only the full journal has it).
func (b *builder) scopeOOM(t time.Time, cid string) {
	if !b.n.cgroupV2 {
		return
	}
	b.systemd(t.Add(b.g.between(500*time.Microsecond, 4*time.Millisecond)), uOther, "cri-containerd-"+cid+".scope: A process of this unit has been killed by the OOM killer.")
}

// nodeOOM: a BestEffort batch worker without a memory limit exhausts the node; the global OOM
// killer picks it (it has the highest oom_score_adj).
func nodeOOM(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/etl-worker:2024.11.3", "python3", bestEffort, 0, 0, "ReplicaSet")
	p.uidNum = 1001
	n := b.n
	return b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(3*time.Minute, 6*time.Minute) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			// Memory pressure builds before the kill: kubelet's eviction manager notices.
			warn := at.Add(-b.g.between(8*time.Second, 20*time.Second))
			b.kubelet(warn, 'I', "eviction_manager.go:369", structured("Eviction manager: attempting to reclaim", q("resourceName", "memory")))
			if i == 0 {
				b.kubelet(warn.Add(b.g.between(time.Millisecond, 30*time.Millisecond)), 'I', "kubelet_node_status.go:724", structured("Recording event message for node", q("node", n.host), q("event", "NodeHasInsufficientMemory")))
				b.nodeEvent(warn, "Normal", "NodeHasInsufficientMemory", "Node "+n.host+" status is now: NodeHasInsufficientMemory", "kubelet")
			}
			anon := int64(b.g.intn(7_150_000, 7_260_000))
			others := []taskRow{
				{pid: n.ctrdPID, uid: 0, scoreAdj: -999, vmPages: 472365, rssPages: 12345, name: "containerd"},
				{pid: n.kubeletPID(at), uid: 0, scoreAdj: -999, vmPages: 502312, rssPages: 28510, name: "kubelet"},
				{pid: b.g.intn(4000, 9000), uid: 0, scoreAdj: -997, vmPages: 190412, rssPages: 10233, name: "kube-proxy"},
				{pid: b.g.intn(9000, 15000), uid: 65534, scoreAdj: 968, vmPages: 202311, rssPages: 15112, name: "coredns"},
			}
			kill := b.kernelOOM(at, oomReport{
				invoker: "python3", invokerPID: pid, victim: "python3", pid: pid, uid: p.uidNum, scoreAdj: 1000, global: true,
				taskMemcg: n.containerCgroup(p.qos, p.uid, cid), cpuset: n.cpusetName(cid),
				anonKB: anon, fileKB: int64(b.g.intn(100, 900)), totalVMKB: anon + 1_050_000, pgtablesKB: int64(b.g.intn(14000, 15000)),
				others: others,
			})
			b.plant(TruthFact{Kind: facts.OOMKill, Container: p.container, ContainerID: cid, PID: pid, Process: "python3"})
			b.scopeOOM(kill, cid)
			// cadvisor's oomparser reads /dev/kmsg; kubelet reports only system-wide OOMs.
			seen := kill.Add(b.g.between(20*time.Millisecond, 400*time.Millisecond))
			ev := fmt.Sprintf("&{Pid:%d ProcessName:python3 TimeOfDeath:%s ContainerName:/ VictimContainerName:%s Constraint:CONSTRAINT_NONE}",
				pid, kill.UTC().Format("2006-01-02 15:04:05.999999999 -0700 MST"), n.containerCgroup(p.qos, p.uid, cid))
			b.kubelet(seen, 'I', b.src("oom"), structured("Got sys oom event", raw("event", ev)))
			b.nodeEvent(seen, "Warning", "SystemOOM", fmt.Sprintf("System OOM encountered, victim process: python3, pid: %d", pid), "kubelet")
			// cgroup v1 reports an OOM to containerd only for the container's own memcg, so a
			// global kill there is an exit 137 with reason Error; v2 counts every oom_kill.
			reason := "Error"
			if n.cgroupV2 {
				reason = "OOMKilled"
			}
			return kill.Add(b.g.between(time.Millisecond, 8*time.Millisecond)), 137, n.cgroupV2, reason
		},
	})
}

// appError: the service cannot log in to its database and exits 1 within seconds.
func appError(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/orders:2.14.1", "python", burstable, 256, 128, "ReplicaSet")
	p.command = []string{"python", "-m", "orders"}
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(1800*time.Millisecond, 4500*time.Millisecond) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 1, false, "Error"
		},
	})
	lastStart := b.status.term.startedAt
	fin := b.status.term.finishd
	b.prev = strings.Join([]string{
		pyLog(lastStart.Add(310*time.Millisecond), "INFO", "orders.app", "Starting orders service version=2.14.1 pid=1"),
		pyLog(lastStart.Add(644*time.Millisecond), "INFO", "orders.db", "Connecting to postgres at orders-db.shop.svc.cluster.local:5432 user=orders"),
		pyLog(fin.Add(-90*time.Millisecond), "ERROR", "orders.app", "Fatal error during startup"),
		"Traceback (most recent call last):",
		`  File "<frozen runpy>", line 198, in _run_module_as_main`,
		`  File "<frozen runpy>", line 88, in _run_code`,
		`  File "/app/orders/__main__.py", line 4, in <module>`,
		`    main()`,
		`  File "/app/orders/app.py", line 61, in main`,
		`    pool = db.connect(settings.database_url)`,
		`           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`,
		`  File "/app/orders/db.py", line 23, in connect`,
		`    return psycopg.connect(url, connect_timeout=5)`,
		`  File "/usr/local/lib/python3.12/site-packages/psycopg/connection.py", line 119, in connect`,
		`    raise last_ex.with_traceback(None)`,
		`psycopg.OperationalError: connection failed: connection to server at "10.0.52.17", port 5432 failed: FATAL:  password authentication failed for user "orders"`,
		"",
	}, "\n")
	return end, gap
}

func pyLog(t time.Time, level, logger, msg string) string {
	return fmt.Sprintf("%s,%03d %s %s %s", t.UTC().Format("2006-01-02 15:04:05"), t.Nanosecond()/1e6, level, logger, msg)
}

// segfault: a native image codec dereferences NULL; the kernel logs the init process's PID,
// the same PID containerd's exit event carries.
func segfault(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/thumbnailer:1.9.0", "thumbnailer", burstable, 1024, 512, "ReplicaSet")
	return b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(4*time.Second, 25*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			b.kernel(at, false, b.segfaultLine("thumbnailer", pid, "libimgcodec.so.3.2.1")...)
			b.plant(TruthFact{Kind: facts.Segfault, Container: p.container, ContainerID: cid, PID: pid, Process: "thumbnailer"})
			return at.Add(b.g.between(time.Millisecond, 5*time.Millisecond)), 139, false, "Error"
		},
	})
}

// execNotFound: the image's entrypoint names a binary the image does not have. runc fails
// before the process exists, so containerd reports a start error and the CRI gives the
// container exit code 128 with reason StartError (not the shell's 127).
func execNotFound(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/gateway:5.0.0", "server", burstable, 256, 128, "ReplicaSet")
	p.command = []string{"server", "--config", "/etc/gateway/config.yaml"}
	// cause is what kubelet receives; containerd logs logged (1.x and 2.x word it differently).
	cause, logged := b.n.ctrd.startError(`failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "server": executable file not found in $PATH`)
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		start: func(i int, at time.Time) (string, int, time.Time) {
			cid, at := b.createContainer(at, p, i)
			b.event(at, p, "Normal", "Pulled", fmt.Sprintf("Container image %q already present on machine", p.image))
			b.event(at, p, "Normal", "Created", "Created container: "+p.container)
			return cid, 0, at
		},
		lifetime: func(int) time.Duration { return b.g.between(25*time.Millisecond, 70*time.Millisecond) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			b.containerd(at, "error", fmt.Sprintf("StartContainer for %q failed", cid), q("error", logged))
			b.plant(TruthFact{Kind: facts.ExecFailure, Container: p.container, ContainerID: cid, Process: "server"})
			at = at.Add(b.g.between(time.Millisecond, 4*time.Millisecond))
			b.syncError(at, p, fmt.Sprintf("failed to %q for %q with RunContainerError: %q", "StartContainer", p.container, cause))
			b.event(at, p, "Warning", "Failed", "Error: "+cause)
			return at, 128, false, "StartError"
		},
	})
	b.status.term.message = cause
	return end, gap
}

// execFormat: an arm64 binary in an amd64 image. The entrypoint shell runs, cannot execute the
// server, and exits 126; only the container's own log names the error.
func execFormat(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/pricing:4.2.0", "docker-entrypoi", burstable, 512, 256, "ReplicaSet")
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(20*time.Millisecond, 90*time.Millisecond) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 126, false, "Error"
		},
	})
	b.prev = "/usr/local/bin/docker-entrypoint.sh: line 9: /app/pricing-server: cannot execute binary file: Exec format error\n"
	return end, gap
}

// missingConfigMap: a running pod's ConfigMap is deleted. kubelet's periodic remount of the
// configmap volume fails; when the app later exits (cleanly, it recycles itself daily) the
// container cannot be created again because its env comes from the same ConfigMap.
func missingConfigMap(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/frontend:7.3.1", "nginx", burstable, 256, 128, "ReplicaSet")
	b.pod = p
	p.created = origin
	b.specExtra = map[string]any{
		"envFrom":      []any{map[string]any{"configMapRef": map[string]string{"name": "app-config"}}},
		"volumeMounts": []any{map[string]any{"name": "config", "mountPath": "/etc/frontend", "readOnly": true}},
	}
	b.volumes = []any{map[string]any{"name": "config", "configMap": map[string]any{"name": "app-config", "defaultMode": 420}}}
	t0 := b.runSandbox(origin, p).Add(b.g.between(300*time.Millisecond, time.Second))
	cid, pid, started := b.startContainer(t0, p, 0)
	b.event(started, p, "Normal", "Created", "Created container: "+p.container)
	b.event(started, p, "Normal", "Started", "Started container "+p.container)

	// The ConfigMap disappears; every remount attempt fails with a growing retry delay.
	kubeletStart := b.n.boot.Add(31 * time.Second)
	at := started.Add(b.g.between(25*time.Minute, 35*time.Minute))
	exitAt := at.Add(b.g.between(9*time.Minute, 14*time.Minute))
	mountMsg := fmt.Sprintf("MountVolume.SetUp failed for volume %q (UniqueName: %q) pod %q (UID: %q) : configmap %q not found",
		"config", "kubernetes.io/configmap/"+p.uid+"-config", p.name, p.uid, "app-config")
	// nestedpendingoperations doubles the delay from 500ms up to 2m2s; the reconciler retries
	// as soon as it is allowed to.
	const maxRetry = 2*time.Minute + 2*time.Second
	retry, prev := 500*time.Millisecond, time.Duration(0)
	first := true
	for ; at.Before(exitAt.Add(12 * time.Minute)); at = at.Add(prev + b.g.between(50*time.Millisecond, 200*time.Millisecond)) {
		until := at.Add(retry)
		body := fmt.Sprintf("Operation for %q failed. No retries permitted until %s m=+%.9f (durationBeforeRetry %s). Error: %s",
			"{volumeName:kubernetes.io/configmap/"+p.uid+"-config podName:"+p.uid+" nodeName:}",
			until.UTC().Format("2006-01-02 15:04:05.999999999 -0700 MST"), until.Sub(kubeletStart).Seconds(), goDuration(retry), mountMsg)
		b.kubelet(at, 'E', b.src("nested"), body)
		b.event(at, p, "Warning", "FailedMount", `MountVolume.SetUp failed for volume "config" : configmap "app-config" not found`)
		if first {
			b.plant(TruthFact{Kind: facts.ConfigMissing, Name: "app-config"})
			first = false
		}
		prev, retry = retry, min(2*retry, maxRetry)
	}
	seen := b.containerExit(exitAt, p, cid, pid, 0, false)
	b.status.term = &termState{exitCode: 0, reason: "Completed", startedAt: started, finishd: exitAt, containerID: cid}
	b.status.containerID = cid
	cfgErr := fmt.Sprintf("failed to %q for %q with CreateContainerConfigError: %q", "StartContainer", p.container, `configmap "app-config" not found`)
	b.plant(TruthFact{Kind: facts.ConfigMissing, Container: p.container, Name: "app-config"})
	var last time.Time
	for c := seen.Add(b.g.between(200*time.Millisecond, time.Second)); c.Before(seen.Add(12 * time.Minute)); c = c.Add(b.g.between(10*time.Second, 20*time.Second)) {
		b.syncError(c, p, cfgErr)
		b.event(c, p, "Warning", "Failed", `Error: configmap "app-config" not found`)
		last = c
	}
	b.status.waitingReason = "CreateContainerConfigError"
	b.status.waitingMessage = `configmap "app-config" not found`
	return last, 5 * time.Second
}

// livenessSIGTERM: the service deadlocks; its HTTP liveness probe times out three times, kubelet
// stops it with SIGTERM, and the runtime reports 143.
func livenessSIGTERM(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/search:12.4.0", "node", burstable, 1024, 512, "ReplicaSet")
	p.command = []string{"node", "dist/server.js"}
	b.specExtra = map[string]any{"livenessProbe": map[string]any{
		"httpGet":       map[string]any{"path": "/healthz", "port": 8080, "scheme": "HTTP"},
		"periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3, "successThreshold": 1, "initialDelaySeconds": 15}}
	probeOut := fmt.Sprintf("Get %q: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "http://"+p.ip+":8080/healthz")
	return b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(45*time.Second, 100*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			kill := b.probeKill(p, cid, at, "Liveness", 3, probeOut)
			c := kill.Add(b.g.between(time.Millisecond, 3*time.Millisecond))
			b.containerd(c, "info", fmt.Sprintf("StopContainer for %q with timeout 30 (s)", cid))
			b.containerd(c.Add(b.g.between(200*time.Microsecond, 2*time.Millisecond)), "info", fmt.Sprintf("Stop container %q with signal terminated", cid))
			exited := c.Add(b.g.between(200*time.Millisecond, 1800*time.Millisecond))
			b.containerd(exited.Add(b.g.between(40*time.Millisecond, 90*time.Millisecond)), "info", fmt.Sprintf("StopContainer for %q returns successfully", cid))
			return exited, 143, false, "Error"
		},
	})
}

// kubeletOOM: kubelet outgrows the kube-reserved memory of its runtime slice and is killed by
// the OOM killer, twice; systemd restarts it under a new PID and the node flaps NotReady.
func kubeletOOM(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	n := b.n
	p := b.webPod()
	b.pod = p
	p.created = n.boot.Add(3 * time.Minute)
	b.status = ctrStatus{running: true, ready: true, podReady: true, startedAt: p.created.Add(4 * time.Second), containerID: b.g.hex(64)}
	at, last := origin, origin
	for k := 0; k < 2; k++ {
		pid := n.kubeletPID(at)
		limit := int64(786432)
		file := int64(b.g.intn(3000, 9000))
		kill := b.kernelOOM(at, oomReport{
			invoker: "kubelet", invokerPID: pid + b.g.intn(5, 300), victim: "kubelet", pid: pid, uid: 0, scoreAdj: -999,
			oomMemcg: n.runtimeCg, taskMemcg: n.runtimeCg + "/kubelet.service", cpuset: "/", limitKB: limit,
			anonKB: limit - file - int64(b.g.intn(2000, 9000)), fileKB: file, totalVMKB: 3_400_000 + int64(b.g.intn(0, 200000)),
			pgtablesKB: int64(b.g.intn(2400, 3100)), failcnt: b.g.intn(100, 4000),
			others: []taskRow{{pid: n.ctrdPID, uid: 0, scoreAdj: -999, vmPages: 472365, rssPages: 22345, name: "containerd"}},
		})
		b.plant(TruthFact{Kind: facts.OOMKill, PID: pid, Process: "kubelet"})
		restart := b.unitKilled(kill.Add(b.g.between(2*time.Millisecond, 20*time.Millisecond)), "kubelet", "Kubernetes Kubelet")
		// PIDs wrap at pid_max, skipping the low ones the kernel reserves.
		next := 300 + (pid+b.g.intn(9000, 30000)-300)%(n.pidMax-300)
		n.kubeletPIDs = append(n.kubeletPIDs, pidFrom{from: restart, pid: next})
		b.kubeletBoot(restart.Add(b.g.between(30*time.Millisecond, 200*time.Millisecond)))
		last = restart
		at = restart.Add(b.g.between(25*time.Minute, 50*time.Minute))
	}
	return last, 40 * time.Minute
}

// unitKilled is systemd reacting to a service's main process being OOM-killed, in the node's
// systemd wording; it returns when the service runs again.
func (b *builder) unitKilled(t time.Time, unitName, desc string) time.Time {
	svc := unitName + ".service"
	step := func() { t = t.Add(b.g.between(200*time.Microsecond, 3*time.Millisecond)) }
	if b.n.sysd < 240 {
		b.systemd(t, uKubelet, svc+": main process exited, code=killed, status=9/KILL")
		step()
		b.systemd(t, uKubelet, "Unit "+svc+" entered failed state.")
		step()
		b.systemd(t, uKubelet, svc+" failed.")
		t = t.Add(5*time.Second + b.g.between(0, 20*time.Millisecond))
		b.systemd(t, uKubelet, svc+" holdoff time over, scheduling restart.")
		step()
		b.systemd(t, uKubelet, "Stopped "+desc+".")
		step()
		b.systemd(t, uKubelet, "Starting "+desc+"...")
		step()
		b.systemd(t, uKubelet, "Started "+desc+".")
		return t
	}
	b.systemd(t, uKubelet, svc+": A process of this unit has been killed by the OOM killer.")
	step()
	b.systemd(t, uKubelet, svc+": Main process exited, code=killed, status=9/KILL")
	step()
	b.systemd(t, uKubelet, svc+": Failed with result 'oom-kill'.")
	step()
	b.systemd(t, uKubelet, fmt.Sprintf("%s: Consumed %dh %dmin %d.%03ds CPU time.", svc, 2+b.g.r.IntN(9), b.g.r.IntN(60), b.g.r.IntN(60), b.g.r.IntN(1000)))
	t = t.Add(5*time.Second + b.g.between(0, 20*time.Millisecond))
	b.systemd(t, uKubelet, svc+": Scheduled restart job, restart counter is at 1.")
	step()
	b.systemd(t, uKubelet, "Stopped "+svc+" - "+desc+".")
	step()
	b.systemd(t, uKubelet, "Starting "+svc+" - "+desc+"...")
	step()
	b.systemd(t, uKubelet, "Started "+svc+" - "+desc+".")
	return t
}

// kubeletBoot is what a (re)started kubelet logs before it is Ready again.
func (b *builder) kubeletBoot(t time.Time) {
	n := b.n
	step := func(lo, hi time.Duration) { t = t.Add(b.g.between(lo, hi)) }
	b.kubelet(t, 'I', "server.go:493", structured("Kubelet version", q("kubeletVersion", n.kubeletVer)))
	step(time.Millisecond, 3*time.Millisecond)
	b.kubelet(t, 'I', "server.go:495", structured("Golang settings", q("GOGC", ""), q("GOMAXPROCS", ""), q("GOTRACEBACK", "")))
	step(300*time.Millisecond, 900*time.Millisecond)
	b.kubelet(t, 'I', "kubelet_node_status.go:76", structured("Attempting to register node", q("node", n.host)))
	step(20*time.Millisecond, 90*time.Millisecond)
	b.kubelet(t, 'I', "kubelet_node_status.go:124", structured("Node was previously registered", q("node", n.host)))
	step(time.Millisecond, 10*time.Millisecond)
	cond := fmt.Sprintf(`{"type":"Ready","status":"False","lastHeartbeatTime":%q,"lastTransitionTime":%q,"reason":"KubeletNotReady","message":"[container runtime status check may not have completed yet, PLEG is not healthy: pleg has yet to be successful]"}`,
		rfc(t), rfc(t))
	b.kubelet(t, 'I', "setters.go:600", structured("Node became not ready", q("node", n.host), raw("condition", cond)))
	b.kubelet(t.Add(50*time.Microsecond), 'I', "kubelet_node_status.go:724", structured("Recording event message for node", q("node", n.host), q("event", "NodeNotReady")))
	b.nodeEvent(t, "Normal", "NodeNotReady", "Node "+n.host+" status is now: NodeNotReady", "kubelet")
	step(8*time.Second, 15*time.Second)
	b.kubelet(t, 'I', "kubelet_node_status.go:724", structured("Recording event message for node", q("node", n.host), q("event", "NodeReady")))
	b.nodeEvent(t, "Normal", "NodeReady", "Node "+n.host+" status is now: NodeReady", "kubelet")
}

// awsNodeCrashLoop: after a security-group change the VPC CNI's ipamd cannot reach the API
// server; aws-node exits 1 each time, and new pods on the node cannot get an address.
func awsNodeCrashLoop(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	n := b.n
	p := b.newPod(t, "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.20.4-eksbuild.1", "aws-vpc-cni", burstable, 0, 0, "DaemonSet")
	p.ip = n.ip // hostNetwork
	p.uidNum = 0
	p.requestMi = 0
	victim := b.newPod(Truth{Namespace: "shop", Pod: "web-5c7d9b8f6d-7hx4w", Container: "web", PodUID: "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f"},
		"123456789012.dkr.ecr.us-west-2.amazonaws.com/web:8.1.0", "nginx", burstable, 512, 256, "ReplicaSet")
	apiErr := `Get "https://172.20.0.1:443/version?timeout=32s": dial tcp 172.20.0.1:443: i/o timeout`
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths, firstStart: n.boot.Add(38 * time.Second),
		lifetime: func(int) time.Duration { return b.g.between(62*time.Second, 75*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			var lines []string
			cri := func(t time.Time, level, caller, msg string) {
				t = t.Add(b.g.between(0, 900*time.Microsecond))
				lines = append(lines, criLine(t, "stdout", zapLine(t, level, caller, msg)))
			}
			cri(started.Add(210*time.Millisecond), "info", "logger/logger.go:52", "Constructed new logger instance")
			cri(started.Add(212*time.Millisecond), "info", "aws-vpc-cni/main.go:69", "Validating env variables ...")
			cri(started.Add(230*time.Millisecond), "info", "aws-vpc-cni/main.go:252", "Install CNI binaries..")
			cri(started.Add(410*time.Millisecond), "info", "aws-vpc-cni/main.go:289", "Starting IPAM daemon ... ")
			cri(started.Add(440*time.Millisecond), "info", "aws-vpc-cni/main.go:148", "Checking for IPAM connectivity ... ")
			it := started.Add(520 * time.Millisecond)
			b.ipamd(it, "info", "aws-k8s-agent/main.go:30", "Starting L-IPAMD v1.20.4-eksbuild.1  ...")
			b.ipamd(it.Add(3*time.Millisecond), "info", "aws-k8s-agent/main.go:39", "Testing communication with server")
			fail := it.Add(32*time.Second + 4*time.Millisecond)
			if i == 0 { // the pod ran fine for days before the API server became unreachable
				b.ipamd(it.Add(41*time.Millisecond), "info", "aws-k8s-agent/main.go:44", "Successful communication with the Cluster! Cluster Version is: v1.33. git version: v1.33.5-eks-3cfe0ce. git tree state: clean. commit: 1ac0fa5f1b9ee9f6bfab0396a1b5e4bd0e94ec1d. platform: linux/amd64")
				cri(started.Add(3*time.Second+120*time.Millisecond), "info", "aws-vpc-cni/main.go:164", "Copying config file ... ")
				cri(started.Add(3*time.Second+131*time.Millisecond), "info", "aws-vpc-cni/main.go:201", "Successfully copied CNI plugin binary and config file.")
				fail = at.Add(-b.g.between(900*time.Millisecond, 1500*time.Millisecond))
			}
			b.ipamd(fail, "error", "aws-k8s-agent/main.go:42", "Failed to check API server connectivity: "+apiErr)
			cri(at.Add(-15*time.Millisecond), "error", "aws-vpc-cni/main.go:156", "Failed to wait for IPAM daemon to complete: error: exit status 1")
			b.cri = append(b.cri, criFile{p: p, cid: cid, restart: i, lines: lines})
			// A pod scheduled meanwhile cannot get an address.
			if i == 1 {
				b.sandboxWithoutCNI(at.Add(-20*time.Second), victim)
			}
			return at, 1, false, "Error"
		},
	})
	return end, gap
}

// sandboxWithoutCNI is a pod whose sandbox cannot be networked while ipamd is down.
func (b *builder) sandboxWithoutCNI(t time.Time, p *pod) {
	meta := b.n.ctrd.sandboxMeta(p)
	const grpc = `Error received from AddNetwork gRPC call: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:50051: connect: connection refused"`
	for k := 0; k < 3; k++ {
		sb := b.g.hex(64)
		b.containerd(t, "info", "RunPodSandbox for "+meta)
		t = t.Add(b.g.between(100*time.Millisecond, 400*time.Millisecond))
		b.add(rec{t: t, u: uPlugin, msg: zapLine(t, "error", "routed-eni-cni-plugin/cni.go:283", "Error received from AddNetwork gRPC call for container "+sb+": rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:50051: connect: connection refused\"")})
		cniErr := fmt.Sprintf("failed to setup network for sandbox %q: plugin type=%q name=%q failed (add): add cmd: %s", sb, "aws-cni", "aws-cni", grpc)
		t = t.Add(b.g.between(5*time.Millisecond, 30*time.Millisecond))
		b.containerd(t, "error", "Failed to destroy network for sandbox \""+sb+"\"", q("error", "plugin type=\"aws-cni\" name=\"aws-cni\" failed (delete): del cmd: error received from DelNetwork gRPC call for container "+sb+": rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:50051: connect: connection refused\""))
		b.containerd(t.Add(b.g.between(20*time.Millisecond, 60*time.Millisecond)), "error", "RunPodSandbox for "+meta+" failed, error", q("error", b.n.ctrd.rpcLogged(cniErr)))
		t = t.Add(b.g.between(80*time.Millisecond, 200*time.Millisecond))
		rpcErr := "rpc error: code = Unknown desc = " + cniErr
		b.kubelet(t, 'E', "log.go:32", structured("RunPodSandbox from runtime service failed", q("err", rpcErr)))
		b.kubelet(t.Add(60*time.Microsecond), 'E', "kuberuntime_sandbox.go:72", structured("Failed to create sandbox for pod", q("err", rpcErr), q("pod", p.ref())))
		b.kubelet(t.Add(120*time.Microsecond), 'E', b.src("podworkers"), structured("Error syncing pod, skipping",
			q("err", fmt.Sprintf("failed to %q for %q with CreatePodSandboxError: %q", "CreatePodSandbox", p.name+"_"+p.ns+"("+p.uid+")", "Failed to create sandbox for pod \""+p.name+"_"+p.ns+"("+p.uid+")\": "+rpcErr)),
			q("pod", p.ref()), b.uidVal("podUID", p.uid)))
		t = t.Add(b.g.between(10*time.Second, 25*time.Second))
	}
}

// healthy: nothing goes wrong; the subject is an ordinary running web pod.
func healthy(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	p := b.webPod()
	b.pod = p
	p.created = origin
	t0 := b.runSandbox(origin, p)
	cid, _, started := b.startContainer(t0.Add(b.g.between(300*time.Millisecond, time.Second)), p, 0)
	b.event(started, p, "Normal", "Pulled", fmt.Sprintf("Container image %q already present on machine", p.image))
	b.event(started, p, "Normal", "Created", "Created container: "+p.container)
	b.event(started, p, "Normal", "Started", "Started container "+p.container)
	b.status = ctrStatus{running: true, ready: true, podReady: true, startedAt: started, containerID: cid}
	return started, 3 * time.Hour
}

// webPod is an ordinary web server, the subject of the scenarios whose incident is not a pod's
// (the node itself, or nothing): pod.json still shows a pod of the node.
func (b *builder) webPod() *pod {
	return b.newPod(Truth{Namespace: "shop", Pod: "web-5c7d9b8f6d-q8m2n", Container: "web", PodUID: "1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5"},
		"123456789012.dkr.ecr.us-west-2.amazonaws.com/web:8.1.0", "nginx", burstable, 512, 256, "ReplicaSet")
}
