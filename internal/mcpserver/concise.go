package mcpserver

import (
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

// EventOut is a timeline event as correlate answers an agent: its line as file:line (what read
// and a citation take), the identifiers of where the line is and how its time was read only in
// the detailed answer. The library's event (correlate.Event) is what the CLI prints.
type EventOut struct {
	Time      time.Time `json:"time,omitzero"`
	Kind      string    `json:"kind,omitempty" jsonschema:"fact or finding (detailed; concise: a fact has a factKind)"`
	FactKind  string    `json:"factKind,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	FindingID string    `json:"findingID,omitempty"`
	Severity  string    `json:"severity"`
	Namespace string    `json:"namespace,omitempty"`
	Pod       string    `json:"pod,omitempty"`
	Container string    `json:"container,omitempty"`
	Summary   string    `json:"summary"`
	Pivot     bool      `json:"pivot,omitempty"`
	Repeats   int       `json:"repeats,omitempty"`
	Ref       string    `json:"ref" jsonschema:"file:line"`
	LastRef   string    `json:"lastRef,omitempty"`
	Also      []string  `json:"also,omitempty" jsonschema:"the same line in other files, file:line"`
	Block     []string  `json:"block,omitempty" jsonschema:"the rest of a kernel OOM report, file:line"`
	// Detailed only.
	Component   string          `json:"component,omitempty"`
	LogType     string          `json:"logType,omitempty"`
	ContainerID string          `json:"containerID,omitempty"`
	TimeQuality logtime.Quality `json:"timeQuality,omitempty"`
}

// ChainOut is a crash chain as correlate answers an agent; podUID and containerID only in the
// detailed answer.
type ChainOut struct {
	Cause       string    `json:"cause"`
	Time        time.Time `json:"time,omitzero"`
	Namespace   string    `json:"namespace,omitempty"`
	Pod         string    `json:"pod,omitempty"`
	Container   string    `json:"container,omitempty"`
	PID         int       `json:"pid,omitempty"`
	ExitCode    *int      `json:"exitCode,omitempty"`
	Complete    bool      `json:"complete"`
	Unproven    []string  `json:"unproven,omitempty"`
	Links       []LinkOut `json:"links"`
	PodUID      string    `json:"podUID,omitempty"`
	ContainerID string    `json:"containerID,omitempty"`
}

// LinkOut is one step of a chain: the line that proves it (file:line) or why none does.
type LinkOut struct {
	Step     string    `json:"step"`
	Status   string    `json:"status"`
	Time     time.Time `json:"time,omitzero"`
	Summary  string    `json:"summary,omitempty"`
	Ref      string    `json:"ref,omitempty"`
	Why      string    `json:"why,omitempty"`
	JoinedBy string    `json:"joinedBy,omitempty"`
}

func refStrings(refs []evidence.LineRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.String())
	}
	return out
}

// withoutWorkload drops the " — namespace/pod container" a fact's summary ends with when the
// event names them in fields of its own.
func withoutWorkload(summary, ns, pod, container string) string {
	if pod == "" {
		return summary
	}
	who := strings.TrimSpace(strings.Join([]string{strings.Trim(ns+"/"+pod, "/"), container}, " "))
	return strings.TrimSuffix(summary, " — "+who)
}

func eventsOut(events []correlate.Event, detailed bool) []EventOut {
	out := make([]EventOut, 0, len(events))
	for _, e := range events {
		o := EventOut{Time: e.Time, FactKind: string(e.FactKind), Rule: e.Rule, FindingID: e.FindingID,
			Severity: e.Severity, Namespace: e.Namespace, Pod: e.Pod, Container: e.Container, Pivot: e.Pivot,
			Repeats: e.Repeats, Ref: e.Ref.String(), Also: refStrings(e.Also), Block: refStrings(e.Block), Summary: e.Summary}
		if e.LastRef != nil {
			o.LastRef = e.LastRef.String()
		}
		if detailed {
			o.Kind, o.Component, o.LogType, o.ContainerID, o.TimeQuality = e.Kind, e.Component, e.LogType, e.ContainerID, e.Quality
		} else {
			o.Summary = withoutWorkload(e.Summary, e.Namespace, e.Pod, e.Container)
		}
		out = append(out, o)
	}
	return out
}

func chainsOut(chains []correlate.Chain, detailed bool) []ChainOut {
	var out []ChainOut
	for _, c := range chains {
		o := ChainOut{Cause: c.Cause, Time: c.Time, Namespace: c.Namespace, Pod: c.Pod, Container: c.Container,
			PID: c.PID, ExitCode: c.ExitCode, Complete: c.Complete, Unproven: c.Unproven}
		if detailed {
			o.PodUID, o.ContainerID = c.PodUID, c.ContainerID
		}
		for _, l := range c.Links {
			lo := LinkOut{Step: l.Step, Status: l.Status, Time: l.Time, Summary: l.Summary, Why: l.Why}
			if l.Ref != nil {
				lo.Ref = l.Ref.String()
			}
			if detailed {
				lo.JoinedBy = l.JoinedBy
			} else {
				lo.Summary = withoutWorkload(l.Summary, c.Namespace, c.Pod, c.Container)
			}
			o.Links = append(o.Links, lo)
		}
		out = append(out, o)
	}
	return out
}
