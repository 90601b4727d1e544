package logtime

import (
	"strings"
	"testing"
	"time"
)

func lines(s string) [][]byte {
	var out [][]byte
	for _, l := range strings.Split(s, "\n") {
		out = append(out, []byte(l))
	}
	return out
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Format
	}{
		{"journal short with header and zero-padded days", `-- Logs begin at Tue 2021-12-28 10:38:54 UTC, end at Tue 2021-12-28 10:53:57 UTC. --
Dec 08 10:38:54 ip-10-0-1-229.us-west-2.compute.internal kubelet[4015]: I1208 10:38:54.118312    4015 server.go:1] "start"
Dec 08 10:38:55 ip-10-0-1-229.us-west-2.compute.internal kubelet[4015]: I1208 10:38:55.000001    4015 server.go:2] "go"
-- Reboot --
Dec 09 00:00:01 ip-10-0-1-229.us-west-2.compute.internal kubelet[4015]: I1209 00:00:01.000001    4015 server.go:3] "again"`, JournalShort},
		{"days 10-31 only default to journal short", `Nov 29 18:13:10 host containerd[2506]: time="2024-11-29T18:13:10.764041708Z" level=info msg="x"
Nov 29 18:20:18 host containerd[2506]: time="2024-11-29T18:20:18.329810628Z" level=info msg="y"`, JournalShort},
		{"rsyslog space-padded day", `Apr  8 08:29:24 ip-10-110-50-88 containerd: time="2022-04-08T08:29:24.848888499Z" level=error msg="copy shim log"
Apr  8 08:29:25 ip-10-110-50-88 kernel: eth0: link up`, Syslog},
		{"short-precise", `Mar 14 10:12:31.545053 localhost kernel: x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT
Mar 14 10:12:31.545100 localhost kernel: next`, JournalShortPrecise},
		{"no entries only", "-- No entries --\n", Text},
		{"short-iso-precise", `2025-02-12T06:25:29.149489+0000 ip-10-0-1-5.ec2.internal kubelet[2000]: I0212 06:25:29.149000    2000 x.go:1] "x"
2025-02-12T06:25:29.149999+0000 ip-10-0-1-5.ec2.internal systemd[1]: Started kubelet.service.`, JournalISO},
		{"short-iso with colon offset", `2023-09-08T17:20:30+02:00 tarta r710_fan_controller.sh[20911]: Changing to fan level 4.`, JournalISO},
		{"cri", `2022-11-21T02:50:53.90545154Z stderr F {"level":"info"}
2022-11-21T02:50:53.905552332Z stdout P partial`, CRI},
		{"klog file", `I1103 10:12:01.123456       1 server.go:12] "Using iptables Proxier"
E1103 10:12:02.000001       1 proxier.go:1] "Failed"`, Klog},
		{"dmesg raw with caller", `[    0.000000] Linux version 5.10.240
[   32.298491][  T896] kexec[896]: segfault at 0`, DmesgRaw},
		{"dmesg ctime", `[Thu Oct 10 03:06:53 2024] pt_main_thread[2536443]: segfault at 7f797fe00000
[Wed Dec  6 23:54:11 2017] java invoked oom-killer`, DmesgCtime},
		{"containerd logfmt", `time="2024-11-29T18:13:10.764041708Z" level=info msg="x"
time="2024-11-29T18:13:11.000000000Z" level=info msg="y"`, Logfmt},
		{"zap json", `{"level":"info","ts":"2022-03-20T17:48:56.540Z","caller":"aws-k8s-agent/main.go:27","msg":"Starting L-IPAMD   ..."}
{"level":"debug","ts":"2022-03-20T17:49:02.365Z","caller":"ipamd/ipamd.go:380","msg":"Discovered region: us-east-1"}`, JSON},
		{"cloud-init is iso, not short-iso", `2026-11-20 10:30:00,123 - util.py[DEBUG]: Cloud-init v. 22.2.2 running 'init-local'
2026-11-20 10:30:00,456 - main.py[DEBUG]: No kernel command line url found.`, ISO},
		{"ssm agent iso", `2026-11-20 10:30:00 INFO [HealthCheck] HealthCheck reporting agent health.`, ISO},
		{"top output is text", `top - 10:29:58 up 12 days,  3:17,  1 user,  load average: 0.08, 0.03, 0.01
Tasks: 180 total,   1 running, 179 sleeping,   0 stopped,   0 zombie`, Text},
		{"pretty JSON document is text", "{\n  \"eni\": \"eni-1\",\n  \"ips\": []\n}", Text},
		{"mostly text with one stamp is text", "a\nb\nc\nd\n2026-11-20 10:30:00 x\n", Text},
		{"journal with continuation lines", `Nov 29 18:13:10 host containerd[2506]: time="2024-11-29T18:13:10.764041708Z" level=info msg="=== BEGIN goroutine stack dump ===
                                        goroutine 1 [running]:
                                        main.main()
Nov 29 18:13:11 host containerd[2506]: time="2024-11-29T18:13:11.764041708Z" level=info msg="=== END goroutine stack dump ==="`, JournalShort},
		{"rfc 5424", `<6>1 2026-11-20T10:26:17.475118+00:00 ip-10-0-37-142 kernel - - - Memory cgroup out of memory: Killed process 7788 (bash)
<30>1 2026-11-20T10:26:18.000001+00:00 ip-10-0-37-142 kubelet 3187 - - E1120 10:26:18.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping"`, RFC5424},
		{"empty", "", Text},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff(lines(tc.in)); got != tc.want {
				t.Fatalf("Sniff = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestSniffThenParse checks that the format Sniff names parses the lines it was shown: the two
// are used together by the indexer.
func TestSniffThenParse(t *testing.T) {
	c := Context{Capture: utc(2026, 11, 20, 10, 30, 0, 0), Boot: utc(2026, 11, 8, 7, 12, 19, 0)}
	files := []string{
		"Nov 18 04:05:06 ip-10-0-1-5 kubelet[1]: x",
		"Nov  8 04:05:06 ip-10-0-1-5 kernel: x",
		"Nov 18 04:05:06.123 ip-10-0-1-5 kubelet[1]: x",
		"2026-11-18T04:05:06.1+00:00 ip-10-0-1-5 kubelet[1]: x",
		"2026-11-18T04:05:06.1Z stdout F x",
		"I1118 04:05:06.000001       1 x.go:1] x",
		"[ 1234.000001] x",
		"[Wed Nov 18 04:05:06 2026] x",
		`time="2026-11-18T04:05:06.000000001Z" level=info msg=x`,
		`{"ts":"2026-11-18T04:05:06.000Z"}`,
		"2026-11-18 04:05:06 INFO x",
	}
	for _, l := range files {
		f := Sniff(lines(l))
		if f == Text {
			t.Errorf("Sniff(%q) = text", l)
			continue
		}
		if s := c.Parse(f, []byte(l)); s.Quality == None {
			t.Errorf("Parse(%s, %q) = none", f, l)
		}
	}
}

func TestInferLocation(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		wantOff int
		ok      bool
	}{
		{"containerd +10:00 under a local prefix", `Jul 29 13:08:12 ip-192-168-1-2 containerd[3351]: time="2021-07-29T13:08:12.178455527+10:00" level=info msg="x"`, 10 * 3600, true},
		{"containerd Z under a UTC prefix", `Nov 29 18:13:10 host containerd[2506]: time="2024-11-29T18:13:10.764041708Z" level=info msg="x"`, 0, true},
		{"offset across the year turn", `Dec 31 23:59:59 host containerd[1]: time="2022-01-01T00:00:00.100000000+00:00" level=info msg="x"`, 0, true},
		{"negative half-hour offset", `Mar  3 07:00:00 host dockerd[1]: time="2024-03-03T07:00:00.5-03:30" level=info msg="x"`, -(3*3600 + 30*60), true},
		{"prefix and body disagree: not the node's clock", `Nov 29 18:13:10 host containerd[2506]: time="2024-11-29T08:13:10.764041708+10:00" level=info msg="x"`, 0, false},
		{"zone-less body proves nothing", `Nov 29 18:13:10 host app[1]: time="2024-11-29T18:13:10" msg="x"`, 0, false},
		{"short-iso prefix", "2023-09-08T17:20:30+0200 tarta r710_fan_controller.sh[20911]: Changing to fan level 4.", 2 * 3600, true},
		{"bare logfmt", `time="2021-07-29T13:08:12.178455527+10:00" level=info msg="x"`, 10 * 3600, true},
		{"majority wins", `Jul 29 13:08:12 h containerd[1]: time="2021-07-29T13:08:12.1+10:00" level=info msg="x"
Jul 29 13:08:13 h containerd[1]: time="2021-07-29T13:08:13.1+10:00" level=info msg="x"
Apr  5 03:00:00 h containerd[1]: time="2021-04-05T03:00:00.1+11:00" level=info msg="x"`, 10 * 3600, true},
		{"nothing to go on", "Nov 29 18:13:10 host kubelet[1]: I1129 18:13:10.1 1 x.go:1] x\nplain text", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc, ok := InferLocation(lines(tc.in))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if loc != nil {
					t.Fatalf("location %v with false", loc)
				}
				return
			}
			// The offset at the instant the lines were written is what the zone must give.
			_, off := time.Date(2021, 7, 29, 0, 0, 0, 0, loc).Zone()
			if off != tc.wantOff {
				t.Fatalf("offset %d, want %d", off, tc.wantOff)
			}
		})
	}
}

// TestInferLocationFeedsParse closes the loop of reference §5.1: a node on UTC+10 logs local
// prefixes; once its zone is inferred, prefix-only lines land on the right UTC instant.
func TestInferLocationFeedsParse(t *testing.T) {
	file := lines(`Jul 29 13:08:12 ip-192-168-1-2 containerd[3351]: time="2021-07-29T13:08:12.178455527+10:00" level=info msg="x"
Jul 29 13:08:14 ip-192-168-1-2 kubelet[3400]: plain message`)
	loc, ok := InferLocation(file)
	if !ok {
		t.Fatal("no zone inferred")
	}
	c := Context{Capture: utc(2021, 7, 30, 0, 0, 0, 0), Location: loc}
	got := c.Parse(JournalShort, file[1])
	if want := utc(2021, 7, 29, 3, 8, 14, 0); !got.Time.Equal(want) || got.Quality != YearInferred {
		t.Fatalf("got %v %s, want %v", got.Time, got.Quality, want)
	}
}
