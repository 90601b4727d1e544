// Package report builds the HTML report of a crash loop (`nodediag report`, and `serve`'s
// /report/{instance}): one self-contained page a person reads without network — the K3
// runbook's Output Format up top, the crash loop on one time axis with a lane per log source
// (kernel, containerd, kubelet, other node logs, Kubernetes events), the memory usage of every
// OOM kill against its limit, and each line of evidence with a few lines of context read from
// the bundle, then the gaps and escalations.
//
// The CLI and the MCP server's HTTP mux call the same Build and Render, so the file and the page
// never differ. Everything from the bundle is redacted (internal/redact) before it reaches the
// template, and html/template escapes it; no bundle text is ever marked as trusted HTML.
package report

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/search"
	"github.com/nodediag/nodediag/internal/store"
)

// Limits of one report: a crash loop of days repeats the same few events thousands of times,
// and the page must stay small enough to open at once (the target is under 1 MB).
const (
	// DefaultContext is how many lines before and after an evidence line are shown.
	DefaultContext = 3
	// MaxMarks caps the timeline's marks; the newest are kept, the rest counted in a note.
	MaxMarks = 400
	// maxLineBytes cuts a quoted line, as read does for an agent.
	maxLineBytes = 1200
)

// Request names the bundle and the container to report on.
type Request struct {
	Entry *store.Entry
	Index *index.Index
	// Input is what diagnose needs: the pod (or none: the busiest crash loop of the bundle) and
	// whatever the Kubernetes API or files said about it.
	Input diagnose.Input
	// Gaps are further gaps the face knows of (the cluster could not be read), listed with the
	// diagnosis's own.
	Gaps []string
	// Context is the number of lines shown around each evidence line; 0 means DefaultContext.
	Context int
	// NoRedact shows the bundle's text as it is: only for a local CLI user who asked for it
	// (--no-redact); the server never sets it.
	NoRedact bool
	// Now stamps the report; zero means time.Now.
	Now time.Time
}

// Report is everything the page shows, already redacted.
type Report struct {
	Title     string
	Generated time.Time
	Bundle    Bundle
	Diagnosis diagnose.Diagnosis
	Timeline  Timeline
	Memory    *Memory // nil unless an OOM kill of the container states usage or limit
	Snippets  []Snippet
	Events    []KubeEvent
	// Anchors maps a file:line the page quotes to the id of its line.
	Anchors  map[string]string `redact:"-"`
	Redacted bool
}

// Bundle says which bundle the report was read from.
type Bundle struct {
	ID, Instance, Node string
	Capture            time.Time
}

// Build diagnoses the container and gathers what the page shows.
func Build(ctx context.Context, req Request) (*Report, error) {
	if req.Entry == nil || req.Index == nil {
		return nil, fmt.Errorf("report: a stored bundle and its index are required")
	}
	in := req.Input
	in.Entry = req.Entry
	d, err := diagnose.Diagnose(ctx, req.Index, in)
	if err != nil {
		return nil, err
	}
	d.Gaps = append(d.Gaps, req.Gaps...)
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	m := req.Entry.Manifest
	r := &Report{
		Generated: now.UTC(),
		Bundle:    Bundle{ID: m.ID, Instance: m.InstanceID, Node: m.NodeName, Capture: req.Index.Time.Capture},
		Diagnosis: *d,
	}
	who := "no crash-looping container found"
	if d.Pod != "" {
		who = workload(d.Namespace, d.Pod, d.Container)
	}
	r.Title = "nodediag report: " + who
	marks, dropped, err := timelineMarks(ctx, req.Index, d)
	if err != nil {
		return nil, err
	}
	r.Events = kubeEvents(in.Events)
	r.Timeline = layout(marks, r.Events)
	r.Timeline.Dropped = dropped
	r.Memory = memoryChart(req.Index, d)
	n := req.Context
	if n <= 0 {
		n = DefaultContext
	}
	want, files := wanted(d, marks)
	if r.Snippets, err = snippets(ctx, req.Entry, req.Index, want, files, n); err != nil {
		return nil, err
	}
	anchors(r)
	if req.NoRedact {
		return r, nil
	}
	r.Redacted = true
	// One pass over every string the page shows: the same rules as every other output.
	red, err := redact.Apply(*r, redact.String)
	if err != nil {
		return nil, fmt.Errorf("report: redact: %w", err)
	}
	return &red, nil
}

// FileName is the default name of a report's file: nodediag-report-<ns>-<pod>.html, with
// anything but letters, digits, '.', '_' and '-' replaced so a pod name cannot leave the folder.
func FileName(r *Report) string {
	d := r.Diagnosis
	parts := []string{"nodediag-report"}
	for _, p := range []string{d.Namespace, d.Pod} {
		if p != "" {
			parts = append(parts, unsafeName.ReplaceAllString(p, "_"))
		}
	}
	if len(parts) == 1 {
		parts = append(parts, unsafeName.ReplaceAllString(r.Bundle.Instance, "_"))
	}
	return strings.Join(parts, "-") + ".html"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func workload(ns, pod, container string) string {
	s := pod
	if ns != "" {
		s = ns + "/" + pod
	}
	if container != "" {
		s += " (" + container + ")"
	}
	return s
}

// crashKinds are the fact kinds the timeline shows: the events of a crash loop. Join data
// (sandbox and container created, PLEG started/died) would double every mark.
var crashKinds = []facts.Kind{facts.ContainerExit, facts.BackOff, facts.OOMKill, facts.TaskOOM, facts.Segfault,
	facts.ExecFailure, facts.ConfigMissing, facts.ProbeFailure, facts.ImagePull, facts.Killing}

// crashKindPivot matches a fact of any crash kind: correlate matches a regex pivot against a
// fact's text, which starts with its kind.
var crashKindPivot = func() string {
	names := make([]string, len(crashKinds))
	for i, k := range crashKinds {
		names[i] = string(k)
	}
	return `^(` + strings.Join(names, "|") + `)\b`
}()

// Mark is one event on the timeline, linked to its line in the evidence below.
type Mark struct {
	Lane    string
	Kind    string // fact kind, or "Event" for a Kubernetes event
	Time    time.Time
	Until   time.Time // the last repetition of a fact kubelet logs at every sync; zero when none
	Ref     string    // file:line; empty for a Kubernetes event
	Summary string
	Repeats int
	Anchor  string `redact:"-"` // id of the line (or event row) it links to
	X, Y    float64
	X2      float64 // x of Until; 0 when none
	Class   string  `redact:"-"` // CSS class of its colour
	Fact    bool    // a crash fact (not a Kubernetes event)
}

// timelineMarks asks correlate for every crash fact of the diagnosed container (the same
// timeline the correlate tool gives, for the whole bundle) and keeps the timed ones.
func timelineMarks(ctx context.Context, idx *index.Index, d *diagnose.Diagnosis) ([]Mark, int, error) {
	if d.Pod == "" {
		return nil, 0, nil
	}
	res, err := correlate.Correlate(ctx, idx, correlate.Request{
		Pivot: crashKindPivot, Window: correlate.MaxWindow, Namespace: d.Namespace, Pod: d.Pod, Container: d.Container,
		MaxEvents: 1 << 20,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("report: timeline: %w", err)
	}
	var out []Mark
	for _, e := range res.Timeline {
		if e.Kind != "fact" || !slices.Contains(crashKinds, e.FactKind) || e.Time.IsZero() {
			continue
		}
		m := Mark{Lane: lane(e.Component), Kind: string(e.FactKind), Time: e.Time, Ref: e.Ref.String(),
			Summary: e.Summary, Repeats: e.Repeats, Class: kindClass(e.FactKind), Fact: true}
		// A fact repeated for minutes (a missing ConfigMap, a back-off) is a span on the axis, not
		// a point: the reader sees how long it lasted.
		if e.LastRef != nil && e.LastRef.Time.After(e.Time) {
			m.Until = e.LastRef.Time
		}
		out = append(out, m)
	}
	dropped := max(len(out)-MaxMarks, 0)
	return out[dropped:], dropped, nil
}

// Lanes of the timeline, top to bottom: the order in which a crash travels, from the kernel's
// kill up to what Kubernetes reports.
const (
	LaneKernel     = "kernel"
	LaneContainerd = "containerd"
	LaneKubelet    = "kubelet"
	LaneOther      = "other logs"
	LaneKube       = "k8s events"
)

var lanes = []string{LaneKernel, LaneContainerd, LaneKubelet, LaneOther, LaneKube}

func lane(component string) string {
	switch component {
	case "kernel", "dmesg":
		return LaneKernel
	case "containerd":
		return LaneContainerd
	case "kubelet":
		return LaneKubelet
	}
	return LaneOther
}

func kindClass(k facts.Kind) string {
	switch k {
	case facts.OOMKill, facts.TaskOOM, facts.Segfault:
		return "k-kill"
	case facts.ContainerExit:
		return "k-exit"
	case facts.BackOff:
		return "k-backoff"
	case facts.ExecFailure, facts.ConfigMissing:
		return "k-config"
	}
	return "k-other"
}

// KubeEvent is one event of the pod as the Kubernetes API reported it.
type KubeEvent struct {
	Time                  time.Time
	Type, Reason, Message string
	Count                 int
	Anchor                string `redact:"-"`
}

func kubeEvents(evs []corev1.Event) []KubeEvent {
	var out []KubeEvent
	for _, e := range evs {
		t := e.LastTimestamp.Time
		if t.IsZero() {
			t = e.EventTime.Time
		}
		if t.IsZero() {
			t = e.FirstTimestamp.Time
		}
		out = append(out, KubeEvent{Time: t.UTC(), Type: e.Type, Reason: e.Reason, Message: e.Message, Count: int(max(e.Count, 1))})
	}
	slices.SortStableFunc(out, func(a, b KubeEvent) int { return a.Time.Compare(b.Time) })
	for i := range out {
		out[i].Anchor = "E-" + strconv.Itoa(i+1)
	}
	return out
}

// Memory is the OOM kills of the container: usage and anon-rss against the limit, per kill.
type Memory struct {
	Kills  []Kill
	Width  float64
	Height float64
	Base   float64 // y of the zero line
	Ticks  []Tick  // y-axis labels
}

// Kill is one OOM kill's bar group.
type Kill struct {
	Time                     time.Time
	Ref                      string
	Anchor                   string `redact:"-"`
	UsageKB, LimitKB, AnonKB int64
	Usage, Limit, Anon       string
	Process                  string
	PID                      int
	// Bar geometry, in the chart's user units.
	X, W                float64
	UsageY, AnonY, LimY float64
	UsageH, AnonH       float64
	HasLimit, HasUsage  bool
	LabelX              float64
	TimeLabel           string
	AtLimitPc           int // the larger of usage and anon-rss, in percent of the limit
}

// memoryChart draws the container's OOM kills that state a figure; nil when there are none.
func memoryChart(idx *index.Index, d *diagnose.Diagnosis) *Memory {
	if d.Pod == "" {
		return nil
	}
	var kills []Kill
	var top int64
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if f.Kind != facts.OOMKill || f.Pod != d.Pod || (d.Namespace != "" && f.Namespace != d.Namespace) ||
			(d.Container != "" && f.Container != "" && f.Container != d.Container) {
			continue
		}
		if f.UsageKB <= 0 && f.LimitKB <= 0 && f.AnonRSSKB <= 0 {
			continue
		}
		kills = append(kills, Kill{Time: f.Ref.Time, Ref: f.Ref.String(), UsageKB: f.UsageKB, LimitKB: f.LimitKB, AnonKB: f.AnonRSSKB,
			Usage: facts.KiB(f.UsageKB), Limit: facts.KiB(f.LimitKB), Anon: facts.KiB(f.AnonRSSKB), Process: f.Process, PID: f.PID})
		top = max(top, f.UsageKB, f.LimitKB, f.AnonRSSKB)
	}
	if len(kills) == 0 {
		return nil
	}
	slices.SortStableFunc(kills, func(a, b Kill) int { return a.Time.Compare(b.Time) })
	if len(kills) > 60 {
		kills = kills[len(kills)-60:] // the newest; a bar narrower than this says nothing
	}
	const left, right, topPad, plotH = 70.0, 20.0, 20.0, 180.0
	m := &Memory{Height: topPad + plotH + 40, Base: topPad + plotH}
	slot := 60.0
	m.Width = left + right + slot*float64(len(kills))
	m.Width = max(m.Width, 360)
	scale := float64(top) * 1.1
	y := func(kb int64) float64 { return m.Base - plotH*float64(kb)/scale }
	for _, q := range []float64{0, 0.25, 0.5, 0.75, 1} {
		kb := int64(q * float64(top))
		m.Ticks = append(m.Ticks, Tick{Pos: y(kb), Label: facts.KiB(kb)})
	}
	m.Ticks[0].Label = "0"
	for i := range kills {
		k := &kills[i]
		x := left + slot*float64(i) + 10
		k.X, k.W, k.LabelX = x, slot-20, x+(slot-20)/2
		k.HasUsage, k.HasLimit = k.UsageKB > 0, k.LimitKB > 0
		k.UsageY, k.UsageH = y(k.UsageKB), m.Base-y(k.UsageKB)
		k.AnonY, k.AnonH = y(k.AnonKB), m.Base-y(k.AnonKB)
		k.LimY = y(k.LimitKB)
		k.TimeLabel = k.Time.UTC().Format("15:04:05")
		if k.HasLimit {
			k.AtLimitPc = int(100 * max(k.UsageKB, k.AnonKB) / k.LimitKB)
		}
	}
	m.Kills = kills
	return m
}

// Snippet is a run of lines of one file around one or more evidence lines.
type Snippet struct {
	File  string
	Lines []SnippetLine
	More  bool // the file goes on after the last line shown
}

// SnippetLine is one line of a snippet; Anchor is set on the lines the page links to.
type SnippetLine struct {
	No     int
	Text   string
	Cited  bool   // the diagnosis cites it
	Marked bool   // a timeline mark points at it
	Anchor string `redact:"-"`
	Cut    bool
}

// wanted lists the lines the page quotes: every line the diagnosis's evidence quotes, and every
// line a timeline mark stands on, by file.
//
// It also returns the files in the order the page shows them: the evidence list's order (the
// runbook's: kernel, kubelet, containerd, pod logs), then the files only marks point into.
func wanted(d *diagnose.Diagnosis, marks []Mark) (map[string]map[int]uint8, []string) {
	const cited, marked = 1, 2
	out := map[string]map[int]uint8{}
	var order []string
	add := func(ref string, bit uint8) {
		file, no, ok := cutRef(ref)
		if !ok {
			return
		}
		if out[file] == nil {
			out[file] = map[int]uint8{}
			order = append(order, file)
		}
		out[file][no] |= bit
	}
	for _, e := range d.Evidence {
		for _, l := range e.Lines {
			add(l.Ref, cited)
		}
	}
	for _, c := range d.Citations {
		for _, r := range c.Refs {
			add(r, cited)
		}
	}
	for _, m := range marks {
		add(m.Ref, marked)
	}
	return out, order
}

// cutRef splits file:line at the last colon: a file name may hold colons, a line number not.
func cutRef(ref string) (string, int, bool) {
	i := strings.LastIndexByte(ref, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(ref[i+1:])
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return ref[:i], n, true
}

// snippets reads each wanted line with n lines around it, merging runs that overlap, through
// the same read operation as the read tool (so the text is the bundle's, cut as read cuts it).
func snippets(ctx context.Context, e *store.Entry, idx *index.Index, want map[string]map[int]uint8, files []string, n int) ([]Snippet, error) {
	var out []Snippet
	for _, file := range files {
		nos := make([]int, 0, len(want[file]))
		for no := range want[file] {
			nos = append(nos, no)
		}
		slices.Sort(nos)
		for i := 0; i < len(nos); {
			from, to := max(1, nos[i]-n), nos[i]+n
			j := i + 1
			// Runs a few lines apart are one run: a gap shorter than the context is not worth a new box.
			for j < len(nos) && nos[j]-n <= to+n {
				to = nos[j] + n
				j++
			}
			res, err := search.Read(ctx, e, idx, search.ReadRequest{LogKey: file, StartLine: from, LineCount: to - from + 1, MaxLineBytes: maxLineBytes})
			if err != nil {
				return nil, fmt.Errorf("report: reading %s:%d: %w", file, nos[i], err)
			}
			s := Snippet{File: res.File, More: res.More}
			for _, l := range res.Lines {
				bits := want[file][l.No]
				s.Lines = append(s.Lines, SnippetLine{No: l.No, Text: l.Text, Cited: bits&1 != 0, Marked: bits&2 != 0, Cut: l.Cut})
			}
			out = append(out, s)
			i = j
		}
	}
	return out, nil
}

// anchors gives every quoted line the page links to an id, and points the marks and the
// memory bars at them. Ids are built from file and line with every character a URL fragment
// would need escaped replaced, and made unique when two files map to one id.
func anchors(r *Report) {
	byRef := map[string]string{}
	used := map[string]bool{}
	for si := range r.Snippets {
		s := &r.Snippets[si]
		for li := range s.Lines {
			l := &s.Lines[li]
			if !l.Cited && !l.Marked {
				continue
			}
			id := "L-" + anchorUnsafe.ReplaceAllString(s.File, "_") + "-" + strconv.Itoa(l.No)
			for k := 2; used[id]; k++ {
				id = fmt.Sprintf("L-%s-%d-%d", anchorUnsafe.ReplaceAllString(s.File, "_"), l.No, k)
			}
			used[id] = true
			l.Anchor = id
			byRef[s.File+":"+strconv.Itoa(l.No)] = id
		}
	}
	r.Anchors = byRef
	for i := range r.Timeline.Marks {
		m := &r.Timeline.Marks[i]
		if m.Fact {
			m.Anchor = byRef[m.Ref]
		}
	}
	if r.Memory != nil {
		for i := range r.Memory.Kills {
			r.Memory.Kills[i].Anchor = byRef[r.Memory.Kills[i].Ref]
		}
	}
}

var anchorUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
