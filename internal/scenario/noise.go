package scenario

import (
	"fmt"
	"strings"
	"time"
)

// Noise: what a healthy node logs every day. It is sized by Options.NoiseLines and chosen to
// mislead a naive reader: exitCode=0 PLEG lines, `level=error msg="copy shim log"`, kubelet
// E-lines about nameserver limits and system-container stats, exec exit events, DNS NXDOMAIN
// answers, oom_score_adj in process listings. None of it is a crash fact.

type noisePod struct {
	p       *pod
	cid     string
	command string // ps view of the main process
}

// genNoise fills b with ordinary node activity from boot to capture. subject is the scenario's
// pod; a noise pod with the same name is left out so the incident owns it.
func genNoise(b *builder, subject *pod, lines int) {
	n := b.n
	mk := func(ns, name, ctr, image, process, owner string, q qos, hostNet bool, cmd string) *noisePod {
		if subject != nil && subject.ns == ns && subject.name == name {
			return nil
		}
		p := &pod{ns: ns, name: name, uid: b.g.uid(), container: ctr, image: image, process: process, owner: owner, qos: q}
		p.sandbox = b.g.hex(64)
		p.ip = fmt.Sprintf("10.0.%d.%d", 32+b.g.r.IntN(31), 2+b.g.r.IntN(250))
		if hostNet {
			p.ip = n.ip
		}
		return &noisePod{p: p, command: cmd}
	}
	const ecr = "602401143452.dkr.ecr.us-west-2.amazonaws.com/"
	all := []*noisePod{
		mk("kube-system", "aws-node-7fqz2", "aws-node", ecr+"amazon-k8s-cni:v1.20.4-eksbuild.1", "aws-vpc-cni", "DaemonSet", burstable, true, "/app/aws-vpc-cni"),
		mk("kube-system", "kube-proxy-2m8fd", "kube-proxy", ecr+"eks/kube-proxy:v1.33.3-minimal-eksbuild.6", "kube-proxy", "DaemonSet", burstable, true,
			"kube-proxy --v=2 --config=/var/lib/kube-proxy-config/config --hostname-override="+n.host+" --oom-score-adj=-998"),
		mk("kube-system", "coredns-6b9575c64c-8xk2p", "coredns", ecr+"eks/coredns:v1.12.1-eksbuild.2", "coredns", "ReplicaSet", burstable, false, "/coredns -conf /etc/coredns/Corefile"),
		mk("shop", "web-5c7d9b8f6d-q8m2n", "web", "123456789012.dkr.ecr.us-west-2.amazonaws.com/web:8.1.0", "nginx", "ReplicaSet", burstable, false, "nginx: master process nginx -g daemon off;"),
		mk("shop", "cart-66f4c9d7b5-lp4tx", "cart", "123456789012.dkr.ecr.us-west-2.amazonaws.com/cart:1.4.2", "java", "ReplicaSet", burstable, false, "java -XX:MaxRAMPercentage=75 -jar /app/cart.jar"),
		mk("payments", "ledger-1", "ledger", "123456789012.dkr.ecr.us-west-2.amazonaws.com/ledger:3.18.2", "java", "StatefulSet", guaranteed, false, "java -Xmx384m -jar /app/ledger.jar"),
		mk("monitoring", "node-exporter-9zq7d", "node-exporter", "quay.io/prometheus/node-exporter:v1.9.1", "node_exporter", "DaemonSet", burstable, true, "/bin/sh -c echo 900 > /proc/self/oom_score_adj && exec /bin/node_exporter --path.rootfs=/host"),
	}
	var pods []*noisePod
	for _, np := range all {
		if np != nil {
			pods = append(pods, np)
		}
	}

	boot := n.boot
	b.bootKernel(boot)
	b.bootServices(boot)
	// Long-running pods started just after boot.
	t := boot.Add(40 * time.Second)
	for _, np := range pods {
		np.p.created = t
		t = b.runSandbox(t, np.p)
		cid, _, started := b.startContainer(t.Add(b.g.between(100*time.Millisecond, 800*time.Millisecond)), np.p, 0)
		np.cid = cid
		t = started.Add(b.g.between(2*time.Second, 9*time.Second))
		b.criNoiseStart(np, started)
	}

	start, end := boot.Add(5*time.Minute), n.capture.Add(-2*time.Second)
	span := end.Sub(start)
	step := func(i, total int) time.Time {
		return start.Add(time.Duration((float64(i) + b.g.r.Float64()) * float64(span) / float64(total)))
	}
	for i := 0; i < lines; i++ {
		b.kubeletNoise(step(i, lines), pods)
	}
	for i := 0; i < lines; i++ {
		b.containerdNoise(step(i, lines), pods)
	}
	for i, m := 0, lines/2; i < m; i++ {
		b.otherNoise(step(i, m))
	}
	for i, m := 0, lines/25+1; i < m; i++ {
		b.kernelNoise(step(i, m))
	}
	for i, m := 0, lines/2; i < m; i++ {
		b.ipamdNoise(step(i, m), pods)
	}
	b.cronJobs(start, end)
	for _, np := range pods {
		b.criNoise(np, lines/8)
	}
	b.running = pods
}

// bootKernel is the start of the ring buffer: a quiet node still holds its boot messages.
func (b *builder) bootKernel(boot time.Time) {
	n := b.n
	t := boot
	lines := []string{
		fmt.Sprintf("Linux version %s (mockbuild@ip-10-0-43-21) (gcc10-gcc (GCC) 10.5.0 20230707 (Red Hat 10.5.0-1), GNU ld version 2.35.2-9.amzn2.0.1) #1 SMP Tue Oct 7 19:21:17 UTC 2025", n.release),
		"Command line: BOOT_IMAGE=/boot/vmlinuz-" + n.release + " root=UUID=6e4a0ab6-2b86-4d6b-9a0f-1c5b0f4f0f3e ro console=tty0 console=ttyS0,115200n8 net.ifnames=0 biosdevname=0 nvme_core.io_timeout=4294967295 rd.emergency=poweroff rd.shell=0 selinux=1 security=selinux quiet",
		"x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'",
		"BIOS-provided physical RAM map:",
		"BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable",
		"DMI: Amazon EC2 m5.large/, BIOS 1.0 10/16/2017",
		"Hypervisor detected: KVM",
		"Memory: 7851416K/8224260K available (14345K kernel code, 2416K rwdata, 8388K rodata, 2624K init, 4320K bss, 372584K reserved, 0K cma-reserved)",
	}
	for _, l := range lines {
		b.add(rec{t: t, u: uKernel, ident: "kernel", msg: l})
		t = t.Add(b.g.between(50*time.Microsecond, 3*time.Millisecond))
	}
	t = boot.Add(1200 * time.Millisecond)
	later := []string{
		"nvme nvme0: 2/0/0 default/read/poll queues",
		" nvme0n1: p1 p128",
		"ena 0000:00:05.0: Elastic Network Adapter (ENA) v2.13.1g",
		"ena 0000:00:05.0 eth0: Elastic Network Adapter (ENA) found at mem febf4000, mac addr 0a:3f:9c:21:7e:55",
		"XFS (nvme0n1p1): Mounting V5 Filesystem",
		"XFS (nvme0n1p1): Ending clean mount",
		"IPVS: Registered protocols (TCP, UDP, SCTP, AH, ESP)",
		"bridge: filtering via arp/ip/ip6tables is no longer available by default. Update your scripts to load br_netfilter if you need this.",
		"Bridge firewalling registered",
	}
	for _, l := range later {
		b.add(rec{t: t, u: uKernel, ident: "kernel", msg: l})
		t = t.Add(b.g.between(20*time.Millisecond, 900*time.Millisecond))
	}
}

// bootServices is systemd bringing up containerd, nodeadm and kubelet.
func (b *builder) bootServices(boot time.Time) {
	n := b.n
	t := boot.Add(14 * time.Second)
	if n.nodeadmPID != 0 {
		b.systemd(t, uNodeadm, "Starting nodeadm-config.service - EKS Nodeadm Config...")
		msgs := []string{"Checking user is root..", "Loading configuration..", "Loaded configuration", "Enriching configuration..", "Validating configuration..", "Setting up system aspects...", "Configuring kubelet..", "done!"}
		for i, m := range msgs {
			t = t.Add(b.g.between(5*time.Millisecond, 400*time.Millisecond))
			b.add(rec{t: t, u: uNodeadm, ident: "nodeadm", pid: n.nodeadmPID, msg: nodeadmLine(t.Add(-b.jitter()), "info", fmt.Sprintf("init/init.go:%d", 49+i*12), m)})
		}
		t = t.Add(b.g.between(10*time.Millisecond, 50*time.Millisecond))
		b.systemd(t, uNodeadm, "Finished nodeadm-config.service - EKS Nodeadm Config.")
	}
	t = t.Add(time.Second)
	ctrdDesc := "containerd container runtime"
	b.systemd(t, uContainerd, b.starting("containerd", ctrdDesc))
	t = t.Add(b.g.between(20*time.Millisecond, 60*time.Millisecond))
	b.containerd(t, "info", "starting containerd", q("revision", "b98a3aace656320842a23f4a392a33f46af97866"), q("version", n.ctrd.version))
	t = t.Add(b.g.between(100*time.Millisecond, 400*time.Millisecond))
	b.containerd(t, "info", "serving...", q("address", "/run/containerd/containerd.sock"))
	b.containerd(t.Add(time.Millisecond), "info", "containerd successfully booted in 0.312442s")
	t = t.Add(b.g.between(5*time.Millisecond, 40*time.Millisecond))
	b.systemd(t, uContainerd, b.started("containerd", ctrdDesc))
	t = t.Add(8 * time.Second)
	b.systemd(t, uKubelet, b.starting("kubelet", "Kubernetes Kubelet"))
	b.systemd(t.Add(2*time.Millisecond), uKubelet, b.started("kubelet", "Kubernetes Kubelet"))
	b.kubeletBootQuiet(t.Add(b.g.between(300*time.Millisecond, 900*time.Millisecond)))
}

func (b *builder) starting(unitName, desc string) string {
	if b.n.sysd < 240 {
		return "Starting " + desc + "..."
	}
	return "Starting " + unitName + ".service - " + desc + "..."
}

func (b *builder) started(unitName, desc string) string {
	if b.n.sysd < 240 {
		return "Started " + desc + "."
	}
	return "Started " + unitName + ".service - " + desc + "."
}

// kubeletBootQuiet is a first start: the node registers and becomes Ready.
func (b *builder) kubeletBootQuiet(t time.Time) {
	n := b.n
	b.kubelet(t, 'I', "server.go:493", structured("Kubelet version", q("kubeletVersion", n.kubeletVer)))
	t = t.Add(b.g.between(500*time.Millisecond, 2*time.Second))
	b.kubelet(t, 'I', "kubelet_node_status.go:76", structured("Attempting to register node", q("node", n.host)))
	t = t.Add(b.g.between(100*time.Millisecond, 300*time.Millisecond))
	b.kubelet(t, 'I', "kubelet_node_status.go:79", structured("Successfully registered node", q("node", n.host)))
	t = t.Add(b.g.between(3*time.Second, 9*time.Second))
	b.kubelet(t, 'I', "kubelet_node_status.go:724", structured("Recording event message for node", q("node", n.host), q("event", "NodeReady")))
}

var nodeEvents = []string{"NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"}

func (b *builder) kubeletNoise(t time.Time, pods []*noisePod) {
	n := b.n
	np := pods[b.g.r.IntN(len(pods))]
	p := np.p
	switch k := b.g.r.IntN(100); {
	case k < 20:
		b.kubelet(t, 'I', b.src("probe"), structured("SyncLoop (probe)", q("probe", "readiness"), q("status", "ready"), q("pod", p.ref())))
	case k < 30:
		vol := "kube-api-access-" + b.g.hex(5)
		b.kubelet(t, 'I', "reconciler_common.go:258", structured(fmt.Sprintf("operationExecutor.VerifyControllerAttachedVolume started for volume %q (UniqueName: %q) pod %q (UID: %q) ",
			vol, "kubernetes.io/projected/"+p.uid+"-"+vol, p.name, p.uid), q("pod", p.ref())))
	case k < 41:
		b.kubelet(t, 'E', "dns.go:153", structured("Nameserver limits exceeded", q("err", "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.0.0.2 10.0.0.3 10.0.0.4")))
	case k < 49:
		b.kubelet(t, 'I', "kubelet_node_status.go:724", structured("Recording event message for node", q("node", n.host), q("event", nodeEvents[b.g.r.IntN(3)])))
	case k < 56:
		b.kubelet(t, 'W', "reflector.go:561", `k8s.io/client-go/informers/factory.go:160: watch of *v1.Service ended with: an error on the server ("unable to decode an event from the watch stream: http2: client connection lost") has prevented the request from succeeding`)
	case k < 63:
		b.kubelet(t, 'I', "pod_startup_latency_tracker.go:104", structured("Observed pod startup duration", q("pod", p.ref()),
			raw("podStartSLOduration", fmt.Sprintf("%.6f", 1+b.g.r.Float64()*8)), q("podStartE2EDuration", fmt.Sprintf("%.6fs", 2+b.g.r.Float64()*28))))
	case k < 70:
		b.kubelet(t, 'I', "kubelet.go:2484", structured("SyncLoop UPDATE", q("source", "api"), raw("pods", fmt.Sprintf("[%q]", p.ref()))))
	case k < 76:
		b.kubelet(t, 'W', "housekeeping.go:49", structured("Housekeeping took longer than expected", q("err", "housekeeping took too long"), raw("seconds", fmt.Sprintf("%.9f", 1+b.g.r.Float64()))))
	case k < 84:
		c := "/system.slice/containerd.service"
		if n.cgroupV2 {
			c = "/runtime.slice/containerd.service"
		}
		b.kubelet(t, 'E', "summary_sys_containers.go:51", structured("Failed to get system container stats",
			q("err", fmt.Sprintf("failed to get cgroup stats for %q: failed to get container info for %q: unknown container %q", c, c, c)), q("containerName", c)))
	case k < 87:
		gone := b.g.uid()
		b.kubelet(t, 'I', "kubelet_volumes.go:163", structured("Cleaned up orphaned pod volumes dir", q("podUID", gone), q("path", "/var/lib/kubelet/pods/"+gone+"/volumes")))
	case k < 90:
		b.kubelet(t, 'I', b.src("probe"), structured("SyncLoop (probe)", q("probe", "readiness"), q("status", "ready"), q("pod", p.ref())))
	case k < 95:
		b.kubelet(t, 'I', "prober_manager.go:312", structured("Failed to trigger a manual run", q("probe", "Readiness")))
	default:
		b.kubelet(t, 'I', "certificate_manager.go:356", fmt.Sprintf("kubernetes.io/kube-apiserver-client-kubelet: Certificate expiration is %s, rotation deadline is %s",
			n.capture.AddDate(0, 11, 0).Format("2006-01-02 15:04:05 -0700 MST"), n.capture.AddDate(0, 8, 3).Format("2006-01-02 15:04:05.999999999 -0700 MST")))
	}
}

func (b *builder) containerdNoise(t time.Time, pods []*noisePod) {
	r := b.n.ctrd
	np := pods[b.g.r.IntN(len(pods))]
	// Every branch draws the same numbers on every release; a line the release writes at debug
	// or not at all is dropped by b.containerd.
	switch k := b.g.r.IntN(100); {
	case k < 38:
		b.containerd(t, "info", r.imageUpdate(np.p.image))
	case k < 58:
		fields := []kv{q("error", fmt.Sprintf("read /proc/self/fd/%d: file already closed", 20+b.g.r.IntN(180)))}
		if r.shimNamespace() {
			fields = append(fields, q("namespace", "k8s.io"))
		}
		b.containerd(t, "error", "copy shim log", fields...)
	case k < 70:
		b.containerd(t, r.execIOLevel(), fmt.Sprintf("Finish piping %q of container exec %q", "stdout", b.g.hex(64)))
	case k < 79:
		exec := b.g.hex(64)
		b.containerd(t, r.execIOLevel(), fmt.Sprintf("Exec process %q exits with exit code 0 and error <nil>", exec))
	case k < 85:
		// An exec probe ended. The CRI exit monitor never sees exec'd processes; only the
		// podsandbox handler, while it takes every /tasks/exit event (2.0.0–2.1.4), prints one:
		// an exit event whose id is not the container's, clean, so protobuf omits exit_status.
		level, msg := r.podsandboxCopy(np.cid, b.g.hex(64), b.g.intn(200000, 400000), 0, t)
		b.containerd(t, level, msg)
	case k < 92:
		// stderr of the shim's own delete, relayed when the dead-shim cleanup (1.6+) runs it.
		inner := "time=\"" + ctrdTime(t.Add(-b.jitter())) + "\" level=warning msg=\"failed to remove runc container\" error=\"runc did not terminate successfully: exit status 255: \" runtime=io.containerd.runc.v2\n"
		switch {
		case r.legacyCRI():
			b.containerd(t, lvlAbsent, "")
		case r.from211():
			b.containerd(t, "warning", "warnings while cleaning up dead shim", q("id", np.cid), q("namespace", "k8s.io"), q("warnings", inner))
		case r.shimNamespace():
			b.containerd(t, "warning", "cleanup warnings "+inner, q("namespace", "k8s.io"))
		default:
			b.containerd(t, "warning", "cleanup warnings "+inner)
		}
	default:
		b.containerd(t, "info", fmt.Sprintf("Container exec %q stdin closed", b.g.hex(64)))
	}
}

func (b *builder) otherNoise(t time.Time) {
	n := b.n
	other := func(ident string, pid int, msg string) { b.add(rec{t: t, u: uOther, ident: ident, pid: pid, msg: msg}) }
	switch k := b.g.r.IntN(100); {
	case k < 25:
		s := b.g.intn(1, 9999)
		if n.sysd < 240 {
			b.systemd(t, uOther, fmt.Sprintf("Started Session %d of user root.", s))
		} else {
			b.systemd(t, uOther, fmt.Sprintf("Started session-%d.scope - Session %d of User root.", s, s))
		}
	case k < 40:
		other("amazon-ssm-agent", 2201, t.UTC().Format("2006-01-02 15:04:05")+" INFO [HealthCheck] HealthCheck reporting agent health.")
	case k < 55:
		if n.layout == AL2 {
			other("dhclient", 2766, fmt.Sprintf("XMT: Solicit on eth0, interval %dms.", b.g.intn(100000, 130000)))
		} else {
			other("systemd-networkd", 1406, "eth0: DHCPv6 lease lost")
		}
	case k < 70:
		other("chronyd", 1711, "Selected source 169.254.169.123")
	case k < 80:
		other("systemd-logind", 1698, fmt.Sprintf("New session %d of user root.", b.g.intn(1, 9999)))
	case k < 90:
		other("crond", b.g.intn(10000, 99999), "(root) CMD (/usr/sbin/logrotate /etc/logrotate.conf)")
	default:
		other("sshd", b.g.intn(10000, 99999), "Received disconnect from 10.0.4.17 port 50322:11: disconnected by user")
	}
}

func (b *builder) kernelNoise(t time.Time) {
	msgs := []string{
		"IPv6: ADDRCONF(NETDEV_CHANGE): eni" + b.g.hex(11) + ": link becomes ready",
		"eni" + b.g.hex(11) + ": renamed from tmp" + b.g.hex(8),
		"IPVS: rr: UDP 172.20.0.10:53 - no destination available",
		"xfs filesystem being remounted at /var/lib/kubelet/pods supports timestamps until 2038 (0x7fffffff)",
	}
	b.add(rec{t: t, u: uKernel, ident: "kernel", msg: msgs[b.g.r.IntN(len(msgs))]})
}

func (b *builder) ipamdNoise(t time.Time, pods []*noisePod) {
	switch k := b.g.r.IntN(100); {
	case k < 55:
		b.ipamd(t, "debug", "ipamd/ipamd.go:1345", fmt.Sprintf("IP pool stats: Total IPs/Prefixes = 29/0, AssignedIPs/CooldownIPs: %d/0, c.maxIPsPerENI = 10", b.g.intn(3, 20)))
	case k < 85:
		b.ipamd(t, "debug", "ipamd/ipamd.go:753", "Successfully Reconciled ENI/IP pool")
	default:
		b.ipamd(t, "debug", "ipamd/ipamd.go:1491", "Reconcile existing ENI eni-0f3c5a7e9b1d2c4e6 IP pool")
	}
}

// cronJobs runs batch/report every hour for the last 8 hours and twice a day before: each run
// pulls its image, exits 0 and leaves an exitCode=0 PLEG line behind, and its finished pod's
// sandbox is stopped (a pause exit 137: a false lead of its own).
func (b *builder) cronJobs(start, end time.Time) {
	img := "123456789012.dkr.ecr.us-west-2.amazonaws.com/report:2.0.7"
	var runs []time.Time
	for t := end.Truncate(time.Hour); !t.Before(start); {
		runs = append(runs, t)
		if end.Sub(t) < 8*time.Hour {
			t = t.Add(-time.Hour)
		} else {
			t = t.Add(-12 * time.Hour)
		}
	}
	for i := len(runs) - 1; i >= 0; i-- {
		sched := runs[i]
		job := fmt.Sprintf("report-%d", sched.Unix()/60)
		p := &pod{ns: "batch", name: job + "-" + strings.ToLower(b.g.hex(5)), uid: b.g.uid(), container: "report", image: img, process: "report", owner: "Job", qos: bestEffort}
		p.sandbox = b.g.hex(64)
		p.ip = fmt.Sprintf("10.0.%d.%d", 32+b.g.r.IntN(31), 2+b.g.r.IntN(250))
		t := b.runSandbox(sched.Add(b.g.between(time.Second, 3*time.Second)), p)
		t = t.Add(b.g.between(100*time.Millisecond, 400*time.Millisecond))
		b.containerd(t, "info", fmt.Sprintf("PullImage %q", img))
		t = t.Add(b.g.between(800*time.Millisecond, 3*time.Second))
		ref := "sha256:" + b.g.hex(64)
		b.containerd(t, "info", b.n.ctrd.imageUpdate(img))
		// 1.6 and earlier log no "stop pulling" and a shorter "Pulled image" at debug.
		pulled := lvlDebug
		if b.n.ctrd.verbosePull() {
			pulled = "info"
		}
		b.containerd(t.Add(time.Millisecond), pulled, fmt.Sprintf("stop pulling image %s: active requests=0, bytes read=%d", img, b.g.intn(1000, 9000)))
		b.containerd(t.Add(2*time.Millisecond), pulled, fmt.Sprintf("Pulled image %q with image id %q, repo tag %q, repo digest %q, size %q in %s",
			img, ref, img, "123456789012.dkr.ecr.us-west-2.amazonaws.com/report@sha256:"+b.g.hex(64), fmt.Sprint(b.g.intn(40000000, 90000000)), "1.2"+fmt.Sprint(b.g.intn(10000, 99999))+"s"))
		b.containerd(t.Add(3*time.Millisecond), "info", fmt.Sprintf("PullImage %q returns image reference %q", img, ref))
		cid, pid, started := b.startContainer(t.Add(b.g.between(20*time.Millisecond, 90*time.Millisecond)), p, 0)
		exit := started.Add(b.g.between(20*time.Second, 90*time.Second))
		seen := b.containerExit(exit, p, cid, pid, 0, false)
		// The Job's pod is done: kubelet stops its sandbox.
		b.stopSandbox(seen.Add(b.g.between(200*time.Millisecond, 900*time.Millisecond)), p, cid)
	}
}

// criNoiseStart is a kube-system container's startup output.
func (b *builder) criNoiseStart(np *noisePod, t time.Time) {
	var lines []string
	switch np.p.container {
	case "aws-node":
		for i, m := range []string{"Constructed new logger instance", "Validating env variables ...", "Install CNI binaries..", "Starting IPAM daemon ... ",
			"Checking for IPAM connectivity ... ", "Copying config file ... ", "Successfully copied CNI plugin binary and config file."} {
			tt := t.Add(time.Duration(200+i*400) * time.Millisecond)
			lines = append(lines, criLine(tt, "stdout", zapLine(tt, "info", "aws-vpc-cni/main.go:"+itoa(69+i*30), m)))
		}
	case "kube-proxy":
		tt := t.Add(90 * time.Millisecond)
		lines = append(lines, criLine(tt, "stderr", klogLine('I', tt, 1, "server_linux.go:66", structured("Using iptables proxy"))))
		tt = tt.Add(40 * time.Millisecond)
		lines = append(lines, criLine(tt, "stderr", klogLine('I', tt, 1, "server.go:516", structured("Version info", q("version", "v1.33.3-eks-b707fbb")))))
	case "coredns":
		tt := t.Add(300 * time.Millisecond)
		lines = append(lines, criLine(tt, "stdout", ".:53"), criLine(tt, "stdout", "[INFO] plugin/reload: Running configuration SHA512 = 8a7d59126e7f114ab49c6d2613be93d8ef7d408af8ee61a710210843dc409f03133727e38f64469d9bb180f396c84ebf48a42bde3b3769730865ca9df5eb281c"),
			criLine(tt.Add(time.Millisecond), "stdout", "CoreDNS-1.12.1"), criLine(tt.Add(2*time.Millisecond), "stdout", "linux/amd64, go1.24.4, a0f8a4c"))
	default:
		return
	}
	b.cri = append(b.cri, criFile{p: np.p, cid: np.cid, restart: 0, lines: lines})
}

// criNoise appends a kube-system container's steady-state output.
func (b *builder) criNoise(np *noisePod, count int) {
	var f *criFile
	for i := range b.cri {
		if b.cri[i].cid == np.cid {
			f = &b.cri[i]
		}
	}
	if f == nil || np.p.container == "aws-node" {
		return
	}
	start, end := np.p.created.Add(time.Minute), b.n.capture.Add(-3*time.Second)
	span := end.Sub(start)
	names := []string{"api.stripe.com.", "sqs.us-west-2.amazonaws.com.", "ledger.payments.svc.cluster.local.", "grafana.monitoring.svc.",
		"api.stripe.com.shop.svc.cluster.local.", "sqs.us-west-2.amazonaws.com.svc.cluster.local.", "orders-db.shop.svc.cluster.local."}
	for i := 0; i < count; i++ {
		t := start.Add(time.Duration((float64(i) + b.g.r.Float64()) * float64(span) / float64(count)))
		switch np.p.container {
		case "coredns":
			name := names[b.g.r.IntN(len(names))]
			rc := "NOERROR"
			if strings.Count(name, ".svc.") > 0 && strings.HasPrefix(name, "api.") || strings.HasPrefix(name, "sqs.") && strings.Contains(name, "svc.cluster") || name == "grafana.monitoring.svc." {
				rc = "NXDOMAIN"
			}
			f.lines = append(f.lines, criLine(t, "stdout", fmt.Sprintf(`[INFO] 10.0.%d.%d:%d - %d "A IN %s udp %d false 512" %s qr,aa,rd %d %.9fs`,
				32+b.g.r.IntN(31), 2+b.g.r.IntN(250), b.g.intn(30000, 60000), b.g.intn(1, 65535), name, 30+len(name), rc, 100+len(name), b.g.r.Float64()/1000)))
		case "kube-proxy":
			f.lines = append(f.lines, criLine(t, "stderr", klogLine('I', t, 1, "proxier.go:823", structured("SyncProxyRules complete", q("elapsed", fmt.Sprintf("%.6fms", 20+b.g.r.Float64()*40))))))
		default:
			return
		}
	}
}
