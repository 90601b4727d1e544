package scenario

import (
	"math/rand/v2"
	"sort"
	"time"
)

// unit says which program wrote a record; it decides which files of a bundle show the record.
type unit uint8

const (
	uKernel     unit = iota
	uKubelet         // kubelet's own stderr
	uContainerd      // containerd's own stderr
	uSystemd         // PID 1; `about` names the unit the message concerns
	uNodeadm         // nodeadm-config / nodeadm-run (AL2023)
	uOther           // everything else in the full journal / syslog (dhclient, sshd, chronyd, …)
	uIpamd           // the VPC CNI's own JSON file, not the journal
	uPlugin          // the VPC CNI plugin's JSON file
)

// rec is one log record as the node's journal would hold it. The renderers turn the same
// record into each file's own layout, which is what keeps the files consistent with each other.
type rec struct {
	t     time.Time // wall time the record was written (journald reception time)
	u     unit
	ident string // SYSLOG_IDENTIFIER
	pid   int
	about unit // uSystemd only: the unit whose `journalctl -u` also shows it
	err   bool // priority err or worse: goes to logdog's journalctl.errors
	msg   string
}

// kernelGen is the kernel generation, which decides the shape of the OOM report.
type kernelGen uint8

const (
	kernel414 kernelGen = iota // "Task in … killed as a result of limit of …", "Killed process N (…) total-vm:…"
	kernel510                  // oom-kill: summary line, cgroup v1 counters
	kernel61                   // oom-kill: summary line, cgroup v2 counters and memory.oom.group
)

// node is the worker node a bundle was taken from: identity, clocks, software generations.
type node struct {
	layout   Layout
	instance string
	host     string // FQDN, as journald and kubelet print it
	short    string // rsyslog's short hostname
	ip       string
	region   string
	az       string

	capture time.Time
	boot    time.Time // whole second: `btime` in /proc/stat is an integer

	kernel     kernelGen
	release    string // uname -r
	cgroupV2   bool
	cgroupfs   bool        // cgroup v1 with the cgroupfs driver (legacy containerd nodes)
	ctrd       ctrdRelease // decides the wording and level of every containerd line
	kubeletVer string
	legacyKlog bool   // ≈1.21–1.23 structured rendering: unquoted UUIDs, Go %+v events
	sysd       int    // systemd version, for its message wording
	runtimeCg  string // the slice kubelet and containerd run in
	ctrdPID    int
	nodeadmPID int
	pidMax     int // AL2 keeps the kernel default 32768; systemd ≥243 raises it to 4194304

	// kubelet restarts (kubelet-oom): kubelet's pid changes at each of these times.
	kubeletPIDs []pidFrom
}

type pidFrom struct {
	from time.Time
	pid  int
}

func (n *node) kubeletPID(t time.Time) int {
	pid := n.kubeletPIDs[0].pid
	for _, p := range n.kubeletPIDs[1:] {
		if !t.Before(p.from) {
			pid = p.pid
		}
	}
	return pid
}

// uptimeAt is the kernel's printk clock at t.
func (n *node) uptimeAt(t time.Time) time.Duration { return t.Sub(n.boot) }

// newNode describes the node of a layout. legacy selects the older software generation the
// container-oom-v1 scenario needs (only meaningful on AL2, the one layout that shipped it).
// ctrd, when set, replaces the layout's containerd release.
func newNode(l Layout, capture time.Time, legacy bool, ctrd *ctrdRelease) *node {
	n := &node{
		layout:   l,
		instance: "i-0a1b2c3d4e5f60718",
		host:     "ip-10-0-37-142.us-west-2.compute.internal",
		short:    "ip-10-0-37-142",
		ip:       "10.0.37.142",
		region:   "us-west-2",
		az:       "us-west-2b",
		capture:  capture.UTC(),
		pidMax:   4194304,
		// AL2 and Bottlerocket nodes have run for 12 days, longer than kubelet.log's 10-day
		// window; the AL2023 nodes booted 6 days ago, so their boot (and nodeadm) is in it.
		boot: capture.UTC().Add(-(12*24*time.Hour + 3*time.Hour + 17*time.Minute + 41*time.Second)).Truncate(time.Second),
	}
	switch l {
	case AL2:
		n.kernel, n.release = kernel510, "5.10.240-238.959.amzn2.x86_64"
		n.ctrd = mustContainerd("1.7.27")
		n.kubeletVer = "v1.32.9-eks-113cf36"
		n.sysd, n.runtimeCg = 219, "/runtime.slice"
		n.pidMax = 32768
		n.kubeletPIDs = []pidFrom{{pid: 3187}}
		n.ctrdPID = 2954
		if legacy {
			n.kernel, n.release = kernel414, "4.14.355-275.572.amzn2.x86_64"
			n.ctrd = mustContainerd("1.4.13")
			n.kubeletVer = "v1.23.17-eks-a59e1f0"
			n.cgroupfs, n.legacyKlog = true, true
		}
	case AL2023:
		n.boot = n.capture.Add(-(6*24*time.Hour + 5*time.Hour + 41*time.Minute + 13*time.Second)).Truncate(time.Second)
		n.kernel, n.release = kernel61, "6.1.158-180.294.amzn2023.x86_64"
		n.cgroupV2 = true
		n.ctrd = mustContainerd("2.1.4")
		n.kubeletVer = "v1.33.5-eks-ecaa3a6"
		n.sysd, n.runtimeCg = 252, "/runtime.slice"
		n.kubeletPIDs = []pidFrom{{pid: 2389}}
		n.ctrdPID, n.nodeadmPID = 2105, 1918
	case Bottlerocket:
		n.kernel, n.release = kernel61, "6.1.158"
		n.cgroupV2 = true
		n.ctrd = mustContainerd("2.1.4+bottlerocket")
		n.kubeletVer = "v1.33.5-eks-ecaa3a6"
		n.sysd, n.runtimeCg = 257, "/podruntime.slice"
		n.kubeletPIDs = []pidFrom{{pid: 1652}}
		n.ctrdPID = 1418
	case NMA:
		n.boot = n.capture.Add(-(6*24*time.Hour + 5*time.Hour + 41*time.Minute + 13*time.Second)).Truncate(time.Second)
		n.kernel, n.release = kernel61, "6.12.46-66.121.amzn2023.x86_64"
		n.cgroupV2 = true
		n.ctrd = mustContainerd("2.1.4")
		n.kubeletVer = "v1.34.1-eks-c39b1d0"
		n.sysd, n.runtimeCg = 252, "/runtime.slice"
		n.kubeletPIDs = []pidFrom{{pid: 2417}}
		n.ctrdPID, n.nodeadmPID = 2131, 1907
	}
	if ctrd != nil {
		n.ctrd = *ctrd
	}
	return n
}

// qos is a pod's QoS class, which decides its cgroup path.
type qos string

const (
	guaranteed qos = "Guaranteed"
	burstable  qos = "Burstable"
	bestEffort qos = "BestEffort"
)

// containerCgroup is the cgroup path the kernel prints for a container (reference §6.4).
func (n *node) containerCgroup(q qos, podUID, cid string) string {
	if n.cgroupfs {
		switch q {
		case guaranteed:
			return "/kubepods/pod" + podUID + "/" + cid
		case bestEffort:
			return "/kubepods/besteffort/pod" + podUID + "/" + cid
		}
		return "/kubepods/burstable/pod" + podUID + "/" + cid
	}
	u := dashedToSystemd(podUID)
	switch q {
	case guaranteed:
		return "/kubepods.slice/kubepods-pod" + u + ".slice/cri-containerd-" + cid + ".scope"
	case bestEffort:
		return "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + u + ".slice/cri-containerd-" + cid + ".scope"
	}
	return "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u + ".slice/cri-containerd-" + cid + ".scope"
}

// cpusetName is the basename of the container's cpuset cgroup, printed in oom-kill lines.
func (n *node) cpusetName(cid string) string {
	if n.cgroupfs {
		return cid
	}
	return "cri-containerd-" + cid + ".scope"
}

// ids draws identifiers from one seeded stream, so a seed names one bundle exactly.
type ids struct{ r *rand.Rand }

func (g ids) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

func (g ids) uid() string {
	h := g.hex(32)
	// version-4 UUID nibble, as the API server's UIDs have.
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + "89ab"[g.r.IntN(4):][:1] + h[17:20] + "-" + h[20:]
}

// between is a uniformly drawn duration in [lo, hi).
func (g ids) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

func (g ids) intn(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g ids) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// sortRecs orders records by time; records written at the same instant keep their order.
func sortRecs(rs []rec) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].t.Before(rs[j].t) })
}
