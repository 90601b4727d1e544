package logtime

import (
	"bytes"
	"time"
)

// Context holds what a line cannot say about its own time: the year, the zone and the boot
// time. One Context serves a whole bundle; Parse only reads it, so it may be shared by
// goroutines.
type Context struct {
	Capture  time.Time      // bundle capture time (UTC); anchors year inference; zero: year-less stamps stay None
	Location *time.Location // node's zone for zone-less stamps; nil means UTC
	Boot     time.Time      // boot time for dmesg seconds; zero when unknown
}

// agree is how far a message body's own stamp may be from the journal prefix and still be taken
// for the same event: journald stamps on reception, so the body is a little earlier, and a
// short prefix is truncated to the second.
const agree = 2 * time.Second

// yearSlack is how far past the capture a year-inferred stamp may land before it is taken for
// the previous year; clocks of a node and of the machine that named the archive can differ.
const yearSlack = 2 * 24 * time.Hour

var noContext Context

func none() Stamp { return Stamp{Quality: None} }

func (c *Context) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// Parse reads the time at the start of line, written in format f. The result is UTC, or None
// with the zero time. Journal and syslog lines are refined by the stamp of their message body
// (klog header, containerd time=, JSON ts) when it agrees with the prefix.
func (c *Context) Parse(f Format, line []byte) Stamp {
	if c == nil {
		c = &noContext
	}
	var s Stamp
	switch f {
	case JournalShort, JournalShortPrecise, Syslog:
		s = c.parseMonthLine(line)
	case JournalISO:
		s = c.parseISOJournal(line)
	case RFC5424:
		s = c.parseRFC5424(line)
	case Klog:
		s = c.parseKlogLine(line)
	case Logfmt:
		s = c.parseLogfmt(line)
	case CRI, ISO:
		var is isoStamp
		if is.parse(line) {
			s = Stamp{is.time(c.loc()), Exact}
		}
	case JSON:
		if t, ok := c.jsonTime(line); ok {
			s = Stamp{t, Exact}
		}
	case DmesgRaw:
		s = c.stampDmesgRaw(line)
	case DmesgCtime:
		if t, _, ok := parseCtime(line, c.loc()); ok {
			s = Stamp{t, Exact}
		}
	}
	// Every branch either sets a quality with a time or leaves the zero Stamp; the zero time
	// alone decides, which also turns a stamp that reads "0001-01-01T00:00:00Z" into None.
	if s.Time.IsZero() {
		return none()
	}
	return s
}

// inferYear gives a year-less stamp the capture's year, or the year before when that would put
// it more than yearSlack after the capture (a January bundle holding December lines). A Feb 29
// that lands in a common year moves back to the latest leap year before it: the line was
// written on a real Feb 29, and a silent roll into March would misplace it by a day.
func (c *Context) inferYear(cv civil, loc *time.Location) (time.Time, int, bool) {
	if c.Capture.IsZero() {
		return time.Time{}, 0, false
	}
	var y int
	if loc == time.UTC {
		y = yearOfUnix(c.Capture.Unix())
	} else {
		y = c.Capture.In(loc).Year()
	}
	t := cv.date(y, loc)
	y0 := y
	if d, ok := diff(t, c.Capture); !ok || d > yearSlack {
		y--
	}
	if cv.month == time.February && cv.day == 29 {
		for k := 0; k < 8 && !isLeap(y); k++ {
			y--
		}
		if !isLeap(y) {
			return time.Time{}, 0, false
		}
	}
	if y != y0 {
		t = cv.date(y, loc)
	}
	return t, y, true
}

// yearNear is the year of a month/day stamp that sits next to an instant whose local year and
// month are known: the same year, except across the December→January turn.
func yearNear(y int, near, m time.Month) int {
	switch {
	case near == time.December && m == time.January:
		return y + 1
	case near == time.January && m == time.December:
		return y - 1
	}
	return y
}

// within reports whether a and b are at most d apart. It works on seconds and nanoseconds
// because time.Time.Sub's overflow check costs as much as the rest of a line's parsing.
func within(a, b time.Time, d time.Duration) bool {
	x, ok := diff(a, b)
	return ok && x <= d && x >= -d
}

// diff is a−b, or false when that is beyond a few centuries (no Duration overflow).
func diff(a, b time.Time) (time.Duration, bool) {
	ds := a.Unix() - b.Unix()
	if ds > 1<<32 || ds < -(1<<32) {
		return 0, false
	}
	return time.Duration(ds)*time.Second + time.Duration(a.Nanosecond()-b.Nanosecond()), true
}

// parseMonthLine handles journald short, short-precise and rsyslog traditional; the day may be
// zero- or space-padded in all of them, because which tool wrote a file is a guess.
func (c *Context) parseMonthLine(line []byte) Stamp {
	var ms monthStamp
	if !ms.parse(line) {
		return none()
	}
	loc := c.loc()
	body := journalBody(line[ms.n:])
	prefix, y, ok := c.inferYear(ms.civil, loc)
	if ok {
		if bt, q, ok := c.bodyTime(body, y, ms.month, loc); ok && within(bt, prefix, agree) {
			if q != Exact {
				q = YearInferred
			}
			return Stamp{bt, q}
		}
		return Stamp{prefix, YearInferred}
	}
	// Without a capture time only a body that carries its own year can place the line, and
	// only once the prefix, given that year, agrees with it.
	bt, q, ok := c.bodyTime(body, 0, ms.month, loc)
	if !ok || q != Exact {
		return none()
	}
	bl := bt.In(loc)
	y = yearNear(bl.Year(), bl.Month(), ms.month)
	if !validDay(y, ms.month, ms.day) || !within(bt, ms.date(y, loc), agree) {
		return none()
	}
	return Stamp{bt, Exact}
}

// parseISOJournal handles journald short-iso and short-iso-precise: the prefix is complete, the
// body can only add precision.
func (c *Context) parseISOJournal(line []byte) Stamp {
	var is isoStamp
	if !is.parse(line) {
		return none()
	}
	loc := c.loc()
	prefix := is.time(loc)
	pl := prefix.In(loc)
	if bt, _, ok := c.bodyTime(journalBody(line[is.n:]), pl.Year(), pl.Month(), loc); ok && within(bt, prefix, agree) {
		return Stamp{bt, Exact}
	}
	return Stamp{prefix, Exact}
}

// parseRFC5424 reads the stamp of "<PRI>1 TIMESTAMP …"; RFC 5424 requires a full date and an
// offset, so the prefix alone is exact. A nil stamp ("-") leaves the line untimed.
func (c *Context) parseRFC5424(line []byte) Stamp {
	if _, ok := rfc5424Header(line); !ok {
		return none()
	}
	var is isoStamp
	if !is.parse(line[bytes.IndexByte(line, '>')+3:]) {
		return none()
	}
	return Stamp{is.time(c.loc()), Exact}
}

func (c *Context) parseKlogLine(line []byte) Stamp {
	cv, _, ok := parseKlog(line)
	if !ok {
		return none()
	}
	t, _, ok := c.inferYear(cv, c.loc())
	if !ok {
		return none()
	}
	return Stamp{t, YearInferred}
}

var colonSpace = []byte(": ")

// journalBody returns the message of "<stamp> host ident[pid]: message" given the bytes after
// the stamp, or nil when there is no "ident: " separator.
func journalBody(rest []byte) []byte {
	i := 0
	for i < len(rest) && rest[i] == ' ' {
		i++
	}
	if k := bytes.IndexByte(rest[i:], ' '); k >= 0 {
		i += k
	} else {
		return nil
	}
	j := bytes.Index(rest[i:], colonSpace)
	if j < 0 {
		return nil
	}
	return rest[i+j+2:]
}

// journalIdent splits the bytes after a stamp into the identifier (without "[pid]") and the
// message.
func journalIdent(rest []byte) (ident, body []byte, ok bool) {
	i := 0
	for i < len(rest) && rest[i] == ' ' {
		i++
	}
	for i < len(rest) && rest[i] != ' ' {
		i++
	}
	for i < len(rest) && rest[i] == ' ' {
		i++
	}
	start := i
	j := bytes.Index(rest[i:], colonSpace)
	if j < 0 {
		return nil, nil, false
	}
	ident = rest[start : i+j]
	if k := bytes.IndexByte(ident, '['); k >= 0 {
		ident = ident[:k]
	}
	return ident, rest[i+j+2:], true
}

// bodyTime reads the stamp a program wrote into its own message: a klog header (µs, no year;
// placed in year y next to a prefix of month near, skipped when y is 0), a JSON object's
// ts/time/timestamp, or a logfmt time= field (containerd, dockerd: full date and zone).
func (c *Context) bodyTime(body []byte, y int, near time.Month, loc *time.Location) (time.Time, Quality, bool) {
	if len(body) == 0 {
		return time.Time{}, None, false
	}
	switch b := body[0]; {
	case b == '{':
		if t, ok := c.jsonTime(body); ok {
			return t, Exact, true
		}
		return time.Time{}, None, false
	case b == 'I' || b == 'W' || b == 'E' || b == 'F':
		if y == 0 {
			break
		}
		if cv, _, ok := parseKlog(body); ok {
			ky := yearNear(y, near, cv.month)
			if validDay(ky, cv.month, cv.day) {
				return cv.date(ky, loc), YearInferred, true
			}
			return time.Time{}, None, false
		}
	}
	// Only logrus' time= is looked for: it is what containerd and dockerd write, and one
	// search of the body is half the cost of also trying go-kit's ts=.
	if v, ok := logfmtValue(body, timeKey); ok {
		var is isoStamp
		if is.parse(v) && is.n == len(v) {
			return is.time(loc), Exact, true
		}
	}
	return time.Time{}, None, false
}
