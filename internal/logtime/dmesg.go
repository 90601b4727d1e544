package logtime

import (
	"bytes"
	"time"
)

// parseDmesgRaw reads the "[ssss.uuuuuu]" stamp of a raw dmesg record at the start of b, after
// an optional "<level>" (dmesg -r). n is the index just past ']'. Seconds are limited to nine
// digits (31 years of uptime) so that the nanosecond sum cannot overflow.
func parseDmesgRaw(b []byte) (sec int64, nsec int, n int, ok bool) {
	i := 0
	if len(b) > 0 && b[0] == '<' {
		j := 1
		for j < len(b) && j < 5 && isDigit(b[j]) {
			j++
		}
		if j == 1 || j >= len(b) || b[j] != '>' {
			return 0, 0, 0, false
		}
		i = j + 1
	}
	if i >= len(b) || b[i] != '[' {
		return 0, 0, 0, false
	}
	i++
	for i < len(b) && b[i] == ' ' {
		i++
	}
	start := i
	for i < len(b) && isDigit(b[i]) {
		if i-start == 9 {
			return 0, 0, 0, false
		}
		sec = sec*10 + int64(b[i]-'0')
		i++
	}
	if i == start || i >= len(b) || b[i] != '.' {
		return 0, 0, 0, false
	}
	nsec, i, ok = frac(b, i+1)
	if !ok || i >= len(b) || b[i] != ']' {
		return 0, 0, 0, false
	}
	return sec, nsec, i + 1, true
}

var kernelBracket = []byte("kernel: [")

// DmesgSeconds returns the seconds-since-boot of a raw dmesg line, also when the record sits
// after a syslog or journal prefix as "kernel: [  139.201482] ..." (Ubuntu's rsyslog keeps it).
func DmesgSeconds(line []byte) (float64, bool) {
	sec, nsec, _, ok := dmesgStamp(line)
	if !ok {
		return 0, false
	}
	return float64(sec) + float64(nsec)/1e9, true
}

// dmesgStamp is DmesgSeconds with exact integers and the index past the stamp.
func dmesgStamp(line []byte) (sec int64, nsec int, n int, ok bool) {
	if sec, nsec, n, ok = parseDmesgRaw(line); ok {
		return sec, nsec, n, true
	}
	i := bytes.Index(line, kernelBracket)
	if i < 0 {
		return 0, 0, 0, false
	}
	i += len(kernelBracket) - 1
	sec, nsec, n, ok = parseDmesgRaw(line[i:])
	return sec, nsec, i + n, ok
}

// dmesgMessage strips what follows a dmesg stamp down to the message text: the printk caller
// field ("[  T896]", CONFIG_PRINTK_CALLER) and the separating blank. Raw and --ctime renderings
// of one record then compare equal.
func dmesgMessage(rest []byte) []byte {
	if len(rest) > 0 && rest[0] == '[' {
		if j := bytes.IndexByte(rest, ']'); j > 0 && j <= 12 && callerField(rest[1:j]) {
			rest = rest[j+1:]
		}
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return rest
}

// callerField reports whether f (between the brackets) is a printk caller: blanks, then T<tid>
// or C<cpu>.
func callerField(f []byte) bool {
	i := 0
	for i < len(f) && f[i] == ' ' {
		i++
	}
	if i >= len(f)-1 || (f[i] != 'T' && f[i] != 'C') {
		return false
	}
	for _, c := range f[i+1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// stampDmesgRaw stamps a raw dmesg line from the Context's boot time.
func (c *Context) stampDmesgRaw(line []byte) Stamp {
	sec, nsec, _, ok := parseDmesgRaw(line)
	if !ok || c.Boot.IsZero() {
		return none()
	}
	return Stamp{c.Boot.Add(time.Duration(sec)*time.Second + time.Duration(nsec)).UTC(), BootAnchored}
}

// parseCtime reads "[Www Mmm dd hh:mm:ss yyyy]" (dmesg --ctime / -T, day space-padded) at the
// start of b, in loc: dmesg formats it with localtime(3). n is the index just past ']'.
func parseCtime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 25 || b[0] != '[' || !weekday3(b[1:]) || b[4] != ' ' {
		return time.Time{}, 0, false
	}
	m, ok := month3(b[5:])
	if !ok || b[8] != ' ' {
		return time.Time{}, 0, false
	}
	day, i, _, ok := padDay(b, 9)
	if !ok {
		return time.Time{}, 0, false
	}
	h, mi, s, ok := clock(b, i+1)
	if !ok {
		return time.Time{}, 0, false
	}
	i += 9
	if i+6 > len(b) || b[i] != ' ' || b[i+5] != ']' {
		return time.Time{}, 0, false
	}
	y, ok := num(b, i+1, 4)
	if !ok || !validDay(y, m, day) {
		return time.Time{}, 0, false
	}
	cv := civil{month: m, day: day, hour: h, min: mi, sec: s}
	return cv.date(y, loc), i + 6, true
}
