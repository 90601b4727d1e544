// Command mkexport writes, in systemd's journal export format, the entries that
// systemd-journal-remote turns into the test journals of internal/journal (see ../README.md).
// The messages are real lines from nodediag's corpus (testdata/corpus at the repository root,
// each with the public source it was published in); only their framing (times, boot ids, pids,
// units) is ours, chosen so that every filter and rendering rule of the reader is exercised.
//
// Usage: go run ./internal/journal/testdata/mkexport [FROM [TO]] > entries.export
// writes entries FROM to TO-1 (counted from 0) of the sequence, all by default.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/nodediag/nodediag/internal/corpus"
)

const (
	host     = "ip-10-0-37-142.us-west-2.compute.internal"
	bootPrev = "1b4c7c3e9a0d4f6e8a2b5c7d9e0f1a2b" // the boot before: its kernel lines are not -k's
	bootCur  = "6a1f0e2d3c4b5a69788796a5b4c3d2e1"
	start    = int64(1732903200000000) // 2024-11-29T18:00:00Z in µs
)

// syslogPrefix is the "Mon DD HH:MM:SS[.frac] host ident[pid]: " a published line may carry.
var syslogPrefix = regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d(\.\d+)? \S+ [^:\s]+: `)

// dmesgStamp is dmesg's "[   12.345678] " or "[Thu Dec  7 00:05:15 2017] ".
var dmesgStamp = regexp.MustCompile(`^\[[^\]]*\] `)

type field struct{ k, v string }

type gen struct {
	w        *bufio.Writer
	n        int   // entries made so far
	from, to int   // only entries from..to-1 are written (to 0: all), to split one journal in two files
	t        int64 // realtime of the next entry
	mon      int64
}

func (g *gen) entry(boot string, fs ...field) {
	g.t += 1234567
	g.mon += 1234567
	g.n++
	if g.n-1 < g.from || g.to > 0 && g.n-1 >= g.to {
		return
	}
	fmt.Fprintf(g.w, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n_HOSTNAME=%s\n", g.t, g.mon, boot, host)
	for _, f := range fs {
		if strings.ContainsAny(f.v, "\n") {
			// Export format's binary-safe form: name, newline, little-endian 64-bit size, bytes.
			fmt.Fprintf(g.w, "%s\n", f.k)
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], uint64(len(f.v)))
			g.w.Write(n[:])
			fmt.Fprintf(g.w, "%s\n", f.v)
			continue
		}
		fmt.Fprintf(g.w, "%s=%s\n", f.k, f.v)
	}
	g.w.WriteString("\n")
}

func message(e corpus.Entry) string {
	if loc := syslogPrefix.FindStringIndex(e.Line); loc != nil {
		return e.Line[loc[1]:]
	}
	return e.Line
}

func pick(es []corpus.Entry, logType string, n int, ok func(string) bool) []string {
	var out []string
	for _, e := range es {
		if e.LogType != logType {
			continue
		}
		m := message(e)
		if logType == "dmesg" {
			m = dmesgStamp.ReplaceAllString(m, "")
		}
		if ok(m) {
			out = append(out, m)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

func main() {
	es, err := corpus.LoadDir("testdata/corpus")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	klog := regexp.MustCompile(`^[IWEF]\d{4} `)
	kubelet := pick(es, "kubelet", 40, klog.MatchString)
	containerd := pick(es, "containerd", 30, func(m string) bool { return strings.HasPrefix(m, `time="`) })
	kernel := pick(es, "dmesg", 40, func(m string) bool { return !strings.Contains(m, "\t") })
	var long []string
	for _, m := range append(append([]string{}, kubelet...), containerd...) {
		if len(m) > 600 {
			long = append(long, m)
		}
	}
	if len(kubelet) < 40 || len(containerd) < 30 || len(kernel) < 40 || len(long) == 0 {
		fmt.Fprintf(os.Stderr, "corpus too small: %d kubelet, %d containerd, %d kernel, %d long\n", len(kubelet), len(containerd), len(kernel), len(long))
		os.Exit(1)
	}
	g := &gen{w: bufio.NewWriter(os.Stdout), t: start, mon: 5000000}
	for i, a := range os.Args[1:min(len(os.Args), 3)] {
		n, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: mkexport [FROM [TO]]")
			os.Exit(2)
		}
		if i == 0 {
			g.from = n
		} else {
			g.to = n
		}
	}
	defer g.w.Flush()

	kern := func(boot, m string) {
		g.entry(boot, field{"_TRANSPORT", "kernel"}, field{"PRIORITY", "6"}, field{"SYSLOG_FACILITY", "0"}, field{"SYSLOG_IDENTIFIER", "kernel"}, field{"MESSAGE", m})
	}
	unit := func(boot, name, ident, pid, m string) {
		g.entry(boot, field{"_TRANSPORT", "stdout"}, field{"PRIORITY", "6"}, field{"SYSLOG_IDENTIFIER", ident}, field{"_PID", pid}, field{"_UID", "0"},
			field{"_COMM", ident}, field{"_SYSTEMD_UNIT", name}, field{"MESSAGE", m})
	}

	// The previous boot: kernel and kubelet lines, so -k's "this boot only" is tested.
	for _, m := range kernel[:10] {
		kern(bootPrev, m)
	}
	for _, m := range kubelet[:5] {
		unit(bootPrev, "kubelet.service", "kubelet", "917", m)
	}

	// The current boot.
	g.mon = 3000000
	for _, m := range kernel[10:25] {
		kern(bootCur, m)
	}
	// PID 1 about the unit: journalctl -u matches UNIT= from _PID=1.
	g.entry(bootCur, field{"_TRANSPORT", "journal"}, field{"PRIORITY", "6"}, field{"SYSLOG_IDENTIFIER", "systemd"}, field{"_PID", "1"}, field{"_UID", "0"},
		field{"_COMM", "systemd"}, field{"UNIT", "kubelet.service"}, field{"MESSAGE", "Started kubelet.service - Kubernetes Kubelet."})
	// A daemon running as root about the unit: OBJECT_SYSTEMD_UNIT= with _UID=0.
	g.entry(bootCur, field{"_TRANSPORT", "journal"}, field{"PRIORITY", "4"}, field{"SYSLOG_IDENTIFIER", "systemd-oomd"}, field{"_PID", "402"}, field{"_UID", "0"},
		field{"_COMM", "systemd-oomd"}, field{"OBJECT_SYSTEMD_UNIT", "containerd.service"}, field{"_SYSTEMD_UNIT", "systemd-oomd.service"}, field{"MESSAGE", containerd[0]})
	// Not about kubelet: UNIT= from a process other than PID 1 does not count.
	g.entry(bootCur, field{"_TRANSPORT", "journal"}, field{"SYSLOG_IDENTIFIER", "fake"}, field{"_PID", "77"}, field{"_UID", "1000"},
		field{"UNIT", "kubelet.service"}, field{"MESSAGE", kubelet[5]})
	for i, m := range kubelet[6:] {
		unit(bootCur, "kubelet.service", "kubelet", "2538", m)
		if i%4 == 0 {
			unit(bootCur, "containerd.service", "containerd", "2506", containerd[1+i/4])
		}
		if i%7 == 0 {
			kern(bootCur, kernel[25+i/7])
		}
	}
	for _, m := range containerd[10:] {
		unit(bootCur, "containerd.service", "containerd", "2506", m)
	}
	// Long messages: compressed by the writer.
	for _, m := range long {
		unit(bootCur, "kubelet.service", "kubelet", "2538", m)
	}
	// A multi-line message: journalctl indents its later lines under the first.
	unit(bootCur, "kubelet.service", "kubelet", "2538", strings.Join(kubelet[30:33], "\n"))
	// No identifier: the command name stands in; SYSLOG_PID stands in for _PID.
	g.entry(bootCur, field{"_TRANSPORT", "stdout"}, field{"_COMM", "kubelet"}, field{"SYSLOG_PID", "2538"}, field{"_SYSTEMD_UNIT", "kubelet.service"}, field{"MESSAGE", kubelet[33]})
	// The sender's own time differs from the journal's reception time: journalctl shows the sender's.
	g.t += 1000
	g.entry(bootCur, field{"_TRANSPORT", "syslog"}, field{"SYSLOG_IDENTIFIER", "kubelet"}, field{"_PID", "2538"}, field{"_SYSTEMD_UNIT", "kubelet.service"},
		field{"_SOURCE_REALTIME_TIMESTAMP", fmt.Sprint(g.t - 250000)}, field{"MESSAGE", kubelet[34]})
	// A tab in a message: journalctl shows it as spaces.
	unit(bootCur, "kubelet.service", "kubelet", "2538", strings.Replace(kubelet[35], " ", "\t", 1))
	// Another unit: never in -u kubelet or -k.
	unit(bootCur, "sshd.service", "sshd", "888", "Accepted publickey for ec2-user from 10.0.0.5 port 50122 ssh2")
	for _, m := range kernel[30:] {
		kern(bootCur, m)
	}
}
