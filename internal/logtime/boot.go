package logtime

import (
	"bytes"
	"slices"
	"strconv"
	"time"
)

// Boot time anchors dmesg's seconds-since-boot to wall time. A bundle offers several anchors of
// different quality (reference §5.6); each helper below reads one, and the caller picks the
// best available: BootFromKernelSyslog (sub-second), then BootFromDmesgPair and BootFromProcStat
// (whole seconds), then BootFromUptime (minutes, a sanity check).

// forEachLine calls fn with every line of data, without its "\n" or "\r\n".
func forEachLine(data []byte, fn func(line []byte)) {
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		fn(bytes.TrimSuffix(line, []byte("\r")))
	}
}

// median returns the middle value (the lower one of an even count) of xs, which it sorts.
func median(xs []int64) int64 {
	slices.Sort(xs)
	return xs[(len(xs)-1)/2]
}

var btimeKey = []byte("btime ")

// BootFromProcStat reads the boot time from /proc/stat's "btime <epoch>" line
// (system/procstat.txt). The kernel derives it from the wall clock at read time minus uptime,
// so it is whole seconds and moves when the clock was stepped after boot.
func BootFromProcStat(data []byte) (time.Time, bool) {
	var t time.Time
	found := false
	forEachLine(data, func(l []byte) {
		if found || !bytes.HasPrefix(l, btimeKey) {
			return
		}
		v, err := strconv.ParseInt(string(bytes.TrimSpace(l[len(btimeKey):])), 10, 64)
		if err != nil || v <= 0 || v > 1<<40 {
			return
		}
		t, found = time.Unix(v, 0).UTC(), true
	})
	return t, found
}

// BootFromDmesgPair pairs the records of `dmesg` (raw) and `dmesg --ctime` (read in loc, nil
// meaning UTC) by message text and returns the median of ctime − seconds. util-linux prints
// ctime as boot second + whole record seconds, so the fraction of the raw seconds is dropped
// and every honest pair gives the same value; the median outvotes pairs of equal text that
// are not the same record. Messages seen more than once on either side, or on one side only
// (appended between the two dmesg runs, or rotated out), are ignored.
func BootFromDmesgPair(raw, ctime []byte, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	type rec struct {
		sec int64
		n   int
	}
	rawRecs := map[string]rec{}
	forEachLine(raw, func(l []byte) {
		sec, _, n, ok := parseDmesgRaw(l)
		if !ok {
			return
		}
		k := string(dmesgMessage(l[n:]))
		r := rawRecs[k]
		rawRecs[k] = rec{sec, r.n + 1}
	})
	type crec struct {
		t time.Time
		n int
	}
	ctimeRecs := map[string]crec{}
	forEachLine(ctime, func(l []byte) {
		t, n, ok := parseCtime(l, loc)
		if !ok {
			return
		}
		k := string(dmesgMessage(l[n:]))
		r := ctimeRecs[k]
		ctimeRecs[k] = crec{t, r.n + 1}
	})
	var boots []int64
	for k, cr := range ctimeRecs {
		if r, ok := rawRecs[k]; ok && r.n == 1 && cr.n == 1 {
			boots = append(boots, cr.t.Unix()-r.sec)
		}
	}
	if len(boots) == 0 {
		return time.Time{}, false
	}
	return time.Unix(median(boots), 0).UTC(), true
}

var (
	topPrefix = []byte("top - ")
	upWord    = []byte(" up ")
)

// BootFromUptime reads `top -b -n 1`'s header ("top - 10:29:58 up 12 days,  3:17,  1 user, …",
// system/top.txt) and returns capture − uptime, to the minute. The header clock replaces the
// capture's own time when it lies within half an hour of it, which recovers the seconds that
// the archive name (HHMM) drops; on a node whose zone is not UTC the clock is ignored.
func BootFromUptime(topTxt []byte, capture time.Time) (time.Time, bool) {
	if capture.IsZero() {
		return time.Time{}, false
	}
	var line []byte
	forEachLine(topTxt, func(l []byte) {
		if line == nil && bytes.HasPrefix(l, topPrefix) {
			line = l
		}
	})
	if line == nil {
		return time.Time{}, false
	}
	h, m, s, ok := clock(line, len(topPrefix))
	rest := line[len(topPrefix)+8:]
	if !ok || !bytes.HasPrefix(rest, upWord) {
		return time.Time{}, false
	}
	up, ok := parseUptime(rest[len(upWord):])
	if !ok {
		return time.Time{}, false
	}
	now := capture.UTC()
	best := 30 * time.Minute
	for d := -1; d <= 1; d++ {
		cand := time.Date(now.Year(), now.Month(), now.Day()+d, h, m, s, 0, time.UTC)
		if diff := cand.Sub(capture).Abs(); diff <= best {
			best, now = diff, cand
		}
	}
	return now.Add(-up).UTC(), true
}

// parseUptime reads procps' uptime phrase: ["N day(s), "] then "H:MM" or "N min".
func parseUptime(b []byte) (time.Duration, bool) {
	b = bytes.TrimLeft(b, " ")
	n, i := leadingInt(b)
	if i == 0 {
		return 0, false
	}
	var up time.Duration
	rest := b[i:]
	if bytes.HasPrefix(rest, []byte(" day")) {
		up = time.Duration(n) * 24 * time.Hour
		j := bytes.IndexByte(rest, ',')
		if j < 0 {
			return up, true
		}
		b = bytes.TrimLeft(rest[j+1:], " ")
		if n, i = leadingInt(b); i == 0 {
			return up, true
		}
		rest = b[i:]
	}
	switch {
	case len(rest) > 0 && rest[0] == ':':
		mm, ok := num(rest, 1, 2)
		if !ok || mm > 59 {
			return 0, false
		}
		return up + time.Duration(n)*time.Hour + time.Duration(mm)*time.Minute, true
	case bytes.HasPrefix(rest, []byte(" min")):
		return up + time.Duration(n)*time.Minute, true
	}
	return 0, false
}

func leadingInt(b []byte) (int, int) {
	v, i := 0, 0
	for i < len(b) && i < 9 && isDigit(b[i]) {
		v = v*10 + int(b[i]-'0')
		i++
	}
	return v, i
}

// BootFromKernelSyslog anchors dmesg to the wall clock through kernel records that were also
// written, with a wall-clock prefix, to var_log/messages or a journal (syslog: the whole file;
// only "kernel:" lines are read). A kernel line that kept its "[seconds]" stamp (Ubuntu) is an
// anchor by itself; others are paired by message text with rawDmesg (unique on both sides).
// This is the best anchor a bundle has: journald stamps kernel records milliseconds after
// printk, with no clock-step or suspend error. The prefix year and zone come from c.
//
// With whole-second prefixes each pair bounds the boot time to a one-second interval; the
// answer is the middle of the intersection over the pairs near the median (so it sharpens with
// more pairs and ignores mismatched ones), or median + ½ s when the intervals do not meet.
// With fractional prefixes (journald short-precise) it is the median of the offsets.
func (c *Context) BootFromKernelSyslog(rawDmesg, syslog []byte) (time.Time, bool) {
	if c == nil {
		c = &noContext
	}
	type rec struct {
		ns int64
		n  int
	}
	rawRecs := map[string]rec{}
	forEachLine(rawDmesg, func(l []byte) {
		sec, nsec, n, ok := parseDmesgRaw(l)
		if !ok {
			return
		}
		k := string(dmesgMessage(l[n:]))
		r := rawRecs[k]
		rawRecs[k] = rec{sec*1e9 + int64(nsec), r.n + 1}
	})
	var fine, coarse []int64
	add := func(off int64, precise bool) {
		if precise {
			fine = append(fine, off)
		} else {
			coarse = append(coarse, off)
		}
	}
	type srec struct {
		wall    int64
		precise bool
		n       int
	}
	sysRecs := map[string]srec{}
	forEachLine(syslog, func(l []byte) {
		wall, precise, rest, ok := c.prefixTime(l)
		if !ok {
			return
		}
		ident, body, ok := journalIdent(rest)
		if !ok || string(ident) != "kernel" {
			return
		}
		if sec, nsec, _, ok := parseDmesgRaw(body); ok {
			add(wall.UnixNano()-(sec*1e9+int64(nsec)), precise)
			return
		}
		k := string(body)
		r := sysRecs[k]
		sysRecs[k] = srec{wall.UnixNano(), precise, r.n + 1}
	})
	for k, s := range sysRecs {
		if r, ok := rawRecs[k]; ok && r.n == 1 && s.n == 1 {
			add(s.wall-r.ns, s.precise)
		}
	}
	switch {
	case len(fine) > 0:
		return time.Unix(0, median(fine)).UTC(), true
	case len(coarse) == 0:
		return time.Time{}, false
	}
	m := median(coarse)
	const sec = int64(time.Second)
	lo, hi := int64(0), int64(0)
	first := true
	for _, v := range coarse {
		if v < m-3*sec/2 || v > m+3*sec/2 {
			continue
		}
		if first || v > lo {
			lo = v
		}
		if first || v+sec < hi {
			hi = v + sec
		}
		first = false
	}
	if lo < hi {
		return time.Unix(0, lo+(hi-lo)/2).UTC(), true
	}
	return time.Unix(0, m+sec/2).UTC(), true
}

// prefixTime reads the wall-clock prefix of a syslog or journal line (month style with an
// inferred year, or ISO), returning the rest of the line after it.
func (c *Context) prefixTime(l []byte) (t time.Time, precise bool, rest []byte, ok bool) {
	loc := c.loc()
	if ms, ok := parseMonthStamp(l); ok {
		t, _, ok := c.inferYear(ms.civil, loc)
		return t, ms.precise, l[ms.n:], ok
	}
	if is, ok := parseISO(l); ok {
		return is.time(loc).UTC(), is.precise, l[is.n:], true
	}
	return time.Time{}, false, nil, false
}
