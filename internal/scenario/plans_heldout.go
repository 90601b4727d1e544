package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
)

// Held-out incidents: written without looking at the diagnosis, to measure it on crash loops it
// was not tuned on. Each one is common on EKS nodes and sets a trap of its own: a Go panic that
// names SIGSEGV but is no kernel segfault, a startup probe that kills a healthy but slow service,
// a shell that cannot find a tool, a system pod whose loop only its own log names, and a JVM that
// exits 3 on its heap limit with no kernel OOM anywhere.
//
// Wordings of the container output, with their sources:
//   - Go panic, signal line, goroutine header: internal/formats/matrix/go-runtime.yaml rows
//     go-panic-header, go-panic-signal, go-goroutine-running (src/runtime/panic.go,
//     traceback.go); "created by F in goroutine N" is the go1.21+ traceback
//     (https://github.com/golang/go/blob/go1.22.12/src/runtime/traceback.go). log/slog's JSON
//     handler writes times in RFC 3339 with nanoseconds, trailing zeros trimmed
//     (https://github.com/golang/go/blob/go1.22.12/src/log/slog/json_handler.go, appendJSONTime).
//   - bash: "<script>: line N: <cmd>: command not found", exit 127 (execute_cmd.c and error.c
//     of GNU bash 5.2, https://git.savannah.gnu.org/cgit/bash.git/tree/execute_cmd.c).
//   - CoreDNS: matrix rows coredns-loop-detected, coredns-banner-*, coredns-reload-sha512
//     (plugin/loop/loop.go, coremain/run.go).
//   - HotSpot: "Terminating due to java.lang.OutOfMemoryError: %s" and os::_exit(3) under
//     -XX:+ExitOnOutOfMemoryError, the heap dump lines before it under
//     -XX:+HeapDumpOnOutOfMemoryError (report_java_out_of_memory in
//     https://github.com/openjdk/jdk17u/blob/master/src/hotspot/share/utilities/debug.cpp; matrix
//     row java-heap-dump).
//   - kubelet's startup probe: matrix rows kubelet-probe-failed-startup-multiline,
//     kubelet-kill-reason-startup (prober.go, kuberuntime_manager.go).

// goNilPanic: a Go service's cache warmer dereferences the cache client it never got (the cache
// is disabled when REDIS_URL is empty). The Go runtime turns the fault into a panic and exits 2:
// the kernel logs nothing, because the runtime handles SIGSEGV itself.
func goNilPanic(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/inventory:3.4.1", "inventory", burstable, 512, 256, "ReplicaSet")
	p.command = []string{"/app/inventory", "serve"}
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		// the warmer's first refresh runs 30 s after start
		lifetime: func(int) time.Duration { return b.g.between(30*time.Second, 31*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 2, false, "Error"
		},
	})
	start, fin := b.status.term.startedAt, b.status.term.finishd
	b.prev = strings.Join([]string{
		slogJSON(start.Add(40183*time.Microsecond), "INFO", "starting inventory", `,"version":"3.4.1","commit":"9f1c2ab"`),
		slogJSON(start.Add(43507*time.Microsecond), "WARN", "cache disabled: REDIS_URL is empty", ""),
		slogJSON(start.Add(118244*time.Microsecond), "INFO", "connected to postgres", `,"host":"inventory-db.shop.svc.cluster.local","pool":20`),
		slogJSON(start.Add(121090*time.Microsecond), "INFO", "listening", `,"addr":":8080"`),
		slogJSON(start.Add(122431*time.Microsecond), "INFO", "cache warmer started", `,"interval":"30s"`),
		slogJSON(fin.Add(-2113*time.Microsecond), "INFO", "cache warmer refresh", `,"skus":48211`),
		"panic: runtime error: invalid memory address or nil pointer dereference",
		"[signal SIGSEGV: segmentation violation code=0x1 addr=0x28 pc=0x9c4f1e]",
		"",
		"goroutine 41 [running]:",
		"github.com/acme-retail/inventory/internal/cache.(*Warmer).refresh(0xc00021a0f0, {0xd1c6e8, 0xc0001b8140})",
		"\t/src/internal/cache/warmer.go:74 +0x5e",
		"github.com/acme-retail/inventory/internal/cache.(*Warmer).Run(0xc00021a0f0, {0xd1c6e8, 0xc0001b8140})",
		"\t/src/internal/cache/warmer.go:52 +0x97",
		"created by main.run in goroutine 1",
		"\t/src/cmd/inventory/main.go:88 +0x4b1",
		"",
	}, "\n")
	return end, gap
}

// startupProbeKill: a tile server loads its index before it listens. The index doubled with a new
// map extract, so loading now outlasts the startup probe's budget (the sixth failure, 10 s apart
// after a 10 s delay, comes about 60 s after the start):
// kubelet kills it with SIGTERM, which a Go program without a handler dies of at once (143).
func startupProbeKill(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/tiles:2.9.0", "tiles", burstable, 8192, 6144, "ReplicaSet")
	p.command = []string{"/app/tiles", "--index", "s3://acme-maps-prod/planet/2026-11-16/index.pmtiles"}
	b.specExtra = map[string]any{"startupProbe": map[string]any{
		"httpGet":       map[string]any{"path": "/healthz", "port": 8080, "scheme": "HTTP"},
		"periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": heldoutStartupThreshold, "successThreshold": 1, "initialDelaySeconds": 10}}
	probeOut := fmt.Sprintf("Get %q: dial tcp %s:8080: connect: connection refused", "http://"+p.ip+":8080/healthz", p.ip)
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(10*time.Second, 11*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			kill := b.probeKill(p, cid, at, "Startup", heldoutStartupThreshold, probeOut)
			c := kill.Add(b.g.between(time.Millisecond, 3*time.Millisecond))
			b.containerd(c, "info", fmt.Sprintf("StopContainer for %q with timeout 30 (s)", cid))
			b.containerd(c.Add(b.g.between(200*time.Microsecond, 2*time.Millisecond)), "info", fmt.Sprintf("Stop container %q with signal terminated", cid))
			exited := c.Add(b.g.between(3*time.Millisecond, 20*time.Millisecond))
			b.containerd(exited.Add(b.g.between(40*time.Millisecond, 90*time.Millisecond)), "info", fmt.Sprintf("StopContainer for %q returns successfully", cid))
			return exited, 143, false, "Error"
		},
	})
	start := b.status.term.startedAt
	const size = 13743895347
	b.prev = strings.Join([]string{
		slogJSON(start.Add(25311*time.Microsecond), "INFO", "starting tiles", `,"version":"2.9.0"`),
		slogJSON(start.Add(31027*time.Microsecond), "INFO", "loading tile index", fmt.Sprintf(`,"source":"s3://acme-maps-prod/planet/2026-11-16/index.pmtiles","bytes":%d`, size)),
		// about 150 MB/s: the whole index takes 90 s, the probe allows about 60 s
		slogJSON(start.Add(18*time.Second+412*time.Microsecond), "INFO", "tile index progress", fmt.Sprintf(`,"done_bytes":%d,"percent":20`, size/5)),
		slogJSON(start.Add(36*time.Second+87*time.Microsecond), "INFO", "tile index progress", fmt.Sprintf(`,"done_bytes":%d,"percent":40`, 2*size/5)),
		slogJSON(start.Add(54*time.Second+2301*time.Microsecond), "INFO", "tile index progress", fmt.Sprintf(`,"done_bytes":%d,"percent":60`, 3*size/5)),
		"",
	}, "\n")
	return end, gap
}

// slogJSON renders a line of log/slog's JSON handler; attrs are the further fields, each with
// its leading comma.
func slogJSON(at time.Time, level, msg, attrs string) string {
	return fmt.Sprintf(`{"time":%q,"level":%q,"msg":%q%s}`, at.UTC().Format(time.RFC3339Nano), level, msg, attrs)
}

// heldoutStartupThreshold is the startup probe's failureThreshold in startupProbeKill.
const heldoutStartupThreshold = 6

// probeKill plants n failures of a probe (Liveness, Readiness or Startup), 10 s apart from at,
// kubelet's verdict and its kill with a 30 s grace period; it returns the time of the kill line.
func (b *builder) probeKill(p *pod, cid string, at time.Time, probeType string, n int, probeOut string) time.Time {
	for k := 0; k < n; k++ { // periodSeconds 10
		pt := at.Add(time.Duration(k)*10*time.Second + b.g.between(0, 300*time.Millisecond))
		b.kubelet(pt, 'I', b.src("prober"), structured("Probe failed", q("probeType", probeType), q("pod", p.ref()), b.uidVal("podUID", p.uid),
			q("containerName", p.container), q("probeResult", "failure"), q("output", probeOut)))
		b.event(pt, p, "Warning", "Unhealthy", probeType+" probe failed: "+probeOut)
		b.plant(TruthFact{Kind: facts.ProbeFailure, Container: p.container, ContainerID: cid})
		if k == n-1 {
			at = pt
		}
	}
	kind := strings.ToLower(probeType)
	at = at.Add(b.g.between(time.Millisecond, 5*time.Millisecond))
	b.kubelet(at, 'I', b.src("probe"), structured("SyncLoop (probe)", q("probe", kind), q("status", "unhealthy"), q("pod", p.ref())))
	msg := "Container " + p.container + " failed " + kind + " probe, will be restarted"
	b.kubelet(at.Add(60*time.Microsecond), 'I', b.src("msg"), structured("Message for Container of pod", q("containerName", p.container),
		raw("containerStatusID", fmt.Sprintf(`{"Type":"containerd","ID":%q}`, cid)), q("pod", p.ref()), q("containerMessage", msg)))
	b.event(at, p, "Normal", "Killing", msg)
	kill := at.Add(b.g.between(100*time.Microsecond, 900*time.Microsecond))
	b.kubelet(kill, 'I', b.src("kill"), structured("Killing container with a grace period", q("pod", p.ref()), b.uidVal("podUID", p.uid),
		q("containerName", p.container), q("containerID", "containerd://"+cid), num("gracePeriod", 30)))
	b.plant(TruthFact{Kind: facts.Killing, Container: p.container, ContainerID: cid})
	return kill
}

// probeKillFacts lists what probeKill plants for one death: n failures and the kill.
func probeKillFacts(ctr string, n int) []TruthFact {
	out := make([]TruthFact, 0, n+1)
	for range n {
		out = append(out, TruthFact{Kind: facts.ProbeFailure, Container: ctr})
	}
	return append(out, TruthFact{Kind: facts.Killing, Container: ctr})
}

// shellCommandNotFound: the image was rebuilt on a slim base without curl; the entrypoint script
// fetches its settings with curl under `set -e`, bash cannot find it and the script exits 127.
// The process did start, so containerd and kubelet show an ordinary start and an exit 127.
func shellCommandNotFound(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/reports-api:4.0.0", "docker-entrypoi", burstable, 512, 256, "ReplicaSet")
	p.command = []string{"/usr/local/bin/docker-entrypoint.sh"}
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(8*time.Millisecond, 40*time.Millisecond) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 127, false, "Error"
		},
	})
	b.prev = strings.Join([]string{
		"[entrypoint] fetching runtime settings from http://settings.platform.svc.cluster.local/v1/reports-api",
		"/usr/local/bin/docker-entrypoint.sh: line 7: curl: command not found",
		"",
	}, "\n")
	return end, gap
}

// corednsLoop: an edit of the coredns ConfigMap makes CoreDNS forward to 127.0.0.1, where it
// answers itself. The reload plugin applies the edit to the running pod, whose loop plugin sees
// its own probe query come back and exits 1; so does every start after it. The bundle copies
// kube-system pod logs, so here the node's logs do hold the cause.
func corednsLoop(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.12.1-eksbuild.2", "coredns", burstable, 170, 70, "ReplicaSet")
	p.uidNum = 0
	var last []string
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths, firstStart: b.n.boot.Add(61 * time.Second),
		lifetime: func(int) time.Duration { return b.g.between(300*time.Millisecond, 900*time.Millisecond) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			up := started.Add(b.g.between(150*time.Millisecond, 250*time.Millisecond))
			fatal := fmt.Sprintf(`[FATAL] plugin/loop: Loop (127.0.0.1:%d -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO %d.%d."`,
				b.g.intn(32768, 60999), b.g.r.Int64(), b.g.r.Int64())
			out := []string{".:53",
				"[INFO] plugin/reload: Running configuration SHA512 = feb386318f3ce8aad09551f798cb98e797dd18f57dd461453bf9573a2fc5e618f8ec94aad60f85e404001f75ad0ca9105f3527fa85c34e6c4e8fc7a93de4123e",
				"CoreDNS-1.12.1", "linux/amd64, go1.24.4, a0f8a4c", fatal}
			stamps := []time.Time{up, up.Add(1210 * time.Microsecond), up.Add(1890 * time.Microsecond), up.Add(2240 * time.Microsecond), at.Add(-2 * time.Millisecond)}
			var lines []string
			for k, o := range out {
				lines = append(lines, criLine(stamps[k], "stdout", o))
			}
			// kubelet deletes a container's log with the container: only the last two remain.
			if i >= deaths-2 {
				b.cri = append(b.cri, criFile{p: p, cid: cid, restart: i, lines: lines})
			}
			last = out
			return at, 1, false, "Error"
		},
	})
	b.prev = strings.Join(last, "\n") + "\n"
	return end, gap
}

// jvmExitOnOOM: a rollup job replays a backlog into an in-memory aggregate and fills its heap
// (MaxRAMPercentage=50 of a 2 GiB limit). -XX:+ExitOnOutOfMemoryError makes the JVM print one line
// and exit 3 after its heap dump: "OutOfMemoryError" everywhere in its log, no kernel OOM kill,
// and the container never near its memory limit.
func jvmExitOnOOM(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/rollup:2.7.0", "java", burstable, 2048, 1024, "ReplicaSet")
	p.command = []string{"java", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError", "-XX:+HeapDumpOnOutOfMemoryError", "-XX:HeapDumpPath=/tmp", "-jar", "/app/rollup.jar"}
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(2*time.Minute, 4*time.Minute) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 3, false, "Error"
		},
	})
	start, fin := b.status.term.startedAt, b.status.term.finishd
	spring := func(at time.Time, level, thread, logger, msg string) string {
		return fmt.Sprintf("%s %5s 1 --- [%15s] %-40s : %s", at.UTC().Format("2006-01-02T15:04:05.000Z"), level, thread, logger, msg)
	}
	b.prev = strings.Join([]string{
		spring(start.Add(900*time.Millisecond), "INFO", "main", "c.e.rollup.RollupApplication", "Starting RollupApplication v2.7.0 using Java 21.0.5 with PID 1 (/app/rollup.jar started by app in /app)"),
		spring(start.Add(7400*time.Millisecond), "INFO", "main", "c.e.rollup.RollupApplication", "Started RollupApplication in 6.871 seconds (process running for 7.402)"),
		spring(start.Add(8100*time.Millisecond), "INFO", "ntainer#0-0-C-1", "o.s.k.l.KafkaMessageListenerContainer", "rollup: partitions assigned: [order-events-0, order-events-1, order-events-2]"),
		spring(start.Add(8300*time.Millisecond), "WARN", "ntainer#0-0-C-1", "c.e.rollup.aggregate.DailyRollup", "rollup backlog is 4812331 events behind, replaying into the daily aggregate"),
		"java.lang.OutOfMemoryError: Java heap space",
		"Dumping heap to /tmp/java_pid1.hprof ...",
		fmt.Sprintf("Heap dump file created [1019874512 bytes in %.3f secs]", fin.Sub(start).Seconds()/40),
		"Terminating due to java.lang.OutOfMemoryError: Java heap space",
		"",
	}, "\n")
	return end, gap
}
