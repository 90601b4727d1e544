package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Line renderers. Each one reproduces a producer's layout byte for byte (reference §5): the
// parsers under test were written against these layouts, so a renderer that is "close enough"
// would hide exactly the bugs the scenarios exist to find.

// journalStyle is the journalctl output mode a bundle producer used.
type journalStyle uint8

const (
	jShort        journalStyle = iota // eks-log-collector: "Nov 20 08:17:03", zero-padded day
	jShortPrecise                     // logdog: "Nov 20 08:17:03.123456"
	jISOPrecise                       // node monitoring agent: "2026-11-20T08:17:03.123456+0000"
)

func journalStamp(s journalStyle, t time.Time) string {
	t = t.UTC()
	switch s {
	case jShortPrecise:
		return t.Format("Jan 02 15:04:05.000000")
	case jISOPrecise:
		// systemd ≤ 254 prints the offset without a colon; AL2023 ships 252.
		return t.Format("2006-01-02T15:04:05.000000-0700")
	default:
		return t.Format("Jan 02 15:04:05")
	}
}

// syslogStamp is rsyslog's traditional RFC 3164 stamp: the day is space-padded, unlike journald.
func syslogStamp(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05") }

// identTag renders "ident[pid]" or just "ident" when the pid is unknown.
func identTag(ident string, pid int) string {
	if pid <= 0 {
		return ident
	}
	return ident + "[" + strconv.Itoa(pid) + "]"
}

// klogLine renders a klog header: the thread id is the process id right-aligned in 7 columns.
func klogLine(level byte, t time.Time, pid int, src, msg string) string {
	t = t.UTC()
	return fmt.Sprintf("%c%s.%06d %7d %s] %s", level, t.Format("0102 15:04:05"), t.Nanosecond()/1000, pid, src, msg)
}

// kv renders structured klog/logfmt pairs: strings are Go-quoted (so embedded quotes become \"),
// raw values (numbers, JSON objects, unquoted UUIDs of old kubelets) are written as given.
type kv struct {
	k   string
	v   string
	raw bool
}

func q(k, v string) kv   { return kv{k: k, v: v} }
func raw(k, v string) kv { return kv{k: k, v: v, raw: true} }
func num(k string, v int) kv {
	return kv{k: k, v: strconv.Itoa(v), raw: true}
}

// structured renders an InfoS/ErrorS body: the Go-quoted message, then the pairs.
func structured(msg string, pairs ...kv) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(msg))
	for _, p := range pairs {
		b.WriteByte(' ')
		b.WriteString(p.k)
		b.WriteByte('=')
		if p.raw {
			b.WriteString(p.v)
		} else {
			b.WriteString(strconv.Quote(p.v))
		}
	}
	return b.String()
}

// ctrdTime is containerd's RFC3339NanoFixed: always nine fraction digits.
func ctrdTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") }

// logfmtValue quotes a logrus text-formatter value only when it needs it, as logrus does.
func logfmtValue(v string) string {
	if v == "" {
		return `""`
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+') {
			return strconv.Quote(v)
		}
	}
	return v
}

// ctrdLine renders a containerd logrus body: time, level, msg, then extra fields in order.
func ctrdLine(t time.Time, level, msg string, fields ...kv) string {
	var b strings.Builder
	b.WriteString(`time="`)
	b.WriteString(ctrdTime(t))
	b.WriteString(`" level=`)
	b.WriteString(level)
	b.WriteString(" msg=")
	b.WriteString(strconv.Quote(msg))
	for _, f := range fields {
		b.WriteByte(' ')
		b.WriteString(f.k)
		b.WriteByte('=')
		if f.raw {
			b.WriteString(f.v)
		} else {
			b.WriteString(logfmtValue(f.v))
		}
	}
	return b.String()
}

// criStamp is Go's RFC3339Nano as containerd's CRI logger writes it: trailing zeros trimmed,
// so the fraction width varies from line to line.
func criStamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func criLine(t time.Time, stream, content string) string {
	return criStamp(t) + " " + stream + " F " + content
}

// dmesgRaw is `dmesg` without options: seconds since boot, right-aligned in 5 columns.
func dmesgRaw(since time.Duration, msg string) string {
	us := since.Microseconds()
	return fmt.Sprintf("[%5d.%06d] %s", us/1e6, us%1e6, msg)
}

// dmesgCtime is `dmesg --ctime`: boot time plus the record's whole seconds, space-padded day.
func dmesgCtime(t time.Time, msg string) string {
	return "[" + t.UTC().Format("Mon Jan _2 15:04:05 2006") + "] " + msg
}

// zapTS is the VPC CNI zap encoder's ISO-8601 time with milliseconds.
func zapTS(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z0700") }

// zapLine renders one ipamd/plugin JSON log line with zap's key order: level, ts, caller, msg.
func zapLine(t time.Time, level, caller, msg string, extra ...kv) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"level":%s,"ts":%s,"caller":%s,"msg":%s`, jsonString(level), jsonString(zapTS(t)), jsonString(caller), jsonString(msg))
	for _, e := range extra {
		b.WriteString(",")
		b.WriteString(jsonString(e.k))
		b.WriteString(":")
		if e.raw {
			b.WriteString(e.v)
		} else {
			b.WriteString(jsonString(e.v))
		}
	}
	b.WriteString("}")
	return b.String()
}

// nodeadmLine is nodeadm's zap body, whose ts is a float epoch, unlike the CNI's.
func nodeadmLine(t time.Time, level, caller, msg string) string {
	ts := float64(t.UnixNano()) / 1e9
	return fmt.Sprintf(`{"level":%s,"ts":%s,"caller":%s,"msg":%s}`, jsonString(level), strconv.FormatFloat(ts, 'f', 7, 64), jsonString(caller), jsonString(msg))
}

// jsonString escapes like encoding/json with HTML escaping off, without its allocation-heavy API.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, c)
			} else {
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// goDuration renders a back-off delay as kubelet prints it ("1m20s", "5m0s").
func goDuration(d time.Duration) string { return d.String() }

// dashedToSystemd turns a pod UID into the form systemd slice names use.
func dashedToSystemd(uid string) string { return strings.ReplaceAll(uid, "-", "_") }
