package logtime

import (
	"bytes"
	"time"
)

// sniffOrder lists the formats Sniff can answer, in the order that breaks ties between equal
// vote counts: the more specific layout first.
var sniffOrder = [...]Format{
	JournalISO, JournalShortPrecise, JournalShort, RFC5424, CRI, Klog, DmesgRaw, DmesgCtime, Logfmt, JSON, ISO,
}

var (
	journalMeta = []byte("-- ")
	stdoutTag   = []byte(" stdout ")
	stderrTag   = []byte(" stderr ")
)

// Sniff guesses the Format of a file from its first lines; blank lines and journal metadata
// ("-- Logs begin at …", "-- Reboot --", "-- No entries --") do not vote. Each other line votes
// for the layout it starts with; the most voted wins if it holds at least a third of the
// voting lines (journal dumps carry indented continuation lines), else the file is Text.
// journald short and rsyslog traditional differ only in how a day below 10 is padded, so a
// file whose lines all fall on days 10–31 is called JournalShort; both parse alike.
func Sniff(lines [][]byte) Format {
	var votes [len(sniffOrder)]int
	zeroPad, spacePad := 0, 0
	voters := 0
	for _, l := range lines {
		l = bytes.TrimRight(l, "\r")
		if len(bytes.TrimSpace(l)) == 0 || bytes.HasPrefix(l, journalMeta) {
			continue
		}
		voters++
		f, pad := classify(l)
		switch pad {
		case '0':
			zeroPad++
		case ' ':
			spacePad++
		}
		for i, g := range sniffOrder {
			if g == f {
				votes[i]++
				break
			}
		}
	}
	best := -1
	for i, v := range votes {
		if v > 0 && (best < 0 || v > votes[best]) {
			best = i
		}
	}
	if best < 0 || votes[best]*3 < voters {
		return Text
	}
	f := sniffOrder[best]
	if f == JournalShort && spacePad > zeroPad {
		return Syslog
	}
	return f
}

// classify names the layout one line starts with (Text when none), and for month-style
// prefixes how the day was padded.
func classify(l []byte) (Format, byte) {
	if ms, ok := parseMonthStamp(l); ok {
		if ms.precise {
			return JournalShortPrecise, ms.pad
		}
		return JournalShort, ms.pad
	}
	if len(l) == 0 {
		return Text, 0
	}
	switch l[0] {
	case '[', '<':
		if _, _, _, ok := parseDmesgRaw(l); ok {
			return DmesgRaw, 0
		}
		if _, _, ok := parseCtime(l, time.UTC); ok {
			return DmesgCtime, 0
		}
		if _, ok := rfc5424Header(l); ok {
			return RFC5424, 0
		}
		return Text, 0
	case '{':
		if _, ok := noContext.jsonTime(l); ok {
			return JSON, 0
		}
		return Text, 0
	}
	if _, _, ok := parseKlog(l); ok {
		return Klog, 0
	}
	if is, ok := parseISO(l); ok {
		rest := l[is.n:]
		switch {
		case bytes.HasPrefix(rest, stdoutTag) || bytes.HasPrefix(rest, stderrTag):
			return CRI, 0
		case is.numeric && is.tsep == 'T' && journalTail(rest):
			return JournalISO, 0
		}
		return ISO, 0
	}
	if v, ok := logfmtTime(l); ok {
		if is, ok := parseISO(v); ok && is.n == len(v) {
			return Logfmt, 0
		}
	}
	return Text, 0
}

// journalTail reports whether rest looks like journald's " host ident[pid]: " after a stamp;
// it keeps cloud-init's "2024-… - util.py[DEBUG]: " from passing for short-iso, together with
// the numeric offset that journald always prints.
func journalTail(rest []byte) bool {
	if len(rest) < 2 || rest[0] != ' ' {
		return false
	}
	i := 1
	for i < len(rest) && rest[i] != ' ' {
		i++
	}
	if i == 1 || i >= len(rest) {
		return false
	}
	i++
	start := i
	for i < len(rest) && rest[i] != ' ' {
		i++
	}
	ident := rest[start:i]
	return len(ident) > 1 && ident[len(ident)-1] == ':'
}
