package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
)

// pod is one pod on the node: what kubelet, containerd, the kernel and the API all name.
type pod struct {
	ns, name, uid string
	container     string
	image         string
	command       []string
	process       string // comm of the container's main process, ≤15 chars
	qos           qos
	limitMi       int64 // 0: no memory limit
	requestMi     int64
	sandbox       string
	ip            string
	owner         string // ReplicaSet, DaemonSet, StatefulSet, Job
	uidNum        int    // the container's user id, as the kernel prints it
	created       time.Time
}

func (p *pod) ref() string { return p.ns + "/" + p.name }

// builder collects the records, files and truth of one bundle while a plan plants an incident.
type builder struct {
	n       *node
	g       ids
	recs    []rec
	planted []TruthFact
	cri     []criFile // CRI log files of kube-system pods

	// the pod the scenario is about, and what the API says about it at capture time
	pod    *pod
	status ctrStatus
	events []event
	prev   string // `kubectl logs --previous` of the pod, when the scenario has one

	running   []*noisePod    // long-running pods (noise builder): what ps and ctr list at capture
	specExtra map[string]any // extra fields of the container spec (probes, envFrom, volumeMounts)
	volumes   []any          // pod spec volumes
}

// ctrStatus is the part of containerStatuses[] a diagnosis reads.
type ctrStatus struct {
	restarts        int
	ready, running  bool
	startedAt       time.Time // state.running.startedAt
	waitingReason   string
	waitingMessage  string
	term            *termState // lastState.terminated
	containerID     string
	podReady        bool
	podReadyReason  string
	podPhase        string
	podConditionMsg string
}

type termState struct {
	exitCode           int
	reason, message    string
	startedAt, finishd time.Time
	containerID        string
}

// criFile is one /var/log/pods/<ns>_<pod>_<uid>/<ctr>/<n>.log (and its /var/log/containers link).
type criFile struct {
	p       *pod
	cid     string
	restart int
	lines   []string
}

func (b *builder) add(r rec) { b.recs = append(b.recs, r) }

// jitter is the small lag between a program stamping a line and journald receiving it; the
// body's own time therefore never runs ahead of the journal prefix. It stays below the 30 µs
// that separate any two lines a plan writes from one program, so each program's own stamps
// keep their order.
func (b *builder) jitter() time.Duration {
	return b.g.between(5*time.Microsecond, 25*time.Microsecond)
}

func (b *builder) kubelet(t time.Time, level byte, src, body string) {
	pid := b.n.kubeletPID(t)
	b.add(rec{t: t, u: uKubelet, ident: "kubelet", pid: pid, msg: klogLine(level, t.Add(-b.jitter()), pid, src, body)})
}

// containerd writes one containerd line at t. A line the node's release writes at debug, or
// not at all (level lvlDebug, lvlAbsent), is drawn all the same and dropped: EKS runs
// containerd at info, and an incident must draw the same numbers on every release.
func (b *builder) containerd(t time.Time, level, msg string, fields ...kv) {
	b.containerdStamped(t, t.Add(-b.jitter()), level, msg, fields...)
}

// containerdStamped writes a containerd line whose own time= stamp is given: it draws nothing.
func (b *builder) containerdStamped(t, stamp time.Time, level, msg string, fields ...kv) {
	if !written(level) {
		return
	}
	b.add(rec{t: t, u: uContainerd, ident: "containerd", pid: b.n.ctrdPID, msg: ctrdLine(stamp, level, msg, fields...)})
}

// kernel writes consecutive printk lines a few microseconds apart and returns the time after.
func (b *builder) kernel(t time.Time, err bool, lines ...string) time.Time {
	for _, l := range lines {
		b.add(rec{t: t, u: uKernel, ident: "kernel", err: err, msg: l})
		t = t.Add(time.Duration(2+b.g.r.IntN(14)) * time.Microsecond)
	}
	return t
}

func (b *builder) systemd(t time.Time, about unit, msg string) {
	b.add(rec{t: t, u: uSystemd, ident: "systemd", pid: 1, about: about, msg: msg})
}

func (b *builder) ipamd(t time.Time, level, caller, msg string, extra ...kv) {
	b.add(rec{t: t, u: uIpamd, msg: zapLine(t, level, caller, msg, extra...)})
}

func (b *builder) plant(f TruthFact) { b.planted = append(b.planted, f) }

func intp(v int) *int { return &v }

// klog source locations, by kubelet generation. Only the file names matter to parsers; the
// line numbers follow the releases the node profiles name.
var (
	legacySrc = map[string]string{
		"pleg": "generic.go:296", "syncloop": "kubelet.go:2096", "podworkers": "pod_workers.go:951",
		"kill": "kuberuntime_container.go:728", "prober": "prober.go:116", "msg": "kuberuntime_manager.go:669",
		"remove": "scope.go:110", "add": "kubelet.go:2022", "nested": "nestedpendingoperations.go:335",
		"oom": "oom_watcher_linux.go:77", "probe": "kubelet.go:2194",
	}
	modernSrc = map[string]string{
		"pleg": "generic.go:358", "syncloop": "kubelet.go:2542", "podworkers": "pod_workers.go:1301",
		"kill": "kuberuntime_container.go:809", "prober": "prober.go:107", "msg": "kuberuntime_manager.go:1081",
		"remove": "scope.go:117", "add": "kubelet.go:2468", "nested": "nestedpendingoperations.go:348",
		"oom": "oom_watcher_linux.go:77", "probe": "kubelet.go:2643",
	}
)

func (b *builder) src(what string) string {
	if b.n.legacyKlog {
		return legacySrc[what]
	}
	return modernSrc[what]
}

// uidVal renders a pod UID as the kubelet generation does: old kubelets left UUIDs unquoted.
func (b *builder) uidVal(k, uid string) kv {
	if b.n.legacyKlog {
		return raw(k, uid)
	}
	return q(k, uid)
}

func (b *builder) plegEvent(t time.Time, p *pod, typ, data string) {
	var ev string
	if b.n.legacyKlog {
		ev = fmt.Sprintf("&{ID:%s Type:%s Data:%s}", p.uid, typ, data)
	} else {
		ev = fmt.Sprintf(`{"ID":%q,"Type":%q,"Data":%q}`, p.uid, typ, data)
	}
	b.kubelet(t, 'I', b.src("syncloop"), structured("SyncLoop (PLEG): event for pod", q("pod", p.ref()), raw("event", ev)))
}

// runSandbox plays a pod's arrival: API ADD, the pause sandbox, the CNI address from ipamd.
func (b *builder) runSandbox(t time.Time, p *pod) time.Time {
	b.kubelet(t, 'I', b.src("add"), structured("SyncLoop ADD", q("source", "api"), raw("pods", fmt.Sprintf("[%q]", p.ref()))))
	t = t.Add(b.g.between(40*time.Millisecond, 120*time.Millisecond))
	meta := b.n.ctrd.sandboxMeta(p)
	b.containerd(t, "info", "RunPodSandbox for "+meta)
	t = t.Add(b.g.between(300*time.Millisecond, 900*time.Millisecond))
	if p.ip != b.n.ip { // host-network pods get no address from the CNI
		b.add(rec{t: t, u: uPlugin, msg: zapLine(t, "info", "routed-eni-cni-plugin/cni.go:125", fmt.Sprintf("Received CNI add request: ContainerID(%s) Netns(/var/run/netns/cni-%s) IfName(eth0) Args(K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s;IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s) Path(/opt/cni/bin) argsStdinData({\"cniVersion\":\"0.4.0\",\"mtu\":\"9001\",\"name\":\"aws-cni\",\"pluginLogFile\":\"/var/log/aws-routed-eni/plugin.log\",\"pluginLogLevel\":\"DEBUG\",\"podSGEnforcingMode\":\"strict\",\"type\":\"aws-cni\",\"vethPrefix\":\"eni\"})", p.sandbox, b.g.uid(), p.sandbox, p.uid, p.ns, p.name))})
		b.ipamd(t.Add(b.g.between(2*time.Millisecond, 9*time.Millisecond)), "info", "datastore/data_store.go:1030", fmt.Sprintf("AssignPodIPv4Address: Assign IP %s to sandbox aws-cni/%s/eth0", p.ip, p.sandbox))
	}
	t = t.Add(b.g.between(20*time.Millisecond, 90*time.Millisecond))
	b.containerd(t, "info", fmt.Sprintf("RunPodSandbox for %s returns sandbox id %q", meta, p.sandbox))
	t = t.Add(b.g.between(200*time.Millisecond, 900*time.Millisecond))
	b.plegEvent(t, p, "ContainerStarted", p.sandbox)
	return t
}

// createContainer is containerd's CreateContainer; it returns the new container id.
func (b *builder) createContainer(t time.Time, p *pod, attempt int) (string, time.Time) {
	cid := b.g.hex(64)
	meta := b.n.ctrd.containerMeta(p.container, attempt)
	b.containerd(t, "info", fmt.Sprintf("CreateContainer within sandbox %q for container %s", p.sandbox, meta))
	t = t.Add(b.g.between(30*time.Millisecond, 180*time.Millisecond))
	b.containerd(t, "info", fmt.Sprintf("CreateContainer within sandbox %q for %s returns container id %q", p.sandbox, meta, cid))
	t = t.Add(b.g.between(2*time.Millisecond, 9*time.Millisecond))
	b.containerd(t, "info", fmt.Sprintf("StartContainer for %q", cid))
	return cid, t
}

// startContainer creates and starts attempt n; it returns the container id, the host PID of
// its init process and the time kubelet saw it running.
func (b *builder) startContainer(t time.Time, p *pod, attempt int) (cid string, pid int, started time.Time) {
	cid, t = b.createContainer(t, p, attempt)
	pid = b.g.intn(min(20000, b.n.pidMax/8), min(190000, b.n.pidMax-1))
	t = t.Add(b.g.between(40*time.Millisecond, 160*time.Millisecond))
	started = t
	b.containerd(t, "info", fmt.Sprintf("StartContainer for %q returns successfully", cid))
	b.plegEvent(t.Add(b.g.between(300*time.Millisecond, 1000*time.Millisecond)), p, "ContainerStarted", cid)
	return cid, pid, started
}

// containerExit plays what follows a container's death at t: containerd's events within
// milliseconds, kubelet's PLEG relist within a second. It returns when kubelet saw it.
// A pid of 0 means no task ever ran (a start error): containerd then has no exit event to log.
// The planted ContainerExit carries the pid only when the node's containerd writes its exit
// line at info: on 1.6.0–1.6.36 and 1.7.0–1.7.23 only kubelet's PLEG line tells the exit.
func (b *builder) containerExit(t time.Time, p *pod, cid string, pid, code int, oom bool) time.Time {
	r := b.n.ctrd
	if pid == 0 {
		b.plant(TruthFact{Kind: facts.ContainerExit, Container: p.container, ContainerID: cid, Process: p.process, ExitCode: intp(code)})
		return b.plegExit(t.Add(b.g.between(250*time.Millisecond, 950*time.Millisecond)), p, cid, code)
	}
	t = t.Add(b.g.between(2*time.Millisecond, 40*time.Millisecond))
	if oom {
		b.containerd(t, "info", r.taskOOM(cid))
		b.plant(TruthFact{Kind: facts.TaskOOM, Container: p.container, ContainerID: cid})
		t = t.Add(b.g.between(500*time.Microsecond, 3*time.Millisecond))
	}
	at := t.Add(-b.g.between(time.Millisecond, 4*time.Millisecond))
	level, msg := r.containerExitLine(cid, pid, code, at)
	b.containerd(t, level, msg)
	f := TruthFact{Kind: facts.ContainerExit, Container: p.container, ContainerID: cid, Process: p.process, ExitCode: intp(code)}
	if written(level) {
		f.PID = pid
	}
	b.plant(f)
	// The podsandbox handler's copy of the same exit (2.0.0–2.1.1 at info); drawn from nothing,
	// so that the releases that do not write it draw the same numbers.
	if level, msg := r.podsandboxCopy(cid, cid, pid, code, at); written(level) {
		b.containerdStamped(t.Add(200*time.Microsecond), t.Add(180*time.Microsecond), level, msg)
	}
	t = t.Add(b.g.between(5*time.Millisecond, 30*time.Millisecond))
	b.shimGone(t, cid)
	if !b.n.cgroupfs {
		scope := "cri-containerd-" + cid + ".scope"
		b.systemd(t.Add(b.g.between(time.Millisecond, 4*time.Millisecond)), uOther, scope+": Deactivated successfully.")
		if b.n.sysd >= 250 {
			b.systemd(t.Add(b.g.between(4*time.Millisecond, 6*time.Millisecond)), uOther, fmt.Sprintf("%s: Consumed %d.%03ds CPU time.", scope, b.g.r.IntN(90), b.g.r.IntN(1000)))
		}
	}
	return b.plegExit(t.Add(b.g.between(250*time.Millisecond, 950*time.Millisecond)), p, cid, code)
}

// shimGone is containerd losing a task's shim connection once the task is deleted (row
// ctrd-shim-disconnected and the cleanup rows after it). From 1.6 the disconnect handler always
// runs the shim's delete ("cleaning up after shim disconnected", a warning until 2.1.0, info
// from 2.1.1; "cleaning up dead shim", with id= from 2.1.1); 1.7+ log through a logger that
// carries namespace=. containerd 1.4 removed the task first, so its handler had nothing to do.
func (b *builder) shimGone(t time.Time, id string) {
	r := b.n.ctrd
	if r.legacyCRI() {
		b.containerd(t, "info", "shim disconnected", q("id", id))
		// The draws of a second line the generator wrote here before the release model (runtime
		// v1's "shim reaped", which a runc v2 shim never causes), kept so that the legacy
		// scenario's identifiers stay where they were.
		b.g.between(time.Millisecond, 5*time.Millisecond)
		b.jitter()
		return
	}
	ns := q("namespace", "k8s.io")
	disc, dead := []kv{q("id", id)}, []kv{}
	if r.deadShimID() {
		dead = append(dead, q("id", id))
	}
	if r.shimNamespace() {
		disc, dead = append(disc, ns), append(dead, ns)
	}
	b.containerd(t, "info", "shim disconnected", disc...)
	b.containerd(t.Add(b.g.between(100*time.Microsecond, time.Millisecond)), r.shimCleanupLevel(), "cleaning up after shim disconnected", q("id", id), ns)
	b.containerd(t.Add(b.g.between(time.Millisecond, 3*time.Millisecond)), "info", "cleaning up dead shim", dead...)
}

// stopSandbox is kubelet tearing down a finished pod: containerd finds its container already
// exited, SIGKILLs the pause process (exit 137), reaps the sandbox's shim and tears the network
// down. Every release words the pause's exit its own way (rows ctrd-exit-received-sandbox-*,
// ctrd-exit-podsandbox-handler-sandbox); on 1.x it reads like a container's exit, and only the
// RunPodSandbox line tells it is a sandbox's. It returns when kubelet saw the sandbox die.
func (b *builder) stopSandbox(t time.Time, p *pod, cid string) time.Time {
	r := b.n.ctrd
	sb := p.sandbox
	b.containerd(t, "info", fmt.Sprintf("StopPodSandbox for %q", sb))
	t = t.Add(b.g.between(200*time.Microsecond, 2*time.Millisecond))
	b.containerd(t, "info", fmt.Sprintf("Container to stop %q must be in running or unknown state, current state %q", cid, "CONTAINER_EXITED"))
	pause := b.g.intn(min(20000, b.n.pidMax/8), min(190000, b.n.pidMax-1))
	t = t.Add(b.g.between(5*time.Millisecond, 30*time.Millisecond))
	at := t.Add(-b.g.between(300*time.Microsecond, 2*time.Millisecond))
	next := func() time.Time { t = t.Add(b.g.between(100*time.Microsecond, 900*time.Microsecond)); return t }
	switch {
	case r.legacyCRI():
		b.containerd(t, "info", "TaskExit event "+r.taskExit(sb, sb, pause, 137, at))
	case r.major == 1:
		b.containerd(t, r.exitLevel(), "received exit event "+r.taskExit(sb, sb, pause, 137, at))
	case r.renamedExits():
		b.containerd(t, "info", "received sandbox container exit event "+r.sandboxExit(sb, 137, at), q("monitor_name", "criService"))
		// The podsandbox controller's own monitor: a TaskExit without a pid.
		b.containerd(next(), "info", "received sandbox exit event "+r.taskExit(sb, sb, 0, 137, at), q("monitor_name", "podsandbox"))
	default:
		b.containerd(t, "info", "received exit event "+r.sandboxExit(sb, 137, at))
		b.containerd(next(), r.podsandboxCopyLevel(), "TaskExit event in podsandbox handler "+r.taskExit(sb, sb, pause, 137, at))
	}
	b.shimGone(t.Add(b.g.between(2*time.Millisecond, 9*time.Millisecond)), sb)
	t = t.Add(b.g.between(15*time.Millisecond, 60*time.Millisecond))
	b.containerd(t, "info", fmt.Sprintf("TearDown network for sandbox %q successfully", sb))
	t = t.Add(b.g.between(2*time.Millisecond, 20*time.Millisecond))
	b.containerd(t, "info", fmt.Sprintf("StopPodSandbox for %q returns successfully", sb))
	seen := t.Add(b.g.between(250*time.Millisecond, 950*time.Millisecond))
	b.plegEvent(seen, p, "ContainerDied", sb)
	return seen
}

// plegExit is kubelet's relist noticing a dead container.
func (b *builder) plegExit(seen time.Time, p *pod, cid string, code int) time.Time {
	b.kubelet(seen, 'I', b.src("pleg"), structured("Generic (PLEG): container finished", b.uidVal("podID", p.uid), q("containerID", cid), num("exitCode", code)))
	b.plegEvent(seen.Add(b.g.between(40*time.Microsecond, 120*time.Microsecond)), p, "ContainerDied", cid)
	return seen
}

// crashLoopErr is the error string kubelet's doBackOff builds.
func crashLoopErr(p *pod, delay time.Duration) string {
	return fmt.Sprintf("failed to %q for %q with CrashLoopBackOff: %q", "StartContainer", p.container,
		fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", goDuration(delay), p.container, p.name, p.ns, p.uid))
}

// syncError is pod_workers' "Error syncing pod, skipping".
func (b *builder) syncError(t time.Time, p *pod, err string) {
	b.kubelet(t, 'E', b.src("podworkers"), structured("Error syncing pod, skipping", q("err", err), q("pod", p.ref()), b.uidVal("podUID", p.uid)))
}

// backOff logs the back-off at from and at each pod sync until the delay ends (or capture);
// it returns when the restart may happen.
func (b *builder) backOff(from time.Time, p *pod, delay time.Duration) time.Time {
	end := from.Add(delay)
	b.plant(TruthFact{Kind: facts.BackOff, Container: p.container, Delay: goDuration(delay)})
	// Lines past the capture are drawn all the same (and dropped when rendering), so that a
	// plan consumes the same random draws wherever it is placed in time.
	for t := from; t.Before(end); t = t.Add(b.g.between(11*time.Second, 16*time.Second)) {
		b.syncError(t, p, crashLoopErr(p, delay))
		if t.Before(b.n.capture) {
			b.event(t, p, "Warning", "BackOff", fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)", p.container, p.name, p.ns, p.uid))
		}
	}
	return end
}

// removeContainer is kubelet's garbage collection of a dead container after a restart.
func (b *builder) removeContainer(t time.Time, cid string) {
	b.kubelet(t, 'I', b.src("remove"), structured("RemoveContainer", q("containerID", cid)))
	b.containerd(t.Add(b.g.between(time.Millisecond, 4*time.Millisecond)), "info", fmt.Sprintf("RemoveContainer for %q", cid))
	b.containerd(t.Add(b.g.between(20*time.Millisecond, 60*time.Millisecond)), "info", fmt.Sprintf("RemoveContainer for %q returns successfully", cid))
}

// oomReport is one kernel OOM kill as the kernel reports it.
type oomReport struct {
	invoker    string // comm of the allocating task (a JVM thread, not necessarily the victim)
	invokerPID int
	victim     string
	pid, uid   int
	scoreAdj   int
	global     bool
	oomMemcg   string
	taskMemcg  string
	cpuset     string
	limitKB    int64
	anonKB     int64
	fileKB     int64
	totalVMKB  int64
	pgtablesKB int64
	failcnt    int
	others     []taskRow // extra "Tasks state" rows (global OOM lists the whole node)
	// group are the container's other processes (an init such as tini): listed in the task
	// table, and killed after the victim where memory.oom.group is set.
	group []taskRow
}

type taskRow struct {
	pid, uid, scoreAdj int
	vmPages, rssPages  int64
	name               string
}

var callTrace61 = []string{
	"Call Trace:", " <TASK>", " dump_stack_lvl+0x34/0x48", " dump_header+0x4c/0x1f0", " oom_kill_process.cold+0xb/0x10",
	" out_of_memory+0x1ed/0x2e0", " mem_cgroup_out_of_memory+0x136/0x150", " try_charge_memcg+0x6f1/0x780",
	" charge_memcg+0x3c/0xa0", " __mem_cgroup_charge+0x29/0x80", " do_anonymous_page+0x111/0x3b0",
	" __handle_mm_fault+0x81a/0xc00", " handle_mm_fault+0xd8/0x2a0", " do_user_addr_fault+0x1bb/0x5c0",
	" exc_page_fault+0x71/0x160", " asm_exc_page_fault+0x22/0x30",
}

var callTrace510 = []string{
	"Call Trace:", " dump_stack+0x57/0x70", " dump_header+0x4a/0x1f0", " oom_kill_process.cold+0xb/0x10",
	" out_of_memory+0x1bd/0x4e0", " mem_cgroup_out_of_memory+0x136/0x150", " try_charge+0x718/0x780",
	" mem_cgroup_charge+0x7f/0x240", " do_anonymous_page+0xf5/0x390", " __handle_mm_fault+0x7a5/0x840",
	" handle_mm_fault+0xc5/0x290", " exc_page_fault+0x1fd/0x440", " ? asm_exc_page_fault+0x8/0x30",
	" asm_exc_page_fault+0x1e/0x30",
}

var callTrace414 = []string{
	"Call Trace:", " dump_stack+0x5c/0x82", " dump_header+0x94/0x229", " oom_kill_process+0x223/0x420",
	" out_of_memory+0x2af/0x4d0", " mem_cgroup_out_of_memory+0x49/0x80", " mem_cgroup_oom_synchronize+0x2ed/0x330",
	" ? mem_cgroup_css_online+0x30/0x30", " pagefault_out_of_memory+0x32/0x77", " __do_page_fault+0x4b4/0x4c0",
	" ? page_fault+0x2f/0x50", " page_fault+0x45/0x50",
}

var globalTrace510 = []string{
	"Call Trace:", " dump_stack+0x57/0x70", " dump_header+0x4a/0x1f0", " oom_kill_process.cold+0xb/0x10",
	" out_of_memory+0x1bd/0x4e0", " __alloc_pages_slowpath.constprop.0+0xbcc/0xc90", " __alloc_pages_nodemask+0x2de/0x310",
	" pagecache_get_page+0x13b/0x370", " filemap_fault+0x6b0/0x970", " __do_fault+0x36/0x100",
	" handle_mm_fault+0x1223/0x1a20", " exc_page_fault+0x1fd/0x440", " asm_exc_page_fault+0x1e/0x30",
}

// kernelOOM writes the whole OOM report in the node's kernel generation and returns the time
// of the kill (the "Killed process" line).
func (b *builder) kernelOOM(t time.Time, o oomReport) time.Time {
	n := b.n
	gfp := "gfp_mask=0xcc0(GFP_KERNEL), order=0"
	if o.global {
		gfp = "gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0"
	}
	hdr := []string{}
	switch n.kernel {
	case kernel414:
		hdr = append(hdr, fmt.Sprintf("%s invoked oom-killer: gfp_mask=0x14000c0(GFP_KERNEL), nodemask=(null), order=0, oom_score_adj=%d", o.invoker, o.scoreAdj),
			fmt.Sprintf("%s cpuset=%s mems_allowed=0", o.invoker, o.cpuset))
	default:
		hdr = append(hdr, fmt.Sprintf("%s invoked oom-killer: %s, oom_score_adj=%d", o.invoker, gfp, o.scoreAdj))
	}
	hdr = append(hdr, fmt.Sprintf("CPU: %d PID: %d Comm: %s Not tainted %s #1", b.g.r.IntN(2), o.invokerPID, o.invoker, n.release),
		"Hardware name: Amazon EC2 m5.large/, BIOS 1.0 10/16/2017")
	switch {
	case n.kernel == kernel414:
		hdr = append(hdr, callTrace414...)
	case o.global:
		hdr = append(hdr, globalTrace510...)
	case n.kernel == kernel61:
		hdr = append(hdr, callTrace61...)
	default:
		hdr = append(hdr, callTrace510...)
	}
	hdr = append(hdr, fmt.Sprintf("RIP: 0033:0x7f%010x", b.g.r.Int64N(1<<40)),
		fmt.Sprintf("RSP: 002b:00007f%010x EFLAGS: 00010206", b.g.r.Int64N(1<<40)))
	if n.kernel == kernel61 {
		hdr = append(hdr, " </TASK>")
	}
	t = b.kernel(t, false, hdr...)

	var mem []string
	usage := o.limitKB
	switch {
	case o.global:
		mem = append(mem, "Mem-Info:",
			fmt.Sprintf("active_anon:%d inactive_anon:%d isolated_anon:0", 1873426+b.g.r.IntN(9000), 12071+b.g.r.IntN(900)),
			" active_file:133 inactive_file:219 isolated_file:0",
			" unevictable:0 dirty:0 writeback:0",
			" slab_reclaimable:10524 slab_unreclaimable:21476",
			" mapped:7851 shmem:12423 pagetables:5926 bounce:0",
			fmt.Sprintf(" free:%d free_pcp:62 free_cma:0", 21217+b.g.r.IntN(500)),
			"Node 0 active_anon:7493704kB inactive_anon:48284kB active_file:532kB inactive_file:876kB unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:31404kB dirty:0kB writeback:0kB shmem:49692kB writeback_tmp:0kB kernel_stack:6480kB all_unreclaimable? yes",
			"Node 0 Normal free:44916kB min:45004kB low:56252kB high:67500kB reserved_highatomic:0KB active_anon:6112304kB inactive_anon:40244kB active_file:0kB inactive_file:120kB unevictable:0kB writepending:0kB present:6553600kB managed:6404020kB mlocked:0kB bounce:0kB free_pcp:248kB local_pcp:0kB free_cma:0kB",
			"lowmem_reserve[]: 0 0 0 0",
			fmt.Sprintf("%d total pagecache pages", 12700+b.g.r.IntN(300)),
			"2097053 pages RAM",
			"0 pages HighMem/MovableOnly",
			"54631 pages reserved")
	default:
		mem = append(mem, fmt.Sprintf("memory: usage %dkB, limit %dkB, failcnt %d", usage, o.limitKB, o.failcnt))
		if n.cgroupV2 {
			mem = append(mem, "swap: usage 0kB, limit 0kB, failcnt 0")
		} else {
			mem = append(mem, fmt.Sprintf("memory+swap: usage %dkB, limit 9007199254740988kB, failcnt 0", usage),
				fmt.Sprintf("kmem: usage %dkB, limit 9007199254740988kB, failcnt 0", 4000+b.g.r.IntN(4000)))
		}
		if n.kernel == kernel414 {
			mem = append([]string{fmt.Sprintf("Task in %s killed as a result of limit of %s", o.taskMemcg, o.oomMemcg)}, mem...)
			mem = append(mem, fmt.Sprintf("Memory cgroup stats for %s: cache:32KB rss:%dKB rss_huge:%dKB shmem:0KB mapped_file:0KB dirty:0KB writeback:0KB swap:0KB inactive_anon:0KB active_anon:%dKB inactive_file:16KB active_file:16KB unevictable:0KB",
				o.taskMemcg, o.anonKB, o.anonKB/2048*2048, o.anonKB-100))
		} else {
			mem = append(mem, "Memory cgroup stats for "+o.oomMemcg+":",
				fmt.Sprintf("anon %d", o.anonKB*1024), fmt.Sprintf("file %d", o.fileKB*1024),
				fmt.Sprintf("kernel %d", 4096*(900+b.g.r.IntN(300))), "kernel_stack 442368", "pagetables 2379776",
				"sock 0", "shmem 0", fmt.Sprintf("file_mapped %d", o.fileKB*1024/2), "file_dirty 0", "file_writeback 0",
				"swapcached 0", fmt.Sprintf("anon_thp %d", o.anonKB*1024/4), "inactive_anon 0",
				fmt.Sprintf("active_anon %d", o.anonKB*1024-8192), "inactive_file 16384", "active_file 16384",
				"unevictable 0", "oom_kill 0")
		}
	}
	hdrRow := "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"
	if n.kernel == kernel414 {
		mem = append(mem, "[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name")
	} else {
		mem = append(mem, "Tasks state (memory values in pages):", hdrRow)
	}
	rows := append(append([]taskRow{}, o.others...), o.group...)
	rows = append(rows, taskRow{pid: o.pid, uid: o.uid, scoreAdj: o.scoreAdj, vmPages: o.totalVMKB / 4, rssPages: (o.anonKB + o.fileKB) / 4, name: o.victim})
	for _, r := range rows {
		mem = append(mem, fmt.Sprintf("[%7d] %5d %5d %8d %8d %8d %8d %13d %s", r.pid, r.uid, r.pid, r.vmPages, r.rssPages, r.rssPages*12/10+65536, 0, r.scoreAdj, r.name))
	}
	t = b.kernel(t, false, mem...)

	var kill []string
	switch {
	case n.kernel == kernel414:
		kill = append(kill, fmt.Sprintf("Memory cgroup out of memory: Kill process %d (%s) score %d or sacrifice child", o.pid, o.victim, 1000+o.scoreAdj+b.g.r.IntN(40)),
			fmt.Sprintf("Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB", o.pid, o.victim, o.totalVMKB, o.anonKB, o.fileKB))
	case o.global:
		kill = append(kill, fmt.Sprintf("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=%s,mems_allowed=0,global_oom,task_memcg=%s,task=%s,pid=%d,uid=%d", o.cpuset, o.taskMemcg, o.victim, o.pid, o.uid),
			fmt.Sprintf("Out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:%d", o.pid, o.victim, o.totalVMKB, o.anonKB, o.fileKB, o.uid, o.pgtablesKB, o.scoreAdj))
	default:
		kill = append(kill, fmt.Sprintf("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=%s,mems_allowed=0,oom_memcg=%s,task_memcg=%s,task=%s,pid=%d,uid=%d", o.cpuset, o.oomMemcg, o.taskMemcg, o.victim, o.pid, o.uid),
			fmt.Sprintf("Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:%d", o.pid, o.victim, o.totalVMKB, o.anonKB, o.fileKB, o.uid, o.pgtablesKB, o.scoreAdj))
		if oomGroup(n, o.taskMemcg) {
			// Kubernetes ≥1.28 sets memory.oom.group on cgroup v2 containers: the kernel kills
			// every other task of the container after the victim.
			kill = append(kill, "Tasks in "+o.taskMemcg+" are going to be killed due to memory.oom.group set")
			for _, g := range o.group {
				kill = append(kill, fmt.Sprintf("Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:%d",
					g.pid, g.name, g.vmPages*4, g.rssPages*4-g.rssPages*4/3, g.rssPages*4/3, g.uid, 4*(1+g.vmPages/512), g.scoreAdj))
			}
		}
	}
	killAt := t
	t = b.kernel(t, true, kill...)
	reap := t.Add(b.g.between(2*time.Millisecond, 30*time.Millisecond))
	b.kernel(reap, false, fmt.Sprintf("oom_reaper: reaped process %d (%s), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB", o.pid, o.victim))
	return killAt
}

// oomGroup tells whether the kernel kills a container's whole cgroup on OOM: a cgroup v2 container
// scope (kubelet sets memory.oom.group there), on a kernel that prints the group line.
func oomGroup(n *node, taskMemcg string) bool {
	return n.kernel != kernel414 && n.cgroupV2 && strings.Contains(taskMemcg, "cri-containerd-")
}

// segfaultLine is x86 show_signal_msg; newer kernels name the CPU.
func (b *builder) segfaultLine(comm string, pid int, lib string) []string {
	base := 0x7f0000000000 + b.g.r.Int64N(0xffffff)<<12
	ip := base + 0x14a7e + b.g.r.Int64N(0x1000)
	sp := 0x7ffc00000000 + b.g.r.Int64N(0x3ffffff)<<4
	l := fmt.Sprintf("%s[%d]: segfault at 0 ip %016x sp %016x error 4 in %s[%x+2d000]", comm, pid, ip, sp, lib, base)
	if b.n.kernel == kernel61 {
		l += fmt.Sprintf(" likely on CPU %d (core %d, socket 0)", pid%2, pid%2)
	}
	return []string{l, "Code: 48 8b 45 e8 48 89 c7 e8 5e fe ff ff 48 8b 45 e8 48 8b 40 08 48 89 45 f0 48 8b 45 f0 <8b> 00 89 45 fc 8b 45 fc 89 c6 48 8d 3d 8f 0e 00 00 b8 00 00 00 00"}
}

func itoa(i int) string { return strconv.Itoa(i) }
