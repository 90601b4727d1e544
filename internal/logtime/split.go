package logtime

import (
	"bytes"
	"time"
)

// Split separates a node log line into the identifier of the program that wrote it and its
// message, whatever syslog or journal prefix the line carries:
//
//   - journald short and short-precise, rsyslog traditional: "Nov 20 10:26:17[.123456] host ident[pid]: msg"
//     (day zero- or space-padded);
//   - journald short-iso and short-iso-precise, rsyslog RSYSLOG_FileFormat:
//     "2026-11-20T10:26:17[.123456](+0000|+00:00|Z) host ident[pid]: msg";
//   - RFC 5424: "<6>1 2026-11-20T10:26:17.123456+00:00 host ident pid msgid [sd|-] msg", also
//     without its "<6>1 " header as rsyslog's protocol-23 file template writes it.
//
// A CRI container log line ("2026-11-20T10:26:17.1Z stderr F msg") has no identifier; its
// message is the content after the stream and tag. ident is also nil when the line has no
// prefix at all (a raw klog line, containerd logfmt, a dmesg record); msg is then the whole
// line. The identifier is returned without its
// "[pid]". Every detection rule and extractor reads the message, so the same event is caught
// whichever file and form it arrives in.
func Split(line []byte) (ident, msg []byte) {
	ident, msg = split(line)
	if ident == nil && len(msg) == len(line) {
		if m, ok := kernelAfterUnknownStamp(line); ok {
			return kernelIdent, m
		}
	}
	return ident, msg
}

var kernelIdent = []byte("kernel")

// kernelAfterUnknownStamp reads a kernel line that a collector wrote with a stamp of its own
// ("2016-07-31 16:26:53 +0000 UTC kern.info kernel: msg", Go's time.Time.String() and a
// facility.severity): a clock, then " kernel: " within the first 96 bytes. Kernel lines are the
// ones every collector forwards, and their rules anchor at the message, so an unknown stamp
// would otherwise hide an OOM kill or an oops.
func kernelAfterUnknownStamp(line []byte) ([]byte, bool) {
	if len(line) == 0 || line[0] == '[' || line[0] == '<' || IsKlog(line) {
		return nil, false
	}
	head := line[:min(len(line), 96)]
	k := bytes.Index(head, []byte(" kernel: "))
	if k < 8 {
		return nil, false
	}
	for i := 0; i+8 <= k; i++ {
		if _, _, _, ok := clock(head, i); ok {
			return line[k+len(" kernel: "):], true
		}
	}
	return nil, false
}

func split(line []byte) (ident, msg []byte) {
	var rest []byte
	switch {
	case len(line) == 0:
		return nil, line
	case line[0] == '<':
		if id, m, ok := splitRFC5424(line); ok {
			return id, m
		}
		return nil, line
	case isDigit(line[0]):
		var is isoStamp
		if !is.parse(line) || is.tsep != 'T' || !is.zone {
			if n, ok := localizedStamp(line); ok {
				if id, m, ok := syslogTail(line[n:]); ok {
					return id, m
				}
			}
			return nil, line
		}
		rest = line[is.n:]
		if m, ok := criContent(rest); ok {
			return nil, m
		}
	default:
		var ms monthStamp
		if ms.parse(line) {
			rest = line[ms.n:]
		} else if n, ok := localizedStamp(line); ok {
			rest = line[n:]
		} else {
			return nil, line
		}
	}
	if id, m, ok := syslogTail(rest); ok {
		return id, m
	}
	// rsyslog's protocol-23 template without its "<PRI>1" header: "stamp host app procid msgid sd msg".
	if len(rest) > 0 && rest[0] == ' ' && isDigit(line[0]) {
		if id, m, ok := rfc5424Fields(rest, 1); ok {
			return id, bytes.TrimLeft(m, " ")
		}
	}
	return nil, line
}

// localizedStamp reads a journald short stamp whose month name is not English, as journalctl
// prints it under a non-C locale ("12月 12 11:44:22"): one short word, a day and a clock. The
// time cannot be placed, but the identifier and message can still be read.
func localizedStamp(b []byte) (int, bool) {
	i := bytes.IndexByte(b, ' ')
	if i <= 0 || i > 12 || allDigits(b[:i]) {
		return 0, false
	}
	day, j, _, ok := padDay(b, i+1)
	if !ok || day < 1 || day > 31 {
		return 0, false
	}
	if _, _, _, ok := clock(b, j+1); !ok {
		return 0, false
	}
	j += 9
	if j < len(b) && b[j] == '.' {
		if _, j, ok = frac(b, j+1); !ok {
			return 0, false
		}
	}
	return j, true
}

// criContent returns the content of a CRI log line given the bytes after its stamp:
// " stdout F content" or " stderr P content".
func criContent(rest []byte) ([]byte, bool) {
	if len(rest) < 9 || rest[0] != ' ' || (!bytes.HasPrefix(rest[1:], []byte("stdout ")) && !bytes.HasPrefix(rest[1:], []byte("stderr "))) {
		return nil, false
	}
	tag := rest[8:]
	if len(tag) < 1 || (tag[0] != 'F' && tag[0] != 'P') || (len(tag) > 1 && tag[1] != ' ') {
		// The CRI format before Kubernetes 1.10 (and CRI-O 1.0) had no F/P tag: the content
		// follows the stream directly.
		return tag, true
	}
	if len(tag) == 1 {
		return tag[1:], true
	}
	return tag[2:], true
}

// syslogTail reads " host ident[pid]: msg" after a stamp. The identifier is one token (no
// blanks) that ends in "[pid]: " or ": "; a host is one token. Journald prints the message after
// exactly one blank, so the message keeps its own leading blanks (continuations are not split).
func syslogTail(rest []byte) (ident, msg []byte, ok bool) {
	i := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
		i++
	}
	if i == 0 {
		return nil, nil, false
	}
	h := i
	bracket := false
	for i < len(rest) && rest[i] != ' ' {
		bracket = bracket || rest[i] == '[' || rest[i] == ']'
		i++
	}
	if i == h || i >= len(rest) {
		return nil, nil, false
	}
	if !bracket && rest[i-1] == ':' && i-1 > h && isIdentToken(rest[h:i-1]) {
		// No host and no pid: a collector that left the host field empty ("Jun 10 12:19:18
		// kubelet: F0610 …", two blanks) or dropped it. A host name never ends in a colon.
		return rest[h : i-1], afterColon(rest[i:]), true
	}
	if bracket {
		// No host: a source that redacted it ("May 03 16:11:34 containerd[19317]: msg"). Any
		// other bracket ("[eks-bootstrap] ERROR: …") is a message, not "host ident:".
		if id, m, ok := identPID(rest[h:]); ok {
			return id, m, true
		}
		return nil, nil, false
	}
	i++
	s := i
	for i < len(rest) {
		switch rest[i] {
		case '[':
			if i == s {
				return nil, nil, false
			}
			end := bytes.IndexByte(rest[i:], ']')
			if end < 0 || i+end+1 >= len(rest) || rest[i+end+1] != ':' {
				return nil, nil, false
			}
			return rest[s:i], afterColon(rest[i+end+2:]), true
		case ':':
			if i == s {
				return nil, nil, false
			}
			return rest[s:i], afterColon(rest[i+1:]), true
		case ' ':
			return nil, nil, false
		}
		i++
	}
	return nil, nil, false
}

// isIdentToken reports whether b looks like a syslog identifier: a program name, not a word of
// prose ("ERROR") or a time.
func isIdentToken(b []byte) bool {
	lower := false
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '/', c == '@':
		default:
			return false
		}
	}
	return lower
}

// identPID reads "ident[pid]: msg" at the start of b.
func identPID(b []byte) (ident, msg []byte, ok bool) {
	lb := bytes.IndexByte(b, '[')
	if lb <= 0 || bytes.IndexByte(b[:lb], ' ') >= 0 {
		return nil, nil, false
	}
	rb := bytes.IndexByte(b[lb:], ']')
	if rb < 2 || !allDigits(b[lb+1:lb+rb]) || lb+rb+1 >= len(b) || b[lb+rb+1] != ':' {
		return nil, nil, false
	}
	return b[:lb], afterColon(b[lb+rb+2:]), true
}

func afterColon(b []byte) []byte {
	if len(b) > 0 && b[0] == ' ' {
		return b[1:]
	}
	return b
}

// splitRFC5424 reads "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]" (RFC 5424 §6).
func splitRFC5424(line []byte) (ident, msg []byte, ok bool) {
	n, ok := rfc5424Header(line)
	if !ok {
		return nil, nil, false
	}
	return rfc5424Fields(line, n)
}

// rfc5424Fields reads "HOSTNAME APP-NAME PROCID MSGID SD [MSG]" from line[i:]. Nil values are
// "-"; structured data is "-" or one or more "[id k=\"v\"…]" elements. PROCID is a number or
// "-", which keeps ordinary text from passing for the header.
func rfc5424Fields(line []byte, i int) (ident, msg []byte, ok bool) {
	fields := [4][]byte{} // hostname, app-name, procid, msgid
	for k := range fields {
		start := i
		for i < len(line) && line[i] != ' ' {
			i++
		}
		if i == start || i >= len(line) {
			return nil, nil, false
		}
		fields[k] = line[start:i]
		i++
	}
	if pid := fields[2]; !(len(pid) == 1 && pid[0] == '-') && !allDigits(pid) {
		return nil, nil, false
	}
	switch {
	case i < len(line) && line[i] == '-':
		i++
	case i < len(line) && line[i] == '[':
		for i < len(line) && line[i] == '[' {
			j := sdEnd(line, i)
			if j < 0 {
				return nil, nil, false
			}
			i = j
		}
	default:
		return nil, nil, false
	}
	if i < len(line) {
		if line[i] != ' ' {
			return nil, nil, false
		}
		i++
	}
	msg = bytes.TrimPrefix(line[i:], []byte("\xef\xbb\xbf")) // the BOM RFC 5424 allows before UTF-8 text
	if app := fields[1]; !(len(app) == 1 && app[0] == '-') {
		ident = app
	}
	return ident, msg, true
}

// rfc5424Header reads "<PRI>1 TIMESTAMP " and returns the index past it; TIMESTAMP is an RFC
// 3339 stamp or "-".
func rfc5424Header(line []byte) (int, bool) {
	j := bytes.IndexByte(line, '>')
	if j < 2 || j > 4 {
		return 0, false
	}
	for _, c := range line[1:j] {
		if !isDigit(c) {
			return 0, false
		}
	}
	i := j + 1
	if i+2 >= len(line) || line[i] != '1' || line[i+1] != ' ' {
		return 0, false
	}
	i += 2
	if line[i] == '-' {
		i++
	} else {
		var is isoStamp
		if !is.parse(line[i:]) {
			return 0, false
		}
		i += is.n
	}
	if i >= len(line) || line[i] != ' ' {
		return 0, false
	}
	return i + 1, true
}

// sdEnd returns the index past the structured-data element starting at line[i] == '[', whose
// quoted parameter values may hold escaped '"', '\\' and ']'.
func sdEnd(line []byte, i int) int {
	quoted := false
	for j := i + 1; j < len(line); j++ {
		switch c := line[j]; {
		case c == '\\' && quoted:
			j++
		case c == '"':
			quoted = !quoted
		case c == ']' && !quoted:
			return j + 1
		}
	}
	return -1
}

// KernelMessage strips what a kernel record carries before its text, in any combination: a
// printk level "<4>", the raw dmesg stamp "[  139.201482]", the dmesg --ctime stamp
// "[Thu Nov 20 10:26:17 2026]" and the CONFIG_PRINTK_CALLER field "[  T896]". Text that does
// not start with one of them is returned as is.
func KernelMessage(msg []byte) []byte {
	for {
		p := bytes.TrimLeft(msg, " ")
		if len(p) == 0 {
			return msg
		}
		n := 0
		switch p[0] {
		case '<':
			if j := bytes.IndexByte(p, '>'); j >= 2 && j <= 4 && allDigits(p[1:j]) {
				n = j + 1
			}
		case '[':
			if _, _, k, ok := parseDmesgRaw(p); ok {
				n = k
			} else if _, k, ok := parseCtime(p, time.UTC); ok {
				n = k
			} else if j := bytes.IndexByte(p, ']'); j > 0 && j <= 12 && callerField(p[1:j]) {
				n = j + 1
			}
		}
		if n == 0 {
			return msg
		}
		msg = bytes.TrimLeft(p[n:], " ")
	}
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// Message returns the text of a line without its syslog or journal prefix and, for kernel
// records (identifier "kernel", or no identifier), without the kernel's own stamps.
func Message(line []byte) []byte {
	ident, msg := Split(line)
	if ident == nil || string(ident) == "kernel" {
		return KernelMessage(msg)
	}
	return msg
}

// IsKlog reports whether msg starts with a klog header ("E1120 10:26:17.123456 …").
func IsKlog(msg []byte) bool {
	_, _, ok := parseKlog(msg)
	return ok
}

// IdentPID reads "ident[pid]: msg" at the start of b: a syslog line whose stamp and host were
// cut away.
func IdentPID(b []byte) (ident, msg []byte, ok bool) { return identPID(b) }
