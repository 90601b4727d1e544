package logtime

import "time"

// Quality says how much of a time was read from the line itself. Every event carries one,
// so a reader can tell a stamp that was printed from one that was reconstructed.
type Quality string

const (
	// Exact: the line carried a full date, time and (explicitly or by convention) zone.
	Exact Quality = "exact"
	// YearInferred: the line had month, day and time but no year; the year came from the
	// bundle's capture time.
	YearInferred Quality = "year-inferred"
	// BootAnchored: the line had seconds since boot; wall time = boot time + seconds.
	BootAnchored Quality = "boot-anchored"
	// None: no time could be read. The event inherits nothing from its neighbours.
	None Quality = "none"
)

// Stamp is a parsed time with its quality. Time is UTC; zero when Quality is None.
type Stamp struct {
	Time    time.Time
	Quality Quality
}

// Format names the timestamp layout that lines of a file start with.
type Format string

const (
	JournalShort        Format = "journal-short"         // "Feb 18 12:46:09 host ident[pid]: msg" (zero- or space-padded day)
	JournalShortPrecise Format = "journal-short-precise" // "Mar 14 10:12:31.545053 host ident: msg"
	JournalISO          Format = "journal-iso"           // "2023-09-08T17:20:30+0200 host ..." and short-iso-precise
	Syslog              Format = "syslog"                // rsyslog traditional "Apr  8 08:29:24 host tag: msg"
	RFC5424             Format = "rfc5424"               // "<6>1 2026-11-20T10:26:17.475118+00:00 host app pid msgid - msg"
	Klog                Format = "klog"                  // "E1103 10:12:01.123456    1234 file.go:12] msg"
	Logfmt              Format = "logfmt"                // containerd/docker `time="2024-11-29T18:13:10.764041708Z" level=info msg=...`
	CRI                 Format = "cri"                   // "2022-11-21T02:50:53.90545154Z stderr F content"
	JSON                Format = "json"                  // one JSON object a line with "ts"/"time"/"timestamp"
	DmesgRaw            Format = "dmesg-raw"             // "[  123.456789] msg" seconds since boot
	DmesgCtime          Format = "dmesg-ctime"           // "[Thu Oct 10 03:06:53 2024] msg"
	ISO                 Format = "iso"                   // a line starting with an RFC 3339 / "2006-01-02 15:04:05" stamp
	Text                Format = "text"                  // no per-line time (command output, configs)
)
