package detect

// LineSource names the program that wrote a line of a mixed file (syslog `messages`, a journal
// dump) with the log type its own file would have: "kubelet", "containerd", "docker", "dmesg",
// "nodeadm", "cloud-init", "sandbox-image", "kube-proxy", "coredns". Kernel lines map to
// "dmesg", so rules written for kernel/dmesg.* also fire on `kernel:` lines of syslog and
// journal. It returns "" for lines without a syslog prefix and for programs no rule targets
// (systemd, sshd, …); those lines get only the rules of the file's own type.
//
// Prefixes understood: journald short and short-precise and rsyslog traditional
// ("Jun 21 19:22:58 host ident[pid]: msg", day zero- or space-padded), and journald short-iso /
// short-iso-precise ("2025-02-12T06:25:29.149489+0000 host ident[pid]: msg").
func LineSource(line []byte) string {
	ident := syslogIdent(line)
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
	return ""
}

// syslogIdent returns the identifier of a syslog/journal line, or nil when the line does not
// start with a recognised prefix.
func syslogIdent(line []byte) []byte {
	i := 0
	switch {
	case len(line) >= 16 && isUpper(line[0]) && isLowerASCII(line[1]) && isLowerASCII(line[2]) && line[3] == ' ':
		// "Jun 21 19:22:58[.uuuuuu] " or "Apr  8 08:29:24 "
		i = 4
		if line[i] == ' ' {
			i++
		}
		d := i
		for i < len(line) && isDigit(line[i]) {
			i++
		}
		if i == d || i-d > 2 || i >= len(line) || line[i] != ' ' {
			return nil
		}
		i++
		t := i
		for i < len(line) && line[i] != ' ' {
			i++
		}
		if i-t < 8 || line[t+2] != ':' || line[t+5] != ':' {
			return nil
		}
	case len(line) >= 20 && isDigit(line[0]) && line[4] == '-' && line[10] == 'T':
		// "2025-02-12T06:25:29.149489+0000 "
		for i < len(line) && line[i] != ' ' {
			i++
		}
	default:
		return nil
	}
	// One space, the host, one space.
	if i >= len(line) || line[i] != ' ' {
		return nil
	}
	i++
	h := i
	for i < len(line) && line[i] != ' ' {
		i++
	}
	if i == h || i >= len(line) {
		return nil
	}
	i++
	s := i
	for i < len(line) {
		switch line[i] {
		case '[', ':':
			if i == s {
				return nil
			}
			return line[s:i]
		case ' ':
			return nil
		}
		i++
	}
	return nil
}

func isUpper(c byte) bool      { return 'A' <= c && c <= 'Z' }
func isLowerASCII(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
