package index

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

// zoneLess formats print the node's local wall clock without saying which zone it is in.
func zoneLess(f logtime.Format) bool {
	switch f {
	case logtime.JournalShort, logtime.JournalShortPrecise, logtime.Syslog, logtime.Klog, logtime.DmesgCtime:
		return true
	}
	return false
}

// applyBundleZone reads the zone-less stamps of every file in the node's zone when some file
// proved it (containerd's time= carries an offset) and the file had no proof of its own: on a
// node whose TZ was changed, kubelet.log would otherwise be off by the offset while
// containerd-log.txt is right. Times were parsed as UTC, so they move by the offset.
func (b *Builder) applyBundleZone() (note string) {
	counts := map[int]int{}
	for _, fs := range b.files {
		if fs.tctx.Location != nil {
			_, off := time.Date(2026, 1, 1, 0, 0, 0, 0, fs.tctx.Location).Zone()
			counts[off]++
		}
	}
	if len(counts) == 0 {
		return "UTC (assumed: no line states the node's zone; EKS AMIs run in UTC)"
	}
	best, n := 0, -1
	for off, c := range counts {
		if c > n || (c == n && off < best) {
			best, n = off, c
		}
	}
	name := zoneName(best)
	if len(counts) > 1 {
		var others []string
		for off := range counts {
			if off != best {
				others = append(others, zoneName(off))
			}
		}
		sort.Strings(others)
		name += fmt.Sprintf(" (most files; also seen: %s)", strings.Join(others, ", "))
	}
	if best == 0 {
		return name + " (from containerd time= offsets)"
	}
	shifted := 0
	for _, fs := range b.files {
		if fs.tctx.Location == nil && zoneLess(fs.file.Format) {
			fs.shift(-time.Duration(best) * time.Second)
			shifted++
		}
	}
	return fmt.Sprintf("%s (from containerd time= offsets; applied to %d files whose lines do not say)", name, shifted)
}

func zoneName(off int) string {
	if off == 0 {
		return "UTC"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off%3600/60)
}

// shift moves every local-clock time of the file by d. Times that came with their own zone
// (containerd time= inside a journal line) or from the boot anchor stay.
func (fs *fileState) shift(d time.Duration) {
	local := func(q logtime.Quality) bool {
		return q == logtime.YearInferred || (q == logtime.Exact && fs.file.Format == logtime.DmesgCtime)
	}
	move := func(r *evidence.LineRef) {
		if !r.Time.IsZero() && local(r.TimeQuality) {
			r.Time = r.Time.Add(d)
		}
	}
	for i := range fs.facts {
		move(&fs.facts[i].Ref)
	}
	for _, a := range fs.rules {
		for i := range a.head {
			move(&a.head[i].LineRef)
		}
		for i := range a.tail {
			move(&a.tail[i].LineRef)
		}
		for i := range a.raw {
			move(&a.raw[i].ref)
		}
		if !a.first.IsZero() {
			a.first = a.first.Add(d)
		}
		if !a.last.IsZero() {
			a.last = a.last.Add(d)
		}
		if len(a.mins) > 0 {
			moved := make(map[int64]int, len(a.mins))
			for m, n := range a.mins {
				moved[m+int64(d/time.Minute)] += n
			}
			a.mins = moved
		}
	}
	for i := range fs.file.Checkpoints {
		if !fs.file.Checkpoints[i].Time.IsZero() {
			fs.file.Checkpoints[i].Time = fs.file.Checkpoints[i].Time.Add(d)
		}
	}
	if local(fs.file.Quality) {
		if !fs.file.First.IsZero() {
			fs.file.First = fs.file.First.Add(d)
		}
		if !fs.file.Last.IsZero() {
			fs.file.Last = fs.file.Last.Add(d)
		}
	}
	for msg, k := range fs.kernel {
		if !k.wall.IsZero() {
			k.wall = k.wall.Add(d)
			fs.kernel[msg] = k
		}
	}
}
