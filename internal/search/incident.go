package search

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// How the incident is found among the crash facts. A crash loop's facts follow each other at
// most one back-off apart (kubelet caps the back-off at 5 minutes) plus the time the container
// ran, so facts closer than LoopGap belong to one loop. A loop that has run for days repeats the
// same restarts: its last MaxIncidentSpan holds the current state, and what lies before is
// reachable as "older" matches. IncidentMargin widens the span the way incident_time does
// (±5 minutes): the lines that lead up to the first crash and follow the last one.
const (
	LoopGap         = 10 * time.Minute
	MaxIncidentSpan = time.Hour
	IncidentMargin  = 5 * time.Minute
)

// Focus sources.
const (
	FocusCrashFacts = "crash-facts" // the newest crash loop of the bundle (or of the window)
	FocusWindow     = "window"      // the window the caller gave, which holds no crash fact
	FocusAround     = "around"      // the moment the caller gave (incident_time)
	FocusNewest     = "newest"      // no crash fact and no window: newest first
)

// Focus is the span an answer that had to be cut was chosen around, and how the matches fall
// relative to it. Lines inside come first (crash-fact lines before the others, each nearest the
// Anchor first), then lines outside, nearest the span first; untimed lines last.
type Focus struct {
	Source string    `json:"source" yaml:"source"`
	From   time.Time `json:"from,omitzero" yaml:"from,omitempty"`
	To     time.Time `json:"to,omitzero" yaml:"to,omitempty"`
	// Anchor is the newest crash fact (or the caller's moment): the nearer a line, the earlier it
	// is chosen.
	Anchor time.Time `json:"anchor,omitzero" yaml:"anchor,omitempty"`
	Why    string    `json:"why" yaml:"why"`
	// Inside, Before, After and Untimed count the matches (routine ones included) in, before and
	// after the span and without a time, and how many of each this answer lists.
	Inside  Part `json:"inside" yaml:"inside"`
	Before  Part `json:"before" yaml:"before"`
	After   Part `json:"after" yaml:"after"`
	Untimed Part `json:"untimed" yaml:"untimed"`
}

// Part is a number of matches and how many of them an answer lists.
type Part struct {
	Matches int `json:"matches" yaml:"matches"`
	Listed  int `json:"listed" yaml:"listed"`
}

// isCrash says whether a fact is evidence of a crash: the kinds the K3 runbook reads. A clean
// exit (code 0) is not, even when the index keeps it for a troubled pod; an image pull failure
// keeps a container from starting rather than crashing it.
func isCrash(f *facts.Fact) bool {
	switch f.Kind {
	case facts.ContainerExit:
		return f.ExitCode != nil && *f.ExitCode != 0
	case facts.OOMKill, facts.TaskOOM, facts.Segfault, facts.BackOff, facts.ExecFailure,
		facts.ConfigMissing, facts.ProbeFailure, facts.Killing:
		return true
	}
	return false
}

// factSpan is when a fact happened: a folded repetition (a back-off logged at every sync) runs
// from its first line to its last.
func factSpan(f *facts.Fact) (from, to time.Time) {
	from, to = f.Ref.Time, f.Ref.Time
	if f.LastRef != nil && f.LastRef.Time.After(to) {
		to = f.LastRef.Time
	}
	return from, to
}

// findFocus decides what an answer that must be cut is chosen around: the moment the caller
// gave, else the newest crash loop inside the caller's window (or the bundle), else the window
// itself, else nothing but recency.
func findFocus(idx *index.Index, from, to, around time.Time) *Focus {
	if !around.IsZero() {
		return &Focus{Source: FocusAround, From: from, To: to, Anchor: around,
			Why: "the moment given (" + around.UTC().Format(time.RFC3339) + "): lines nearest it first"}
	}
	if f := newestLoop(idx, from, to); f != nil {
		return f
	}
	if !from.IsZero() || !to.IsZero() {
		anchor := to
		if anchor.IsZero() {
			anchor = newestTime(idx)
		}
		return &Focus{Source: FocusWindow, From: from, To: to, Anchor: anchor,
			Why: "the window given holds no crash fact: newest lines first"}
	}
	return &Focus{Source: FocusNewest, Anchor: newestTime(idx), Why: "the bundle holds no crash fact: newest lines first"}
}

// newestLoop is the span of the newest chain of crash facts inside [from, to), each within
// LoopGap of the next and reaching at most MaxIncidentSpan back from the newest, widened by
// IncidentMargin and kept inside the window.
func newestLoop(idx *index.Index, from, to time.Time) *Focus {
	type fs struct {
		from, to time.Time
		f        *facts.Fact
	}
	var crash []fs
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if !isCrash(f) || f.Ref.Time.IsZero() {
			continue
		}
		a, b := factSpan(f)
		if (!from.IsZero() && b.Before(from)) || (!to.IsZero() && !a.Before(to)) {
			continue
		}
		crash = append(crash, fs{a, b, f})
	}
	if len(crash) == 0 {
		return nil
	}
	// Newest end first: the chain grows backwards from the fact that ended last.
	slices.SortStableFunc(crash, func(x, y fs) int { return y.to.Compare(x.to) })
	end := crash[0].to
	floor := end.Add(-MaxIncidentSpan)
	start := later(crash[0].from, floor)
	chain := []*facts.Fact{crash[0].f}
	for _, c := range crash[1:] {
		if c.to.Before(start.Add(-LoopGap)) || c.to.Before(floor) {
			break // the loop was quiet for a while, or what is left is older than the span
		}
		if s := later(c.from, floor); s.Before(start) {
			start = s
		}
		chain = append(chain, c.f)
	}
	// Whole seconds read better in the calls an answer proposes; rounding outwards loses nothing.
	focus := &Focus{Source: FocusCrashFacts, From: start.Add(-IncidentMargin).Truncate(time.Second),
		To: end.Add(IncidentMargin + time.Second - time.Nanosecond).Truncate(time.Second), Anchor: end}
	if !from.IsZero() && focus.From.Before(from) {
		focus.From = from
	}
	if !to.IsZero() && focus.To.After(to) {
		focus.To = to
	}
	focus.Why = describeLoop(chain, start, end)
	return focus
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// describeLoop says in one line which crash facts made the focus.
func describeLoop(chain []*facts.Fact, start, end time.Time) string {
	kinds := map[facts.Kind]int{}
	var pods []string
	for _, f := range chain {
		kinds[f.Kind]++
		who := f.Container
		if f.Pod != "" {
			who = f.Namespace + "/" + f.Pod
		}
		if who != "" && !slices.Contains(pods, who) {
			pods = append(pods, who)
		}
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s×%d", k, n))
	}
	slices.Sort(ks)
	slices.Sort(pods)
	if len(pods) > 3 {
		pods = append(pods[:3], fmt.Sprintf("%d more", len(pods)-3))
	}
	of := ""
	if len(pods) > 0 {
		of = " of " + strings.Join(pods, ", ")
	}
	return fmt.Sprintf("the newest crash loop: %d crash facts (%s)%s from %s to %s, widened by %s",
		len(chain), strings.Join(ks, ", "), of, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), IncidentMargin)
}

// newestTime is the latest moment the bundle speaks of: its capture, else its newest line.
func newestTime(idx *index.Index) time.Time {
	if !idx.Time.Capture.IsZero() {
		return idx.Time.Capture
	}
	var t time.Time
	for _, f := range idx.Files {
		if f.Last.After(t) {
			t = f.Last
		}
	}
	return t
}

// factLines maps each file to the lines that crash facts stand on (their first and last line
// and the copies in other files): the lines an incident answer lists first.
func factLines(idx *index.Index) map[string]map[int]bool {
	out := map[string]map[int]bool{}
	add := func(file string, line int) {
		m := out[file]
		if m == nil {
			m = map[int]bool{}
			out[file] = m
		}
		m[line] = true
	}
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if !isCrash(f) {
			continue
		}
		add(f.Ref.File, f.Ref.Line)
		for _, a := range f.Also {
			add(a.File, a.Line)
		}
		if f.LastRef != nil {
			add(f.LastRef.File, f.LastRef.Line)
		}
	}
	return out
}
