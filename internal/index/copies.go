package index

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"path"
	"slices"

	"github.com/nodediag/nodediag/internal/bundle"
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
// stamps, so every rendering of one record hashes alike) and its time. A bundle holds millions
// of hits, so the state rides in the hash's two low bits: 16 bytes a hit.
type hitEvent struct {
	key uint64 // message hash, low two bits replaced by the hitState
	sec int64  // Unix second when timed; microseconds since boot while pending
}

func newHit(msgHash uint64, st hitState, sec int64) hitEvent {
	return hitEvent{key: msgHash&^3 | uint64(st), sec: sec}
}

func (e hitEvent) msg() uint64                 { return e.key >> 2 }
func (e hitEvent) state() hitState             { return hitState(e.key & 3) }
func (e *hitEvent) set(st hitState, sec int64) { *e = newHit(e.key, st, sec) }

var messageSeed = maphash.MakeSeed()

// hashMessage identifies a message (logtime.Message of a line, as the matcher hands it over).
func hashMessage(msg []byte) uint64 {
	return maphash.Bytes(messageSeed, bytes.TrimRight(msg, "\r"))
}

// seriesOf names the file a rotated member was cut from: the pieces of one series hold
// different stretches of time, so an event in two of them is two events.
func seriesOf(p string) string { return path.Join(path.Dir(p), bundle.StripRotation(path.Base(p))) }

// dedupeHits finds, for every rule, the hits that copy an event another series of files holds
// (same message, stamped within copyWindow), and takes them out of the rule's counts. Of each
// event's copies the one in a dedicated file stays counted (kubelet.log before messages). An
// untimed hit matches a copy of the same message whatever its time: without a boot anchor, raw
// dmesg has no time to compare. Events are sorted by message, so the many messages that only
// one series holds cost a comparison each; a busy node's bundle has hundreds of thousands.
func (b *Builder) dedupeHits() {
	type part struct {
		agg    *ruleAgg
		series int
		mixed  bool
	}
	byRule := map[string][]part{}
	names := map[string][]string{} // rule → its series, in first-seen order
	for _, fs := range b.files {
		mixed := slices.Contains(detect.MixedLogTypes, fs.file.LogType)
		series := seriesOf(fs.file.Path)
		for id, a := range fs.rules {
			k := slices.Index(names[id], series)
			if k < 0 {
				k = len(names[id])
				names[id] = append(names[id], series)
			}
			byRule[id] = append(byRule[id], part{a, k, mixed})
		}
	}
	var evs []taggedHit
	for id, parts := range byRule {
		if len(names[id]) < 2 {
			continue
		}
		evs = evs[:0]
		for pi, p := range parts {
			if p.series >= 64 {
				continue // a mask holds 64 series; a rule spread wider is not deduplicated further
			}
			for _, ev := range p.agg.events {
				evs = append(evs, taggedHit{hitEvent: ev, part: int32(pi)})
			}
		}
		slices.SortFunc(evs, compareTagged)
		preferred := func(x, y taggedHit) bool { // x's copy should stay counted rather than y's
			px, py := parts[x.part], parts[y.part]
			if px.mixed != py.mixed {
				return !px.mixed
			}
			return names[id][px.series] < names[id][py.series]
		}
		discount := func(h taggedHit) { parts[h.part].agg.discount(h.hitEvent) }
		series := func(h taggedHit) uint64 { return 1 << parts[h.part].series }
		var clusters []copyCluster
		for start := 0; start < len(evs); {
			end := start + 1
			for end < len(evs) && evs[end].msg() == evs[start].msg() {
				end++
			}
			if end-start > 1 {
				clusters = matchCopies(evs[start:end], clusters[:0], series, preferred, discount)
			}
			start = end
		}
	}
}

// taggedHit is a hit with the part (file of a series) it belongs to.
type taggedHit struct {
	hitEvent
	part int32
}

// compareTagged orders hits by message, timed before untimed, then by time.
func compareTagged(a, b taggedHit) int {
	switch {
	case a.msg() != b.msg():
		return cmp.Compare(a.msg(), b.msg())
	case (a.state() == timed) != (b.state() == timed):
		if a.state() == timed {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.sec, b.sec)
}

// copyCluster is one event and the series whose copy of it was seen.
type copyCluster struct {
	counted taggedHit
	anchor  int64 // time of its first copy
	series  uint64
}

// matchCopies groups one message's hits into events: a hit joins an event of another series
// stamped within copyWindow (any event, when either is untimed) and then only one of them stays
// counted.
func matchCopies(group []taggedHit, clusters []copyCluster, series func(taggedHit) uint64,
	preferred func(x, y taggedHit) bool, discount func(taggedHit)) []copyCluster {
	for _, h := range group {
		bit := series(h)
		joined := false
		for i := len(clusters) - 1; i >= 0; i-- {
			c := &clusters[i]
			if h.state() == timed && c.counted.state() == timed && h.sec-c.anchor > copyWindow {
				break // hits come in time order: every earlier event is older still
			}
			if c.series&bit != 0 {
				continue
			}
			c.series |= bit
			if preferred(h, c.counted) {
				discount(c.counted)
				c.counted = h
			} else {
				discount(h)
			}
			joined = true
			break
		}
		if !joined {
			clusters = append(clusters, copyCluster{counted: h, anchor: h.sec, series: bit})
		}
	}
	return clusters
}

// discount takes one copied hit out of the counts it was added to.
func (a *ruleAgg) discount(ev hitEvent) {
	a.dups++
	switch ev.state() {
	case timed:
		a.mins[ev.sec/60]--
	default:
		a.untimed--
	}
}

// mergeCopies folds samples that are copies of one line (same message, stamped within
// copyWindow) into the first of them, whose Also lists the others. s is in sample order.
func mergeCopies(s []Sample) []Sample {
	out := s[:0:0]
	keys := make([]uint64, 0, len(s))
	for _, smp := range s {
		k := hashMessage(logtime.Message([]byte(smp.Text)))
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
