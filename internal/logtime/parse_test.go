package logtime

import (
	"testing"
	"time"
)

func utc(y int, m time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, m, d, h, mi, s, ns, time.UTC)
}

// capAt is a Context captured at the given UTC instant, in UTC.
func capAt(t time.Time) Context { return Context{Capture: t} }

var (
	plus10 = time.FixedZone("AEST", 10*3600)
	minus5 = time.FixedZone("EST", -5*3600)
)

type parseCase struct {
	name string
	ctx  Context
	f    Format
	line string
	want time.Time // zero when q is None
	q    Quality
}

// Expected instants are read off each line by hand (and the reference's notes on its zone),
// never produced by the parser.
var parseCases = []parseCase{
	// journald short: zero-padded day, year from the capture, body refinement.
	{"short klog body refines to µs", capAt(utc(2020, 2, 20, 0, 0, 0, 0)), JournalShort,
		"Feb 18 12:46:09 ip-10-0-1-229.us-west-2.compute.internal kubelet[4015]: I0218 12:46:09.118312    4015 kubelet_node_status.go:79] Attempting to register node ip-10-0-1-229.us-west-2.compute.internal",
		utc(2020, 2, 18, 12, 46, 9, 118312000), YearInferred},
	{"short zero-padded day", capAt(utc(2024, 2, 10, 0, 0, 0, 0)), JournalShort,
		"Feb 08 12:46:09 host systemd[1]: Started kubelet.", utc(2024, 2, 8, 12, 46, 9, 0), YearInferred},
	{"short space-padded day", capAt(utc(2024, 2, 10, 0, 0, 0, 0)), JournalShort,
		"Feb  8 12:46:09 host systemd[1]: Started kubelet.", utc(2024, 2, 8, 12, 46, 9, 0), YearInferred},
	{"short containerd body makes it exact", capAt(utc(2024, 11, 30, 0, 0, 0, 0)), JournalShort,
		`Nov 29 18:13:10 aks-np2-39852331-vmss000000 containerd[2506]: time="2024-11-29T18:13:10.764041708Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:nginx,Uid:5da5612b-9738-493c-af51-a213072997f6,Namespace:default,Attempt:0,} returns sandbox id \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\""`,
		utc(2024, 11, 29, 18, 13, 10, 764041708), Exact},
	{"short klog body in another zone is not taken", capAt(utc(2024, 11, 30, 0, 0, 0, 0)), JournalShort,
		`Nov 29 18:20:18 aks-np2-39852331-vmss000000 kubelet[2775]: E1129 16:20:18.683569    2775 pod_workers.go:1301] "Error syncing pod, skipping"`,
		utc(2024, 11, 29, 18, 20, 18, 0), YearInferred},
	{"short nodeadm float epoch body", capAt(utc(2024, 4, 5, 0, 0, 0, 0)), JournalShort,
		`Apr 04 08:57:17 ip-10-0-3-248.eu-west-1.compute.internal nodeadm[1918]: {"level":"info","ts":1712221037.5944886,"caller":"init/init.go:49","msg":"Checking user is root.."}`,
		utc(2024, 4, 4, 8, 57, 17, 594488600), Exact},
	{"short klog body across new year", capAt(utc(2025, 1, 2, 0, 0, 0, 0)), JournalShort,
		"Dec 31 23:59:59 host kubelet[1]: I0101 00:00:00.500000       1 kubelet.go:1] \"tick\"",
		utc(2025, 1, 1, 0, 0, 0, 500000000), YearInferred},
	{"short body stamp 3 s away is a different event", capAt(utc(2024, 11, 30, 0, 0, 0, 0)), JournalShort,
		`Nov 29 18:13:10 host containerd[2506]: time="2024-11-29T18:13:13.000000001Z" level=info msg="late"`,
		utc(2024, 11, 29, 18, 13, 10, 0), YearInferred},
	{"short December line in a January bundle", capAt(utc(2027, 1, 3, 5, 0, 0, 0)), JournalShort,
		"Dec 28 23:10:00 host kubelet[1]: msg", utc(2026, 12, 28, 23, 10, 0, 0), YearInferred},
	{"short January line in a January bundle", capAt(utc(2027, 1, 3, 5, 0, 0, 0)), JournalShort,
		"Jan 02 23:10:00 host kubelet[1]: msg", utc(2027, 1, 2, 23, 10, 0, 0), YearInferred},
	{"short up to 2 days after capture keeps the year", capAt(utc(2027, 1, 3, 5, 0, 0, 0)), JournalShort,
		"Jan 05 04:00:00 host kubelet[1]: msg", utc(2027, 1, 5, 4, 0, 0, 0), YearInferred},
	{"short more than 2 days after capture is last year", capAt(utc(2027, 1, 3, 5, 0, 0, 0)), JournalShort,
		"Jan 05 06:00:00 host kubelet[1]: msg", utc(2026, 1, 5, 6, 0, 0, 0), YearInferred},
	{"Feb 29 in a leap capture year", capAt(utc(2024, 3, 5, 0, 0, 0, 0)), JournalShort,
		"Feb 29 10:00:00 host kubelet[1]: msg", utc(2024, 2, 29, 10, 0, 0, 0), YearInferred},
	{"Feb 29 in a common capture year goes to the leap year", capAt(utc(2025, 3, 5, 0, 0, 0, 0)), JournalShort,
		"Feb 29 10:00:00 host kubelet[1]: msg", utc(2024, 2, 29, 10, 0, 0, 0), YearInferred},
	{"Feb 29 after a Feb 27 capture is four years back", capAt(utc(2024, 2, 27, 9, 0, 0, 0)), JournalShort,
		"Feb 29 10:00:00 host kubelet[1]: msg", utc(2020, 2, 29, 10, 0, 0, 0), YearInferred},
	{"Feb 30 does not exist", capAt(utc(2024, 3, 5, 0, 0, 0, 0)), JournalShort,
		"Feb 30 10:00:00 host kubelet[1]: msg", time.Time{}, None},
	{"Apr 31 does not exist", capAt(utc(2024, 5, 5, 0, 0, 0, 0)), Syslog,
		"Apr 31 10:00:00 host kubelet: msg", time.Time{}, None},
	{"short without capture has no year", Context{}, JournalShort,
		"Feb 08 12:46:09 host systemd[1]: Started kubelet.", time.Time{}, None},
	{"short without capture takes the year of a containerd body", Context{}, JournalShort,
		`Nov 29 18:13:10 host containerd[2506]: time="2024-11-29T18:13:10.764041708Z" level=info msg="x"`,
		utc(2024, 11, 29, 18, 13, 10, 764041708), Exact},
	{"short without capture rejects a disagreeing body", Context{}, JournalShort,
		`Nov 29 18:13:10 host containerd[2506]: time="2024-11-29T19:13:10.764041708Z" level=info msg="x"`,
		time.Time{}, None},
	{"short in node zone", Context{Capture: utc(2021, 7, 30, 0, 0, 0, 0), Location: plus10}, JournalShort,
		"Jul 29 13:08:12 ip-192-168-1-2 kubelet[1]: msg", utc(2021, 7, 29, 3, 8, 12, 0), YearInferred},
	{"short in a zone where the capture's local year is the old one", Context{Capture: utc(2027, 1, 1, 2, 0, 0, 0), Location: minus5}, JournalShort,
		"Dec 31 20:00:00 host kubelet[1]: msg", utc(2027, 1, 1, 1, 0, 0, 0), YearInferred},
	{"short +10:00 body with the node zone", Context{Capture: utc(2021, 7, 30, 0, 0, 0, 0), Location: plus10}, JournalShort,
		`Jul 29 13:08:12 ip-192-168-1-2 containerd[3351]: time="2021-07-29T13:08:12.178455527+10:00" level=info msg="x"`,
		utc(2021, 7, 29, 3, 8, 12, 178455527), Exact},
	{"short +10:00 body read as UTC disagrees", capAt(utc(2021, 7, 30, 0, 0, 0, 0)), JournalShort,
		`Jul 29 13:08:12 ip-192-168-1-2 containerd[3351]: time="2021-07-29T13:08:12.178455527+10:00" level=info msg="x"`,
		utc(2021, 7, 29, 13, 8, 12, 0), YearInferred},
	{"journal header", capAt(utc(2021, 12, 29, 0, 0, 0, 0)), JournalShort,
		"-- Logs begin at Tue 2021-12-28 10:38:54 UTC, end at Tue 2021-12-28 10:53:57 UTC. --", time.Time{}, None},
	{"journal reboot", capAt(utc(2021, 12, 29, 0, 0, 0, 0)), JournalShort, "-- Reboot --", time.Time{}, None},
	{"journal no entries", capAt(utc(2021, 12, 29, 0, 0, 0, 0)), JournalShort, "-- No entries --", time.Time{}, None},
	{"journal continuation line", capAt(utc(2021, 12, 29, 0, 0, 0, 0)), JournalShort,
		"                                                   goroutine 1 [running]:", time.Time{}, None},
	{"empty line", capAt(utc(2021, 12, 29, 0, 0, 0, 0)), JournalShort, "", time.Time{}, None},

	// short-precise (logdog).
	{"short-precise", capAt(utc(2023, 3, 20, 0, 0, 0, 0)), JournalShortPrecise,
		"Mar 14 10:12:31.545053 localhost kernel: x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT",
		utc(2023, 3, 14, 10, 12, 31, 545053000), YearInferred},
	{"short-precise containerd body", capAt(utc(2023, 3, 20, 0, 0, 0, 0)), JournalShortPrecise,
		`Mar 14 10:12:31.545053 localhost containerd[1200]: time="2023-03-14T10:12:31.544990123Z" level=info msg="x"`,
		utc(2023, 3, 14, 10, 12, 31, 544990123), Exact},

	// rsyslog traditional.
	{"syslog containerd body", capAt(utc(2022, 4, 10, 0, 0, 0, 0)), Syslog,
		`Apr  8 08:29:24 ip-10-110-50-88 containerd: time="2022-04-08T08:29:24.848888499Z" level=error msg="copy shim log" error="read /proc/self/fd/94: file already closed"`,
		utc(2022, 4, 8, 8, 29, 24, 848888499), Exact},
	{"syslog kernel", capAt(utc(2023, 6, 22, 0, 0, 0, 0)), Syslog,
		"Jun 21 19:22:58 ip-10-0-12-209 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-ca0c308b91e6712a9f57d9c4eb300cc8e3acb80a2d3f342f6c858d4998bbb945.scope,mems_allowed=0",
		utc(2023, 6, 21, 19, 22, 58, 0), YearInferred},
	{"syslog segfault", capAt(utc(2013, 7, 7, 0, 0, 0, 0)), Syslog,
		"Jul  6 04:01:43 vagrant-centos65 kernel: a.out[25311]: segfault at 0 ip 0000000000400546 sp 00007fff2fb08610 error 4 in a.out[400000+1000]",
		utc(2013, 7, 6, 4, 1, 43, 0), YearInferred},
	{"syslog with kernel seconds", capAt(utc(2025, 5, 20, 0, 0, 0, 0)), Syslog,
		"May 19 18:14:43 aks-np0cas-14924781-vmss000008 kernel: [  139.201482] Memory cgroup out of memory: Killed process 7788 (bash)",
		utc(2025, 5, 19, 18, 14, 43, 0), YearInferred},
	{"syslog kubelet klog body", capAt(utc(2022, 7, 20, 0, 0, 0, 0)), Syslog,
		`Jul 19 20:54:58 ip-10-0-1-5 kubelet: E0719 20:54:58.447705     914 pod_workers.go:1298] "Error syncing pod, skipping"`,
		utc(2022, 7, 19, 20, 54, 58, 447705000), YearInferred},

	// short-iso and short-iso-precise.
	{"short-iso +0200", Context{}, JournalISO,
		"2023-09-08T17:20:30+0200 tarta r710_fan_controller.sh[20911]: Changing to fan level 4.",
		utc(2023, 9, 8, 15, 20, 30, 0), Exact},
	{"short-iso-precise +0200", Context{}, JournalISO,
		"2023-09-08T17:20:30.655028+0200 tarta r710_fan_controller.sh[20911]: Highest drive temperature: 43 Celcius.",
		utc(2023, 9, 8, 15, 20, 30, 655028000), Exact},
	{"short-iso-precise +0000", Context{}, JournalISO,
		"2025-02-12T06:25:29.149489+0000 ip-10-0-1-5.ec2.internal systemd[1]: Started kubelet.service.",
		utc(2025, 2, 12, 6, 25, 29, 149489000), Exact},
	{"short-iso-precise +00:00", Context{}, JournalISO,
		"2025-02-12T06:25:29.149489+00:00 ip-10-0-1-5.ec2.internal systemd[1]: Started kubelet.service.",
		utc(2025, 2, 12, 6, 25, 29, 149489000), Exact},
	{"short-iso -05:30", Context{}, JournalISO,
		"2025-02-12T06:25:29-05:30 host systemd[1]: x", utc(2025, 2, 12, 11, 55, 29, 0), Exact},
	{"short-iso containerd body adds ns", Context{}, JournalISO,
		`2024-11-29T18:13:10+0000 host containerd[2506]: time="2024-11-29T18:13:10.764041708Z" level=info msg="x"`,
		utc(2024, 11, 29, 18, 13, 10, 764041708), Exact},
	{"short-iso klog body adds µs", Context{Location: plus10}, JournalISO,
		`2024-11-29T18:13:10+1000 host kubelet[2775]: I1129 18:13:10.250000    2775 kubelet.go:1] "x"`,
		utc(2024, 11, 29, 8, 13, 10, 250000000), Exact},

	// klog files (kube-proxy.log and friends).
	{"klog", capAt(utc(2024, 11, 5, 0, 0, 0, 0)), Klog,
		"E1103 10:12:01.123456    1234 file.go:12] msg", utc(2024, 11, 3, 10, 12, 1, 123456000), YearInferred},
	{"klog structured", capAt(utc(2021, 5, 3, 0, 0, 0, 0)), Klog,
		`I0502 08:56:09.232422    2264 generic.go:332] "Generic (PLEG): container finished" podID=7eaba53e-63d2-4906-9a16-ff315c3337fd exitCode=0`,
		utc(2021, 5, 2, 8, 56, 9, 232422000), YearInferred},
	{"klog December in January", capAt(utc(2025, 1, 1, 1, 0, 0, 0)), Klog,
		"W1231 23:00:00.000001       7 x.go:1] m", utc(2024, 12, 31, 23, 0, 0, 1000), YearInferred},
	{"klog in node zone", Context{Capture: utc(2024, 11, 5, 0, 0, 0, 0), Location: plus10}, Klog,
		"E1103 10:12:01.123456    1234 file.go:12] msg", utc(2024, 11, 3, 0, 12, 1, 123456000), YearInferred},
	{"klog bad level", capAt(utc(2024, 11, 5, 0, 0, 0, 0)), Klog, "X1103 10:12:01.123456    1234 file.go:12] msg", time.Time{}, None},
	{"klog month 13", capAt(utc(2024, 11, 5, 0, 0, 0, 0)), Klog, "E1303 10:12:01.123456    1234 file.go:12] msg", time.Time{}, None},
	{"klog hour 24", capAt(utc(2024, 11, 5, 0, 0, 0, 0)), Klog, "E1103 24:12:01.123456    1234 file.go:12] msg", time.Time{}, None},

	// containerd / dockerd logfmt and JSON.
	{"logfmt Z", Context{}, Logfmt,
		`time="2024-11-29T18:20:18.329810628Z" level=info msg="shim disconnected" id=c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab namespace=k8s.io`,
		utc(2024, 11, 29, 18, 20, 18, 329810628), Exact},
	{"logfmt +10:00", Context{}, Logfmt,
		`time="2021-07-29T13:08:12.178455527+10:00" level=info msg="x"`,
		utc(2021, 7, 29, 3, 8, 12, 178455527), Exact},
	{"logfmt containerd JSON line", Context{}, Logfmt,
		`{"level":"info","msg":"starting containerd","revision":"abc","time":"2023-08-21T10:00:00.123456789Z","version":"1.7.2"}`,
		utc(2023, 8, 21, 10, 0, 0, 123456789), Exact},
	{"logfmt go-kit ts", Context{}, Logfmt,
		"level=info ts=2024-01-02T03:04:05.5Z caller=main.go:1 msg=x", utc(2024, 1, 2, 3, 4, 5, 500000000), Exact},
	{"logfmt runtime= is not time=", Context{}, Logfmt,
		`level=info runtime="2024-01-02T03:04:05Z" msg=x`, time.Time{}, None},
	{"logfmt without time", Context{}, Logfmt, `level=info msg="no time here"`, time.Time{}, None},

	// CRI pod logs: variable fraction width.
	{"cri 8-digit fraction", Context{}, CRI,
		`2022-11-21T02:50:53.90545154Z stderr F {"level":"info","ts":"2022-11-21T02:50:53.905Z","logger":"raft"}`,
		utc(2022, 11, 21, 2, 50, 53, 905451540), Exact},
	{"cri 9-digit fraction", Context{}, CRI,
		`2022-11-21T02:50:53.905552332Z stderr F {"level":"info","ts":"2022-11-21T02:50:53.905Z","logger":"raft"}`,
		utc(2022, 11, 21, 2, 50, 53, 905552332), Exact},
	{"cri 1-digit fraction partial", Context{}, CRI,
		"2024-05-01T10:00:00.1Z stdout P part", utc(2024, 5, 1, 10, 0, 0, 100000000), Exact},
	{"cri local offset", Context{}, CRI,
		"2024-05-01T10:00:00+10:00 stdout F x", utc(2024, 5, 1, 0, 0, 0, 0), Exact},
	{"cri no fraction", Context{}, CRI, "2024-05-01T10:00:00Z stdout F x", utc(2024, 5, 1, 10, 0, 0, 0), Exact},
	{"cri garbage", Context{}, CRI, "stdout F 2024-05-01T10:00:00Z", time.Time{}, None},

	// JSON lines.
	{"zap ipamd ms Z", Context{}, JSON,
		`{"level":"info","ts":"2022-03-20T17:48:56.540Z","caller":"aws-k8s-agent/main.go:27","msg":"Starting L-IPAMD   ..."}`,
		utc(2022, 3, 20, 17, 48, 56, 540000000), Exact},
	{"zap +0200", Context{}, JSON,
		`{"level":"debug","ts":"2022-03-20T19:49:02.365+0200","caller":"ipamd/ipamd.go:380","msg":"Discovered region: us-east-1"}`,
		utc(2022, 3, 20, 17, 49, 2, 365000000), Exact},
	{"nodeadm float epoch", Context{}, JSON,
		`{"level":"info","ts":1712221037.5944886,"caller":"init/init.go:49","msg":"Checking user is root.."}`,
		utc(2024, 4, 4, 8, 57, 17, 594488600), Exact},
	{"millisecond epoch", Context{}, JSON, `{"ts":1712221037594,"msg":"x"}`, utc(2024, 4, 4, 8, 57, 17, 594000000), Exact},
	{"time key", Context{}, JSON, `{"level":"info","time":"2024-01-01T00:00:00Z"}`, utc(2024, 1, 1, 0, 0, 0, 0), Exact},
	{"timestamp key with spaces", Context{}, JSON, `{ "msg" : "x" , "timestamp" : "2024-01-01T00:00:00.5Z" }`, utc(2024, 1, 1, 0, 0, 0, 500000000), Exact},
	{"only top-level keys count", Context{}, JSON,
		`{"msg":"{\"ts\":\"2020-01-01T00:00:00Z\"}","data":{"ts":"2019-01-01T00:00:00Z"},"list":[{"time":"2018-01-01T00:00:00Z"}],"time":"2024-02-02T02:02:02Z"}`,
		utc(2024, 2, 2, 2, 2, 2, 0), Exact},
	{"zone-less JSON time in node zone", Context{Location: plus10}, JSON, `{"time":"2024-01-01 10:00:00"}`, utc(2024, 1, 1, 0, 0, 0, 0), Exact},
	{"JSON without time key", Context{}, JSON, `{"level":"info","msg":"x"}`, time.Time{}, None},
	{"JSON unparseable ts", Context{}, JSON, `{"ts":"yesterday"}`, time.Time{}, None},
	{"not JSON", Context{}, JSON, `ts=2024-01-01T00:00:00Z`, time.Time{}, None},

	// dmesg.
	{"dmesg raw anchored", Context{Boot: utc(2024, 1, 1, 0, 0, 0, 0)}, DmesgRaw,
		"[  147.358790] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0",
		utc(2024, 1, 1, 0, 2, 27, 358790000), BootAnchored},
	{"dmesg raw printk caller", Context{Boot: utc(2024, 1, 1, 0, 0, 0, 0)}, DmesgRaw,
		"[   32.298491][  T896] kexec[896]: segfault at 0 ip 0000000000000000 sp 00007ffeaf0ff420 error 14 in dash[561ac3c57000+4000]",
		utc(2024, 1, 1, 0, 0, 32, 298491000), BootAnchored},
	{"dmesg raw with level", Context{Boot: utc(2024, 1, 1, 0, 0, 0, 0)}, DmesgRaw,
		"<6>[    0.000001] Linux version 6.1.0", utc(2024, 1, 1, 0, 0, 0, 1000), BootAnchored},
	{"dmesg raw without boot", Context{}, DmesgRaw, "[  147.358790] oom-kill:constraint=CONSTRAINT_MEMCG", time.Time{}, None},
	{"dmesg raw no fraction", Context{Boot: utc(2024, 1, 1, 0, 0, 0, 0)}, DmesgRaw, "[  147] x", time.Time{}, None},
	{"dmesg ctime", Context{}, DmesgCtime,
		"[Thu Oct 10 03:06:53 2024] pt_main_thread[2536443]: segfault at 7f797fe00000 ip 00007f7c7ac69996 sp 00007f7c12fd7c30 error 4 in libnccl.so.2[7f7c7ac00000+d3d3000]",
		utc(2024, 10, 10, 3, 6, 53, 0), Exact},
	{"dmesg ctime space-padded day", Context{}, DmesgCtime,
		"[Wed Dec  6 23:54:11 2017] java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998",
		utc(2017, 12, 6, 23, 54, 11, 0), Exact},
	{"dmesg ctime in node zone", Context{Location: plus10}, DmesgCtime,
		"[Thu Oct 10 03:06:53 2024] x", utc(2024, 10, 9, 17, 6, 53, 0), Exact},
	{"dmesg ctime bad weekday", Context{}, DmesgCtime, "[Xyz Oct 10 03:06:53 2024] x", time.Time{}, None},

	// Lines that begin with an ISO-like stamp.
	{"iso space", Context{}, ISO,
		"2026-11-20 10:30:00 INFO [HealthCheck] HealthCheck reporting agent health.", utc(2026, 11, 20, 10, 30, 0, 0), Exact},
	{"iso T Z", Context{}, ISO, "2026-11-20T10:30:00Z starting", utc(2026, 11, 20, 10, 30, 0, 0), Exact},
	{"iso zone-less in node zone", Context{Location: plus10}, ISO, "2026-11-20 10:30:00 INFO x", utc(2026, 11, 20, 0, 30, 0, 0), Exact},
	{"iso comma fraction (cloud-init)", Context{}, ISO,
		"2026-11-20 10:30:00,123 - util.py[DEBUG]: Cloud-init v. 22.2.2 running", utc(2026, 11, 20, 10, 30, 0, 123000000), Exact},
	{"iso dmesg time-format", Context{}, ISO, "2024-10-10T03:06:53,123456+00:00 kernel msg", utc(2024, 10, 10, 3, 6, 53, 123456000), Exact},
	{"iso go log slashes", Context{}, ISO, "2026/11/20 10:30:00 started", utc(2026, 11, 20, 10, 30, 0, 0), Exact},
	{"iso trailing digit", Context{}, ISO, "2026-11-20 10:30:001 x", time.Time{}, None},
	{"iso mixed separators", Context{}, ISO, "2026-11/20 10:30:00 x", time.Time{}, None},
	{"iso Feb 29 of a common year", Context{}, ISO, "2025-02-29 10:30:00 x", time.Time{}, None},

	// RFC 5424: the stamp carries its date and offset (RFC 5424 §6.2.3).
	{"rfc5424 with offset", Context{}, RFC5424,
		"<6>1 2026-11-20T10:26:17.475118+00:00 ip-10-0-37-142 kernel - - - [  139.201482] Memory cgroup out of memory: Killed process 7788 (bash)",
		utc(2026, 11, 20, 10, 26, 17, 475118000), Exact},
	{"rfc5424 in another zone", Context{}, RFC5424,
		"<30>1 2026-11-20T20:26:17+10:00 host kubelet 3187 - - E1120 x", utc(2026, 11, 20, 10, 26, 17, 0), Exact},
	{"rfc5424 nil stamp", Context{}, RFC5424, "<30>1 - host kubelet 3187 - - x", time.Time{}, None},
	{"rfc5424 wrong version", Context{}, RFC5424, "<30>2 2026-11-20T20:26:17+10:00 host kubelet 3187 - - x", time.Time{}, None},

	{"text never has a time", capAt(utc(2024, 1, 1, 0, 0, 0, 0)), Text, "2026-11-20 10:30:00 INFO x", time.Time{}, None},
	{"unknown format", capAt(utc(2024, 1, 1, 0, 0, 0, 0)), Format("nope"), "2026-11-20 10:30:00 INFO x", time.Time{}, None},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.ctx.Parse(tc.f, []byte(tc.line))
			if got.Quality != tc.q || !got.Time.Equal(tc.want) {
				t.Fatalf("Parse(%s, %q)\n got %v %s\nwant %v %s", tc.f, tc.line, got.Time, got.Quality, tc.want, tc.q)
			}
			checkStamp(t, got)
		})
	}
}

// checkStamp asserts the invariants every Stamp must keep.
func checkStamp(t *testing.T, s Stamp) {
	t.Helper()
	switch {
	case s.Quality == None && !s.Time.IsZero():
		t.Fatalf("quality none with time %v", s.Time)
	case s.Quality != None && s.Time.IsZero():
		t.Fatalf("quality %s with zero time", s.Quality)
	case s.Quality != None && s.Time.Location() != time.UTC:
		t.Fatalf("time %v not in UTC", s.Time)
	}
	switch s.Quality {
	case None, Exact, YearInferred, BootAnchored:
	default:
		t.Fatalf("unknown quality %q", s.Quality)
	}
}

func TestParseNilContext(t *testing.T) {
	var c *Context
	got := c.Parse(CRI, []byte("2024-05-01T10:00:00Z stdout F x"))
	if got.Quality != Exact || !got.Time.Equal(utc(2024, 5, 1, 10, 0, 0, 0)) {
		t.Fatalf("got %v", got)
	}
	if got := c.Parse(JournalShort, []byte("Feb 08 12:46:09 host x: y")); got.Quality != None {
		t.Fatalf("year-less stamp without capture: got %v", got)
	}
}

// TestParseCRLF checks that a Windows line ending left on a line does not spoil its stamp.
func TestParseCRLF(t *testing.T) {
	c := capAt(utc(2024, 2, 10, 0, 0, 0, 0))
	got := c.Parse(JournalShort, []byte("Feb 08 12:46:09 host systemd[1]: Started.\r"))
	if !got.Time.Equal(utc(2024, 2, 8, 12, 46, 9, 0)) {
		t.Fatalf("got %v", got)
	}
}

func TestDmesgSeconds(t *testing.T) {
	cases := []struct {
		line string
		want float64
		ok   bool
	}{
		{"[  139.201482] Memory cgroup out of memory: Killed process 7788 (bash)", 139.201482, true},
		{"[   32.298491][  T896] kexec[896]: segfault at 0", 32.298491, true},
		{"[18026.215249] memory: usage 262144kB, limit 262144kB, failcnt 3036", 18026.215249, true},
		{"May 19 18:14:43 aks-np0cas-14924781-vmss000008 kernel: [  139.201482] Memory cgroup out of memory", 139.201482, true},
		{"2025-02-12T06:25:29.149489+0000 host kernel: [    5.000001] x", 5.000001, true},
		{"<4>[    1.5] x", 1.5, true},
		{"Jun 21 19:22:58 ip-10-0-12-209 kernel: oom-kill:constraint=CONSTRAINT_MEMCG", 0, false},
		{"[Thu Oct 10 03:06:53 2024] x", 0, false},
		{"[  12a.5] x", 0, false},
		{"[1234567890.5] too long an uptime", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		got, ok := DmesgSeconds([]byte(tc.line))
		if ok != tc.ok || (ok && (got-tc.want > 1e-9 || tc.want-got > 1e-9)) {
			t.Errorf("DmesgSeconds(%q) = %v, %v; want %v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}
