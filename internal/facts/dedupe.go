package facts

import (
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
)

// dedupeWindow is how far apart two copies of one event may be stamped: copies differ by the
// journal's 1-second resolution and by how dmesg seconds were anchored.
const dedupeWindow = 2 * time.Second

// dedupeKey holds the fields that identify an event and that Join never writes, so copies match
// whether or not Join has run.
type dedupeKey struct {
	kind                                    Kind
	source, process, delay, failureKind     string
	name, image, path, addr, ip, constraint string
	pid, exit                               int
	hasExit                                 bool
}

func keyOf(f *Fact) dedupeKey {
	k := dedupeKey{
		kind: f.Kind, source: f.Source, process: f.Process, delay: f.Delay, failureKind: f.FailureKind,
		name: f.Name, image: f.Image, path: f.Path, addr: f.Addr, ip: f.IP, constraint: f.Constraint, pid: f.PID,
	}
	if f.ExitCode != nil {
		k.exit, k.hasExit = *f.ExitCode, true
	}
	return k
}

// compatible reports whether the identities two facts carry do not contradict: each ID is equal
// or missing on one side.
func compatible(a, b *Fact) bool {
	same := func(x, y string) bool { return x == "" || y == "" || x == y }
	return same(a.ContainerID, b.ContainerID) && same(a.PodUID, b.PodUID) && same(a.SandboxID, b.SandboxID) &&
		same(a.Pod, b.Pod) && same(a.Namespace, b.Namespace) && same(a.Container, b.Container)
}

// sameKey is keyOf(a) == keyOf(b) without building the keys: buckets are found by hash, and two
// keys may share one.
func sameKey(a, b *Fact) bool {
	if a.Kind != b.Kind || a.Source != b.Source || a.PID != b.PID || a.Process != b.Process || a.Delay != b.Delay ||
		a.FailureKind != b.FailureKind || a.Name != b.Name || a.Image != b.Image || a.Path != b.Path ||
		a.Addr != b.Addr || a.IP != b.IP || a.Constraint != b.Constraint || (a.ExitCode == nil) != (b.ExitCode == nil) {
		return false
	}
	return a.ExitCode == nil || *a.ExitCode == *b.ExitCode
}

// dgroup is one event's copies: a list threaded through deduper.next, from head (the first copy
// placed, the one others are compared with) to tail.
type dgroup struct {
	head, tail int32
	anchor     time.Time // time of the head; zero for a group of untimed facts
}

// deduper holds the grouping state in flat slices: a bundle yields a few hundred thousand facts,
// most of them alone in their group, and a heap object per group would dominate the cost.
type deduper struct {
	all     []Fact
	groupOf []int32 // fact → group
	next    []int32 // fact → next fact of its group, -1 at the tail
	groups  []dgroup
}

func (d *deduper) newGroup(i int32, anchor time.Time) int32 {
	d.groups = append(d.groups, dgroup{head: i, tail: i, anchor: anchor})
	g := int32(len(d.groups) - 1)
	d.groupOf[i] = g
	return g
}

func (d *deduper) add(g, i int32) {
	d.next[d.groups[g].tail] = i
	d.groups[g].tail = i
	d.groupOf[i] = g
}

func (d *deduper) hasFile(g int32, file string) bool {
	for m := d.groups[g].head; m >= 0; m = d.next[m] {
		if d.all[m].Ref.File == file {
			return true
		}
	}
	return false
}

// accepts reports whether fact i may join group g.
func (d *deduper) accepts(g, i int32) bool {
	rep, f := &d.all[d.groups[g].head], &d.all[i]
	return sameKey(rep, f) && compatible(rep, f) && !d.hasFile(g, f.Ref.File)
}

// Dedupe merges copies of one event read from several files (on AL2 a kernel OOM kill is in
// kernel/dmesg.current, kernel/dmesg.human.current and var_log/messages; kubelet lines are in both
// kubelet.log and messages): same kind and source, same pid/process and identity fields, times
// within dedupeWindow — or, when a copy has no time, the same content. A group never takes two
// facts of the same file: repeats within one file are separate events. The best reference stays
// in Ref, the others go to Also. Facts of different sources (kubelet's PLEG exit and containerd's
// exit event) are separate evidence and are never merged. The result keeps the order of each
// event's first copy and reuses all's storage.
func Dedupe(all []Fact) []Fact {
	n := len(all)
	if n < 2 {
		return all
	}
	d := &deduper{all: all, groupOf: make([]int32, n), next: make([]int32, n), groups: make([]dgroup, 0, n)}
	for i := range d.next {
		d.next[i] = -1
	}
	// Bucket by a hash of the key, then lay the buckets out contiguously (a counting sort), so
	// no bucket needs a slice of its own.
	seed := maphash.MakeSeed()
	ids := make(map[uint64]int32, n/8)
	bucketOf := make([]int32, n)
	for i := range all {
		h := maphash.Comparable(seed, keyOf(&all[i]))
		id, ok := ids[h]
		if !ok {
			id = int32(len(ids))
			ids[h] = id
		}
		bucketOf[i] = id
	}
	start := make([]int32, len(ids)+1)
	for _, b := range bucketOf {
		start[b+1]++
	}
	for b := 1; b < len(start); b++ {
		start[b] += start[b-1]
	}
	order := make([]int32, n)
	pos := slices.Clone(start[:len(start)-1])
	for i, b := range bucketOf {
		order[pos[b]] = int32(i)
		pos[b]++
	}
	for b := 0; b+1 < len(start); b++ {
		d.bucket(order[start[b]:start[b+1]])
	}

	// A group's output position is that of its lowest-indexed copy. Writing in place is safe:
	// position w never exceeds the index being read, and every copy read lies at or after it.
	leader := make([]int32, len(d.groups))
	for g := range leader {
		leader[g] = int32(n)
	}
	for i, g := range d.groupOf {
		leader[g] = min(leader[g], int32(i))
	}
	w := 0
	for i := range all {
		g := d.groupOf[i]
		if leader[g] != int32(i) {
			continue
		}
		all[w] = d.merge(g)
		w++
	}
	clear(all[w:])
	return all[:w]
}

// bucket groups the facts of one bucket (indices in input order).
func (d *deduper) bucket(idx []int32) {
	all := d.all
	if len(idx) == 1 {
		d.newGroup(idx[0], all[idx[0]].Ref.Time)
		return
	}
	// Timed facts by time first, untimed ones after them, each in input order.
	slices.SortStableFunc(idx, func(i, j int32) int {
		ti, tj := all[i].Ref.Time, all[j].Ref.Time
		switch zi, zj := ti.IsZero(), tj.IsZero(); {
		case zi && zj:
			return 0
		case zi:
			return 1
		case zj:
			return -1
		}
		return ti.Compare(tj)
	})
	split := len(idx)
	for k, i := range idx {
		if all[i].Ref.Time.IsZero() {
			split = k
			break
		}
	}
	first := int32(len(d.groups)) // this bucket's groups are first..len(d.groups)-1
	var open []int32              // groups whose anchor is within the window of the current time
	for _, i := range idx[:split] {
		t := all[i].Ref.Time
		for len(open) > 0 && t.Sub(d.groups[open[0]].anchor) > dedupeWindow {
			open = open[1:]
		}
		placed := false
		for _, g := range open {
			if d.accepts(g, i) {
				d.add(g, i)
				placed = true
				break
			}
		}
		if !placed {
			open = append(open, d.newGroup(i, t))
		}
	}
	if split == len(idx) {
		return
	}
	byContent := map[string][]int32{}
	for g := first; g < int32(len(d.groups)); g++ {
		ck := contentKey(&all[d.groups[g].head])
		byContent[ck] = append(byContent[ck], g)
	}
	for _, i := range idx[split:] {
		ck := contentKey(&all[i])
		dst, n := int32(-1), 0
		for _, g := range byContent[ck] {
			if d.accepts(g, i) {
				dst = g
				n++
			}
		}
		if n == 1 {
			d.add(dst, i)
			continue
		}
		// None, or ambiguous: never guess which occurrence this copy is.
		byContent[ck] = append(byContent[ck], d.newGroup(i, time.Time{}))
	}
}

// contentKey renders everything a fact says except where it was read and what Join may have
// added (names and IDs, compared with compatible instead): a copy without a time is the same event
// only if it says exactly the same.
func contentKey(f *Fact) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s); b.WriteByte(0) }
	wi := func(n int64) { b.WriteString(strconv.FormatInt(n, 10)); b.WriteByte(0) }
	wp := func(p *int) {
		if p == nil {
			w("-")
		} else {
			wi(int64(*p))
		}
	}
	w(string(f.Kind))
	w(f.Source)
	wp(f.ExitCode)
	wi(int64(f.Signal))
	w(f.Delay)
	w(f.Scope)
	w(f.Constraint)
	w(f.Process)
	wi(int64(f.PID))
	w(f.Memcg)
	w(f.TaskMemcg)
	wi(f.AnonRSSKB)
	wi(f.FileRSSKB)
	wi(f.TotalVMKB)
	wi(f.UsageKB)
	wi(f.LimitKB)
	w(f.Addr)
	w(f.IP)
	w(f.SP)
	w(f.ErrorCode)
	w(f.Object)
	w(f.FailureKind)
	w(f.Path)
	w(f.Name)
	w(f.Image)
	wp(f.GracePeriod)
	w(f.Message)
	return b.String()
}

// merge returns the group's best-referenced fact, completed with what the other copies add, and
// with the other copies' references in Also.
func (d *deduper) merge(g int32) Fact {
	all := d.all
	head := d.groups[g].head
	if d.next[head] < 0 {
		return all[head]
	}
	best := head
	for m := d.next[head]; m >= 0; m = d.next[m] {
		if betterRef(all[m].Ref, all[best].Ref) {
			best = m
		}
	}
	out := all[best]
	also := slices.Clone(out.Also)
	for m := head; m >= 0; m = d.next[m] {
		if m == best {
			continue
		}
		fillEmpty(&out, &all[m])
		also = append(also, all[m].Ref)
		also = append(also, all[m].Also...)
	}
	slices.SortFunc(also, func(a, b evidence.LineRef) int {
		switch {
		case betterRef(a, b):
			return -1
		case betterRef(b, a):
			return 1
		}
		return 0
	})
	out.Also = slices.CompactFunc(also, func(a, b evidence.LineRef) bool { return a.File == b.File && a.Line == b.Line })
	return out
}

// fillEmpty copies into dst every field src has and dst lacks.
func fillEmpty(dst, src *Fact) {
	for _, p := range [...]struct{ d, s *string }{
		{&dst.Namespace, &src.Namespace}, {&dst.Pod, &src.Pod}, {&dst.PodUID, &src.PodUID},
		{&dst.Container, &src.Container}, {&dst.ContainerID, &src.ContainerID}, {&dst.SandboxID, &src.SandboxID},
		{&dst.Reason, &src.Reason}, {&dst.Delay, &src.Delay}, {&dst.Scope, &src.Scope},
		{&dst.Constraint, &src.Constraint}, {&dst.Process, &src.Process}, {&dst.Memcg, &src.Memcg},
		{&dst.TaskMemcg, &src.TaskMemcg}, {&dst.Addr, &src.Addr}, {&dst.IP, &src.IP}, {&dst.SP, &src.SP},
		{&dst.ErrorCode, &src.ErrorCode}, {&dst.Object, &src.Object}, {&dst.FailureKind, &src.FailureKind},
		{&dst.Path, &src.Path}, {&dst.Name, &src.Name}, {&dst.Image, &src.Image}, {&dst.Message, &src.Message},
	} {
		fill(p.d, *p.s)
	}
	for _, p := range [...]struct{ d, s *int64 }{
		{&dst.AnonRSSKB, &src.AnonRSSKB}, {&dst.FileRSSKB, &src.FileRSSKB}, {&dst.TotalVMKB, &src.TotalVMKB},
		{&dst.UsageKB, &src.UsageKB}, {&dst.LimitKB, &src.LimitKB},
	} {
		if *p.d == 0 {
			*p.d = *p.s
		}
	}
	for _, p := range [...]struct{ d, s **int }{
		{&dst.Attempt, &src.Attempt}, {&dst.ExitCode, &src.ExitCode}, {&dst.GracePeriod, &src.GracePeriod},
	} {
		if *p.d == nil {
			*p.d = *p.s
		}
	}
	if dst.Signal == 0 {
		dst.Signal = src.Signal
	}
	if dst.PID == 0 {
		dst.PID = src.PID
	}
	if dst.DelaySeconds == 0 {
		dst.DelaySeconds = src.DelaySeconds
	}
}
