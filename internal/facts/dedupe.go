package facts

import (
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

type dgroup struct {
	members []int
	files   []string
	anchor  time.Time // time of the first (earliest) member; zero for a group of untimed facts
}

func (g *dgroup) hasFile(f string) bool { return slices.Contains(g.files, f) }

func (g *dgroup) add(i int, file string) {
	g.members = append(g.members, i)
	g.files = append(g.files, file)
}

// Dedupe merges copies of one event read from several files (on AL2 a kernel OOM kill is in
// kernel/dmesg.current, kernel/dmesg.human.current and var_log/messages; kubelet lines are in both
// kubelet.log and messages): same kind and source, same pid/process and identity fields, times
// within dedupeWindow — or, when a copy has no time, the same content. A group never takes two
// facts of the same file: repeats within one file are separate events. The best reference stays
// in Ref, the others go to Also. Facts of different sources (kubelet's PLEG exit and containerd's
// exit event) are separate evidence and are never merged.
func Dedupe(all []Fact) []Fact {
	if len(all) < 2 {
		return all
	}
	buckets := map[dedupeKey][]int{}
	var keys []dedupeKey // first-seen order keeps the output deterministic
	for i := range all {
		k := keyOf(&all[i])
		if _, ok := buckets[k]; !ok {
			keys = append(keys, k)
		}
		buckets[k] = append(buckets[k], i)
	}
	var groups []*dgroup
	for _, k := range keys {
		groups = dedupeBucket(all, buckets[k], groups)
	}
	slices.SortFunc(groups, func(a, b *dgroup) int { return a.members[0] - b.members[0] })
	out := make([]Fact, 0, len(groups))
	for _, g := range groups {
		out = append(out, mergeGroup(all, g.members))
	}
	return out
}

// dedupeBucket groups the facts of one bucket and appends the groups to groups.
func dedupeBucket(all []Fact, idx []int, groups []*dgroup) []*dgroup {
	if len(idx) == 1 {
		return append(groups, &dgroup{members: idx[:1:1]})
	}
	var timed, untimed []int
	for _, i := range idx {
		if all[i].Ref.Time.IsZero() {
			untimed = append(untimed, i)
		} else {
			timed = append(timed, i)
		}
	}
	slices.SortStableFunc(timed, func(i, j int) int { return all[i].Ref.Time.Compare(all[j].Ref.Time) })
	var mine []*dgroup // this bucket's groups
	var open []*dgroup // groups whose anchor is within the window of the current time
	for _, i := range timed {
		f := &all[i]
		t := f.Ref.Time
		for len(open) > 0 && t.Sub(open[0].anchor) > dedupeWindow {
			open = open[1:]
		}
		var dst *dgroup
		for _, g := range open {
			if !g.hasFile(f.Ref.File) && compatible(&all[g.members[0]], f) {
				dst = g
				break
			}
		}
		if dst == nil {
			dst = &dgroup{anchor: t}
			mine = append(mine, dst)
			open = append(open, dst)
		}
		dst.add(i, f.Ref.File)
	}
	if len(untimed) > 0 {
		byContent := map[string][]*dgroup{}
		for _, g := range mine {
			ck := contentKey(&all[g.members[0]])
			byContent[ck] = append(byContent[ck], g)
		}
		for _, i := range untimed {
			f := &all[i]
			ck := contentKey(f)
			var dst *dgroup
			n := 0
			for _, g := range byContent[ck] {
				if !g.hasFile(f.Ref.File) && compatible(&all[g.members[0]], f) {
					dst = g
					n++
				}
			}
			if n != 1 { // none, or ambiguous: never guess which occurrence this copy is
				dst = &dgroup{}
				mine = append(mine, dst)
				byContent[ck] = append(byContent[ck], dst)
			}
			dst.add(i, f.Ref.File)
		}
	}
	for _, g := range mine {
		slices.Sort(g.members)
	}
	return append(groups, mine...)
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

// mergeGroup returns the group's best-referenced fact, completed with what the other copies add,
// and with the other copies' references in Also.
func mergeGroup(all []Fact, members []int) Fact {
	best := members[0]
	for _, i := range members[1:] {
		if betterRef(all[i].Ref, all[best].Ref) {
			best = i
		}
	}
	out := all[best]
	if len(members) == 1 {
		return out
	}
	also := slices.Clone(out.Also)
	for _, i := range members {
		if i == best {
			continue
		}
		fillEmpty(&out, &all[i])
		also = append(also, all[i].Ref)
		also = append(also, all[i].Also...)
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
