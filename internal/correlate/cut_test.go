package correlate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
)

func eventKey(e Event) string {
	return fmt.Sprintf("%s %s %s %s", e.Ref, e.Kind, e.FactKind, e.FindingID)
}

// TestCutTimeline: a timeline longer than MaxEvents lists the crash facts first, the newest
// first, counts routine finding lines (low and info, not the pivot) instead of listing them, and
// its pages reach every other event exactly once.
func TestCutTimeline(t *testing.T) {
	im := importScenario(t, "container-oom-v1", scenario.AL2)
	// Six hours either side of every back-off: the node's routine chatter comes in.
	const window = 6 * time.Hour
	full, err := Correlate(context.Background(), im.idx, Request{Window: window, MaxEvents: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if full.Truncated || full.Collapsed != nil || full.Next != nil {
		t.Fatalf("a timeline that fits is not cut: truncated %v, collapsed %v, next %v", full.Truncated, full.Collapsed, full.Next)
	}
	routineBy := map[string]int{}
	routineN, facts := 0, 0
	var newestFact Event
	for _, e := range full.Timeline {
		if e.Kind == "finding" && !e.Pivot && (e.Severity == "low" || e.Severity == "info") {
			routineBy[e.FindingID]++
			routineN++
		}
		if e.Kind == "fact" {
			facts++
			if !e.Time.Before(newestFact.Time) {
				newestFact = e
			}
		}
	}
	const max = 8
	t.Logf("full timeline: %d events, %d crash facts, %d routine lines", len(full.Timeline), facts, routineN)
	if routineN == 0 || facts < max {
		t.Fatalf("the scenario's timeline has %d routine lines and %d facts; the test needs some and at least %d", routineN, facts, max)
	}

	for _, listRoutine := range []bool{false, true} {
		req := Request{Window: window, MaxEvents: max, ListRoutine: listRoutine}
		first, err := Correlate(context.Background(), im.idx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !first.Truncated || len(first.Timeline) != max {
			t.Fatalf("listRoutine %v: truncated %v with %d events, want %d", listRoutine, first.Truncated, len(first.Timeline), max)
		}
		checkTimeOrdered(t, first.Timeline)
		found := false
		for _, e := range first.Timeline {
			if e.Kind != "fact" {
				t.Errorf("listRoutine %v: the first page lists finding %s while crash facts were left out", listRoutine, e.Ref)
			}
			found = found || eventKey(e) == eventKey(newestFact)
		}
		if !found {
			t.Errorf("listRoutine %v: the newest crash fact %s is not on the first page", listRoutine, newestFact.Ref)
		}
		got := map[string]int{}
		collapsed := 0
		for _, c := range first.Collapsed {
			if c.Count != routineBy[c.FindingID] || (c.Severity != "low" && c.Severity != "info") {
				t.Errorf("collapsed %s (%s): %d, the full timeline holds %d", c.FindingID, c.Severity, c.Count, routineBy[c.FindingID])
			}
			collapsed += c.Count
		}
		if want := map[bool]int{false: routineN, true: 0}[listRoutine]; collapsed != want {
			t.Errorf("listRoutine %v: %d lines collapsed, want %d", listRoutine, collapsed, want)
		}
		listable := len(full.Timeline) - collapsed
		if n := first.Next[0]; n.Offset != max || n.Events != listable-max {
			t.Errorf("listRoutine %v: next %+v; want offset %d reaching %d events", listRoutine, n, max, listable-max)
		}
		for page := first; ; {
			for _, e := range page.Timeline {
				if !listRoutine && e.Kind == "finding" && !e.Pivot && index.SeverityRank(e.Severity) >= index.SeverityRank("low") {
					t.Errorf("page at offset %d lists routine %s", page.Offset, e.Ref)
				}
				got[eventKey(e)]++
			}
			if page.NextOffset == 0 {
				break
			}
			req.Offset = page.NextOffset
			if page, err = Correlate(context.Background(), im.idx, req); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range full.Timeline {
			k := eventKey(e)
			if routineBy[e.FindingID] > 0 && !e.Pivot && e.Kind == "finding" && !listRoutine {
				continue
			}
			if got[k] != 1 {
				t.Errorf("listRoutine %v: %s listed %d times over the pages, want once", listRoutine, k, got[k])
			}
		}
		if len(got) != listable {
			t.Errorf("listRoutine %v: the pages list %d events, want %d", listRoutine, len(got), listable)
		}
	}
}
