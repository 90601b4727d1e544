package correlate

import (
	"fmt"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// factSeverity ranks crash facts the way the SOP reads them: what kills a container is high,
// what explains a kill (probe, pull) medium, kubelet's announced kill low.
var factSeverity = map[facts.Kind]string{
	facts.OOMKill: "critical", facts.Segfault: "high", facts.TaskOOM: "high", facts.ContainerExit: "high",
	facts.BackOff: "high", facts.ExecFailure: "high", facts.ConfigMissing: "high",
	facts.ProbeFailure: "medium", facts.ImagePull: "medium", facts.Killing: "low",
}

// factEvents turns the facts that touch a window into events. It returns the lines those
// facts stand on so that finding samples of the same lines are not listed twice.
func factEvents(scoped []*facts.Fact, pivot map[*facts.Fact]bool, fileType map[string]string, inWindow func(from, to time.Time) bool) ([]Event, map[string]factLine) {
	var events []Event
	for _, f := range scoped {
		from, to := f.Ref.Time, f.Ref.Time
		if f.LastRef != nil && f.LastRef.Time.After(to) {
			to = f.LastRef.Time
		}
		if from.IsZero() || !inWindow(from, to) {
			continue
		}
		sev := factSeverity[f.Kind]
		if sev == "" {
			sev = "info"
		}
		if f.Kind == facts.ContainerExit && f.ExitCode != nil && *f.ExitCode == 0 {
			sev = "info"
		}
		lt := fileType[f.Ref.File]
		events = append(events, Event{
			Time: f.Ref.Time, Quality: f.Ref.TimeQuality, Kind: "fact", FactKind: f.Kind,
			Severity: sev, Component: component(f.Source, lt), LogType: lt,
			Namespace: f.Namespace, Pod: f.Pod, Container: f.Container, ContainerID: f.ContainerID,
			Summary: summarize(f), Pivot: pivot[f], Repeats: f.Repeats,
			Ref: f.Ref, LastRef: f.LastRef, Also: f.Also, Block: f.Block,
		})
	}
	lines := make(map[string]factLine, len(events)*2)
	for i := range events {
		e := &events[i]
		lines[e.Ref.String()] = factLine{ev: e}
		for _, a := range e.Also {
			lines[a.String()] = factLine{ev: e}
		}
		if e.LastRef != nil {
			lines[e.LastRef.String()] = factLine{ev: e}
		}
	}
	// The other lines of a kernel OOM report ("invoked oom-killer", "oom-kill:constraint=…")
	// are a kill's evidence, not events of their own: a crash loop would list each kill three
	// times.
	for i := range events {
		for _, b := range events[i].Block {
			if _, own := lines[b.String()]; !own {
				lines[b.String()] = factLine{ev: &events[i], report: true}
			}
		}
	}
	return events, lines
}

// factLine is the event a line is evidence of: its own line (or a copy), or a line of its
// kernel OOM report.
type factLine struct {
	ev     *Event
	report bool
}

// findingEvents lists the finding samples inside the windows. A sample that is a fact's own
// line names its rule on that fact's event instead of becoming a second event; samples of info
// findings (join data) stay out unless they are the pivot.
func findingEvents(idx *index.Index, factLines map[string]factLine, pivotSample map[string]bool, fileType map[string]string, inWindow func(from, to time.Time) bool) []Event {
	var events []Event
	for i := range idx.Findings {
		f := &idx.Findings[i]
		for _, s := range f.Samples {
			if s.Time.IsZero() || !inWindow(s.Time, s.Time) {
				continue
			}
			key := s.LineRef.String()
			fl, ok := factLines[key]
			for _, a := range s.Also {
				if !ok {
					fl, ok = factLines[a.String()]
				}
			}
			if ok {
				e := fl.ev
				if e.Rule == "" && !fl.report {
					e.Rule, e.FindingID = f.Rule, f.ID
				}
				e.Pivot = e.Pivot || pivotSample[key]
				continue
			}
			if f.Severity == "info" && !pivotSample[key] {
				continue // join data (sandbox/container created, PLEG events): the facts already tell it
			}
			lt := fileType[s.File]
			events = append(events, Event{
				Time: s.Time, Quality: s.TimeQuality, Kind: "finding", Rule: f.Rule, FindingID: f.ID,
				Severity: f.Severity, Component: component(f.Rule, lt), LogType: lt,
				Summary: f.Title + ": " + clip(s.Text, 240), Pivot: pivotSample[key], Ref: s.LineRef,
			})
		}
	}
	return events
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// summarize says in one line what a fact states, with the identifiers it was joined by.
func summarize(f *facts.Fact) string {
	who := f.Container
	if f.Pod != "" {
		who = f.Namespace + "/" + f.Pod + " " + f.Container
	}
	who = strings.TrimSpace(who)
	if who == "" && f.ContainerID != "" {
		who = "container " + short(f.ContainerID)
	}
	var b strings.Builder
	switch f.Kind {
	case facts.OOMKill:
		fmt.Fprintf(&b, "kernel OOM killer (%s) killed %s pid %d", orDash(f.Scope), orDash(f.Process), f.PID)
		if f.LimitKB > 0 {
			fmt.Fprintf(&b, ", limit %d kB", f.LimitKB)
		}
		if f.AnonRSSKB > 0 {
			fmt.Fprintf(&b, ", anon-rss %d kB", f.AnonRSSKB)
		}
	case facts.TaskOOM:
		b.WriteString("containerd TaskOOM event")
	case facts.ContainerExit:
		fmt.Fprintf(&b, "container exited")
		if f.ExitCode != nil {
			fmt.Fprintf(&b, " with code %d", *f.ExitCode)
		}
		if f.Signal > 0 {
			fmt.Fprintf(&b, " (signal %d)", f.Signal)
		}
		if f.Reason != "" {
			fmt.Fprintf(&b, " reason %s", f.Reason)
		}
		if f.PID > 0 {
			fmt.Fprintf(&b, ", pid %d", f.PID)
		}
		fmt.Fprintf(&b, " [%s]", f.Source)
	case facts.BackOff:
		fmt.Fprintf(&b, "CrashLoopBackOff: back-off %s restarting failed container", orDash(f.Delay))
	case facts.Segfault:
		fmt.Fprintf(&b, "%s pid %d segfault", orDash(f.Process), f.PID)
		if f.Object != "" {
			fmt.Fprintf(&b, " in %s", f.Object)
		}
	case facts.ExecFailure:
		fmt.Fprintf(&b, "exec failure (%s) %s", orDash(f.FailureKind), f.Path)
	case facts.ConfigMissing:
		fmt.Fprintf(&b, "%s %q not found", orDash(f.FailureKind), f.Name)
	case facts.ProbeFailure:
		fmt.Fprintf(&b, "%s probe failed", orDash(f.FailureKind))
	case facts.ImagePull:
		fmt.Fprintf(&b, "image pull failed %s", f.Image)
	case facts.Killing:
		b.WriteString("kubelet killing container")
		if f.GracePeriod != nil {
			fmt.Fprintf(&b, " with grace period %ds", *f.GracePeriod)
		}
	default:
		b.WriteString(string(f.Kind))
	}
	if f.Message != "" && f.Kind != facts.BackOff {
		b.WriteString(": " + clip(f.Message, 160))
	}
	if who != "" {
		b.WriteString(" — " + who)
	}
	if f.Repeats > 0 {
		fmt.Fprintf(&b, " (+%d repeats)", f.Repeats)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
