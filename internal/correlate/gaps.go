package correlate

import (
	"fmt"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/logtime"
)

// gaps lists what limits the timeline: expected sources that are absent, facts without a time,
// and clocks that disagree about one event.
func gaps(idx *index.Index, scoped []*facts.Fact) []string {
	var out []string
	src := bundleSources(idx)
	if !src.kubelet {
		out = append(out, "no kubelet log (kubelet/ or a journal): container exits as kubelet saw them and back-offs cannot be shown")
	}
	if !src.containerd {
		out = append(out, "no containerd log (containerd/ or a journal): exit codes and pids from the runtime cannot be shown")
	}
	if !src.kernel {
		out = append(out, "no kernel log (kernel/dmesg.*, var_log/messages or a journal): OOM kills and segfaults cannot be proven")
	}
	var untimed []string
	for _, f := range scoped {
		if f.Ref.TimeQuality == logtime.None || f.Ref.Time.IsZero() {
			untimed = append(untimed, string(f.Kind)+" at "+f.Ref.String())
		}
	}
	if n := len(untimed); n > 0 {
		const show = 5
		more := ""
		if n > show {
			more = fmt.Sprintf(" and %d more", n-show)
			untimed = untimed[:show]
		}
		out = append(out, fmt.Sprintf("%d fact(s) have no time and are left out of the timeline: %s%s", n, strings.Join(untimed, ", "), more))
	}
	out = append(out, clockGaps(scoped)...)
	return out
}

func timed(r evidence.LineRef) bool { return !r.Time.IsZero() && r.TimeQuality != logtime.None }

func diff(a, b time.Time) time.Duration {
	d := a.Sub(b)
	if d < 0 {
		d = -d
	}
	return d
}

// clockGaps reports one event whose lines in different files disagree by more than
// ClockTolerance: a fact and its Also copies, and containerd's exit against kubelet's PLEG exit
// of the same container ID.
func clockGaps(scoped []*facts.Fact) []string {
	var out []string
	for _, f := range scoped {
		if !timed(f.Ref) {
			continue
		}
		for _, a := range f.Also {
			if a.File == f.Ref.File || !timed(a) {
				continue
			}
			if d := diff(f.Ref.Time, a.Time); d > ClockTolerance {
				out = append(out, fmt.Sprintf("clock disagreement: %s at %s is %s (%s) but %s (%s) in %s; one event, %s apart",
					f.Kind, f.Ref, f.Ref.Time.Format(time.RFC3339Nano), f.Ref.TimeQuality, a.Time.Format(time.RFC3339Nano), a.TimeQuality, a, d))
			}
		}
	}
	ctrd := map[string]*facts.Fact{}
	for _, f := range scoped {
		if nonZeroExit(f) && isContainerd(f) && f.ContainerID != "" && timed(f.Ref) {
			if _, ok := ctrd[f.ContainerID]; !ok {
				ctrd[f.ContainerID] = f
			}
		}
	}
	for _, f := range scoped {
		if !nonZeroExit(f) || !isKubelet(f) || !timed(f.Ref) {
			continue
		}
		c := ctrd[f.ContainerID]
		if c == nil {
			continue
		}
		if d := diff(c.Ref.Time, f.Ref.Time); d > ClockTolerance {
			out = append(out, fmt.Sprintf("clock disagreement: container %s exit at %s (containerd, %s) and %s (kubelet PLEG, %s) are %s apart",
				short(f.ContainerID), c.Ref, c.Ref.Time.Format(time.RFC3339Nano), f.Ref, f.Ref.Time.Format(time.RFC3339Nano), d))
		}
	}
	return out
}
