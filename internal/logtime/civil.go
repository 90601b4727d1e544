package logtime

import "time"

// civil is a calendar date and wall clock as printed, before a year or zone is attached.
// Keeping the fields apart (instead of building a time.Time early) lets year inference and the
// zone decision happen once, at the end, with the validity of the date checked first: time.Date
// would silently turn "Feb 29" of a common year into March 1.
type civil struct {
	year  int
	month time.Month
	day   int
	hour  int
	min   int
	sec   int
	nsec  int
}

// date builds the instant of cv in loc and returns it in UTC. UTC, the zone of nearly every
// node, is computed by calendar arithmetic: time.Date's general zone lookup was most of the
// cost of a journal line.
func (cv civil) date(year int, loc *time.Location) time.Time {
	if loc == time.UTC {
		return time.Unix(cv.unix(year), int64(cv.nsec)).UTC()
	}
	return time.Date(year, cv.month, cv.day, cv.hour, cv.min, cv.sec, cv.nsec, loc).UTC()
}

// unix is the Unix second of cv in year, read as UTC. Like time.Date, second 60 becomes the
// next minute.
func (cv civil) unix(year int) int64 {
	return daysFromCivil(year, int(cv.month), cv.day)*86400 + int64(cv.hour*3600+cv.min*60+cv.sec)
}

// daysFromCivil counts days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
// Years start in March so the leap day comes last, and are shifted by 4800 (a multiple of the
// 400-year cycle) so that every division is unsigned: this runs two or three times per line.
func daysFromCivil(y, m, d int) int64 {
	yy := uint64(y + 4800)
	mm := uint64(m)
	if mm <= 2 {
		yy--
		mm += 9
	} else {
		mm -= 3
	}
	days := 365*yy + yy/4 - yy/100 + yy/400 + (153*mm+2)/5 + uint64(d) - 1
	return int64(days) - epochDays
}

// epochDays is daysFromCivil's count for 1970-01-01 before the shift is taken off.
const epochDays = 365*6769 + 6769/4 - 6769/100 + 6769/400 + (153*10+2)/5

// shiftDays is 4800 years (twelve 400-year cycles) of days; adding it keeps dates after
// 2830 BC positive in yearOfUnix.
const shiftDays = 12 * 146097

// yearOfUnix is the UTC year of Unix second sec, the inverse of daysFromCivil for the year.
func yearOfUnix(sec int64) int {
	z := uint64(sec+shiftDays*86400)/86400 + 719468 // days since 0000-03-01, shifted
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	y := int(yoe+era*400) - 4800
	if (5*doy+2)/153 >= 10 { // January or February: the next civil year
		y++
	}
	return y
}

// validDay reports whether day exists in month of year; year 0 means "any leap year", which is
// what a year-less stamp can claim until a year is chosen.
func validDay(year int, m time.Month, day int) bool {
	if m < time.January || m > time.December || day < 1 {
		return false
	}
	if m == time.February {
		if day == 29 {
			return year == 0 || isLeap(year)
		}
		return day <= 28
	}
	return day <= monthDays[m]
}

var monthDays = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// validClock allows second 60 because leap seconds are printed as such; time.Date folds it
// into the next minute, which is the best a time.Time can do.
func validClock(h, m, s int) bool { return h >= 0 && h < 24 && m >= 0 && m < 60 && s >= 0 && s <= 60 }

// num reads exactly n ASCII digits at b[i:].
func num(b []byte, i, n int) (int, bool) {
	if i < 0 || i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// frac reads the digits of a decimal fraction at b[i:] as nanoseconds. Digits past the ninth are
// consumed and dropped: some producers print more than Go can hold, and rounding up could carry
// into the next second.
func frac(b []byte, i int) (ns int, j int, ok bool) {
	j = i
	scale := 100000000
	for j < len(b) && isDigit(b[j]) {
		ns += int(b[j]-'0') * scale
		scale /= 10
		j++
	}
	return ns, j, j > i
}

// clock reads "hh:mm:ss" at b[i:].
func clock(b []byte, i int) (h, m, s int, ok bool) {
	if i+8 > len(b) || b[i+2] != ':' || b[i+5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := num(b, i, 2)
	m, ok2 := num(b, i+3, 2)
	s, ok3 := num(b, i+6, 2)
	if !ok1 || !ok2 || !ok3 || !validClock(h, m, s) {
		return 0, 0, 0, false
	}
	return h, m, s, true
}

func key3(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

// month3 reads an English month abbreviation; journalctl and rsyslog print them in the C
// locale (the collector script sets LANG=C), so other languages are not expected.
func month3(b []byte) (time.Month, bool) {
	if len(b) < 3 {
		return 0, false
	}
	switch key3(b) {
	case 'J'<<16 | 'a'<<8 | 'n':
		return time.January, true
	case 'F'<<16 | 'e'<<8 | 'b':
		return time.February, true
	case 'M'<<16 | 'a'<<8 | 'r':
		return time.March, true
	case 'A'<<16 | 'p'<<8 | 'r':
		return time.April, true
	case 'M'<<16 | 'a'<<8 | 'y':
		return time.May, true
	case 'J'<<16 | 'u'<<8 | 'n':
		return time.June, true
	case 'J'<<16 | 'u'<<8 | 'l':
		return time.July, true
	case 'A'<<16 | 'u'<<8 | 'g':
		return time.August, true
	case 'S'<<16 | 'e'<<8 | 'p':
		return time.September, true
	case 'O'<<16 | 'c'<<8 | 't':
		return time.October, true
	case 'N'<<16 | 'o'<<8 | 'v':
		return time.November, true
	case 'D'<<16 | 'e'<<8 | 'c':
		return time.December, true
	}
	return 0, false
}

func weekday3(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	switch key3(b) {
	case 'M'<<16 | 'o'<<8 | 'n', 'T'<<16 | 'u'<<8 | 'e', 'W'<<16 | 'e'<<8 | 'd', 'T'<<16 | 'h'<<8 | 'u',
		'F'<<16 | 'r'<<8 | 'i', 'S'<<16 | 'a'<<8 | 't', 'S'<<16 | 'u'<<8 | 'n':
		return true
	}
	return false
}

// padDay reads a day of month written as "08", " 8" or "8" at b[i:], followed by a space.
// pad reports how it was written ('0', ' ', or 0 when two significant digits leave no trace),
// which is all that tells journald short from rsyslog apart.
func padDay(b []byte, i int) (day, next int, pad byte, ok bool) {
	if i >= len(b) {
		return 0, 0, 0, false
	}
	switch {
	case b[i] == ' ':
		if i+2 < len(b) && isDigit(b[i+1]) && b[i+2] == ' ' {
			return int(b[i+1] - '0'), i + 2, ' ', true
		}
	case i+2 < len(b) && isDigit(b[i]) && isDigit(b[i+1]) && b[i+2] == ' ':
		d := int(b[i]-'0')*10 + int(b[i+1]-'0')
		if b[i] == '0' {
			pad = '0'
		}
		return d, i + 2, pad, true
	case i+1 < len(b) && isDigit(b[i]) && b[i+1] == ' ':
		return int(b[i] - '0'), i + 1, 0, true
	}
	return 0, 0, 0, false
}

// monthStamp is a parsed "Mmm dd hh:mm:ss[.frac]" prefix (journald short and short-precise,
// rsyslog traditional).
type monthStamp struct {
	civil
	n       int  // bytes consumed
	precise bool // a fraction of a second was printed
	pad     byte // see padDay
}

func parseMonthStamp(b []byte) (monthStamp, bool) {
	var ms monthStamp
	ok := ms.parse(b)
	return ms, ok
}

// parse fills ms from the start of b; the hot path uses it to skip copying the result.
func (ms *monthStamp) parse(b []byte) bool {
	m, ok := month3(b)
	if !ok || len(b) < 4 || b[3] != ' ' {
		return false
	}
	day, i, pad, ok := padDay(b, 4)
	if !ok || !validDay(0, m, day) || b[i] != ' ' {
		return false
	}
	h, mi, s, ok := clock(b, i+1)
	if !ok {
		return false
	}
	i += 9
	ns := 0
	if i < len(b) && b[i] == '.' {
		if ns, i, ok = frac(b, i+1); !ok {
			return false
		}
		ms.precise = true
	}
	if i < len(b) && b[i] != ' ' && b[i] != '\t' {
		return false
	}
	ms.civil = civil{month: m, day: day, hour: h, min: mi, sec: s, nsec: ns}
	ms.n, ms.pad = i, pad
	return true
}

// isoStamp is a parsed "YYYY-MM-DD[T ]hh:mm:ss[.frac][zone]".
type isoStamp struct {
	civil
	off     int  // seconds east of UTC, when zone
	zone    bool // an offset or Z was printed
	numeric bool // the zone was a numeric offset (journald never prints Z)
	precise bool // a fraction of a second was printed
	tsep    byte // the date/time separator, 'T' or ' '
	n       int  // bytes consumed
}

// parseISO accepts the RFC 3339 family as node logs write it: 'T' or space between date and
// time, any fraction width with '.' or ',' (Python logging, dmesg --time-format iso), and zones
// "Z", "+hh:mm", "+hhmm" or "+hh". "YYYY/MM/DD" covers Go's log package. The stamp must end at
// a non-alphanumeric byte, so "10:30:001" is not read as ten thirty.
func parseISO(b []byte) (isoStamp, bool) {
	var is isoStamp
	ok := is.parse(b)
	return is, ok
}

// parse fills is from the start of b; hot paths use it to skip copying the result.
func (is *isoStamp) parse(b []byte) bool {
	if len(b) < 19 {
		return false
	}
	sep := b[4]
	if (sep != '-' && sep != '/') || b[7] != sep {
		return false
	}
	y, ok1 := num(b, 0, 4)
	mo, ok2 := num(b, 5, 2)
	d, ok3 := num(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || !validDay(y, time.Month(mo), d) {
		return false
	}
	switch b[10] {
	case 'T', 't', ' ':
	default:
		return false
	}
	h, mi, s, ok := clock(b, 11)
	if !ok {
		return false
	}
	i := 19
	ns := 0
	if i < len(b) && (b[i] == '.' || b[i] == ',') {
		if ns, i, ok = frac(b, i+1); !ok {
			return false
		}
		is.precise = true
	}
	if i < len(b) {
		switch b[i] {
		case 'Z', 'z':
			is.zone = true
			i++
		case '+', '-':
			if off, j, ok := parseOffset(b, i); ok {
				is.off, is.zone, is.numeric = off, true, true
				i = j
			}
		}
	}
	if i < len(b) && isAlnum(b[i]) {
		return false
	}
	is.civil = civil{year: y, month: time.Month(mo), day: d, hour: h, min: mi, sec: s, nsec: ns}
	is.tsep = b[10]
	is.n = i
	return true
}

// parseOffset reads "+hh:mm", "+hhmm" or "+hh" at b[i:] (b[i] is the sign).
func parseOffset(b []byte, i int) (off, next int, ok bool) {
	hh, ok := num(b, i+1, 2)
	if !ok || hh > 23 {
		return 0, 0, false
	}
	j := i + 3
	mm := 0
	if j < len(b) && b[j] == ':' {
		if mm, ok = num(b, j+1, 2); !ok {
			return 0, 0, false
		}
		j += 3
	} else if v, ok := num(b, j, 2); ok {
		mm = v
		j += 2
	}
	if mm > 59 {
		return 0, 0, false
	}
	off = hh*3600 + mm*60
	if b[i] == '-' {
		off = -off
	}
	return off, j, true
}

// time places the stamp: at its printed offset when it has one, else in loc (the node's zone).
// The offset is applied by arithmetic so no time.FixedZone has to be allocated per line.
func (is *isoStamp) time(loc *time.Location) time.Time {
	if is.zone {
		return time.Unix(is.unix(is.year)-int64(is.off), int64(is.nsec)).UTC()
	}
	return is.date(is.year, loc)
}

// klogStamp reads a klog header "Lmmdd hh:mm:ss.uuuuuu" at the start of b.
func parseKlog(b []byte) (civil, int, bool) {
	if len(b) < 15 {
		return civil{}, 0, false
	}
	switch b[0] {
	case 'I', 'W', 'E', 'F':
	default:
		return civil{}, 0, false
	}
	mo, ok1 := num(b, 1, 2)
	d, ok2 := num(b, 3, 2)
	if !ok1 || !ok2 || b[5] != ' ' || !validDay(0, time.Month(mo), d) {
		return civil{}, 0, false
	}
	h, mi, s, ok := clock(b, 6)
	if !ok {
		return civil{}, 0, false
	}
	i := 14
	ns := 0
	if i < len(b) && b[i] == '.' {
		if ns, i, ok = frac(b, i+1); !ok {
			return civil{}, 0, false
		}
	}
	if i < len(b) && b[i] != ' ' {
		return civil{}, 0, false
	}
	return civil{month: time.Month(mo), day: d, hour: h, min: mi, sec: s, nsec: ns}, i, true
}
