package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
)

// The incidents below test what a diagnosis cites and how it reads an exit code, where the
// obvious reading is wrong: the process a kill report names last is not the one that held the
// memory, a 137 need not be an OOM, a wrong architecture need not exit 126, and many crash loops
// on one node are not a cluster's trouble.

// containerOOMGroup: python3 runs under tini, the container's PID 1, and outgrows its 2 GiB limit.
// The kernel kills python3; with memory.oom.group set (kubelet does on cgroup v2) it then kills
// tini too, so each death has two kill lines and the smaller victim is the last one printed.
func containerOOMGroup(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/recommender:5.2.0", "tini", burstable, 2048, 1024, "ReplicaSet")
	p.command = []string{"/usr/bin/tini", "--", "python3", "-m", "recommender.serve"}
	return b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(40*time.Second, 110*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			cg := b.n.containerCgroup(p.qos, p.uid, cid)
			child := pid + b.g.intn(6, 40) // tini forks python3 right after it starts
			file := int64(b.g.intn(6000, 14000))
			limit := p.limitMi * 1024
			tini := taskRow{pid: pid, uid: 1000, scoreAdj: 968, vmPages: 615, rssPages: 145, name: "tini"}
			kill := b.kernelOOM(at, oomReport{
				invoker: "python3", invokerPID: child, victim: "python3", pid: child, uid: 1000, scoreAdj: 968,
				oomMemcg: cg, taskMemcg: cg, cpuset: b.n.cpusetName(cid), limitKB: limit,
				anonKB: limit - file - int64(b.g.intn(400, 1500)), fileKB: file, totalVMKB: 3_100_000 + int64(b.g.intn(0, 70000)),
				pgtablesKB: int64(b.g.intn(4400, 5200)), failcnt: b.g.intn(30, 600), group: []taskRow{tini},
			})
			b.plant(TruthFact{Kind: facts.OOMKill, Container: p.container, ContainerID: cid, PID: child, Process: "python3"})
			if oomGroup(b.n, cg) {
				b.plant(TruthFact{Kind: facts.OOMKill, Container: p.container, ContainerID: cid, PID: pid, Process: "tini"})
			}
			b.scopeOOM(kill, cid)
			return kill.Add(b.g.between(time.Millisecond, 6*time.Millisecond)), 137, true, "OOMKilled"
		},
	})
}

// withoutGroupKills drops the planted tini kills where the node has no memory.oom.group (cgroup
// v1, the 4.14 kernel): there the kernel kills python3 alone.
func withoutGroupKills(t *Truth, n *node) {
	if oomGroup(n, n.containerCgroup(burstable, t.PodUID, strings.Repeat("0", 64))) {
		return
	}
	var out []TruthFact
	for _, f := range t.Facts {
		if f.Kind == facts.OOMKill && f.Process == "tini" {
			continue
		}
		out = append(out, f)
	}
	t.Facts = out
}

// livenessSIGKILL: the service deadlocks and ignores SIGTERM. Its liveness probe fails three
// times, kubelet stops it with a 30 s grace period, and containerd kills it when the grace period
// runs out: exit 137 with no OOM anywhere.
func livenessSIGKILL(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/ledger-api:3.0.7", "java", burstable, 2048, 1024, "ReplicaSet")
	b.specExtra = map[string]any{"livenessProbe": map[string]any{
		"httpGet":       map[string]any{"path": "/actuator/health/liveness", "port": 8080, "scheme": "HTTP"},
		"periodSeconds": 10, "timeoutSeconds": 2, "failureThreshold": 3, "successThreshold": 1, "initialDelaySeconds": 60}}
	probeOut := fmt.Sprintf("Get %q: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "http://"+p.ip+":8080/actuator/health/liveness")
	return b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(90*time.Second, 150*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			kill := b.probeKill(p, cid, at, "Liveness", 3, probeOut)
			c := kill.Add(b.g.between(time.Millisecond, 3*time.Millisecond))
			b.containerd(c, "info", fmt.Sprintf("StopContainer for %q with timeout 30 (s)", cid))
			b.containerd(c.Add(b.g.between(200*time.Microsecond, 2*time.Millisecond)), "info", fmt.Sprintf("Stop container %q with signal terminated", cid))
			// The JVM's shutdown hook waits on the deadlocked pool: the grace period runs out.
			k := c.Add(30*time.Second + b.g.between(time.Millisecond, 20*time.Millisecond))
			b.containerd(k, "info", fmt.Sprintf("Kill container %q", cid))
			exited := k.Add(b.g.between(5*time.Millisecond, 40*time.Millisecond))
			b.containerd(exited.Add(b.g.between(40*time.Millisecond, 90*time.Millisecond)), "info", fmt.Sprintf("StopContainer for %q returns successfully", cid))
			return exited, 137, false, "Error"
		},
	})
}

// busyNodeCrashLoops: the service exits 1 on a bad feature flag while two unrelated pods on the
// same node crash-loop for reasons of their own. Many crash loops on one node are this node's
// business: nothing in the bundle shows another node.
func busyNodeCrashLoops(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/notifier:1.12.0", "python3", burstable, 256, 128, "ReplicaSet")
	p.command = []string{"python3", "-m", "notifier"}
	others := []*pod{
		b.newPod(Truth{Namespace: "shop", Pod: "mailer-6c9d8b7f5-q2w4e", Container: "mailer", PodUID: "0c2e4a6b-8d1f-4e3a-9b5c-7d9f1b3e5a72"}, "mailer:2.0.1", "node", burstable, 256, 128, "ReplicaSet"),
		b.newPod(Truth{Namespace: "tools", Pod: "reporter-7f8e9d6c5-z8x7c", Container: "reporter", PodUID: "1d3f5b7a-9e2c-4f4b-8a6d-0e2a4c6e8b93"}, "reporter:0.9.4", "ruby", burstable, 256, 128, "ReplicaSet"),
	}
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(1500*time.Millisecond, 3*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			// The neighbours die and back off on their own clocks; their facts are not the
			// incident's, so they are drawn but not planted.
			for k, o := range others {
				died := at.Add(-b.g.between(20*time.Second, 50*time.Second) + time.Duration(k)*7*time.Second)
				b.plegExit(died, o, b.g.hex(64), 1)
				delay := crashLoopBackOff(min(i, 4))
				b.syncError(died.Add(b.g.between(100*time.Millisecond, 900*time.Millisecond)), o, crashLoopErr(o, delay))
			}
			return at, 1, false, "Error"
		},
	})
	fin := b.status.term.finishd
	b.prev = strings.Join([]string{
		pyLog(fin.Add(-1400*time.Millisecond), "INFO", "notifier", "starting notifier 1.12.0"),
		pyLog(fin.Add(-900*time.Millisecond), "WARNING", "notifier.flags", "flag service slow to answer (812 ms)"),
		"Traceback (most recent call last):",
		`  File "/app/notifier/__main__.py", line 3, in <module>`,
		`    main()`,
		`  File "/app/notifier/app.py", line 40, in main`,
		`    channels = flags.require("NOTIFY_CHANNELS")`,
		`  File "/app/notifier/flags.py", line 18, in require`,
		`    raise KeyError(name)`,
		`KeyError: 'NOTIFY_CHANNELS'`,
		"",
	}, "\n")
	return end, gap
}

// nodeHeapAbort: a Node.js service outgrows its --max-old-space-size long before the container's
// memory limit: V8 prints its fatal error and aborts, exit 134 (SIGABRT), no kernel OOM kill.
func nodeHeapAbort(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/render:8.1.3", "node", burstable, 2048, 1024, "ReplicaSet")
	p.command = []string{"node", "--max-old-space-size=512", "dist/server.js"}
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(3*time.Minute, 5*time.Minute) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 134, false, "Error"
		},
	})
	b.prev = strings.Join([]string{
		"render listening on :3000",
		"",
		"<--- Last few GCs --->",
		"",
		"[1:0x5d2a9c0]   241871 ms: Mark-Compact 509.6 (521.4) -> 508.9 (522.2) MB, 812.34 / 0.00 ms  (average mu = 0.112, current mu = 0.021) allocation failure; scavenge might not succeed",
		"",
		"<--- JS stacktrace --->",
		"",
		"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
		" 1: 0xb7a940 node::Abort() [node]",
		" 2: 0xa8e823  [node]",
		" 3: 0xd5c940 v8::Utils::ReportOOMFailure(v8::internal::Isolate*, char const*, bool) [node]",
		"",
	}, "\n")
	return end, gap
}

// execFormatDirect: the image's entrypoint is an arm64 binary on an amd64 node. runc starts the
// container, its init fails to exec the binary and exits 255; the container's only output is
// the exec error.
func execFormatDirect(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/quotes:2.3.0", "quotes", burstable, 256, 128, "ReplicaSet")
	p.command = []string{"/app/quotes"}
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(15*time.Millisecond, 60*time.Millisecond) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 255, false, "Error"
		},
	})
	b.prev = "exec /app/quotes: exec format error\n"
	return end, gap
}

// javaAppError: a Spring service cannot reach its database at start-up and exits 1; the log's
// last lines are Spring's shutdown chatter, the cause is at the root of the exception chain.
func javaAppError(b *builder, t Truth, origin time.Time) (time.Time, time.Duration) {
	deaths := len(t.BackOffs) + 1
	p := b.newPod(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/billing:6.4.2", "java", burstable, 1024, 512, "ReplicaSet")
	end, gap := b.run(origin, loop{
		p: p, deaths: deaths,
		lifetime: func(int) time.Duration { return b.g.between(9*time.Second, 14*time.Second) },
		die: func(i int, started, at time.Time, cid string, pid int) (time.Time, int, bool, string) {
			return at, 1, false, "Error"
		},
	})
	fin := b.status.term.finishd
	stamp := func(d time.Duration) string { return fin.Add(-d).UTC().Format("2006-01-02T15:04:05.000Z") }
	b.prev = strings.Join([]string{
		stamp(8*time.Second) + "  INFO 1 --- [           main] c.e.billing.BillingApplication           : Starting BillingApplication v6.4.2 using Java 21.0.5",
		stamp(3*time.Second) + "  WARN 1 --- [           main] o.h.e.j.e.i.JdbcEnvironmentInitiator     : HHH000342: Could not obtain connection to query metadata",
		stamp(2*time.Second) + " ERROR 1 --- [           main] o.s.boot.SpringApplication               : Application run failed",
		"",
		"org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'entityManagerFactory' defined in class path resource [org/springframework/boot/autoconfigure/orm/jpa/HibernateJpaConfiguration.class]: Unable to open JDBC Connection for DDL execution",
		"\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.initializeBean(AbstractAutowireCapableBeanFactory.java:1786)",
		"\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:335)",
		"\tat com.example.billing.BillingApplication.main(BillingApplication.java:12)",
		"Caused by: org.hibernate.exception.JDBCConnectionException: Unable to open JDBC Connection for DDL execution",
		"\tat org.hibernate.exception.internal.SQLStateConversionDelegate.convert(SQLStateConversionDelegate.java:100)",
		"\t... 21 common frames omitted",
		"Caused by: java.net.UnknownHostException: billing-db.shop.svc.cluster.local",
		"\tat java.base/sun.nio.ch.NioSocketImpl.connect(NioSocketImpl.java:567)",
		"\t... 35 common frames omitted",
		"",
		stamp(time.Second) + "  INFO 1 --- [           main] o.s.b.a.l.ConditionEvaluationReportLogger : Error starting ApplicationContext. To display the condition evaluation report re-run your application with 'debug' enabled.",
		stamp(600*time.Millisecond) + "  INFO 1 --- [           main] com.zaxxer.hikari.HikariDataSource       : HikariPool-1 - Shutdown initiated...",
		stamp(500*time.Millisecond) + "  WARN 1 --- [           main] com.zaxxer.hikari.HikariDataSource       : HikariPool-1 - Shutdown completed with 1 failed connection attempts",
		"",
	}, "\n")
	return end, gap
}
