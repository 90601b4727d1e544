package logtime

import "testing"

// Every prefix form a node log line arrives in, with the identifier and message read off each
// line by hand.
func TestSplit(t *testing.T) {
	const oom = "Memory cgroup out of memory: Killed process 7788 (bash) total-vm:7169492kB"
	cases := []struct {
		name, line, ident, msg, message string
	}{
		{"journald short", "Nov 20 10:26:17 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: E1120 10:26:17.000001    3187 x.go:1] \"y\"",
			"kubelet", "E1120 10:26:17.000001    3187 x.go:1] \"y\"", "E1120 10:26:17.000001    3187 x.go:1] \"y\""},
		{"rsyslog space-padded day, no pid", "Apr  8 08:29:24 ip-10-110-50-88 containerd: time=\"2022-04-08T08:29:24.848888499Z\" level=error msg=\"copy shim log\"",
			"containerd", "time=\"2022-04-08T08:29:24.848888499Z\" level=error msg=\"copy shim log\"", "time=\"2022-04-08T08:29:24.848888499Z\" level=error msg=\"copy shim log\""},
		{"rsyslog kernel with stamp", "May 19 18:14:43 aks-np0cas-14924781-vmss000008 kernel: [  139.201482] " + oom,
			"kernel", "[  139.201482] " + oom, oom},
		{"journald short-precise", "Mar 14 10:12:31.545053 localhost kernel: " + oom, "kernel", oom, oom},
		{"journald short-iso-precise, systemd < 255", "2025-02-12T06:25:29.149489+0000 ip-10-0-1-5 kernel: " + oom, "kernel", oom, oom},
		{"journald short-iso, systemd >= 255", "2025-02-12T06:25:29+00:00 ip-10-0-1-5 kernel: " + oom, "kernel", oom, oom},
		{"rsyslog file format", "2025-02-12T06:25:29.149489+00:00 ip-10-0-1-5 kernel: " + oom, "kernel", oom, oom},
		{"rfc 5424", "<6>1 2026-11-20T10:26:17.475118+00:00 ip-10-0-37-142 kernel - - - [  139.201482] " + oom,
			"kernel", "[  139.201482] " + oom, oom},
		{"rfc 5424 with structured data", `<30>1 2026-11-20T10:26:17Z host kubelet 3187 ID47 [meta a="b\]" c="d"][x@1 y="z"] E1120 x`,
			"kubelet", "E1120 x", "E1120 x"},
		{"rfc 5424 fields without the header (rsyslog protocol-23 file)", "2024-02-07T02:49:40.739405+00:00 NodeA kubelet 24578 - -  E0207 02:49:40.738973   24578 remote_runtime.go:176] x",
			"kubelet", "E0207 02:49:40.738973   24578 remote_runtime.go:176] x", "E0207 02:49:40.738973   24578 remote_runtime.go:176] x"},
		{"iso stamp then text is not syslog", "2026-11-20T10:30:00Z starting the agent now", "", "2026-11-20T10:30:00Z starting the agent now", "2026-11-20T10:30:00Z starting the agent now"},
		{"rfc 5424 nil app", "<30>1 2026-11-20T10:26:17Z host - - - - hello", "", "hello", "hello"},
		{"rfc 5424 BOM", "<30>1 2026-11-20T10:26:17Z host app - - - \xef\xbb\xbfhello", "app", "hello", "hello"},
		{"raw dmesg", "[  139.201482] " + oom, "", "[  139.201482] " + oom, oom},
		{"raw dmesg with printk caller", "[   32.298491][  T896] kexec[896]: segfault at 0", "", "[   32.298491][  T896] kexec[896]: segfault at 0", "kexec[896]: segfault at 0"},
		{"dmesg --ctime", "[Thu Dec  7 00:05:15 2017] Killed process 28438 (java)", "", "[Thu Dec  7 00:05:15 2017] Killed process 28438 (java)", "Killed process 28438 (java)"},
		{"dmesg -r level", "<4>[  139.201482] " + oom, "", "<4>[  139.201482] " + oom, oom},
		{"no stamp at all", oom, "", oom, oom},
		{"cri full line", "2024-05-02T10:12:03.123456789Z stderr F panic: boom", "", "panic: boom", "panic: boom"},
		{"cri before the F/P tag (kubelet < 1.10, CRI-O 1.0)", "2017-09-15T11:54:38.089860076-04:00 stderr /usr/bin/openshift-deploy: error while loading shared libraries", "", "/usr/bin/openshift-deploy: error while loading shared libraries", "/usr/bin/openshift-deploy: error while loading shared libraries"},
		{"empty host field, no pid", "Jun 10 12:19:18  kubelet: F0610 12:19:18.426052    8820 kubelet.go:1385] Failed to start ContainerManager", "kubelet",
			"F0610 12:19:18.426052    8820 kubelet.go:1385] Failed to start ContainerManager", "F0610 12:19:18.426052    8820 kubelet.go:1385] Failed to start ContainerManager"},
		{"no host, no pid", "Jun 10 12:19:18 systemd: kubelet.service: main process exited, code=exited, status=255/n/a", "systemd",
			"kubelet.service: main process exited, code=exited, status=255/n/a", "kubelet.service: main process exited, code=exited, status=255/n/a"},
		{"an upper-case word is not an identifier", "Jun 10 12:19:18 ERROR: disk full", "", "Jun 10 12:19:18 ERROR: disk full", "Jun 10 12:19:18 ERROR: disk full"},
		{"kernel after a stamp nodediag does not know", "2016-07-31 16:26:53 +0000 UTC kern.warn kernel: Oops: 0011 [#1] SMP", "kernel", "Oops: 0011 [#1] SMP", "Oops: 0011 [#1] SMP"},
		{"kernel in a message is not a prefix", "I0615 00:03:23.999097  288702 x.go:1] a kernel: b", "", "I0615 00:03:23.999097  288702 x.go:1] a kernel: b", "I0615 00:03:23.999097  288702 x.go:1] a kernel: b"},
		{"kernel without a clock is not a prefix", "note the kernel: it panicked", "", "note the kernel: it panicked", "note the kernel: it panicked"},
		{"cri partial empty", "2024-05-02T10:12:03Z stdout P", "", "", ""},
		{"raw klog", `E1120 10:26:17.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping"`, "",
			`E1120 10:26:17.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping"`, `E1120 10:26:17.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping"`},
		{"containerd logfmt", `time="2026-11-20T10:26:17.475118363Z" level=info msg="x"`, "", `time="2026-11-20T10:26:17.475118363Z" level=info msg="x"`, `time="2026-11-20T10:26:17.475118363Z" level=info msg="x"`},
		{"a bracketed tag is not a host", "2026-11-20T08:17:02+0000 [eks-bootstrap] ERROR: Exhausted retries while describing cluster!", "",
			"2026-11-20T08:17:02+0000 [eks-bootstrap] ERROR: Exhausted retries while describing cluster!", "2026-11-20T08:17:02+0000 [eks-bootstrap] ERROR: Exhausted retries while describing cluster!"},
		{"host redacted away", "May 03 16:11:34 containerd[19317]: fatal error: exitsyscall: syscall frame is no longer valid", "containerd",
			"fatal error: exitsyscall: syscall frame is no longer valid", "fatal error: exitsyscall: syscall frame is no longer valid"},
		{"localized month", "12月 12 11:44:22 k8s-node-1 kubelet[11778]: E1212 11:44:22.849805   11778 controller.go:170] failed to update node lease", "kubelet",
			"E1212 11:44:22.849805   11778 controller.go:170] failed to update node lease", "E1212 11:44:22.849805   11778 controller.go:170] failed to update node lease"},
		{"cloud-init is not syslog", "2026-11-20 10:30:00,123 - util.py[DEBUG]: Cloud-init v. 22.2.2", "", "2026-11-20 10:30:00,123 - util.py[DEBUG]: Cloud-init v. 22.2.2", "2026-11-20 10:30:00,123 - util.py[DEBUG]: Cloud-init v. 22.2.2"},
		{"journal continuation", "                                        goroutine 1 [running]:", "", "                                        goroutine 1 [running]:", "                                        goroutine 1 [running]:"},
		{"bracket that is message text", "[INFO] plugin/reload: Running configuration", "", "[INFO] plugin/reload: Running configuration", "[INFO] plugin/reload: Running configuration"},
		{"systemd unit line keeps its message", "Nov 20 10:26:17 host systemd[1]: cri-containerd-abc.scope: A process of this unit has been killed by the OOM killer.",
			"systemd", "cri-containerd-abc.scope: A process of this unit has been killed by the OOM killer.", "cri-containerd-abc.scope: A process of this unit has been killed by the OOM killer."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ident, msg := Split([]byte(tc.line))
			if string(ident) != tc.ident || string(msg) != tc.msg {
				t.Errorf("Split = (%q, %q), want (%q, %q)", ident, msg, tc.ident, tc.msg)
			}
			if got := Message([]byte(tc.line)); string(got) != tc.message {
				t.Errorf("Message = %q, want %q", got, tc.message)
			}
		})
	}
}

// FuzzSplit: no panic, and the message is always a suffix of the line, so a rule matching it
// matches text the line really holds.
func FuzzSplit(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.line))
	}
	f.Add([]byte("<6>1 - - - - - ["))
	f.Add([]byte("Nov 20 10:26:17 host ident["))
	f.Fuzz(func(t *testing.T, line []byte) {
		ident, msg := Split(line)
		if len(msg) > len(line) || string(line[len(line)-len(msg):]) != string(msg) {
			t.Fatalf("message %q is not a suffix of %q", msg, line)
		}
		if ident != nil && len(ident) == 0 {
			t.Fatalf("empty identifier for %q", line)
		}
		m := Message(line)
		if len(m) > len(line) || string(line[len(line)-len(m):]) != string(m) {
			t.Fatalf("Message %q is not a suffix of %q", m, line)
		}
	})
}
