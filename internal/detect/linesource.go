package detect

import (
	"bytes"

	"github.com/nodediag/nodediag/internal/logtime"
)

// LineSource names the program that wrote a line of a mixed file (syslog `messages`, a journal
// dump) with the log type its own file would have: "kubelet", "containerd", "docker", "dmesg",
// "nodeadm", "cloud-init", "sandbox-image", "kube-proxy", "coredns". Kernel lines map to
// "dmesg", so rules written for kernel/dmesg.* also fire on `kernel:` lines of syslog and
// journal. A line without a syslog prefix is named by its own header (dmesg stamp, klog,
// logrus); it returns "" for programs no rule targets (systemd, sshd, …) and for unmarked
// lines, which get only the rules of the file's own type.
//
// Every prefix form logtime.Split reads is understood: journald short, short-precise,
// short-iso and short-iso-precise, rsyslog traditional and file format, and RFC 5424.
func LineSource(line []byte) string {
	ident, msg, stamped := splitLine(line)
	return sourceOf(ident, msg, stamped)
}

// splitLine is what the matcher reads of a line: the writer's identifier, the message, and
// whether a kernel record's own stamp was stripped from it.
func splitLine(line []byte) (ident, msg []byte, stamped bool) {
	ident, msg = logtime.Split(line)
	if ident == nil || string(ident) == "kernel" {
		m := logtime.KernelMessage(msg)
		stamped, msg = len(m) < len(msg), m
	}
	return ident, msg, stamped
}

// sourceOf maps a syslog identifier to a log type. A program no rule knows by name that writes
// klog lines is a kubelet under another name (k3s, kubenswrapper on OpenShift, origin-node,
// hyperkube, a wrapper script), and one that writes logrus time= level= lines a containerd.
func sourceOf(ident, msg []byte, stamped bool) string {
	if ident == nil {
		// No syslog prefix (a continuation, or a line pasted without one): its own header says
		// who wrote it — a dmesg stamp, "ident[pid]: " kept without the stamp, a klog header,
		// logrus fields.
		if stamped {
			return "dmesg"
		}
		if id, rest, ok := logtime.IdentPID(msg); ok {
			return sourceOf(id, rest, false)
		}
		return sourceOfText(msg)
	}
	if src := sourceOfText(msg); src == "kubelet" && (string(ident) == "docker" || string(ident) == "dockerd") {
		return src // a kubelet run in a container (kubelet-wrapper, kops): the journal names docker
	}
	switch string(ident) {
	case "kubelet":
		return "kubelet"
	case "containerd":
		return "containerd"
	case "dockerd", "docker":
		return "docker"
	case "kernel":
		return "dmesg"
	case "nodeadm":
		return "nodeadm"
	case "cloud-init":
		return "cloud-init"
	case "sandbox-image", "pull-sandbox-image.sh":
		return "sandbox-image"
	case "kube-proxy":
		return "kube-proxy"
	case "coredns":
		return "coredns"
	}
	// Snap-packaged kubelets log as "kubelet-eks.daemon".
	if len(ident) > 7 && string(ident[:7]) == "kubelet" {
		return "kubelet"
	}
	return sourceOfText(msg)
}

// sourceOfText names the writer of a message by its own header: a klog header is the kubelet's,
// logrus' time= level= containerd's.
func sourceOfText(msg []byte) string {
	switch {
	case logtime.IsKlog(msg):
		return "kubelet"
	case bytes.HasPrefix(msg, []byte(`time="`)) && bytes.Contains(msg, []byte(" level=")):
		return "containerd"
	}
	return ""
}
