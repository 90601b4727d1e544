package facts

import (
	"cmp"
	"slices"
	"strings"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

// Sort orders facts by time, facts without a time last, ties by file and line: the order of
// every output.
func Sort(all []Fact) {
	sortFacts(all, func(a, b *Fact) int {
		at, bt := a.Ref.Time, b.Ref.Time
		switch az, bz := at.IsZero(), bt.IsZero(); {
		case az && !bz:
			return 1
		case !az && bz:
			return -1
		}
		if c := at.Compare(bt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Ref.File, b.Ref.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Ref.Line, b.Ref.Line)
	})
}

// sortFacts sorts stably by cmpFn. A Fact is several hundred bytes and a bundle can hold a few
// hundred thousand, so it sorts indices and then moves each fact once, following the cycles of
// the permutation, instead of letting a stable merge sort swap whole structs.
func sortFacts(all []Fact, cmpFn func(a, b *Fact) int) {
	sorted := true
	for i := 1; i < len(all) && sorted; i++ {
		sorted = cmpFn(&all[i-1], &all[i]) <= 0
	}
	if sorted {
		return
	}
	perm := make([]int, len(all))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(i, j int) int {
		if c := cmpFn(&all[i], &all[j]); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	// Position i must receive all[perm[i]].
	for i := range perm {
		if perm[i] == i || perm[i] < 0 {
			continue
		}
		tmp := all[i]
		j := i
		for {
			k := perm[j]
			perm[j] = -1
			if k == i {
				all[j] = tmp
				break
			}
			all[j] = all[k]
			j = k
		}
	}
}

// qualityRank orders time qualities from most to least trustworthy.
func qualityRank(q logtime.Quality) int {
	switch q {
	case logtime.Exact:
		return 0
	case logtime.YearInferred:
		return 1
	case logtime.BootAnchored:
		return 2
	}
	return 3
}

// betterRef reports whether a is the reference to show for an event seen in several files: the
// best time quality, then the raw ring buffer (dmesg.current is the kernel's own record, the others
// are renderings or copies of it), then a stable order by file and line.
func betterRef(a, b evidence.LineRef) bool {
	if ra, rb := qualityRank(a.TimeQuality), qualityRank(b.TimeQuality); ra != rb {
		return ra < rb
	}
	if da, db := isDmesgCurrent(a.File), isDmesgCurrent(b.File); da != db {
		return da
	}
	if a.File != b.File {
		return a.File < b.File
	}
	return a.Line < b.Line
}

func isDmesgCurrent(file string) bool {
	return file == "dmesg.current" || strings.HasSuffix(file, "/dmesg.current")
}
