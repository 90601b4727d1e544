package logtime

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBootFromProcStat(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want time.Time
		ok   bool
	}{
		{"btime", "cpu  8822791 1243 2251163 398211872 88231 0 40122 0 0 0\nbtime 1762586539\nprocesses 4412290\n",
			time.Unix(1762586539, 0).UTC(), true},
		{"crlf", "intr 1\r\nbtime 1700000000\r\n", time.Unix(1700000000, 0).UTC(), true},
		{"missing", "cpu 1 2 3\nprocesses 4\n", time.Time{}, false},
		{"garbage", "btime soon\n", time.Time{}, false},
		{"zero", "btime 0\n", time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := BootFromProcStat([]byte(tc.in))
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Fatalf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// ctimeOf renders t as dmesg --ctime does (localtime in loc, space-padded day).
func ctimeOf(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return fmt.Sprintf("[%s %s %2d %s %d]", t.Format("Mon"), t.Format("Jan"), t.Day(), t.Format("15:04:05"), t.Year())
}

// dmesgPair renders the same records as `dmesg` and `dmesg --ctime` would, with util-linux's
// arithmetic: whole boot second + whole record second.
func dmesgPair(boot time.Time, loc *time.Location, secs []float64, msgs []string) (raw, ctime string) {
	var r, c strings.Builder
	for i, s := range secs {
		fmt.Fprintf(&r, "[%12.6f] %s\n", s, msgs[i])
		wall := time.Unix(boot.Unix()+int64(s), 0)
		fmt.Fprintf(&c, "%s %s\n", ctimeOf(wall, loc), msgs[i])
	}
	return r.String(), c.String()
}

func TestBootFromDmesgPair(t *testing.T) {
	boot := utc(2026, 11, 8, 7, 12, 19, 0)
	secs := []float64{0.000000, 1.5, 32.298491, 1000.999999, 86400.25, 1049000.123456}
	msgs := []string{"Linux version 5.10", "x", "kexec[896]: segfault at 0", "eth0: link up", "oom-kill:constraint=CONSTRAINT_MEMCG", "late"}

	t.Run("utc", func(t *testing.T) {
		raw, ct := dmesgPair(boot, time.UTC, secs, msgs)
		got, ok := BootFromDmesgPair([]byte(raw), []byte(ct), nil)
		if !ok || !got.Equal(boot) {
			t.Fatalf("got %v %v, want %v", got, ok, boot)
		}
	})
	t.Run("local zone", func(t *testing.T) {
		raw, ct := dmesgPair(boot, plus10, secs, msgs)
		got, ok := BootFromDmesgPair([]byte(raw), []byte(ct), plus10)
		if !ok || !got.Equal(boot) {
			t.Fatalf("got %v %v, want %v", got, ok, boot)
		}
	})
	t.Run("records on one side only and repeated texts are ignored", func(t *testing.T) {
		raw, ct := dmesgPair(boot, time.UTC, secs, msgs)
		// A record appended between the two runs, a duplicated text paired wrongly if used,
		// and a caller field that must not stop the pairing.
		raw += "[1049001.000000] appended later\n[    5.000000] dup\n[    9.000000] dup\n[  200.000000][  T896] with caller\n"
		ct += ctimeOf(boot.Add(5*time.Second), time.UTC) + " dup\n" + ctimeOf(boot.Add(999*time.Second), time.UTC) + " dup\n"
		ct += ctimeOf(boot.Add(200*time.Second), time.UTC) + "[  T896] with caller\n"
		got, ok := BootFromDmesgPair([]byte(raw), []byte(ct), time.UTC)
		if !ok || !got.Equal(boot) {
			t.Fatalf("got %v %v, want %v", got, ok, boot)
		}
	})
	t.Run("a minority of mismatched pairs loses to the median", func(t *testing.T) {
		raw, ct := dmesgPair(boot, time.UTC, secs, msgs)
		raw += "[  100.000000] liar\n"
		ct += ctimeOf(boot.Add(time.Hour), time.UTC) + " liar\n"
		got, ok := BootFromDmesgPair([]byte(raw), []byte(ct), time.UTC)
		if !ok || !got.Equal(boot) {
			t.Fatalf("got %v %v, want %v", got, ok, boot)
		}
	})
	t.Run("no common record", func(t *testing.T) {
		_, ok := BootFromDmesgPair([]byte("[ 1.000000] a\n"), []byte("[Thu Oct 10 03:06:53 2024] b\n"), nil)
		if ok {
			t.Fatal("ok without a pair")
		}
	})
}

func TestBootFromUptime(t *testing.T) {
	capture := utc(2026, 11, 20, 10, 29, 0, 0) // archive names carry minutes only
	cases := []struct {
		name    string
		top     string
		capture time.Time // zero: capture
		want    time.Time
		ok      bool
	}{
		{"days and hours", "top - 10:29:58 up 12 days,  3:17,  1 user,  load average: 0.08, 0.03, 0.01\nTasks: 1 total\n", time.Time{},
			utc(2026, 11, 20, 10, 29, 58, 0).Add(-(12*24*time.Hour + 3*time.Hour + 17*time.Minute)), true},
		{"hours only", "top - 10:29:58 up  3:17,  0 users,  load average: 0.00, 0.00, 0.00\n", time.Time{},
			utc(2026, 11, 20, 7, 12, 58, 0), true},
		{"minutes", "top - 10:29:58 up 45 min,  0 users,  load average: 0.00\n", time.Time{}, utc(2026, 11, 20, 9, 44, 58, 0), true},
		{"one day and minutes", "top - 10:29:58 up 1 day, 45 min,  0 users\n", time.Time{}, utc(2026, 11, 19, 9, 44, 58, 0), true},
		{"clock of another zone is not used", "top - 20:29:58 up 45 min,  0 users\n", time.Time{}, capture.Add(-45 * time.Minute), true},
		{"clock just past midnight", "top - 00:00:30 up 1:00,  0 users\n", utc(2026, 11, 20, 23, 59, 0, 0), utc(2026, 11, 20, 23, 0, 30, 0), true},
		{"not top", "Tasks: 1 total\n", time.Time{}, time.Time{}, false},
		{"no uptime", "top - 10:29:58 up unknown\n", time.Time{}, time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := capture
			if !tc.capture.IsZero() {
				c = tc.capture
			}
			got, ok := BootFromUptime([]byte(tc.top), c)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Fatalf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := BootFromUptime([]byte("top - 10:29:58 up 45 min,\n"), time.Time{}); ok {
		t.Fatal("ok without a capture time")
	}
}

func TestBootFromKernelSyslog(t *testing.T) {
	// A boot time with a fraction: whole-second syslog prefixes must still narrow it down.
	boot := utc(2026, 11, 8, 7, 12, 19, 250000000)
	c := Context{Capture: utc(2026, 11, 20, 10, 30, 0, 0)}
	var raw, msgs strings.Builder
	for i := range 40 {
		// Record times spread over the fraction of a second, journald receiving each 2 ms later.
		s := 1000 + float64(i)*37.013 + float64(i%10)*0.1
		ns := int64(s * 1e9)
		msg := fmt.Sprintf("eth%d: link becomes ready", i)
		fmt.Fprintf(&raw, "[%12.6f] %s\n", s, msg)
		wall := boot.Add(time.Duration(ns) + 2*time.Millisecond)
		fmt.Fprintf(&msgs, "%s %2d %s ip-10-0-1-5 kernel: %s\n", wall.Format("Jan"), wall.Day(), wall.Format("15:04:05"), msg)
		fmt.Fprintf(&msgs, "%s %2d %s ip-10-0-1-5 systemd[1]: %s\n", wall.Format("Jan"), wall.Day(), wall.Format("15:04:05"), msg)
	}
	got, ok := c.BootFromKernelSyslog([]byte(raw.String()), []byte(msgs.String()))
	if !ok {
		t.Fatal("no anchor")
	}
	if d := got.Sub(boot).Abs(); d > 100*time.Millisecond {
		t.Fatalf("boot %v is %v from %v", got, d, boot)
	}

	t.Run("kernel seconds kept in syslog need no raw dmesg", func(t *testing.T) {
		// Ubuntu: "kernel: [  139.201482] …" on a 18:14:43 prefix.
		in := "May 19 18:14:43 aks-np0cas-14924781-vmss000008 kernel: [  139.201482] Memory cgroup out of memory: Killed process 7788 (bash)\n"
		c := Context{Capture: utc(2025, 5, 20, 0, 0, 0, 0)}
		got, ok := c.BootFromKernelSyslog(nil, []byte(in))
		lo := utc(2025, 5, 19, 18, 14, 43, 0).Add(-139201482 * time.Microsecond)
		if !ok || got.Before(lo) || !got.Before(lo.Add(time.Second)) {
			t.Fatalf("got %v %v, want within a second after %v", got, ok, lo)
		}
	})
	t.Run("precise journal prefixes use the median", func(t *testing.T) {
		var raw, j strings.Builder
		for i := range 5 {
			s := 50.5 + float64(i)
			fmt.Fprintf(&raw, "[%12.6f] m%d\n", s, i)
			wall := boot.Add(time.Duration(s*1e6) * time.Microsecond).Add(time.Millisecond)
			fmt.Fprintf(&j, "%s %s localhost kernel: m%d\n", wall.Format("Jan 02"), wall.Format("15:04:05.000000"), i)
		}
		got, ok := c.BootFromKernelSyslog([]byte(raw.String()), []byte(j.String()))
		if want := boot.Add(time.Millisecond); !ok || !got.Equal(want) {
			t.Fatalf("got %v %v, want %v", got, ok, want)
		}
	})
	t.Run("no kernel lines", func(t *testing.T) {
		if _, ok := c.BootFromKernelSyslog([]byte("[ 1.000000] a\n"), []byte("Nov 08 07:12:20 h systemd[1]: a\n")); ok {
			t.Fatal("anchored on a non-kernel line")
		}
	})
}

func TestCaptureFromArchiveName(t *testing.T) {
	cases := []struct {
		name string
		want time.Time
		ok   bool
	}{
		{"eks_i-0abc_2022-12-19_1639-UTC_0.7.3.tar.gz", utc(2022, 12, 19, 16, 39, 0, 0), true},
		{"eks_i-XXXXXXXXXXXXXXXXX_2022-12-19_1639-UTC_0.7.3.tar.gz", utc(2022, 12, 19, 16, 39, 0, 0), true},
		{"eks__2022-12-19_1639-UTC_0.7.3.tar.gz", utc(2022, 12, 19, 16, 39, 0, 0), true},
		{"/var/log/eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz", utc(2026, 11, 20, 10, 30, 0, 0), true},
		{"s3://bucket/eks_i-0abc_2024-02-29_0000-UTC_0.7.8.tar.gz", utc(2024, 2, 29, 0, 0, 0, 0), true},
		{"eks_i-0abc_2026-11-20_1030-UTC_0.7.9", utc(2026, 11, 20, 10, 30, 0, 0), true},
		{`C:\bundles\eks_i-0abc_2026-11-20_1030-UTC_0.7.9.tar.gz`, utc(2026, 11, 20, 10, 30, 0, 0), true},
		{"eks_i-0014be4d4a0ea0543_94dc3448-b94b-470b-8f2d-99b81aad4c53.tar.gz", time.Time{}, false},
		{"eks_i-0abc_2023-02-29_1639-UTC_0.7.3.tar.gz", time.Time{}, false},
		{"eks_i-0abc_2022-12-19_2460-UTC_0.7.3.tar.gz", time.Time{}, false},
		{"eks_i-0abc_2022-12-19_1639-CET_0.7.3.tar.gz", time.Time{}, false},
		{"eks_i-0abc_2022-12-19_1639-UTCX.tar.gz", time.Time{}, false},
		{"bottlerocket-logs.tar.gz", time.Time{}, false},
		{"ip-10-0-1-5.ec2.internal-logs.tar.gz", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tc := range cases {
		got, ok := CaptureFromArchiveName(tc.name)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("CaptureFromArchiveName(%q) = %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
