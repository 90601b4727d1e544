package detect

import (
	"bytes"

	"github.com/nodediag/nodediag/internal/logtime"
)

// LineSource names the program that wrote a line of a mixed file (syslog `messages`, a journal
// dump) with the log type its own file would have: "kubelet", "containerd", "docker", "dmesg",
// "nodeadm", "cloud-init", "sandbox-image", "kube-proxy", "coredns". Kernel lines map to
// "dmesg", so rules written for kernel/dmesg.* also fire on `kernel:` lines of syslog and
// journal. It returns "" for lines without a syslog prefix and for programs no rule targets
// (systemd, sshd, …); those lines get only the rules of the file's own type.
//
// Every prefix form logtime.Split reads is understood: journald short, short-precise,
// short-iso and short-iso-precise, rsyslog traditional and file format, and RFC 5424.
func LineSource(line []byte) string {
	return sourceOf(logtime.Split(line))
}

// sourceOf maps a syslog identifier to a log type. A program no rule knows by name that writes
// klog lines is a kubelet under another name (k3s, kubenswrapper on OpenShift, origin-node,
// hyperkube, a wrapper script), and one that writes logrus time= level= lines a containerd.
func sourceOf(ident, msg []byte) string {
	if ident == nil {
		return ""
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
	switch {
	case logtime.IsKlog(msg):
		return "kubelet"
	case bytes.HasPrefix(msg, []byte(`time="`)) && bytes.Contains(msg, []byte(" level=")):
		return "containerd"
	}
	return ""
}
