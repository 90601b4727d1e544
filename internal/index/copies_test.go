package index

import (
	"context"
	"strings"
	"testing"
)

// TestCopiesCountOnce: AL2 writes one event to several files — the kernel ring buffer (raw and
// --ctime), var_log/messages (kernel and kubelet lines), kubelet.log. Each event counts once,
// its sample lists the other copies, and the per-minute counts agree with the total. Lines that
// look alike but are different events stay apart: the same kernel text a minute later, the same
// text in two rotated pieces of messages, and a repeat inside one file.
func TestCopiesCountOnce(t *testing.T) {
	const kubeletLine = `E1120 10:26:18.098221    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 10s restarting failed container=api pod=api-0_shop(5da5612b-9738-493c-af51-a213072997f6)\"" pod="shop/api-0" podUID="5da5612b-9738-493c-af51-a213072997f6"`
	const table = "nf_conntrack: nf_conntrack: table full, dropping packet"
	files := []struct{ path, logType, text string }{
		{"kernel/dmesg.current", "dmesg", strings.Join([]string{
			"[  100.000000] " + killedLine,
			"[  101.000000] " + table,
			"[  101.000100] " + table, // a second event in the same second: two lines in every copy
		}, "\n")},
		{"kernel/dmesg.human.current", "dmesg", strings.Join([]string{
			"[Fri Nov 20 10:01:40 2026] " + killedLine,
			"[Fri Nov 20 10:01:41 2026] " + table,
			"[Fri Nov 20 10:01:41 2026] " + table,
		}, "\n")},
		{"var_log/messages", "messages", strings.Join([]string{
			"Nov 20 10:01:40 ip-10-0-37-142 kernel: " + killedLine,
			"Nov 20 10:01:41 ip-10-0-37-142 kernel: " + table,
			"Nov 20 10:01:41 ip-10-0-37-142 kernel: " + table,
			"Nov 20 10:03:00 ip-10-0-37-142 kernel: " + table, // only here: the ring buffer lost it
			"Nov 20 10:26:18 ip-10-0-37-142 kubelet[3187]: " + kubeletLine,
		}, "\n")},
		{"var_log/messages-20261115", "messages", "Nov 15 03:00:00 ip-10-0-37-142 kernel: " + table},
		{"kubelet/kubelet.log", "kubelet", "Nov 20 10:26:18 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: " + kubeletLine},
	}
	// /proc/stat btime: boot at 10:00:00, so raw second 100 is 10:01:40.
	b := newBuilder(t, map[string]string{"system/procstat.txt": "btime 1795168800\n"})
	for _, f := range files {
		if err := b.IndexFile(context.Background(), f.path, f.logType, strings.NewReader(f.text+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	idx := b.Finish()
	// sample is the index of a sample that has copies (the conntrack samples start with Nov 15's).
	want := map[string]struct{ count, copies, sample, also int }{
		"kernel-oom-killed-process-memcg": {1, 2, 0, 2},
		"kernel-conntrack-table-full":     {4, 4, 1, 2}, // 2 at 10:01:41 + 10:03 + Nov 15
		"kubelet-crashloop-backoff":       {1, 1, 0, 1},
	}
	for rule, w := range want {
		var f *Finding
		for i := range idx.Findings {
			if idx.Findings[i].Rule == rule {
				f = &idx.Findings[i]
			}
		}
		if f == nil {
			t.Errorf("%s: no finding", rule)
			continue
		}
		if f.Count != w.count || f.Copies != w.copies {
			t.Errorf("%s: count %d copies %d, want %d and %d", rule, f.Count, f.Copies, w.count, w.copies)
		}
		perMinute := 0
		for _, m := range f.Minutes {
			perMinute += m.N
		}
		if perMinute+f.Untimed != f.Count {
			t.Errorf("%s: minutes add up to %d (+%d untimed), count is %d", rule, perMinute, f.Untimed, f.Count)
		}
		if len(f.Samples) != f.Count || len(f.Samples[w.sample].Also) != w.also {
			t.Errorf("%s: samples %+v, want %d, of which #%d with %d copies in also", rule, f.Samples, f.Count, w.sample, w.also)
		}
	}
}

func TestSeriesOf(t *testing.T) {
	for path, want := range map[string]string{
		"var_log/messages":                          "var_log/messages",
		"var_log/messages-20261115":                 "var_log/messages",
		"var_log/messages-20261115.gz":              "var_log/messages",
		"var_log/aws-routed-eni/ipamd.log.1.gz":     "var_log/aws-routed-eni/ipamd.log",
		"var_log/pods/a/c/0.log.20261119-101010.gz": "var_log/pods/a/c/0.log",
		"var_log/pods/a/c/1.log":                    "var_log/pods/a/c/1.log",
		"kernel/dmesg.current":                      "kernel/dmesg.current",
	} {
		if got := seriesOf(path); got != want {
			t.Errorf("seriesOf(%q) = %q, want %q", path, got, want)
		}
	}
}
