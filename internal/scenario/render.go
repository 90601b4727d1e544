package scenario

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
)

// file is one regular file of a bundle, by its slash-separated path inside the bundle root.
type file struct {
	path string
	data []byte
}

type renderer struct {
	b     *builder
	n     *node
	files []file
}

func (r *renderer) put(path string, data []byte) {
	r.files = append(r.files, file{path: path, data: data})
}

func (r *renderer) text(path string, lines ...string) {
	r.put(path, []byte(strings.Join(lines, "\n")+"\n"))
}

// render lays the records and files out as the layout's producer does.
func render(b *builder, noise *builder) []file {
	r := &renderer{b: b, n: b.n}
	switch b.n.layout {
	case AL2:
		r.collector(noise, true)
	case AL2023:
		r.collector(noise, false)
	case Bottlerocket:
		r.logdog(noise)
	case NMA:
		r.nma(noise)
	}
	slices.SortFunc(r.files, func(a, c file) int { return strings.Compare(a.path, c.path) })
	return r.files
}

// journalFor selects what `journalctl -u <unit>` prints: the unit's own lines plus systemd's
// lines about the unit.
func journalFor(u unit) func(rec) bool {
	return func(x rec) bool { return x.u == u || x.u == uSystemd && x.about == u }
}

func inJournal(x rec) bool { return x.u != uIpamd && x.u != uPlugin }

// journal renders records in a journalctl output mode. since filters like --since.
func (r *renderer) journal(style journalStyle, keep func(rec) bool, since time.Time, header bool) []byte {
	var buf bytes.Buffer
	var first, last time.Time
	for _, x := range r.b.recs {
		if inJournal(x) {
			if first.IsZero() {
				first = x.t
			}
			last = x.t
		}
	}
	if header { // systemd 219 names the whole journal's span
		fmt.Fprintf(&buf, "-- Logs begin at %s, end at %s. --\n", first.UTC().Format("Mon 2006-01-02 15:04:05 MST"), last.UTC().Format("Mon 2006-01-02 15:04:05 MST"))
	}
	n := 0
	for _, x := range r.b.recs {
		if !inJournal(x) || !keep(x) || x.t.Before(since) {
			continue
		}
		host := r.n.host
		if x.u == uKernel && x.t.Sub(r.n.boot) < 3*time.Second && r.n.layout == Bottlerocket {
			host = "localhost" // the hostname is set after the first kernel messages
		}
		buf.WriteString(journalStamp(style, x.t))
		buf.WriteByte(' ')
		buf.WriteString(host)
		buf.WriteByte(' ')
		buf.WriteString(identTag(x.ident, x.pid))
		buf.WriteString(": ")
		buf.WriteString(x.msg)
		buf.WriteByte('\n')
		n++
	}
	if n == 0 {
		buf.WriteString("-- No entries --\n")
	}
	return buf.Bytes()
}

// messages renders rsyslog's /var/log/messages since its last weekly rotation: space-padded
// day, short hostname, kubelet and containerd tagged without a pid.
func (r *renderer) messages() []byte {
	n := r.n
	rot := n.capture.Truncate(24 * time.Hour).Add(3*time.Hour + 12*time.Minute)
	for rot.Weekday() != time.Sunday || !rot.Before(n.capture) {
		rot = rot.Add(-24 * time.Hour)
	}
	var buf bytes.Buffer
	for _, x := range r.b.recs {
		if !inJournal(x) || x.t.Before(rot) {
			continue
		}
		tag := identTag(x.ident, x.pid)
		switch x.u {
		case uKubelet, uContainerd, uSystemd, uKernel:
			tag = x.ident
		}
		fmt.Fprintf(&buf, "%s %s %s: %s\n", syslogStamp(x.t), n.short, tag, x.msg)
	}
	return buf.Bytes()
}

// dmesg renders the ring buffer: raw seconds since boot, or --ctime wall clock (boot time
// plus whole seconds, as util-linux computes it).
func (r *renderer) dmesg(ctime bool, keep func(rec) bool) []byte {
	var buf bytes.Buffer
	for _, x := range r.b.recs {
		if x.u != uKernel || keep != nil && !keep(x) {
			continue
		}
		up := r.n.uptimeAt(x.t)
		if ctime {
			buf.WriteString(dmesgCtime(r.n.boot.Add(up.Truncate(time.Second)), x.msg))
		} else {
			buf.WriteString(dmesgRaw(up, x.msg))
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func (r *renderer) units(u unit, keep func(rec) bool) []byte {
	var buf bytes.Buffer
	for _, x := range r.b.recs {
		if x.u == u && (keep == nil || keep(x)) {
			buf.WriteString(x.msg)
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

// ipamdRotation is when lumberjack last rotated ipamd.log.
func (n *node) ipamdRotation() time.Time { return n.capture.Add(-24*time.Hour - 30*time.Minute) }

func gz(data []byte, name string, mod time.Time) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Name, w.ModTime = name, mod
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// collector writes the eks-log-collector.sh layout (AL2 when al2, else AL2023).
func (r *renderer) collector(noise *builder, al2 bool) {
	n := r.n
	tenDays := n.capture.Add(-10 * 24 * time.Hour)
	r.put("kubelet/kubelet.log", r.journal(jShort, journalFor(uKubelet), tenDays, al2))
	r.put("containerd/containerd-log.txt", append(r.journal(jShort, journalFor(uContainerd), time.Time{}, al2), r.stackDump()...))
	r.put("kernel/dmesg.current", r.dmesg(false, nil))
	r.put("kernel/dmesg.human.current", r.dmesg(true, nil))
	r.text("kernel/uname.txt", fmt.Sprintf("Linux %s %s #1 SMP Tue Oct 7 19:21:17 UTC 2025 x86_64 x86_64 x86_64 GNU/Linux", n.host, n.release))
	r.text("system/instance-id.txt", n.instance)
	r.text("system/region.txt", n.region)
	r.text("system/availability-zone.txt", n.az)
	r.text("system/script-params.txt", "ignore_introspection=false", "ignore_metrics=false")
	r.put("system/procstat.txt", r.procstat())
	r.put("system/top.txt", r.top(noise))
	r.put("system/ps.txt", r.ps(noise))
	r.put("containerd/containerd-tasks.txt", r.tasks(noise))
	r.text("containerd/containerd-version.txt", "Client:", "  Version:  "+n.ctrd.version, "  Revision: b98a3aace656320842a23f4a392a33f46af97866", "  Go version: go1.24.6", "", "Server:", "  Version:  "+n.ctrd.version, "  Revision: b98a3aace656320842a23f4a392a33f46af97866", "  UUID: 7d3f0c52-1e4b-4a9c-8f2d-6b5e0a1c3d47")
	r.put("containerd/containerd-config.txt", r.containerdConfig())
	r.put("ipamd/enis.json", r.enisJSON(noise))
	r.put("ipamd/ipam.json", r.ipamJSON(noise))
	r.text("ipamd/metrics.json", "# HELP awscni_assigned_ip_addresses The number of IP addresses assigned to pods",
		"# TYPE awscni_assigned_ip_addresses gauge", fmt.Sprintf("awscni_assigned_ip_addresses %d", len(noise.running)),
		"# HELP awscni_total_ip_addresses The total number of IP addresses", "# TYPE awscni_total_ip_addresses gauge", "awscni_total_ip_addresses 29")
	rot := n.ipamdRotation()
	r.put("var_log/aws-routed-eni/ipamd.log", r.units(uIpamd, func(x rec) bool { return !x.t.Before(rot) }))
	old := r.units(uIpamd, func(x rec) bool { return x.t.Before(rot) && !x.t.Before(rot.Add(-48*time.Hour)) })
	r.put("var_log/aws-routed-eni/ipamd-"+rot.UTC().Format("2006-01-02T15-04-05.000")+".log.gz", gz(old, "", time.Time{}))
	r.put("var_log/aws-routed-eni/plugin.log", r.units(uPlugin, nil))
	r.criFiles(true)
	r.text("networking/resolv.conf", "; generated by /usr/sbin/dhclient-script", "search us-west-2.compute.internal", "options timeout:2 attempts:5",
		"nameserver 10.0.0.2", "nameserver 10.0.0.3", "nameserver 10.0.0.4", "nameserver 169.254.169.253")
	if al2 {
		r.put("var_log/messages", r.messages())
		// /var/log/dmesg is written once, at boot.
		r.put("kernel/dmesg.boot", r.dmesg(false, func(x rec) bool { return n.uptimeAt(x.t) < 10*time.Second }))
		r.text("docker/docker.log", "-- No entries --")
		r.put("sandbox-image/sandbox-image-log.txt", r.journal(jShort, func(rec) bool { return false }, time.Time{}, true))
		r.text("kubelet/kubelet-config.json", r.kubeletConfig())
	} else {
		r.put("nodeadm/nodeadm-config.log", r.journal(jShort, journalFor(uNodeadm), tenDays, false))
		r.put("nodeadm/nodeadm-run.log", r.journal(jShort, func(rec) bool { return false }, tenDays, false))
		r.text("kubelet/config.json", r.kubeletConfig())
	}
}

// stackDump is the goroutine dump the collector itself provokes (SIGUSR1) before it copies the
// containerd journal.
func (r *renderer) stackDump() []byte {
	n := r.n
	t := n.capture.Add(-1800 * time.Millisecond)
	dump := "=== BEGIN goroutine stack dump ===\ngoroutine 81352 [running]:\n" + n.ctrd.module() + "/cmd/containerd/command.dumpStacks(0x1)\n\t/build/cmd/containerd/command/main_unix.go:62 +0x8c\n" +
		"goroutine 1 [select, 17402 minutes]:\nmain.main()\n\t/build/cmd/containerd/main.go:38 +0x45\n=== END goroutine stack dump ==="
	line := journalStamp(jShort, t) + " " + n.host + " " + identTag("containerd", n.ctrdPID) + ": " + ctrdLine(t.Add(-120*time.Microsecond), "info", dump) + "\n"
	return []byte(line)
}

func (r *renderer) procstat() []byte {
	up := r.n.capture.Sub(r.n.boot).Seconds()
	return []byte(fmt.Sprintf("cpu  %d 1243 %d %d 88231 0 40122 0 0 0\ncpu0 %d 611 %d %d 44102 0 20001 0 0 0\ncpu1 %d 632 %d %d 44129 0 20121 0 0 0\nintr 1893384112 0 9 0\nctxt 4409312281\nbtime %d\nprocesses %d\nprocs_running 2\nprocs_blocked 0\nsoftirq 681121201 0 102331232 2231 98123121 0 0 11 221312223 0 259221371\n",
		int(up*7), int(up*2), int(up*160), int(up*3), int(up), int(up*80), int(up*4), int(up), int(up*80), r.n.boot.Unix(), 4412290+int(up)/10))
}

func (r *renderer) top(noise *builder) []byte {
	n := r.n
	up := n.capture.Sub(n.boot)
	days := int(up.Hours()) / 24
	rem := up - time.Duration(days)*24*time.Hour
	var b strings.Builder
	fmt.Fprintf(&b, "top - %s up %d days, %2d:%02d,  0 users,  load average: 0.52, 0.61, 0.58\n", n.capture.Format("15:04:05"), days, int(rem.Hours()), int(rem.Minutes())%60)
	b.WriteString("Tasks: 187 total,   1 running, 186 sleeping,   0 stopped,   0 zombie\n%Cpu(s):  6.2 us,  3.1 sy,  0.0 ni, 90.6 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n")
	b.WriteString("MiB Mem :   7845.5 total,    912.4 free,   4120.7 used,   2812.4 buff/cache\nMiB Swap:      0.0 total,      0.0 free,      0.0 used.   3411.9 avail Mem\n\n")
	b.WriteString("    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n")
	fmt.Fprintf(&b, "%7d root      20   0 2009248 114040  63412 S   6.2   1.4 402:51.22 kubelet\n", n.kubeletPID(n.capture))
	fmt.Fprintf(&b, "%7d root      20   0 1891460  81736  41020 S   0.0   1.0 210:14.08 containerd\n", n.ctrdPID)
	fmt.Fprintf(&b, "      1 root      20   0  191036   5428   3912 S   0.0   0.1   1:02.51 systemd\n")
	return []byte(b.String())
}

// ps is `ps fauxwww`: the kube-proxy command line carries --oom-score-adj, a classic false lead.
func (r *renderer) ps(noise *builder) []byte {
	n := r.n
	var b strings.Builder
	start := n.boot.Format("Jan02")
	b.WriteString("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n")
	fmt.Fprintf(&b, "root           2  0.0  0.0      0     0 ?        S    %s   0:00 [kthreadd]\n", start)
	fmt.Fprintf(&b, "root           1  0.0  0.1 191036  5428 ?        Ss   %s   1:02 /usr/lib/systemd/systemd --switched-root --system --deserialize 21\n", start)
	fmt.Fprintf(&b, "root     %7d  1.1  1.0 1891460 81736 ?       Ssl  %s 210:14 /usr/bin/containerd\n", n.ctrdPID, start)
	fmt.Fprintf(&b, "root     %7d  2.3  1.4 2009248 114040 ?      Ssl  %s 402:51 /usr/bin/kubelet --config /etc/kubernetes/kubelet/config.json --kubeconfig /var/lib/kubelet/kubeconfig --container-runtime-endpoint unix:///run/containerd/containerd.sock --node-ip=%s --hostname-override=%s --cloud-provider=external --v=2\n",
		n.kubeletPID(n.capture), start, n.ip, n.host)
	pid := 4100
	for _, np := range r.shimPods(noise) {
		fmt.Fprintf(&b, "root     %7d  0.0  0.1 722364 11520 ?        Sl   %s   4:10 /usr/bin/containerd-shim-runc-v2 -namespace k8s.io -id %s -address /run/containerd/containerd.sock\n", pid, start, np.p.sandbox)
		fmt.Fprintf(&b, "65535    %7d  0.0  0.0    972     4 ?        Ss   %s   0:00  \\_ /pause\n", pid+30, start)
		if np.cid != "" {
			fmt.Fprintf(&b, "root     %7d  0.3  0.5 1265656 41236 ?       Ssl  %s  12:01  \\_ %s\n", pid+61, start, np.command)
		}
		pid += 211
	}
	return []byte(b.String())
}

// shimPods are the pods whose sandboxes run at capture: the long-running noise pods and the
// scenario's pod (whose crashed container has no task).
func (r *renderer) shimPods(noise *builder) []*noisePod {
	out := slices.Clone(noise.running)
	if p := r.b.pod; p != nil {
		np := &noisePod{p: p}
		if r.b.status.running {
			np.cid, np.command = r.b.status.containerID, p.process
		}
		out = append(out, np)
	}
	return out
}

func (r *renderer) tasks(noise *builder) []byte {
	var b strings.Builder
	b.WriteString("TASK                                                                PID       STATUS    \n")
	pid := 4130
	for _, np := range r.shimPods(noise) {
		fmt.Fprintf(&b, "%s    %-9d RUNNING\n", np.p.sandbox, pid)
		if np.cid != "" {
			fmt.Fprintf(&b, "%s    %-9d RUNNING\n", np.cid, pid+31)
		}
		pid += 211
	}
	return []byte(b.String())
}

func (r *renderer) containerdConfig() []byte {
	v := fmt.Sprintf("version = %d", r.n.ctrd.configVersion())
	sysd := "true"
	if r.n.cgroupfs {
		sysd = "false"
	}
	return []byte(v + "\nroot = \"/var/lib/containerd\"\nstate = \"/run/containerd\"\n\n[grpc]\n  address = \"/run/containerd/containerd.sock\"\n\n" +
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = " + sysd + "\n")
}

func (r *renderer) kubeletConfig() string {
	driver := "systemd"
	if r.n.cgroupfs {
		driver = "cgroupfs"
	}
	return fmt.Sprintf(`{
  "kind": "KubeletConfiguration",
  "apiVersion": "kubelet.config.k8s.io/v1beta1",
  "cgroupDriver": %q,
  "cgroupRoot": "/",
  "clusterDNS": ["172.20.0.10"],
  "kubeReserved": {"cpu": "70m", "ephemeral-storage": "1Gi", "memory": "574Mi"},
  "kubeReservedCgroup": %q,
  "systemReservedCgroup": "/system",
  "evictionHard": {"memory.available": "100Mi", "nodefs.available": "10%%", "nodefs.inodesFree": "5%%"},
  "maxPods": 29,
  "logging": {"verbosity": 2}
}`, driver, strings.TrimSuffix(r.n.runtimeCg, ".slice"))
}

func (r *renderer) enisJSON(noise *builder) []byte {
	var ips []string
	for _, np := range noise.running {
		if np.p.ip != r.n.ip {
			ips = append(ips, fmt.Sprintf(`{"Address":%q,"IPAMKey":{"networkName":"aws-cni","containerID":%q,"ifName":"eth0"},"AssignedTime":%q}`, np.p.ip, np.p.sandbox, rfc(np.p.created)))
		}
	}
	return []byte(fmt.Sprintf(`{"TotalIPs":29,"AssignedIPs":%d,"ENIs":{"eni-0f3c5a7e9b1d2c4e6":{"ID":"eni-0f3c5a7e9b1d2c4e6","IsPrimary":true,"DeviceNumber":0,"AvailableIPv4Cidrs":{"%s/32":{"IPAddresses":[%s]}}}}}`+"\n",
		len(ips), r.n.ip, strings.Join(ips, ",")))
}

func (r *renderer) ipamJSON(noise *builder) []byte {
	var al []string
	for _, np := range noise.running {
		if np.p.ip != r.n.ip {
			al = append(al, fmt.Sprintf(`{"containerID":%q,"ifName":"eth0","networkName":"aws-cni","ipv4":%q,"metadata":{"k8sPodNamespace":%q,"k8sPodName":%q}}`, np.p.sandbox, np.p.ip, np.p.ns, np.p.name))
		}
	}
	return []byte(`{"version":"vpc-cni-ipam/1","allocations":[` + strings.Join(al, ",") + "]}\n")
}

// criFiles writes the pod log copies: directories always, flat /var/log/containers copies
// (named with the full container id) only for the script. Only kube-system add-ons are copied.
func (r *renderer) criFiles(flat bool) {
	for _, f := range r.b.cri {
		p := f.p
		if p.ns != "kube-system" {
			continue
		}
		data := []byte(strings.Join(f.lines, "\n") + "\n")
		r.put(fmt.Sprintf("var_log/%s_%s_%s/%s/%d.log", p.ns, p.name, p.uid, p.container, f.restart), data)
		if flat && r.latest(f) {
			r.put(fmt.Sprintf("var_log/%s_%s_%s-%s.log", p.name, p.ns, p.container, f.cid), data)
		}
	}
}

// latest says whether f belongs to the newest container of its pod (the symlink kubelet keeps).
func (r *renderer) latest(f criFile) bool {
	for _, o := range r.b.cri {
		if o.p == f.p && o.restart > f.restart {
			return false
		}
	}
	return true
}

// logdog writes Bottlerocket's logdog archive contents.
func (r *renderer) logdog(noise *builder) {
	n := r.n
	r.put("journalctl.log", r.journal(jShortPrecise, func(rec) bool { return true }, time.Time{}, false))
	r.put("journalctl.errors", r.journal(jShort, func(x rec) bool { return x.err }, time.Time{}, false))
	r.text("journalctl-boots", "IDX BOOT ID                          FIRST ENTRY                 LAST ENTRY",
		fmt.Sprintf("  0 %s %s %s", fmt.Sprintf("%032x", streamKey(n.instance, "boot"))[:32], n.boot.Format("Mon 2006-01-02 15:04:05 MST"), n.capture.Add(-2*time.Second).Format("Mon 2006-01-02 15:04:05 MST")))
	r.put("dmesg", r.dmesg(false, nil))
	r.put("kube-status", r.kubeStatus())
	r.put("ipamd.log", r.units(uIpamd, func(x rec) bool { return !x.t.Before(n.ipamdRotation()) }))
	r.put("plugin.log", r.units(uPlugin, nil))
	r.text("os-release", `NAME=Bottlerocket`, `ID=bottlerocket`, `VERSION="1.50.0 (aws-k8s-1.33)"`, `PRETTY_NAME="Bottlerocket OS 1.50.0 (aws-k8s-1.33)"`,
		`VARIANT_ID=aws-k8s-1.33`, `VERSION_ID=1.50.0`, `BUILD_ID=6a1e2b34`, `HOME_URL="https://github.com/bottlerocket-os/bottlerocket"`)
	r.text("settings.json", fmt.Sprintf(`{"kubernetes":{"api-server":"https://0A1B2C3D4E5F60718293A4B5C6D7E8F9.gr7.us-west-2.eks.amazonaws.com","cluster-name":"prod-east","cluster-certificate":"REDACTED","max-pods":29,"node-ip":%q,"cluster-dns-ip":"172.20.0.10"},"host-containers":{"admin":{"enabled":true,"user-data":"REDACTED"}},"aws":{"region":%q}}`, n.ip, n.region))
	r.put("containerd-config", r.containerdConfig())
	r.text("df", "Filesystem     1K-blocks    Used Available Use% Mounted on", "/dev/root         920912  786552     70656  92% /", "/dev/nvme1n1p1  82496316 9321332  73158600  12% /local")
	r.text("proc-mounts", "/dev/root / ext4 ro,relatime 0 0", "/dev/nvme1n1p1 /local xfs rw,nosuid,nodev,noatime 0 0", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0")
	r.text("signpost", "OS disk: /dev/nvme0n1", "Active partition set: A", "Next boot: A")
}

// kubeStatus is `systemctl status kube*`: the unit's main PID and its last journal lines.
func (r *renderer) kubeStatus() []byte {
	n := r.n
	pid := n.kubeletPID(n.capture)
	since := n.boot.Add(24 * time.Second)
	for _, p := range n.kubeletPIDs[1:] {
		since = p.from
	}
	var b strings.Builder
	fmt.Fprintf(&b, "● kubelet.service - Kubelet\n     Loaded: loaded (/x86_64-bottlerocket-linux-gnu/sys-root/usr/lib/systemd/system/kubelet.service; enabled; preset: enabled)\n")
	fmt.Fprintf(&b, "     Active: active (running) since %s\n   Main PID: %d (kubelet)\n     CGroup: %s/kubelet.service\n", since.Format("Mon 2006-01-02 15:04:05 MST"), pid, n.runtimeCg)
	fmt.Fprintf(&b, "             └─%d /usr/bin/kubelet --cloud-provider external --kubeconfig /etc/kubernetes/kubelet/kubeconfig --config /etc/kubernetes/kubelet/config --container-runtime-endpoint=unix:///run/containerd/containerd.sock --hostname-override %s --node-ip %s\n\n", pid, n.host, n.ip)
	var last []rec
	for _, x := range r.b.recs {
		if x.u == uKubelet {
			last = append(last, x)
		}
	}
	if len(last) > 10 {
		last = last[len(last)-10:]
	}
	for _, x := range last {
		fmt.Fprintf(&b, "%s %s %s: %s\n", journalStamp(jShort, x.t), n.host, identTag(x.ident, x.pid), x.msg)
	}
	return []byte(b.String())
}

// nma writes the node monitoring agent's layout: short-iso-precise journals, PSI files, pod
// log directories only.
func (r *renderer) nma(noise *builder) {
	n := r.n
	tenDays := n.capture.Add(-10 * 24 * time.Hour)
	r.put("kubelet/kubelet.log", r.journal(jISOPrecise, journalFor(uKubelet), tenDays, false))
	r.text("kubelet/config.json", r.kubeletConfig())
	r.put("containerd/containerd-log.txt", r.journal(jISOPrecise, journalFor(uContainerd), time.Time{}, false))
	r.put("containerd/containerd-config.txt", r.containerdConfig())
	r.put("nodeadm/nodeadm-config.log", r.journal(jISOPrecise, journalFor(uNodeadm), tenDays, false))
	r.put("kernel/dmesg.current", r.dmesg(false, nil))
	r.put("kernel/dmesg.human.current", r.dmesg(true, nil))
	r.text("kernel/uname.txt", fmt.Sprintf("Linux %s %s #1 SMP PREEMPT_DYNAMIC Mon Sep 29 18:44:43 UTC 2025 x86_64 x86_64 x86_64 GNU/Linux", n.host, n.release))
	r.text("system/instance-id.txt", n.instance)
	r.put("system/procstat.txt", r.procstat())
	r.put("system/ps.txt", r.ps(noise))
	r.put("system/top.txt", r.top(noise))
	mem := "some avg10=0.00 avg60=0.00 avg300=0.00 total=1832211\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1504127\n"
	for _, f := range r.b.planted {
		if f.Kind == facts.OOMKill { // memory stalls around the kills
			mem = "some avg10=4.12 avg60=2.87 avg300=0.93 total=94301188\nfull avg10=3.77 avg60=2.51 avg300=0.81 total=80122317\n"
			break
		}
	}
	r.put("system/pressure_memory.txt", []byte(mem))
	r.text("system/pressure_cpu.txt", "some avg10=1.02 avg60=0.97 avg300=0.88 total=733109227", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0")
	r.text("system/pressure_io.txt", "some avg10=0.00 avg60=0.03 avg300=0.01 total=41920117", "full avg10=0.00 avg60=0.02 avg300=0.01 total=38112921")
	r.put("ipamd/ipam.json", r.ipamJSON(noise))
	r.put("var_log/aws-routed-eni/ipamd.log", r.units(uIpamd, func(x rec) bool { return !x.t.Before(n.ipamdRotation()) }))
	r.put("var_log/aws-routed-eni/plugin.log", r.units(uPlugin, nil))
	r.criFiles(false)
	r.text("networking/resolv.conf", "search us-west-2.compute.internal", "nameserver 10.0.0.2", "nameserver 10.0.0.3", "nameserver 10.0.0.4", "nameserver 169.254.169.253")
}
