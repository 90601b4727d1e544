package logtime

import (
	"bytes"
	"fmt"
	"time"
)

// InferLocation derives the node's zone from lines that print one: a journal or syslog line
// whose body carries a containerd/dockerd time= with an explicit offset (the prefix is local
// time, so the two wall clocks must agree before the offset is believed), a line that starts
// with a zoned stamp (journald short-iso, CRI), or a bare logfmt line. The most frequent offset
// wins, so a DST change inside the bundle yields the offset most lines were written in. The
// result is a fixed zone (UTC itself for offset 0); false when no line tells.
func InferLocation(lines [][]byte) (*time.Location, bool) {
	var offs []int
	var counts []int
	for _, l := range lines {
		off, ok := lineOffset(l)
		if !ok {
			continue
		}
		found := false
		for i, o := range offs {
			if o == off {
				counts[i]++
				found = true
				break
			}
		}
		if !found {
			offs = append(offs, off)
			counts = append(counts, 1)
		}
	}
	if len(offs) == 0 {
		return nil, false
	}
	best := 0
	for i := range offs {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return fixedZone(offs[best]), true
}

// fixedZone names an offset the way people read it ("UTC+10", "UTC-03:30").
func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	sign := '+'
	a := off
	if a < 0 {
		sign, a = '-', -a
	}
	name := fmt.Sprintf("UTC%c%02d", sign, a/3600)
	if a%3600 != 0 {
		name = fmt.Sprintf("UTC%c%02d:%02d", sign, a/3600, a%3600/60)
	}
	return time.FixedZone(name, off)
}

// lineOffset returns the zone offset (seconds east of UTC) one line proves.
func lineOffset(l []byte) (int, bool) {
	if ms, ok := parseMonthStamp(l); ok {
		v, ok := logfmtTime(journalBody(l[ms.n:]))
		if !ok {
			return 0, false
		}
		is, ok := parseISO(v)
		if !ok || !is.zone || is.n != len(v) {
			return 0, false
		}
		// Both wall clocks read as if UTC: equal (within agree) when prefix and body were
		// written in the same zone about the same event.
		y := yearNear(is.year, is.month, ms.month)
		if !validDay(y, ms.month, ms.day) {
			return 0, false
		}
		if !within(ms.date(y, time.UTC), is.date(is.year, time.UTC), agree) {
			return 0, false
		}
		return is.off, true
	}
	if is, ok := parseISO(l); ok {
		return is.off, is.zone
	}
	if bytes.HasPrefix(l, timeKey) {
		if v, ok := logfmtValue(l, timeKey); ok {
			if is, ok := parseISO(v); ok && is.zone && is.n == len(v) {
				return is.off, true
			}
		}
	}
	return 0, false
}
