package index

import (
	"bytes"
	"hash/maphash"
	"regexp"
	"slices"
	"sort"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

// A node writes one event to several files of a bundle: AL2's rsyslog copies every journal
// line, kernel records included, into var_log/messages; the collector dumps the kernel ring
// buffer twice (dmesg.current raw and dmesg.human.current with --ctime); logdog has the kernel
// in both dmesg and journalctl.log. A finding counts each event once and shows one sample with
// the other copies as Also.

// copyWindow is how far apart two copies of one event may be stamped: journald stamps on
// reception, rsyslog may stamp on its own reception, --ctime and boot-anchored raw dmesg are
// whole-second approximations of the same instant.
const copyWindow = 2 // seconds

type hitState uint8

const (
	untimed hitState = iota
	timed
	pending // raw dmesg seconds waiting for the boot anchor
)

// hitEvent identifies one hit: the hash of its message (the line without prefix and kernel
// stamps, so every rendering of one record hashes alike) and its time.
type hitEvent struct {
	msg   uint64
	sec   int64   // Unix second when timed
	dsec  float64 // seconds since boot while pending
	state hitState
}

var messageSeed = maphash.MakeSeed()

func messageHash(line []byte) uint64 {
	return maphash.Bytes(messageSeed, bytes.TrimRight(logtime.Message(line), "\r"))
}

// rotation matches what log rotation appends to a file name: "-20261115", ".1", ".gz",
// ".20261119-101010", in any combination.
var rotation = regexp.MustCompile(`(?:[-.](?:\d{8}(?:-\d{6})?|\d{1,3})|\.gz)+$`)

// seriesOf names the file a rotated member was cut from: the pieces of one series hold
// different stretches of time, so an event in two of them is two events.
func seriesOf(path string) string { return rotation.ReplaceAllString(path, "") }

// dedupeHits finds, for every rule, the hits that copy an event another series of files already
// holds (same message, stamped within copyWindow), and takes them out of the rule's counts.
// Series are visited dedicated files first (kubelet.log before messages), so a copy is
// discounted from the mixed file. An untimed hit matches a copy of the same message whatever its
// time: without a boot anchor, raw dmesg has no time to compare.
func (b *Builder) dedupeHits() {
	type part struct {
		agg    *ruleAgg
		series string
		mixed  bool
	}
	byRule := map[string][]part{}
	for _, fs := range b.files {
		mixed := slices.Contains(detect.MixedLogTypes, fs.file.LogType)
		for id, a := range fs.rules {
			byRule[id] = append(byRule[id], part{a, seriesOf(fs.file.Path), mixed})
		}
	}
	for _, parts := range byRule {
		if len(parts) < 2 {
			continue
		}
		sort.SliceStable(parts, func(i, j int) bool {
			if parts[i].mixed != parts[j].mixed {
				return !parts[i].mixed
			}
			return parts[i].series < parts[j].series
		})
		if parts[0].series == parts[len(parts)-1].series {
			continue
		}
		pool := copyPool{}
		for start := 0; start < len(parts); {
			end := start + 1
			for end < len(parts) && parts[end].series == parts[start].series {
				end++
			}
			series := parts[start:end]
			var fresh []hitEvent
			for _, p := range series {
				for _, ev := range p.agg.events {
					if start > 0 && pool.take(ev, start) {
						p.agg.discount(ev)
						continue
					}
					fresh = append(fresh, ev)
				}
			}
			pool.add(fresh)
			start = end
		}
	}
}

// discount takes one copied hit out of the counts it was added to.
func (a *ruleAgg) discount(ev hitEvent) {
	a.dups++
	switch ev.state {
	case timed:
		a.mins[ev.sec/60]--
	default:
		a.untimed--
	}
}

// copyPool holds the events counted so far, per message, sorted by time; each can absorb one
// copy from each later series.
type copyPool map[uint64][]pooled

type pooled struct {
	ev     hitEvent
	usedBy int // the series that last matched a copy against it
}

func (p copyPool) add(evs []hitEvent) {
	touched := map[uint64]bool{}
	for _, ev := range evs {
		p[ev.msg] = append(p[ev.msg], pooled{ev: ev, usedBy: -1})
		touched[ev.msg] = true
	}
	for m := range touched {
		sort.SliceStable(p[m], func(i, j int) bool { return p[m][i].ev.sec < p[m][j].ev.sec })
	}
}

// take marks an unused pooled event that ev is a copy of as used by series, and reports whether
// there was one.
func (p copyPool) take(ev hitEvent, series int) bool {
	list := p[ev.msg]
	if len(list) == 0 {
		return false
	}
	i := 0
	if ev.state == timed {
		i = sort.Search(len(list), func(k int) bool { return list[k].ev.sec >= ev.sec-copyWindow })
	}
	for ; i < len(list); i++ {
		e := &list[i]
		if ev.state == timed && e.ev.state == timed && e.ev.sec > ev.sec+copyWindow {
			break
		}
		if e.usedBy == series {
			continue
		}
		if ev.state == timed && e.ev.state == timed && e.ev.sec < ev.sec-copyWindow {
			continue
		}
		e.usedBy = series
		return true
	}
	return false
}

// mergeCopies folds samples that are copies of one line (same message, stamped within
// copyWindow) into the first of them, whose Also lists the others. s is in sample order.
func mergeCopies(s []Sample) []Sample {
	out := s[:0:0]
	keys := make([]uint64, 0, len(s))
	for _, smp := range s {
		k := messageHash([]byte(smp.Text))
		dup := false
		for i := range out {
			if keys[i] == k && sameInstant(out[i].LineRef, smp.LineRef) && !holdsFile(out[i], smp.File) {
				if finer(smp.LineRef, out[i].LineRef) {
					// The copy with the sub-second stamp leads: a --ctime or syslog copy is
					// whole seconds, and a timeline orders by it.
					out[i].LineRef, smp.LineRef, out[i].Text = smp.LineRef, out[i].LineRef, smp.Text
				}
				out[i].Also = append(out[i].Also, smp.LineRef)
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, smp)
			keys = append(keys, k)
		}
	}
	slices.SortStableFunc(out, func(a, b Sample) int {
		if sampleLess(a, b) {
			return -1
		}
		if sampleLess(b, a) {
			return 1
		}
		return 0
	})
	return out
}

// holdsFile reports whether a sample already has a line of file: one event has one line in each
// file that copies it.
func holdsFile(s Sample, file string) bool {
	if s.File == file {
		return true
	}
	for _, a := range s.Also {
		if a.File == file {
			return true
		}
	}
	return false
}

// finer reports whether a's time has a fraction of a second and b's has none.
func finer(a, b evidence.LineRef) bool {
	return a.Time.Nanosecond() != 0 && b.Time.Nanosecond() == 0
}

func sameInstant(a, b evidence.LineRef) bool {
	if a.Time.IsZero() || b.Time.IsZero() {
		return true
	}
	d := a.Time.Unix() - b.Time.Unix()
	return d <= copyWindow && d >= -copyWindow
}
