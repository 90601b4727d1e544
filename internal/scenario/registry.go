package scenario

import "github.com/nodediag/nodediag/internal/facts"

// The truths below are written by hand from the incident each scenario describes: what a
// careful engineer reading the node's logs would list. Identifiers and PIDs are left empty;
// Write fills them in from what it drew, after checking every planted event against this list.

func exitFact(ctr, process string, code int) TruthFact {
	return TruthFact{Kind: facts.ContainerExit, Container: ctr, Process: process, ExitCode: intp(code)}
}

func backOffFact(ctr, delay string) TruthFact {
	return TruthFact{Kind: facts.BackOff, Container: ctr, Delay: delay}
}

// loopFacts lists a crash loop's facts: per death, the facts that precede its exit, the exit,
// and from the second death on the back-off kubelet announces.
func loopFacts(ctr, process string, code int, backOffs []string, before ...TruthFact) []TruthFact {
	var out []TruthFact
	for i := 0; i <= len(backOffs); i++ {
		out = append(out, before...)
		out = append(out, exitFact(ctr, process, code))
		if i > 0 {
			out = append(out, backOffFact(ctr, backOffs[i-1]))
		}
	}
	return out
}

// withTaskOOM inserts containerd's TaskOOM before each exit: on cgroup v2 every oom_kill in a
// container's cgroup reaches containerd, a global one included; on v1 only the memcg's own OOM.
func withTaskOOM(t *Truth, n *node) {
	if !n.cgroupV2 {
		return
	}
	var out []TruthFact
	for _, f := range t.Facts {
		if f.Kind == facts.ContainerExit {
			out = append(out, TruthFact{Kind: facts.TaskOOM, Container: f.Container})
		}
		out = append(out, f)
	}
	t.Facts = out
}

var (
	oomV2BackOffs   = []string{"10s", "20s", "40s", "1m20s"}
	oomV1BackOffs   = []string{"10s", "20s", "40s"}
	nodeOOMBackOffs = []string{"10s", "20s"}
	appBackOffs     = []string{"10s", "20s"}
	segvBackOffs    = []string{"10s", "20s", "40s"}
	execBackOffs    = []string{"10s", "20s", "40s"}
	probeBackOffs   = []string{"10s", "20s"}
	cniBackOffs     = []string{"10s", "20s", "40s"}
	groupBackOffs   = []string{"10s", "20s", "40s", "1m20s", "2m40s"}

	// held-out scenarios (plans_heldout.go)
	panicBackOffs   = []string{"10s", "20s", "40s"}
	startupBackOffs = []string{"10s", "20s"}
	shellBackOffs   = []string{"10s", "20s", "40s", "1m20s"}
	loopBackOffs    = []string{"10s", "20s", "40s", "1m20s"}
	jvmExitBackOffs = []string{"10s", "20s"}
)

func probeKill(ctr string) []TruthFact {
	p := TruthFact{Kind: facts.ProbeFailure, Container: ctr}
	return []TruthFact{p, p, p, {Kind: facts.Killing, Container: ctr}}
}

var registry = []Scenario{
	{
		Name:        "container-oom-v2",
		Description: "Java container with a 512 MiB limit OOM-killed in its own memcg 5 times (cgroup v2), CrashLoopBackOff",
		Layout:      AL2023,
		Truth: Truth{Namespace: "shop", Pod: "checkout-7d9f8b6c4d-x2x9k", Container: "checkout", PodUID: "5f0c3a2e-8b1d-4e6f-9a7c-2d4b6e8f0a13",
			RootCause: "container_oom", ExitCode: 137, BackOffs: oomV2BackOffs,
			Facts: loopFacts("checkout", "java", 137, oomV2BackOffs,
				TruthFact{Kind: facts.OOMKill, Container: "checkout", Process: "java"}, TruthFact{Kind: facts.TaskOOM, Container: "checkout"}),
			KeyEvidence: []string{`Killed process \d+ \(java\)`, `oom-kill:constraint=CONSTRAINT_MEMCG`, `memory: usage \d+kB, limit \d+kB`, `(?i)exit_?status:? ?137\b|exitCode=137\b`, `TaskOOM`},
		},
		plan: containerOOM,
	},
	{
		Name:        "container-oom-v1",
		Description: "the same container OOM on an older AL2 node: cgroup v1 cgroupfs, kernel 4.14 report, gogo-proto TaskExit",
		Layout:      AL2,
		legacy:      true,
		Truth: Truth{Namespace: "payments", Pod: "ledger-0", Container: "ledger", PodUID: "8a4f2c61-3d7e-4b95-a0c8-6e1f9d2b7a34",
			RootCause: "container_oom", ExitCode: 137, BackOffs: oomV1BackOffs,
			Facts: loopFacts("ledger", "java", 137, oomV1BackOffs,
				TruthFact{Kind: facts.OOMKill, Container: "ledger", Process: "java"}, TruthFact{Kind: facts.TaskOOM, Container: "ledger"}),
			KeyEvidence: []string{`Killed process \d+ \(java\)`, `Task in \S+ killed as a result of limit of`, `memory: usage \d+kB, limit \d+kB`, `(?i)exit_?status:? ?137\b|exitCode=137\b`},
		},
		plan: containerOOM,
	},
	{
		Name:        "node-oom",
		Description: "BestEffort batch worker without a memory limit exhausts the node: global OOM kills it 3 times, MemoryPressure",
		Layout:      AL2,
		Truth: Truth{Namespace: "batch", Pod: "etl-worker-6b8d5f7c9-kq4zt", Container: "worker", PodUID: "2b7e9d14-6c3a-4f58-b1e0-9a4c7d3f5e62",
			RootCause: "node_oom", ExitCode: 137, BackOffs: nodeOOMBackOffs,
			Facts:       loopFacts("worker", "python3", 137, nodeOOMBackOffs, TruthFact{Kind: facts.OOMKill, Container: "worker", Process: "python3"}),
			KeyEvidence: []string{`Out of memory: Killed process \d+ \(python3\)`, `global_oom`, `pages RAM|free:\d+kB min:`, `Got sys oom event|System OOM encountered`, `NodeHasInsufficientMemory|attempting to reclaim`, `(?i)exit_?status:? ?137\b|exitCode=137\b`},
			CrossRefs:   []string{"G2"},
		},
		plan:   nodeOOM,
		adjust: withTaskOOM,
	},
	{
		Name:        "app-error",
		Description: "service exits 1 three times (database password rejected); no kernel evidence; previous.log has the traceback",
		Layout:      AL2023,
		Truth: Truth{Namespace: "shop", Pod: "orders-5b7c9d8f6-mt6qp", Container: "orders", PodUID: "c3d1e5f7-2a4b-4c6d-8e0f-1a3b5c7d9e2f",
			RootCause: "app_error", ExitCode: 1, BackOffs: appBackOffs,
			Facts:       loopFacts("orders", "python", 1, appBackOffs),
			KeyEvidence: []string{`psycopg\.OperationalError: connection failed`, `(?i)exit_?status:? ?1\b|exitCode=1\b`},
		},
		plan: appError,
	},
	{
		Name:        "segfault",
		Description: "native image codec dereferences NULL: kernel segfault line with the container's init PID, exit 139, 4 times",
		Layout:      Bottlerocket,
		Truth: Truth{Namespace: "media", Pod: "thumbnailer-84c6d9b7f-wr5zn", Container: "thumbnailer", PodUID: "e7a9c1b3-5d2f-4e8a-9c6b-3f1d7e5a2c84",
			RootCause: "segfault", ExitCode: 139, BackOffs: segvBackOffs,
			Facts:       loopFacts("thumbnailer", "thumbnailer", 139, segvBackOffs, TruthFact{Kind: facts.Segfault, Container: "thumbnailer", Process: "thumbnailer"}),
			KeyEvidence: []string{`segfault at 0 ip`, `(?i)exit_?status:? ?139\b|exitCode=139\b`},
		},
		plan: segfault,
	},
	{
		Name: "exec-not-found",
		Description: "entrypoint binary missing from the image: containerd start error (executable file not found in $PATH), " +
			"RunContainerError, exit 128 StartError, back-off",
		Layout: NMA,
		Truth: Truth{Namespace: "shop", Pod: "gateway-6f9b8c7d5-hp2xr", Container: "gateway", PodUID: "4d6f8a0c-1e3b-4a5d-9f7c-8b2e4d6a0c19",
			RootCause: "command_not_found", ExitCode: 128, BackOffs: execBackOffs,
			Facts:       loopFacts("gateway", "server", 128, execBackOffs, TruthFact{Kind: facts.ExecFailure, Container: "gateway", Process: "server"}),
			KeyEvidence: []string{`executable file not found in \$PATH`, `RunContainerError`},
		},
		plan: execNotFound,
	},
	{
		Name:        "exec-format",
		Description: "arm64 server binary in an amd64 image: the entrypoint shell cannot execute it (Exec format error) and exits 126",
		Layout:      AL2023,
		Truth: Truth{Namespace: "shop", Pod: "pricing-7c8d9e6f5-zq2lm", Container: "pricing", PodUID: "9b1d3f5a-7c2e-4b6d-8a0f-5e3c1a9d7b42",
			RootCause: "permission_denied", ExitCode: 126, BackOffs: execBackOffs,
			Facts:       loopFacts("pricing", "docker-entrypoi", 126, execBackOffs),
			KeyEvidence: []string{`Exec format error`, `(?i)exit_?status:? ?126\b|exitCode=126\b`},
		},
		plan: execFormat,
	},
	{
		Name: "missing-configmap",
		Description: "ConfigMap app-config deleted under a running pod: configmap volume remounts fail; after the app's clean exit " +
			"the container cannot be created again (CreateContainerConfigError)",
		Layout: AL2,
		Truth: Truth{Namespace: "shop", Pod: "frontend-6d8f9c7b5-vx7kd", Container: "frontend", PodUID: "7e5c3a1f-9d8b-4f6e-a2c4-0b8d6f4e2a71",
			RootCause: "missing_config", ExitCode: 0,
			Facts: []TruthFact{
				{Kind: facts.ConfigMissing, Name: "app-config"},
				exitFact("frontend", "nginx", 0),
				{Kind: facts.ConfigMissing, Container: "frontend", Name: "app-config"},
			},
			KeyEvidence: []string{`configmap \\*"app-config\\*" not found`, `CreateContainerConfigError`},
		},
		plan: missingConfigMap,
	},
	{
		Name:        "liveness-sigterm",
		Description: "service deadlocks: liveness probe times out 3 times, kubelet stops it with SIGTERM, exit 143, 3 times",
		Layout:      NMA,
		Truth: Truth{Namespace: "shop", Pod: "search-5d6c7b8a9-lp4tx", Container: "search", PodUID: "3f5a7c9e-1b2d-4e6f-8a0c-2e4b6d8f0a57",
			RootCause: "sigterm", ExitCode: 143, BackOffs: probeBackOffs,
			Facts:       loopFacts("search", "node", 143, probeBackOffs, probeKill("search")...),
			KeyEvidence: []string{`Probe failed`, `Killing container with a grace period`, `(?i)exit_?status:? ?143\b|exitCode=143\b`},
			CrossRefs:   []string{"K2"},
		},
		plan: livenessSIGTERM,
	},
	{
		Name:        "kubelet-oom",
		Description: "kubelet outgrows its runtime slice's kube-reserved memory: OOM-killed twice, systemd restarts it, node NotReady",
		Layout:      AL2,
		Truth: Truth{RootCause: "kubelet_oom", ExitCode: 137,
			Facts:       []TruthFact{{Kind: facts.OOMKill, Process: "kubelet"}, {Kind: facts.OOMKill, Process: "kubelet"}},
			KeyEvidence: []string{`Killed process \d+ \(kubelet\)`, `memory: usage \d+kB, limit \d+kB`},
			CrossRefs:   []string{"A1", "G2"},
			Escalate:    true,
		},
		plan: kubeletOOM,
	},
	{
		Name:        "aws-node-crashloop",
		Description: "VPC CNI's aws-node cannot reach the API server and exits 1 four times; pods scheduled meanwhile get no IP",
		Layout:      AL2023,
		Truth: Truth{Namespace: "kube-system", Pod: "aws-node-7fqz2", Container: "aws-node", PodUID: "6a8c0e2f-4b1d-4c3e-9f5a-7d9b1e3c5a08",
			RootCause: "app_error", ExitCode: 1, BackOffs: cniBackOffs,
			Facts:       loopFacts("aws-node", "aws-vpc-cni", 1, cniBackOffs),
			KeyEvidence: []string{`Failed to wait for IPAM daemon|Failed to check API server connectivity`, `(?i)exit_?status:? ?1\b|exitCode=1\b`},
			CrossRefs:   []string{"N1"}, // pods scheduled meanwhile get no IP: the node-networking runbook
			Escalate:    true,
		},
		plan: awsNodeCrashLoop,
	},
	{
		Name: "container-oom-group",
		Description: "python3 under tini outgrows its 2 GiB limit 6 times; memory.oom.group kills tini after it, so the last kill " +
			"line of each report is tini's 388 KiB, not the process that held the memory",
		Layout: AL2023,
		Truth: Truth{Namespace: "ml", Pod: "recommender-5d7f9c8b6-t4k2m", Container: "recommender", PodUID: "a1c3e5f7-0b2d-4f6a-8c1e-3b5d7f9a1c24",
			RootCause: "container_oom", ExitCode: 137, BackOffs: groupBackOffs,
			Facts: loopFacts("recommender", "tini", 137, groupBackOffs,
				TruthFact{Kind: facts.OOMKill, Container: "recommender", Process: "python3"}, TruthFact{Kind: facts.OOMKill, Container: "recommender", Process: "tini"},
				TruthFact{Kind: facts.TaskOOM, Container: "recommender"}),
			KeyEvidence: []string{`Killed process \d+ \(python3\)`, `memory\.oom\.group`, `memory: usage \d+kB, limit \d+kB`, `oom-kill:constraint=CONSTRAINT_MEMCG`, `(?i)exit_?status:? ?137\b|exitCode=137\b`},
		},
		plan:   containerOOMGroup,
		adjust: withoutGroupKills,
	},
	{
		Name:        "liveness-sigkill",
		Description: "JVM deadlocks and ignores SIGTERM: liveness fails 3 times, kubelet's 30 s grace period runs out, SIGKILL, exit 137 with no OOM",
		Layout:      AL2,
		Truth: Truth{Namespace: "payments", Pod: "ledger-api-6f7d8c9b5-m3n8p", Container: "ledger-api", PodUID: "b2d4f6a8-1c3e-4a5b-9d7f-4c6e8a0b2d35",
			RootCause: "sigterm", ExitCode: 137, BackOffs: probeBackOffs,
			Facts:       loopFacts("ledger-api", "java", 137, probeBackOffs, probeKill("ledger-api")...),
			KeyEvidence: []string{`Probe failed`, `Killing container with a grace period`, `(?i)exit_?status:? ?137\b|exitCode=137\b`},
			CrossRefs:   []string{"K2"},
		},
		plan: livenessSIGKILL,
	},
	{
		Name:        "busy-node-crashloops",
		Description: "service exits 1 on a missing setting (KeyError) while two unrelated pods crash-loop on the same node: no cluster-wide escalation",
		Layout:      AL2023,
		Truth: Truth{Namespace: "shop", Pod: "notifier-8b9c7d6f5-r5t6y", Container: "notifier", PodUID: "c3e5a7b9-2d4f-4b6c-8e0a-5d7f9b1c3e46",
			RootCause: "app_error", ExitCode: 1, BackOffs: execBackOffs,
			Facts:       loopFacts("notifier", "python3", 1, execBackOffs),
			KeyEvidence: []string{`KeyError: 'NOTIFY_CHANNELS'`, `(?i)exit_?status:? ?1\b|exitCode=1\b`},
		},
		plan: busyNodeCrashLoops,
	},
	{
		Name:        "node-heap-abort",
		Description: "Node.js reaches its --max-old-space-size heap and aborts (exit 134, SIGABRT) far below the container's limit; no kernel OOM",
		Layout:      NMA,
		Truth: Truth{Namespace: "web", Pod: "render-7c6d5e4f3-h8j9k", Container: "render", PodUID: "d4f6b8c0-3e5a-4c7d-9f1b-6e8a0c2d4f57",
			RootCause: "app_error", ExitCode: 134, BackOffs: appBackOffs,
			Facts:       loopFacts("render", "node", 134, appBackOffs),
			KeyEvidence: []string{`JavaScript heap out of memory`, `(?i)exit_?status:? ?134\b|exitCode=134\b`},
		},
		plan: nodeHeapAbort,
	},
	{
		Name:        "exec-format-direct",
		Description: "the entrypoint itself is an arm64 binary on an amd64 node: runc's init cannot exec it and exits 255; the log says exec format error",
		Layout:      AL2023,
		Truth: Truth{Namespace: "shop", Pod: "quotes-5f4e3d2c1-b6n7m", Container: "quotes", PodUID: "e5a7c9d1-4f6b-4d8e-a02c-7f9b1d3e5a68",
			RootCause: "permission_denied", NodeLogsRootCause: "runtime_error", ExitCode: 255, BackOffs: execBackOffs,
			Facts:       loopFacts("quotes", "quotes", 255, execBackOffs),
			KeyEvidence: []string{`exec format error`, `(?i)exit_?status:? ?255\b|exitCode=255\b`},
		},
		plan: execFormatDirect,
	},
	{
		Name:        "java-app-error",
		Description: "Spring service exits 1: the cause is the root of a Caused-by chain, followed by shutdown chatter and a WARN line",
		Layout:      AL2,
		Truth: Truth{Namespace: "billing", Pod: "billing-6d5c4b3a2-k9l8j", Container: "billing", PodUID: "f6b8d0e2-5a7c-4e9f-b13d-8a0c2e4f6b79",
			RootCause: "app_error", ExitCode: 1, BackOffs: appBackOffs,
			Facts:       loopFacts("billing", "java", 1, appBackOffs),
			KeyEvidence: []string{`UnknownHostException: billing-db`, `(?i)exit_?status:? ?1\b|exitCode=1\b`},
		},
		plan: javaAppError,
	},
	{
		Name:        "healthy",
		Description: "benign noise only: DNS NXDOMAIN chatter, probe successes, CronJob exitCode=0 completions, image pulls, nameserver limits",
		Layout:      AL2023,
		Truth:       Truth{RootCause: "none"},
		plan:        healthy,
	},

	// Held-out scenarios: written blind to the diagnosis, from what the node logs and what the K3
	// runbook concludes.
	{
		Name: "go-nil-panic",
		Description: "Go service's cache warmer dereferences a nil client 30 s after each start: panic with a SIGSEGV line, " +
			"exit 2, no kernel segfault line (the Go runtime handles the signal)",
		Layout: Bottlerocket,
		Truth: Truth{Namespace: "shop", Pod: "inventory-7c9d8e6f5-j4k6l", Container: "inventory", PodUID: "0d2f4b6c-8e1a-4c3d-b5f7-9a1c3e5d7f80",
			RootCause: "app_error", ExitCode: 2, BackOffs: panicBackOffs,
			Facts:       loopFacts("inventory", "inventory", 2, panicBackOffs),
			KeyEvidence: []string{`panic: runtime error: invalid memory address or nil pointer dereference`, `(?i)exit_?status:? ?2\b|exitCode=2\b`},
		},
		plan: goNilPanic,
	},
	{
		Name: "startup-probe-kill",
		Description: "tile server loads a 13.7 GB index before it listens; its startup probe (6 × 10 s) gives up first: " +
			"connection refused 6 times, kubelet's SIGTERM, exit 143, 3 times",
		Layout: AL2023,
		Truth: Truth{Namespace: "maps", Pod: "tiles-5c6d7e8f9-b3n5m", Container: "tiles", PodUID: "1e3a5c7e-9b2d-4f4a-8c6e-0b2d4f6a8c91",
			RootCause: "sigterm", ExitCode: 143, BackOffs: startupBackOffs,
			Facts:       loopFacts("tiles", "tiles", 143, startupBackOffs, probeKillFacts("tiles", heldoutStartupThreshold)...),
			KeyEvidence: []string{`probeType="Startup"|Startup probe failed`, `Killing container with a grace period`, `(?i)exit_?status:? ?143\b|exitCode=143\b`},
			CrossRefs:   []string{"K2"},
		},
		plan: startupProbeKill,
	},
	{
		Name: "shell-command-not-found",
		Description: "image rebuilt on a slim base without curl: the entrypoint script (set -e) cannot run curl and exits 127; " +
			"the container starts normally, so containerd has no exec error",
		Layout: AL2,
		Truth: Truth{Namespace: "analytics", Pod: "reports-api-7b9c8d6f5-w2x4z", Container: "reports-api", PodUID: "2f4b6d8a-0c1e-4a3b-9d5f-1c3e5a7b9d02",
			RootCause: "command_not_found", ExitCode: 127, BackOffs: shellBackOffs,
			Facts:       loopFacts("reports-api", "docker-entrypoi", 127, shellBackOffs),
			KeyEvidence: []string{`line 7: curl: command not found`, `(?i)exit_?status:? ?127\b|exitCode=127\b`},
		},
		plan: shellCommandNotFound,
	},
	{
		Name: "coredns-loop",
		Description: "a coredns ConfigMap edit makes CoreDNS forward to 127.0.0.1: after the reload its loop plugin sees its own " +
			"query come back and exits 1, 5 times; the bundle's copy of its pod log names the loop",
		Layout: AL2023,
		Truth: Truth{Namespace: "kube-system", Pod: "coredns-6b9575c64c-8xk2p", Container: "coredns", PodUID: "3a5c7e9b-1d2f-4b4c-8e6a-2d4f6b8c0e13",
			RootCause: "app_error", ExitCode: 1, BackOffs: loopBackOffs,
			Facts:       loopFacts("coredns", "coredns", 1, loopBackOffs),
			KeyEvidence: []string{`plugin/loop: Loop \(127\.0\.0\.1:\d+ -> :53\) detected`, `(?i)exit_?status:? ?1\b|exitCode=1\b`},
			CrossRefs:   []string{"D1"},
			Escalate:    true,
		},
		plan: corednsLoop,
	},
	{
		Name: "jvm-exit-on-oom",
		Description: "JVM with -XX:+ExitOnOutOfMemoryError fills its 1 GiB heap replaying a backlog: heap dump, " +
			"\"Terminating due to java.lang.OutOfMemoryError\", exit 3, 3 times; no kernel OOM, far below the 2 GiB limit",
		Layout: NMA,
		Truth: Truth{Namespace: "analytics", Pod: "rollup-5f7e8d9c6-v4b2n", Container: "rollup", PodUID: "4b6d8f0a-2e3c-4d5e-9f7a-3e5a7c9d1f24",
			RootCause: "app_error", ExitCode: 3, BackOffs: jvmExitBackOffs,
			Facts:       loopFacts("rollup", "java", 3, jvmExitBackOffs),
			KeyEvidence: []string{`Terminating due to java\.lang\.OutOfMemoryError: Java heap space`, `(?i)exit_?status:? ?3\b|exitCode=3\b`},
		},
		plan: jvmExitOnOOM,
	},
}

// Names lists the scenario names in registry order.
func Names() []string {
	out := make([]string, 0, len(registry))
	for _, s := range registry {
		out = append(out, s.Name)
	}
	return out
}
