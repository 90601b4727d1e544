package correlate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/index"
)

// Tiers of a cut timeline, best first. The pivot's neighbourhood is what lies within QuietGap of
// one of its occurrences: the burst the pivot belongs to. Inside a tier the newest events come
// first (finding lines: the most severe rule first, then the newest), so a crash loop that ran
// for days shows its latest restarts whole rather than a slice of each; the page is put back in
// time order.
const (
	tierNearFact    = iota // a crash fact in the pivot's neighbourhood (a pivot fact is in its own)
	tierFact               // another crash fact of the windows
	tierPivotLine          // a line of the pivot finding
	tierNearFinding        // a finding line in the pivot's neighbourhood
	tierFinding            // another finding line
)

// Collapsed is the routine lines of one finding that a cut timeline counts instead of listing.
type Collapsed struct {
	Rule      string           `json:"rule" yaml:"rule"`
	FindingID string           `json:"findingID" yaml:"findingID"`
	Severity  string           `json:"severity" yaml:"severity"`
	Count     int              `json:"count" yaml:"count"`
	Summary   string           `json:"summary" yaml:"summary"`
	Example   evidence.LineRef `json:"example" yaml:"example"` // the newest
}

// Next is a request that gets timeline events a cut answer did not list: the same request with
// Offset, or with ListRoutine.
type Next struct {
	What        string `json:"what" yaml:"what"`
	Events      int    `json:"events" yaml:"events"` // events the request reaches that this answer did not list
	Offset      int    `json:"offset,omitempty" yaml:"offset,omitempty"`
	ListRoutine bool   `json:"listRoutine,omitempty" yaml:"listRoutine,omitempty"`
	// Call is the request written in the syntax of the face that answers; left empty here.
	Call string `json:"call,omitempty" yaml:"call,omitempty"`
}

// routine says whether a finding line is routine: the catalog rates its rule low or info (DNS
// resolver limits, a lost API watch, a container stop the kubelet asked for, join data) and it is
// not the pivot. Crash facts never are.
func routine(e *Event) bool {
	return e.Kind == "finding" && !e.Pivot && index.SeverityRank(e.Severity) >= index.SeverityRank("low")
}

// neighbourhood measures how far an event lies from the nearest pivot occurrence.
type neighbourhood []span

func newNeighbourhood(occ []span) neighbourhood {
	return neighbourhood(mergeSpans(occ, 0))
}

func (n neighbourhood) near(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	i, _ := slices.BinarySearchFunc(n, t, func(s span, t time.Time) int { return s.from.Compare(t) })
	// n[i-1] starts at or before t, n[i] after it: the nearest occurrence is one of the two.
	for _, j := range []int{i - 1, i} {
		if j < 0 || j >= len(n) {
			continue
		}
		if !t.Before(n[j].from.Add(-QuietGap)) && !t.After(n[j].to.Add(QuietGap)) {
			return true
		}
	}
	return false
}

func tierOf(e *Event, n neighbourhood) int {
	near := n.near(e.Time)
	switch {
	case e.Kind == "fact" && (near || e.Pivot):
		return tierNearFact
	case e.Kind == "fact":
		return tierFact
	case e.Pivot:
		return tierPivotLine
	case near:
		return tierNearFinding
	}
	return tierFinding
}

// cut makes the page of a timeline longer than req.MaxEvents (or one asked from an offset):
// routine lines counted instead of listed, the rest in tier order, newest first, from
// req.Offset. It returns the page in time order, the counts, how many events were listable and
// how many of those not listed are older than the page.
func cut(events []Event, occ []span, req Request) (page []Event, collapsed []Collapsed, listable, older int) {
	n := newNeighbourhood(occ)
	type ranked struct {
		tier int
		e    *Event
	}
	var order []ranked
	tally := map[string]*Collapsed{}
	for i := range events {
		e := &events[i]
		if !req.ListRoutine && routine(e) {
			c := tally[e.FindingID]
			if c == nil {
				c = &Collapsed{Rule: e.Rule, FindingID: e.FindingID, Severity: e.Severity, Example: e.Ref}
				tally[e.FindingID] = c
			}
			c.Count++
			if e.Time.After(c.Example.Time) {
				c.Example = e.Ref
			}
			continue
		}
		order = append(order, ranked{tierOf(e, n), e})
	}
	slices.SortStableFunc(order, func(a, b ranked) int {
		if c := cmp.Compare(a.tier, b.tier); c != 0 {
			return c
		}
		if a.tier >= tierNearFinding { // among finding lines the more severe rule first
			if c := cmp.Compare(index.SeverityRank(a.e.Severity), index.SeverityRank(b.e.Severity)); c != 0 {
				return c
			}
		}
		switch az, bz := a.e.Time.IsZero(), b.e.Time.IsZero(); {
		case az && !bz:
			return 1
		case !az && bz:
			return -1
		}
		return b.e.Time.Compare(a.e.Time)
	})
	from, to := min(req.Offset, len(order)), min(len(order), req.Offset+req.MaxEvents)
	for _, r := range order[from:to] {
		page = append(page, *r.e)
	}
	sortEvents(page)
	if len(page) > 0 && !page[0].Time.IsZero() {
		for _, r := range slices.Concat(order[:from], order[to:]) {
			if !r.e.Time.IsZero() && r.e.Time.Before(page[0].Time) {
				older++
			}
		}
	}
	for _, c := range tally {
		c.Summary = fmt.Sprintf("%d routine %s lines (%s %s) collapsed, newest %s", c.Count, c.Rule, c.Severity, c.FindingID, c.Example)
		collapsed = append(collapsed, *c)
	}
	slices.SortFunc(collapsed, func(a, b Collapsed) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.FindingID, b.FindingID)) })
	return page, collapsed, len(order), older
}

// cutNotes says what a cut page holds and what gets the rest: the next page, of which older
// events are those before the oldest listed one, and the routine lines.
func cutNotes(res *Result, req Request, all, listable, older int) {
	listed := len(res.Timeline)
	res.Notes = append(res.Notes, fmt.Sprintf("timeline cut to %d of %d events: crash facts in the pivot's neighbourhood first, then the "+
		"other crash facts, the pivot's own lines, finding lines near the pivot and the rest, newest first in each; routine "+
		"(low and info) finding lines counted in collapsed", listed, all))
	if next := req.Offset + listed; next < listable {
		res.NextOffset = next
		res.Next = append(res.Next, Next{Offset: next, Events: listable - next,
			What: fmt.Sprintf("the next page: %d more of the %d events listable (%d of them older than the oldest listed here), in the same order",
				listable-next, listable, older)})
	}
	if routine := all - listable; routine > 0 {
		res.Next = append(res.Next, Next{ListRoutine: true, Events: routine,
			What: fmt.Sprintf("the %d routine lines counted in collapsed, listed among the others", routine)})
	}
}
