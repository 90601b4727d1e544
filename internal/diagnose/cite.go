package diagnose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
)

// Claim names in Citation.Claim: the Output Format's fields, and the items of its lists by index.
const (
	ClaimRootCause      = "root_cause"
	ClaimExitCode       = "exit_code"
	ClaimCrashFrequency = "crash_frequency"
	ClaimMemory         = "memory" // limit against usage, or the node's memory at a global OOM
)

func claimCrossRef(i int) string   { return fmt.Sprintf("cross_reference[%d]", i) }
func claimEscalation(i int) string { return fmt.Sprintf("escalation[%d]", i) }

// Citation ties one statement of the diagnosis to the lines it was derived from. Every ref is
// quoted in the evidence list, so a reader can check the claim without opening the bundle.
type Citation struct {
	Claim string   `json:"claim" yaml:"claim"`
	Refs  []string `json:"refs" yaml:"refs"`
}

// citedLine is one line a claim stands on: a fact's line, a line of its kernel OOM report, or a
// line already read (the previous log, the kernel's Mem-Info report, a finding's sample).
type citedLine struct {
	ref  evidence.LineRef
	comp string      // kernel, kubelet, containerd, pods: the evidence item that quotes it
	fact *facts.Fact // nil for a line that is not a fact's own
	text string      // known text; empty means read it from the bundle
}

func (l citedLine) key() string { return l.ref.String() }

// citations collects, per claim, the lines it stands on, in the order they were cited.
type citations struct {
	order []string
	lines map[string][]citedLine
	comp  func(evidence.LineRef, *facts.Fact) string // which evidence item quotes a fact's line
}

func (cs *citations) add(claim string, ls ...citedLine) {
	if cs.lines == nil {
		cs.lines = map[string][]citedLine{}
	}
	if _, ok := cs.lines[claim]; !ok {
		cs.order = append(cs.order, claim)
	}
	for _, l := range ls {
		if l.ref.File == "" || slices.ContainsFunc(cs.lines[claim], func(x citedLine) bool { return x.key() == l.key() }) {
			continue
		}
		cs.lines[claim] = append(cs.lines[claim], l)
	}
}

// facts cites each fact's line and, for an OOM kill, the lines of its report that state the
// cgroup, the usage and the limit.
func (cs *citations) facts(claim string, fs ...*facts.Fact) {
	for _, f := range fs {
		if f == nil {
			continue
		}
		comp := componentOf(f)
		if cs.comp != nil {
			comp = cs.comp(f.Ref, f)
		}
		cs.add(claim, citedLine{ref: f.Ref, comp: comp, fact: f})
		for _, r := range f.Block {
			cs.add(claim, citedLine{ref: r, comp: comp})
		}
		// A copy of the event in another component's log (the kubelet relaying containerd's
		// start error as RunContainerError) is a second witness; a copy in the same
		// component's other file (dmesg and messages) adds nothing.
		for _, r := range f.Also {
			if cs.comp != nil {
				if other := cs.comp(r, f); other != comp {
					cs.add(claim, citedLine{ref: r, comp: other, fact: f})
				}
			}
		}
	}
}

// all returns every cited line once, in time order (then file and line).
func (cs *citations) all() []citedLine {
	seen := map[string]bool{}
	var out []citedLine
	for _, claim := range cs.order {
		for _, l := range cs.lines[claim] {
			if !seen[l.key()] {
				seen[l.key()] = true
				out = append(out, l)
			}
		}
	}
	// Within a file the line order is the order of events; across files, the time.
	slices.SortStableFunc(out, func(a, b citedLine) int {
		if a.ref.File == b.ref.File {
			return cmp.Compare(a.ref.Line, b.ref.Line)
		}
		if c := a.ref.Time.Compare(b.ref.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ref.File, b.ref.File)
	})
	return out
}

// list renders the citations of the claims that were made, in claim order.
func (cs *citations) list(made func(claim string) bool) []Citation {
	out := []Citation{}
	for _, claim := range cs.order {
		if !made(claim) || len(cs.lines[claim]) == 0 {
			continue
		}
		c := Citation{Claim: claim}
		for _, l := range cs.lines[claim] {
			c.Refs = append(c.Refs, l.key())
		}
		out = append(out, c)
	}
	return out
}

// incident returns the facts of the newest death of the target: its newest failing exit (or the
// newest exit when none failed) and the facts of the same container instance, or, for facts
// that name no instance, those since the previous exit. ok is false when the target never
// exited in the node's logs.
func (c *crash) newestExit() *facts.Fact {
	var last, lastFail *facts.Fact
	for _, f := range c.exits {
		if f.ExitCode == nil {
			continue
		}
		if last == nil || !f.Ref.Time.Before(last.Ref.Time) {
			last = f
		}
		if *f.ExitCode != 0 && (lastFail == nil || !f.Ref.Time.Before(lastFail.Ref.Time)) {
			lastFail = f
		}
	}
	if lastFail != nil {
		return lastFail
	}
	return last
}

// exitsOf returns the exit lines of one container instance (kubelet's and containerd's), newest
// last.
func (c *crash) exitsOf(containerID string) []*facts.Fact {
	var out []*facts.Fact
	for _, f := range c.exits {
		if containerID != "" && f.ContainerID == containerID {
			out = append(out, f)
		}
	}
	return out
}

// before returns the facts of fs at or before t and after since (zero: no bound), newest last,
// at most n.
func before(fs []*facts.Fact, since, t time.Time, n int) []*facts.Fact {
	var out []*facts.Fact
	for _, f := range fs {
		if (!t.IsZero() && f.Ref.Time.After(t)) || (!since.IsZero() && !f.Ref.Time.After(since)) {
			continue
		}
		out = append(out, f)
	}
	return out[max(0, len(out)-n):]
}

// previousExit is the newest failing exit of another instance before f's time.
func (c *crash) previousExit(f *facts.Fact) time.Time {
	var t time.Time
	for _, e := range c.exits {
		if e.ExitCode == nil || *e.ExitCode == 0 || e.ContainerID == f.ContainerID || !e.Ref.Time.Before(f.Ref.Time) {
			continue
		}
		if e.Ref.Time.After(t) {
			t = e.Ref.Time
		}
	}
	return t
}

// citeIncidentExit cites, for claim, the newest failing exit of the target with its copies in
// the other component's log (kubelet's PLEG line and containerd's exit event of the same
// instance).
func (c *crash) citeIncidentExit(claim string) *facts.Fact {
	f := c.newestExit()
	if f == nil {
		return nil
	}
	if same := c.exitsOf(f.ContainerID); len(same) > 0 {
		c.cites.facts(claim, same...)
	} else {
		c.cites.facts(claim, f)
	}
	return f
}

// citeFrequency cites the crash frequency: the first and the newest failing exits and the newest
// back-offs.
func (c *crash) citeFrequency() {
	var fails []*facts.Fact
	for _, f := range c.exits {
		if f.ExitCode != nil && *f.ExitCode != 0 {
			fails = append(fails, f)
		}
	}
	if len(fails) > 0 {
		c.cites.facts(ClaimCrashFrequency, fails[0], fails[len(fails)-1])
	}
	c.cites.facts(ClaimCrashFrequency, c.backoffs[max(0, len(c.backoffs)-2):]...)
}

// crossRef adds a cross-reference with the lines it rests on.
func (c *crash) addCrossRef(text string, fs ...*facts.Fact) {
	c.cites.facts(claimCrossRef(len(c.crossRef)), fs...)
	c.crossRef = append(c.crossRef, text)
}

// addEscalation adds an escalation with the lines it rests on.
func (c *crash) addEscalation(text string, fs ...*facts.Fact) {
	c.cites.facts(claimEscalation(len(c.escalation)), fs...)
	c.escalation = append(c.escalation, text)
}

// readCited reads the text of every cited line that has none yet, from the bundle when one is
// given, else from the fact's summary.
func (c *crash) readCited(ctx context.Context, lr *lineReader) error {
	for _, claim := range c.cites.order {
		ls := c.cites.lines[claim]
		for i := range ls {
			if ls[i].text != "" {
				continue
			}
			t, err := lr.textAt(ctx, ls[i].ref, ls[i].fact)
			if err != nil {
				return err
			}
			ls[i].text = t
		}
	}
	return nil
}

// citeNewestPerSource cites the newest fact of fs from each log that reported it: for a start
// error, containerd's own error and the kubelet's RunContainerError that relays it.
func (c *crash) citeNewestPerSource(claim string, fs []*facts.Fact) {
	newest := map[string]*facts.Fact{}
	var order []string
	for _, f := range fs {
		k := c.componentAt(f.Ref, f) + "\x00" + f.Source
		if _, ok := newest[k]; !ok {
			order = append(order, k)
		}
		newest[k] = f
	}
	for _, s := range order {
		c.cites.facts(claim, newest[s])
	}
}

// citePrevious cites the lines of the previous container log the diagnosis read.
func (c *crash) citePrevious(claim string) {
	for _, l := range c.prevLines {
		file, no, ok := strings.Cut(l.Ref, ":")
		n := 0
		if ok {
			fmt.Sscanf(no, "%d", &n)
		}
		c.cites.add(claim, citedLine{ref: evidence.LineRef{File: file, Line: n}, comp: "pods", text: l.Text})
	}
}

// nearWindow bounds how far from an event a finding's line may lie to be cited with it: the
// kubelet notices memory pressure seconds to minutes before a global OOM, and reports the
// system OOM within a second after.
const nearWindow = 5 * time.Minute

// citeFindingsNear cites, for each rule, the line of its finding closest to t within nearWindow
// (from the finding's samples, which carry their text).
func (c *crash) citeFindingsNear(claim string, t time.Time, rules ...string) {
	if t.IsZero() {
		return
	}
	for i := range c.idx.Findings {
		f := &c.idx.Findings[i]
		if !slices.Contains(rules, f.Rule) {
			continue
		}
		best, bestD := -1, nearWindow+1
		for j, s := range f.Samples {
			if s.Time.IsZero() {
				continue
			}
			d := s.Time.Sub(t)
			if d < 0 {
				d = -d
			}
			if d <= nearWindow && d < bestD {
				best, bestD = j, d
			}
		}
		if best >= 0 {
			s := f.Samples[best]
			c.cites.add(claim, citedLine{ref: s.LineRef, comp: c.componentAt(s.LineRef, nil), text: s.Text})
		}
	}
}
