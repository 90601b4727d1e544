package detect

// LogTypes are the file classes a rule may target. They are the names internal/bundle gives
// files ("kubelet" for kubelet/kubelet.log, "messages" for var_log/messages, "pods" for CRI log
// files, …); LineSource maps a syslog identifier onto the same names.
var LogTypes = []string{
	"kubelet", "containerd", "docker", "dmesg", "kernel", "messages", "journal", "system",
	"security", "networking", "storage", "ipamd", "aws-node", "coredns", "kube-proxy", "pods",
	"nodeadm", "config", "gpu", "cni", "sandbox-image", "cloud-init",
}

// MixedLogTypes are files that interleave many programs' lines. In them a rule also applies to
// a line when its log types include the line's own source (see LineSource).
var MixedLogTypes = []string{"messages", "journal"}

// Categories group rules in the docs and in `errors` output.
var Categories = []string{
	"memory", "crash", "runtime", "config", "image", "probe", "lifecycle", "kubelet", "eviction",
	"kernel", "hardware", "network", "dns", "storage", "auth", "bootstrap", "time",
}

// SOPs are the runbooks a rule can point to, with what each covers.
var SOPs = map[string]string{
	"K3": "CrashLoopBackOff",
	"G2": "Node OOM / MemoryPressure",
	"A1": "Node NotReady (kubelet OOM, kubelet cannot reach the API server)",
	"K2": "Probe failures",
	"K4": "containerd runtime failures",
	"C1": "Image pull failures",
	"N1": "Networking and pod IP allocation",
	"D1": "DNS resolution",
	"S1": "Disk, filesystem and volume problems",
	"B1": "Node bootstrap and join",
	"Z1": "Catch-all: unclassified node problems",
}

// ExtractorNames are the crash-fact extractors a rule's `extract` may name. internal/facts
// implements one extractor per name; the indexer runs it on every line the rule matched.
var ExtractorNames = []string{
	"kubelet-pleg-finished",
	"kubelet-pleg-event",
	"kubelet-backoff",
	"kubelet-killing",
	"kubelet-probe-failed",
	"kubelet-config-missing",
	"kubelet-image-pull",
	"containerd-task-exit",
	"containerd-task-oom",
	"containerd-sandbox-created",
	"containerd-container-created",
	"runtime-exec-failure",
	"kernel-oom-invoked",
	"kernel-memcg-usage",
	"kernel-oom-task-in",
	"kernel-oom-kill",
	"kernel-oom-group",
	"kernel-oom-killed-process",
	"kernel-segfault",
	"kernel-trap",
	"kernel-arm64-fault",
}
