// Package correlate builds the crash timeline of a bundle around a pivot event (the SOP's
// `correlate(instanceId, pivotEvent, timeWindow)`), the causal chain of every container death
// joined by equal identifiers only (container ID, pod UID + container name, PID), the crash
// frequency and back-off ladder observed in the logs, the evidence gaps that limit what can be
// said, and a completeness check of the bundle itself (Validate). A timeline longer than the
// caller's page is cut around the pivot (cut.go): crash facts of its neighbourhood first, newest
// first, routine finding lines counted, and the requests that get the rest named.
//
// Everything here reads an index.Index that is already built: no log file is reopened, so a
// timeline costs milliseconds even on a bundle of gigabytes.
package correlate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/logtime"
)

// Defaults and limits of a Request.
const (
	DefaultPivot     = "CrashLoopBackOff"
	DefaultWindow    = 300 * time.Second
	MaxWindow        = 24 * time.Hour
	DefaultMaxEvents = 200
	// QuietGap splits the timeline into clusters: a minute without an event ends a burst.
	QuietGap = 60 * time.Second
	// ClockTolerance is how far two lines of one event may disagree before it is a gap: PLEG
	// relists every second, so kubelet legitimately trails containerd by up to about one.
	ClockTolerance = 2 * time.Second
)

// crashLoopRule is the finding rule that the default pivot includes beside BackOff facts.
const crashLoopRule = "kubelet-crashloop-backoff"

// Request selects the pivot and what to keep around it.
type Request struct {
	// Pivot is a finding id ("F-007"), a crash-fact kind ("OOMKill", "BackOff", …, any case) or
	// a regex matched against fact text, finding rule ids, titles and sample lines. Empty means
	// DefaultPivot: BackOff facts and the kubelet-crashloop-backoff finding.
	Pivot string
	// Window is how far before and after each pivot occurrence to look; 0 means DefaultWindow.
	Window time.Duration
	// Components keeps only events of these log types (kubelet, containerd, dmesg or kernel,
	// messages, journal, …); empty keeps all.
	Components []string
	// Namespace, Pod and Container restrict facts (and chains, frequency) to one workload.
	Namespace, Pod, Container string
	// MaxEvents caps the timeline; 0 means DefaultMaxEvents. A longer timeline is cut (see cut.go):
	// the pivot's neighbourhood and the crash facts first, newest first, routine finding lines
	// counted in Result.Collapsed.
	MaxEvents int
	// Offset skips that many events of a cut timeline's order: a cut answer's NextOffset.
	Offset int
	// ListRoutine lists routine finding lines among the others instead of counting them.
	ListRoutine bool
	// MaxChains lists only the newest chains (0: all); the notes count the older ones by cause.
	// A crash loop repeats one chain many times, and an agent pays for each.
	MaxChains int
}

// Result is the timeline and what was derived from it.
type Result struct {
	Pivot       string      `json:"pivot" yaml:"pivot"`
	Occurrences int         `json:"occurrences" yaml:"occurrences"`
	Window      string      `json:"window" yaml:"window"` // the window used, e.g. "5m0s"
	Windows     []Window    `json:"windows" yaml:"windows"`
	Timeline    []Event     `json:"timeline" yaml:"timeline"`
	Clusters    []Cluster   `json:"clusters,omitempty" yaml:"clusters,omitempty"`
	Chains      []Chain     `json:"chains,omitempty" yaml:"chains,omitempty"`
	Frequency   []Frequency `json:"frequency,omitempty" yaml:"frequency,omitempty"`
	Gaps        []string    `json:"gaps,omitempty" yaml:"gaps,omitempty"`
	Truncated   bool        `json:"truncated" yaml:"truncated"`
	Notes       []string    `json:"notes,omitempty" yaml:"notes,omitempty"`
	// Set on a cut timeline: the routine lines counted instead of listed, the Offset of the next
	// page (0: none) and the requests that get what was not listed.
	Collapsed  []Collapsed `json:"collapsed,omitempty" yaml:"collapsed,omitempty"`
	Offset     int         `json:"offset,omitempty" yaml:"offset,omitempty"`
	NextOffset int         `json:"nextOffset,omitempty" yaml:"nextOffset,omitempty"`
	Next       []Next      `json:"next,omitempty" yaml:"next,omitempty"`
}

// Window is one merged span of time around pivot occurrences.
type Window struct {
	Start       time.Time      `json:"start" yaml:"start"`
	End         time.Time      `json:"end" yaml:"end"`
	Occurrences int            `json:"occurrences" yaml:"occurrences"`
	Findings    []FindingCount `json:"findings,omitempty" yaml:"findings,omitempty"`
}

// FindingCount is how often a finding's rule hit inside a window (to the minute, from the
// index's per-minute counts, so it counts lines that are not among the samples too).
type FindingCount struct {
	ID       string `json:"id" yaml:"id"`
	Rule     string `json:"rule" yaml:"rule"`
	Severity string `json:"severity" yaml:"severity"`
	Count    int    `json:"count" yaml:"count"`
}

// Event is one line of the timeline: a crash fact or a finding's sample line.
type Event struct {
	Time        time.Time          `json:"time,omitzero" yaml:"time,omitempty"`
	Quality     logtime.Quality    `json:"timeQuality" yaml:"timeQuality"`
	Kind        string             `json:"kind" yaml:"kind"` // "fact" or "finding"
	FactKind    facts.Kind         `json:"factKind,omitempty" yaml:"factKind,omitempty"`
	Rule        string             `json:"rule,omitempty" yaml:"rule,omitempty"`
	FindingID   string             `json:"findingID,omitempty" yaml:"findingID,omitempty"`
	Severity    string             `json:"severity" yaml:"severity"`
	Component   string             `json:"component" yaml:"component"` // kubelet, containerd, kernel, or the file's log type
	LogType     string             `json:"logType" yaml:"logType"`     // the log type of the file the line is in
	Namespace   string             `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Pod         string             `json:"pod,omitempty" yaml:"pod,omitempty"`
	Container   string             `json:"container,omitempty" yaml:"container,omitempty"`
	ContainerID string             `json:"containerID,omitempty" yaml:"containerID,omitempty"`
	Summary     string             `json:"summary" yaml:"summary"`
	Pivot       bool               `json:"pivot,omitempty" yaml:"pivot,omitempty"`
	Repeats     int                `json:"repeats,omitempty" yaml:"repeats,omitempty"`
	Ref         evidence.LineRef   `json:"ref" yaml:"ref"`
	LastRef     *evidence.LineRef  `json:"lastRef,omitempty" yaml:"lastRef,omitempty"`
	Also        []evidence.LineRef `json:"also,omitempty" yaml:"also,omitempty"`
	// Block is the rest of a kernel OOM report an OOM kill was read from (facts.Fact.Block).
	Block []evidence.LineRef `json:"block,omitempty" yaml:"block,omitempty"`
}

// Cluster is a burst of timeline events with no quiet gap of QuietGap or more inside.
type Cluster struct {
	Start  time.Time `json:"start" yaml:"start"`
	End    time.Time `json:"end" yaml:"end"`
	Events int       `json:"events" yaml:"events"`
	Kinds  []string  `json:"kinds" yaml:"kinds"` // fact kinds and finding rules, sorted
}

// RequestError is a request the caller must fix (the CLI exits 2 on it). It wraps the cause
// when there is one (a regexp syntax error) and matches ErrInvalidRequest with errors.Is.
type RequestError struct {
	Field string   // "pivot" or "window"
	Value string   // what was given
	Valid []string // what is accepted, when it is a list (finding ids)
	Msg   string
	Err   error
}

// ErrInvalidRequest matches every RequestError.
var ErrInvalidRequest = errors.New("invalid correlate request")

func (e *RequestError) Error() string {
	s := fmt.Sprintf("correlate: %s %q: %s", e.Field, e.Value, e.Msg)
	if len(e.Valid) > 0 {
		s += " (valid: " + strings.Join(e.Valid, ", ") + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, so a regexp error stays inspectable.
func (e *RequestError) Unwrap() error { return e.Err }

// Is reports ErrInvalidRequest, so callers need not know the concrete type.
func (e *RequestError) Is(target error) bool { return target == ErrInvalidRequest }

var findingIDRe = regexp.MustCompile(`^F-\d+$`)

// knownKinds are the fact kinds a pivot may name; join-data kinds are left out on purpose
// because they are not crash events.
var knownKinds = []facts.Kind{facts.ContainerExit, facts.BackOff, facts.OOMKill, facts.TaskOOM, facts.Segfault,
	facts.ExecFailure, facts.ConfigMissing, facts.ProbeFailure, facts.ImagePull, facts.Killing}

// pivotSpec is a resolved pivot: which facts and which findings (whole, or by sample text) it names.
type pivotSpec struct {
	name     string
	kinds    map[facts.Kind]bool
	findings map[string]bool // finding ids taken whole (all their minutes)
	re       *regexp.Regexp  // regex pivot: facts and samples matching it
}

func resolvePivot(idx *index.Index, p string) (*pivotSpec, error) {
	if p == "" {
		p = DefaultPivot
	}
	ps := &pivotSpec{name: p, kinds: map[facts.Kind]bool{}, findings: map[string]bool{}}
	if strings.EqualFold(p, DefaultPivot) {
		ps.kinds[facts.BackOff] = true
		for _, f := range idx.Findings {
			if f.Rule == crashLoopRule {
				ps.findings[f.ID] = true
			}
		}
		return ps, nil
	}
	if findingIDRe.MatchString(p) {
		for _, f := range idx.Findings {
			if f.ID == p {
				ps.findings[f.ID] = true
				return ps, nil
			}
		}
		valid := make([]string, 0, len(idx.Findings))
		for _, f := range idx.Findings {
			valid = append(valid, f.ID)
		}
		msg := "no such finding in this bundle's index"
		if len(valid) == 0 {
			msg = "no such finding: this bundle has no findings"
		}
		return nil, &RequestError{Field: "pivot", Value: p, Valid: valid, Msg: msg}
	}
	for _, k := range knownKinds {
		if strings.EqualFold(p, string(k)) {
			ps.kinds[k] = true
			ps.name = string(k)
			return ps, nil
		}
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, &RequestError{Field: "pivot", Value: p,
			Msg: "not a finding id (F-001), a fact kind (" + kindList() + ") or a valid regular expression", Err: err}
	}
	ps.re = re
	for _, f := range idx.Findings {
		if re.MatchString(f.Rule) || re.MatchString(f.Title) {
			ps.findings[f.ID] = true
		}
	}
	return ps, nil
}

func kindList() string {
	s := make([]string, len(knownKinds))
	for i, k := range knownKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// factText is what a regex pivot is matched against: the kind, the wording and every
// human-readable field of a fact.
func factText(f *facts.Fact) string {
	parts := []string{string(f.Kind), f.Source, f.Reason, f.Message, f.Process, f.Namespace, f.Pod, f.Container, f.Name, f.Path, f.FailureKind, f.Delay}
	if f.ExitCode != nil {
		parts = append(parts, fmt.Sprintf("exit %d", *f.ExitCode))
	}
	return strings.Join(parts, " ")
}

// span is a closed interval of time.
type span struct{ from, to time.Time }

// Correlate builds the timeline around every occurrence of req.Pivot in idx.
func Correlate(ctx context.Context, idx *index.Index, req Request) (*Result, error) {
	if idx == nil {
		return nil, errors.New("correlate: no index given (build or load the bundle's index first)")
	}
	if req.Window == 0 {
		req.Window = DefaultWindow
	}
	if req.Window < 0 || req.Window > MaxWindow {
		return nil, &RequestError{Field: "window", Value: req.Window.String(),
			Msg: fmt.Sprintf("must be greater than 0 and at most %s", MaxWindow)}
	}
	if req.MaxEvents <= 0 {
		req.MaxEvents = DefaultMaxEvents
	}
	if req.Offset < 0 {
		return nil, &RequestError{Field: "offset", Value: fmt.Sprint(req.Offset), Msg: "must be 0 or more (a cut answer's nextOffset)"}
	}
	ps, err := resolvePivot(idx, req.Pivot)
	if err != nil {
		return nil, err
	}
	res := &Result{Pivot: ps.name, Window: req.Window.String()}

	scoped := make([]*facts.Fact, 0, len(idx.Facts))
	for i := range idx.Facts {
		if inScope(&idx.Facts[i], req) {
			scoped = append(scoped, &idx.Facts[i])
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}

	filtered := req.Namespace != "" || req.Pod != "" || req.Container != ""
	pv := findPivots(idx, ps, scoped, filtered)
	occ, untimed, pivotFact, pivotSample := pv.occ, pv.untimed, pv.facts, pv.samples
	res.Occurrences = pv.count()
	if filtered {
		res.Notes = append(res.Notes, "namespace/pod/container filter: only crash facts are shown, because finding lines are not joined to pods")
	}
	if untimed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d pivot occurrence(s) have no time and open no window", untimed))
	}
	res.Gaps = gaps(idx, scoped)
	if len(occ) == 0 {
		res.Notes = append(res.Notes, noOccurrenceNote(idx, ps, scoped, req))
		res.Windows, res.Timeline = []Window{}, []Event{}
		return res, nil
	}
	windows := mergeSpans(occ, req.Window)
	res.Windows = pv.windows(idx, windows)

	fileType := map[string]string{}
	for _, f := range idx.Files {
		fileType[f.Path] = f.LogType
	}
	inWindow := func(from, to time.Time) bool {
		for _, w := range windows {
			if !to.Before(w.from) && !from.After(w.to) {
				return true
			}
		}
		return false
	}
	events, factLines := factEvents(scoped, pivotFact, fileType, inWindow)
	if !filtered {
		events = append(events, findingEvents(idx, factLines, pivotSample, fileType, inWindow)...)
	}
	events = keepComponents(events, req.Components)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}
	sortEvents(events)
	if len(events) > req.MaxEvents || req.Offset > 0 {
		all := len(events)
		var listable, older int
		events, res.Collapsed, listable, older = cut(events, occ, req)
		res.Truncated, res.Timeline, res.Offset = len(events) < all, events, req.Offset // cutNotes reads the page
		cutNotes(res, req, all, listable, older)
		if events == nil {
			events = []Event{} // an offset past the end
		}
	}
	res.Timeline = events
	res.Clusters = clusters(events)
	res.Chains = chains(idx, scoped, windows)
	if req.MaxChains > 0 && len(res.Chains) > req.MaxChains {
		res.Chains, res.Notes = newestChains(res.Chains, req.MaxChains, res.Notes)
	}
	res.Frequency = frequency(scoped)
	return res, nil
}

func inScope(f *facts.Fact, req Request) bool {
	return (req.Namespace == "" || f.Namespace == req.Namespace) &&
		(req.Pod == "" || f.Pod == req.Pod) &&
		(req.Container == "" || f.Container == req.Container)
}

// mergeSpans widens each span by w on both sides and merges the ones that overlap.
func mergeSpans(occ []span, w time.Duration) []span {
	sorted := slices.Clone(occ)
	slices.SortFunc(sorted, func(a, b span) int { return a.from.Compare(b.from) })
	var out []span
	for _, s := range sorted {
		s = span{s.from.Add(-w), s.to.Add(w)}
		if n := len(out); n > 0 && !s.from.After(out[n-1].to) {
			if s.to.After(out[n-1].to) {
				out[n-1].to = s.to
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

func noOccurrenceNote(idx *index.Index, ps *pivotSpec, scoped []*facts.Fact, req Request) string {
	what := "pivot " + ps.name
	switch {
	case len(ps.kinds) > 0 && len(ps.findings) == 0 && ps.name != DefaultPivot:
		what += " (" + ps.name + " facts)"
	case ps.name == DefaultPivot:
		what += " (BackOff facts and the " + crashLoopRule + " finding)"
	case ps.re != nil:
		what += " (regex over fact text, finding rules, titles and samples)"
	}
	if req.Namespace != "" || req.Pod != "" || req.Container != "" {
		what += fmt.Sprintf(" for namespace=%q pod=%q container=%q", req.Namespace, req.Pod, req.Container)
	}
	counts := map[facts.Kind]int{}
	for _, f := range scoped {
		counts[f.Kind]++
	}
	var have []string
	for _, k := range knownKinds {
		if counts[k] > 0 {
			have = append(have, fmt.Sprintf("%s×%d", k, counts[k]))
		}
	}
	has := "no crash facts"
	if len(have) > 0 {
		has = "crash facts " + strings.Join(have, ", ")
	}
	return fmt.Sprintf("no occurrence of %s; the bundle has %s and %d findings", what, has, len(idx.Findings))
}

// component names the program that wrote a fact or rule hit, from its wording's prefix.
func component(source, fileType string) string {
	switch {
	case strings.HasPrefix(source, "kernel-"):
		return "kernel"
	case strings.HasPrefix(source, "kubelet-"):
		return "kubelet"
	case strings.HasPrefix(source, "containerd-"):
		return "containerd"
	}
	return fileType
}

// keepComponents applies Request.Components: an event is kept when its component or its
// file's log type is named; "kernel" and "dmesg" name the same thing.
func keepComponents(events []Event, comps []string) []Event {
	if len(comps) == 0 {
		return events
	}
	want := map[string]bool{}
	for _, c := range comps {
		c = strings.ToLower(strings.TrimSpace(c))
		want[c] = true
		if c == "dmesg" {
			want["kernel"] = true
		}
		if c == "kernel" {
			want["dmesg"] = true
		}
	}
	out := events[:0]
	for _, e := range events {
		if want[e.Component] || want[e.LogType] {
			out = append(out, e)
		}
	}
	return out
}

func sortEvents(events []Event) {
	slices.SortStableFunc(events, func(a, b Event) int {
		switch az, bz := a.Time.IsZero(), b.Time.IsZero(); {
		case az && !bz:
			return 1
		case !az && bz:
			return -1
		}
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := strings.Compare(a.Ref.File, b.Ref.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Ref.Line, b.Ref.Line)
	})
}

func clusters(events []Event) []Cluster {
	var out []Cluster
	kinds := map[string]bool{}
	flush := func() {
		n := len(out) - 1
		out[n].Kinds = sortedKeys(kinds)
		clear(kinds)
	}
	for _, e := range events {
		if e.Time.IsZero() {
			continue
		}
		if n := len(out); n == 0 || e.Time.Sub(out[n-1].End) >= QuietGap {
			if n > 0 {
				flush()
			}
			out = append(out, Cluster{Start: e.Time, End: e.Time})
		}
		c := &out[len(out)-1]
		c.End, c.Events = e.Time, c.Events+1
		if e.FactKind != "" {
			kinds[string(e.FactKind)] = true
		} else {
			kinds[e.Rule] = true
		}
	}
	if len(out) > 0 {
		flush()
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// newestChains keeps the n newest chains, in their order, and notes the older ones by cause.
func newestChains(cs []Chain, n int, notes []string) ([]Chain, []string) {
	byTime := slices.Clone(cs)
	slices.SortStableFunc(byTime, func(a, b Chain) int { return b.Time.Compare(a.Time) })
	cutoff := byTime[n-1].Time
	atCutoff := n // how many chains timed exactly at the cutoff may stay
	for _, c := range cs {
		if c.Time.After(cutoff) {
			atCutoff--
		}
	}
	var kept []Chain
	older := map[string]int{}
	for _, c := range cs {
		switch {
		case c.Time.After(cutoff):
			kept = append(kept, c)
		case c.Time.Equal(cutoff) && atCutoff > 0:
			kept = append(kept, c)
			atCutoff--
		default:
			older[c.Cause]++
		}
	}
	var parts []string
	for _, cause := range slices.Sorted(maps.Keys(older)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", cause, older[cause]))
	}
	return kept, append(notes, fmt.Sprintf("%d older chains not listed (%s): maxChains 0 lists every chain",
		len(cs)-len(kept), strings.Join(parts, ", ")))
}

// pivots are the pivot's occurrences: its crash facts, or else the findings it names taken
// whole (each minute they hit in) and the finding samples its regex matches.
type pivots struct {
	occ      []span // every occurrence, as spans (a folded back-off runs from its first line to its last)
	nFactOcc int    // occ[:nFactOcc] are the facts'
	untimed  int
	facts    map[*facts.Fact]bool
	whole    []*index.Finding // pivot findings taken whole
	sampled  []span           // regex-matched sample lines of other findings
	matched  int
	samples  map[string]bool // the pivot's sample lines, by file:line
}

func findPivots(idx *index.Index, ps *pivotSpec, scoped []*facts.Fact, filtered bool) *pivots {
	pv := &pivots{facts: map[*facts.Fact]bool{}, samples: map[string]bool{}}
	for _, f := range scoped {
		if !ps.kinds[f.Kind] && (ps.re == nil || !ps.re.MatchString(factText(f))) {
			continue
		}
		pv.facts[f] = true
		if f.Ref.Time.IsZero() {
			pv.untimed++
			continue
		}
		s := span{f.Ref.Time, f.Ref.Time}
		if f.LastRef != nil && f.LastRef.Time.After(s.to) {
			s.to = f.LastRef.Time
		}
		pv.occ = append(pv.occ, s)
	}
	pv.nFactOcc = len(pv.occ)
	if filtered {
		// Findings are aggregates: a workload filter cannot be applied to a finding's minutes,
		// so with a filter only facts pivot.
		return pv
	}
	for i := range idx.Findings {
		f := &idx.Findings[i]
		if ps.findings[f.ID] {
			pv.whole = append(pv.whole, f)
			for _, m := range f.Minutes {
				start := time.Unix(m.M*60, 0).UTC()
				pv.occ = append(pv.occ, span{start, start.Add(time.Minute - time.Nanosecond)})
			}
			for _, s := range f.Samples {
				pv.samples[s.LineRef.String()] = true
			}
			pv.untimed += f.Untimed
			continue
		}
		if ps.re == nil {
			continue
		}
		for _, s := range f.Samples {
			if !ps.re.MatchString(s.Text) {
				continue
			}
			pv.samples[s.LineRef.String()] = true
			pv.matched++
			if s.Time.IsZero() {
				pv.untimed++
				continue
			}
			pv.occ = append(pv.occ, span{s.Time, s.Time})
			pv.sampled = append(pv.sampled, span{s.Time, s.Time})
		}
	}
	return pv
}

// count is Result.Occurrences. Pivot facts, when there are any, are the occurrences: a folded
// back-off already stands for the finding's repeated lines, and counting both would count one
// event twice.
func (pv *pivots) count() int {
	if len(pv.facts) > 0 {
		return len(pv.facts)
	}
	n := pv.matched
	for _, f := range pv.whole {
		n += f.Count
	}
	return n
}

// windows describes each merged window: its occurrences, counted the way count does, and the
// findings that hit in it, most severe first.
func (pv *pivots) windows(idx *index.Index, spans []span) []Window {
	factsPivot := len(pv.facts) > 0
	counted := pv.occ[:pv.nFactOcc]
	if !factsPivot {
		counted = pv.sampled
	}
	var out []Window
	for _, w := range spans {
		n := 0
		for _, o := range counted {
			if !o.from.Before(w.from) && !o.to.After(w.to) {
				n++
			}
		}
		if !factsPivot {
			for _, f := range pv.whole {
				n += f.CountBetween(w.from, w.to.Add(time.Nanosecond))
			}
		}
		win := Window{Start: w.from, End: w.to, Occurrences: n}
		for i := range idx.Findings {
			f := &idx.Findings[i]
			if c := f.CountBetween(w.from, w.to.Add(time.Nanosecond)); c > 0 {
				win.Findings = append(win.Findings, FindingCount{ID: f.ID, Rule: f.Rule, Severity: f.Severity, Count: c})
			}
		}
		slices.SortStableFunc(win.Findings, func(a, b FindingCount) int {
			if c := cmp.Compare(index.SeverityRank(a.Severity), index.SeverityRank(b.Severity)); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		out = append(out, win)
	}
	return out
}
