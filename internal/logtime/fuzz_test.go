package logtime

import (
	"testing"
	"time"
)

// fuzzContexts cover the ways a Context changes the code path: no capture (year-less stamps
// give up or borrow a body's year), a capture in UTC, a capture in a node zone with a boot.
var fuzzContexts = []Context{
	{},
	{Capture: utc(2027, 1, 3, 5, 0, 0, 0)},
	{Capture: utc(2024, 3, 1, 0, 0, 0, 0), Location: plus10, Boot: utc(2024, 2, 20, 1, 2, 3, 400000000)},
}

// fuzzParse checks the invariants of Parse for every context: no panic, none ⇔ zero time, UTC,
// a known quality, boot-anchored only for dmesg with a boot, and no year-inferred time past
// the slack after capture (a body may move it by the agreement window).
func fuzzParse(t *testing.T, formats []Format, line []byte) {
	for _, c := range fuzzContexts {
		for _, f := range formats {
			s := c.Parse(f, line)
			checkStamp(t, s)
			if s.Quality == BootAnchored && (f != DmesgRaw || c.Boot.IsZero()) {
				t.Fatalf("%s: boot-anchored without a boot", f)
			}
			if s.Quality == YearInferred {
				if c.Capture.IsZero() {
					t.Fatalf("%s: year inferred without a capture", f)
				}
				if s.Time.Sub(c.Capture) > yearSlack+agree {
					t.Fatalf("%s: %v is more than the slack after capture %v", f, s.Time, c.Capture)
				}
			}
		}
	}
}

func addSeeds(f *testing.F, formats ...Format) {
	for _, tc := range parseCases {
		for _, g := range formats {
			if tc.f == g {
				f.Add([]byte(tc.line))
			}
		}
	}
}

func FuzzParseJournal(f *testing.F) {
	formats := []Format{JournalShort, JournalShortPrecise, JournalISO, Syslog}
	addSeeds(f, formats...)
	f.Add([]byte("Feb 29 23:59:60.999999999 h k: I0301 00:00:01.0 1 x] y"))
	f.Add([]byte("Dec 31 23:59:59 h c: {\"ts\":99999999999.999999999}"))
	f.Fuzz(func(t *testing.T, line []byte) { fuzzParse(t, formats, line) })
}

func FuzzParseKlog(f *testing.F) {
	formats := []Format{Klog}
	addSeeds(f, formats...)
	f.Add([]byte("F0229 00:00:00.000000 1 x.go:1] leap"))
	f.Fuzz(func(t *testing.T, line []byte) { fuzzParse(t, formats, line) })
}

func FuzzParseLogfmt(f *testing.F) {
	formats := []Format{Logfmt}
	addSeeds(f, formats...)
	f.Add([]byte(`time="0001-01-01T00:00:00Z"`))
	f.Add([]byte(`time= time="2024-01-01T00:00:00-23:59" x`))
	f.Fuzz(func(t *testing.T, line []byte) { fuzzParse(t, formats, line) })
}

func FuzzParseCRI(f *testing.F) {
	formats := []Format{CRI, ISO}
	addSeeds(f, formats...)
	f.Add([]byte("9999-12-31T23:59:59.999999999-23:59 stdout F x"))
	f.Add([]byte("0001-01-01T00:00:00Z stdout F x"))
	f.Fuzz(func(t *testing.T, line []byte) { fuzzParse(t, formats, line) })
}

func FuzzParseJSON(f *testing.F) {
	formats := []Format{JSON}
	addSeeds(f, formats...)
	f.Add([]byte(`{"a":[[[[{"ts":1}]]]],"ts":9999999999999999999}`))
	f.Add([]byte(`{"ts":"\"","time":0}`))
	f.Fuzz(func(t *testing.T, line []byte) { fuzzParse(t, formats, line) })
}

func FuzzParseDmesg(f *testing.F) {
	formats := []Format{DmesgRaw, DmesgCtime}
	addSeeds(f, formats...)
	f.Add([]byte("<99999>[999999999.999999999] x"))
	f.Fuzz(func(t *testing.T, line []byte) {
		fuzzParse(t, formats, line)
		if s, ok := DmesgSeconds(line); ok && (s < 0 || s > 1e9) { // nine integer digits; the float may round up to 1e9
			t.Fatalf("DmesgSeconds = %v", s)
		}
	})
}

// FuzzSniff feeds one fuzzed line among real ones; whatever Sniff answers must be a format it
// can name, and lines of the answered format must parse without breaking the invariants.
func FuzzSniff(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.line))
	}
	f.Add([]byte("-- Reboot --"))
	known := map[Format]bool{Text: true, Syslog: true}
	for _, g := range sniffOrder {
		known[g] = true
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		in := [][]byte{line, line, []byte("Nov 29 18:13:10 host x[1]: y")}
		got := Sniff(in)
		if !known[got] {
			t.Fatalf("Sniff = %q", got)
		}
		if got != Text {
			fuzzParse(t, []Format{got}, line)
		}
		if loc, ok := InferLocation(in); ok != (loc != nil) {
			t.Fatalf("InferLocation = %v, %v", loc, ok)
		} else if ok {
			if _, off := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Zone(); off <= -24*3600 || off >= 24*3600 {
				t.Fatalf("offset %d", off)
			}
		}
	})
}
