package correlate

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/golden"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
)

// checkTimeOrdered fails when an event comes before an earlier one, or a timed event follows an
// untimed one.
func checkTimeOrdered(t *testing.T, events []Event) {
	t.Helper()
	for i := 1; i < len(events); i++ {
		a, b := events[i-1], events[i]
		if b.Time.IsZero() {
			continue
		}
		if a.Time.IsZero() || b.Time.Before(a.Time) {
			t.Fatalf("timeline out of order at %d: %s (%s) then %s (%s)", i, a.Ref, a.Time, b.Ref, b.Time)
		}
	}
}

// indexFact finds the one index fact that is the planted event want, read from a source with
// the given prefix: the line a chain link must cite.
func indexFact(t *testing.T, idx *index.Index, want scenario.TruthFact, kind facts.Kind, sourcePrefix string) *facts.Fact {
	t.Helper()
	var found *facts.Fact
	for i := range idx.Facts {
		f := &idx.Facts[i]
		if f.Kind != kind || f.ContainerID != want.ContainerID || !strings.HasPrefix(f.Source, sourcePrefix) {
			continue
		}
		if want.PID != 0 && kind != facts.ContainerExit && f.PID != want.PID {
			continue
		}
		if found != nil {
			t.Fatalf("two %s facts from %s for container %s: %s and %s", kind, sourcePrefix, want.ContainerID, found.Ref, f.Ref)
		}
		found = f
	}
	if found == nil {
		t.Fatalf("index has no %s fact from %s for planted %+v", kind, sourcePrefix, want)
	}
	return found
}

func linkOf(c Chain, step string) *Link {
	for i := range c.Links {
		if c.Links[i].Step == step {
			return &c.Links[i]
		}
	}
	return nil
}

func checkLink(t *testing.T, c Chain, step string, want *facts.Fact) {
	t.Helper()
	l := linkOf(c, step)
	if l == nil {
		t.Fatalf("chain of %s has no %s link: %+v", c.ContainerID, step, c.Links)
	}
	if l.Status != Proven || l.Ref == nil || *l.Ref != want.Ref {
		t.Errorf("chain of %s: %s link is %s at %v (%s), want proven at %s", short(c.ContainerID), step, l.Status, l.Ref, l.Why, want.Ref)
	}
}

// TestChainsAgainstTruth checks every planted death of the crash-loop scenarios: one complete
// chain citing the exact lines of the kernel record, containerd's exit, kubelet's exit and the
// back-off kubelet announced after it; and the frequency against the planted exits and ladder.
func TestChainsAgainstTruth(t *testing.T) {
	tests := []struct {
		scenario   string
		kernelKind facts.Kind
		kernelStep string
		taskOOM    bool // containerd reports TaskOOM in the scenario's default layout
	}{
		{"container-oom-v2", facts.OOMKill, StepKernelOOM, true},
		{"container-oom-v1", facts.OOMKill, StepKernelOOM, true},
		{"segfault", facts.Segfault, StepSegfault, false},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			im := importScenario(t, tt.scenario, "")
			res, err := Correlate(context.Background(), im.idx, Request{})
			if err != nil {
				t.Fatal(err)
			}
			checkTimeOrdered(t, res.Timeline)
			byID := map[string]Chain{}
			for _, c := range res.Chains {
				byID[c.ContainerID] = c
			}
			var exits []scenario.TruthFact
			var kernel = map[string]scenario.TruthFact{}
			for _, f := range im.truth.Facts {
				switch f.Kind {
				case facts.ContainerExit:
					exits = append(exits, f)
				case tt.kernelKind:
					kernel[f.ContainerID] = f
				}
			}
			if len(exits) != len(im.truth.BackOffs)+1 {
				t.Fatalf("truth has %d exits and %d back-offs; this test expects one back-off per restart after the first", len(exits), len(im.truth.BackOffs))
			}
			for i, ex := range exits {
				c, ok := byID[ex.ContainerID]
				if !ok {
					t.Errorf("planted death %d (%s) has no chain", i, short(ex.ContainerID))
					continue
				}
				if !c.Complete {
					t.Errorf("death %d: chain incomplete: %v", i, c.Unproven)
				}
				if c.Container != im.truth.Container || c.PodUID != im.truth.PodUID || c.Pod != im.truth.Pod {
					t.Errorf("death %d: chain is for %s/%s uid %s, want %s/%s uid %s", i, c.Pod, c.Container, c.PodUID, im.truth.Pod, im.truth.Container, im.truth.PodUID)
				}
				kf, ok := kernel[ex.ContainerID]
				if !ok {
					t.Fatalf("truth has no %s for death %d", tt.kernelKind, i)
				}
				kfact := indexFact(t, im.idx, kf, tt.kernelKind, "kernel-")
				checkLink(t, c, tt.kernelStep, kfact)
				if kl := linkOf(c, tt.kernelStep); kl != nil && !strings.Contains(kl.JoinedBy, "pid") {
					t.Errorf("death %d: kernel link joined by %q, want the pid too (kernel pid %d = containerd pid)", i, kl.JoinedBy, kf.PID)
				}
				ctrd := indexFact(t, im.idx, ex, facts.ContainerExit, "containerd-")
				if ctrd.PID != kf.PID {
					t.Errorf("death %d: containerd exit pid %d, planted kernel pid %d", i, ctrd.PID, kf.PID)
				}
				checkLink(t, c, StepContainerd, ctrd)
				kube := indexFact(t, im.idx, ex, facts.ContainerExit, "kubelet-")
				checkLink(t, c, StepKubelet, kube)
				if c.ExitCode == nil || *c.ExitCode != im.truth.ExitCode {
					t.Errorf("death %d: exit code %v, want %d", i, c.ExitCode, im.truth.ExitCode)
				}
				if tt.taskOOM {
					if l := linkOf(c, StepTaskOOM); l == nil || l.Status != Proven {
						t.Errorf("death %d: no proven TaskOOM link: %+v", i, c.Links)
					}
				}
				bl := linkOf(c, StepBackOff)
				switch {
				case bl == nil:
					t.Errorf("death %d: no back-off link", i)
				case i == 0:
					// The generator restarts the first death at once, as kubelet does.
					if bl.Status != NotApplicable {
						t.Errorf("death 0: back-off link %s %v, want not-applicable (restarted at once)", bl.Status, bl.Ref)
					}
				default:
					want := im.truth.BackOffs[i-1]
					if bl.Status != Proven || !strings.Contains(bl.Summary, "back-off "+want+" ") {
						t.Errorf("death %d: back-off link %s %q, want proven back-off %s", i, bl.Status, bl.Summary, want)
					}
				}
			}
			var fr *Frequency
			for i := range res.Frequency {
				if res.Frequency[i].Container == im.truth.Container && res.Frequency[i].PodUID == im.truth.PodUID {
					fr = &res.Frequency[i]
				}
			}
			if fr == nil {
				t.Fatalf("no frequency for %s: %+v", im.truth.Container, res.Frequency)
			}
			if fr.Restarts != len(exits) {
				t.Errorf("restarts %d, planted exits %d", fr.Restarts, len(exits))
			}
			if diff := cmp.Diff(im.truth.BackOffs, fr.BackOffs); diff != "" {
				t.Errorf("back-off ladder (-truth +got):\n%s", diff)
			}
			if !slices.Equal(fr.ExitCodes, []int{im.truth.ExitCode}) {
				t.Errorf("exit codes %v, want [%d]", fr.ExitCodes, im.truth.ExitCode)
			}
		})
	}
}

// TestHealthyHasNoCrashLoop: in every layout, the healthy node has no back-off to pivot on, and
// that is a note, not an error.
func TestHealthyHasNoCrashLoop(t *testing.T) {
	for _, layout := range scenario.Layouts() {
		t.Run(string(layout), func(t *testing.T) {
			im := importScenario(t, "healthy", layout)
			res, err := Correlate(context.Background(), im.idx, Request{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Occurrences != 0 || len(res.Timeline) != 0 || len(res.Chains) != 0 {
				t.Errorf("healthy: %d occurrences, %d events, %d chains; want none", res.Occurrences, len(res.Timeline), len(res.Chains))
			}
			if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "no occurrence of pivot CrashLoopBackOff") {
				t.Errorf("healthy: notes %q, want one saying the pivot was not found", res.Notes)
			}
		})
	}
}

// goldenResult is what a golden file holds: the whole result, as the CLI would print it.
func goldenJSON(t *testing.T, res *Result) []byte {
	t.Helper()
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenTimelines pins the default-pivot result of every scenario in its default layout, so
// that any change in ordering, joins or wording is seen in review. Run with -update to rewrite.
func TestGoldenTimelines(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			im := importScenario(t, s.Name, "")
			res, err := Correlate(context.Background(), im.idx, Request{})
			if err != nil {
				t.Fatal(err)
			}
			checkTimeOrdered(t, res.Timeline)
			got := goldenJSON(t, res)
			golden.Check(t, filepath.Join("testdata", "golden", s.Name+".json"), got, *update, "go test ./internal/correlate -run Golden -update")
		})
	}
}

// TestPivots: each way of naming a pivot selects the events it names, counted from the index.
func TestPivots(t *testing.T) {
	im := importScenario(t, "container-oom-v2", "")
	count := func(k facts.Kind) int {
		n := 0
		for _, f := range im.idx.Facts {
			if f.Kind == k {
				n++
			}
		}
		return n
	}
	var oomFinding index.Finding
	for _, f := range im.idx.Findings {
		if f.Rule == "kernel-oom-kill-memcg" {
			oomFinding = f
		}
	}
	gfpSamples := 0 // "gfp_mask" is in OOM report lines, never in a rule id or title
	for _, f := range im.idx.Findings {
		for _, smp := range f.Samples {
			if strings.Contains(smp.Text, "gfp_mask") {
				gfpSamples++
			}
		}
	}
	if gfpSamples == 0 {
		t.Fatal("no sample line holds gfp_mask; the regex-over-samples case needs one")
	}
	tests := []struct {
		name string
		req  Request
		want int // occurrences
	}{
		{"regex over sample lines", Request{Pivot: "gfp_mask"}, gfpSamples},
		{"fact kind", Request{Pivot: "OOMKill"}, count(facts.OOMKill)},
		{"fact kind any case", Request{Pivot: "oomkill"}, count(facts.OOMKill)},
		{"default", Request{}, count(facts.BackOff)},
		{"finding id", Request{Pivot: oomFinding.ID}, oomFinding.Count},
		{"regex over facts", Request{Pivot: "exit 137"}, count(facts.ContainerExit)},
		{"filtered to another container", Request{Pivot: "OOMKill", Container: "no-such-container"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Correlate(context.Background(), im.idx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Occurrences != tt.want {
				t.Errorf("occurrences %d, want %d", res.Occurrences, tt.want)
			}
			checkTimeOrdered(t, res.Timeline)
			inWindows := 0
			for _, w := range res.Windows {
				inWindows += w.Occurrences
			}
			if inWindows != tt.want {
				t.Errorf("windows hold %d occurrences, want all %d", inWindows, tt.want)
			}
			pivots := 0
			for _, e := range res.Timeline {
				if e.Pivot {
					pivots++
				}
			}
			if tt.want > 0 && pivots == 0 {
				t.Errorf("no timeline event is marked as the pivot")
			}
		})
	}
}

// TestComponentsAndTruncation: a components filter keeps only those log types; MaxEvents cuts
// findings before crash facts and says so.
func TestComponentsAndTruncation(t *testing.T) {
	im := importScenario(t, "container-oom-v2", "")
	res, err := Correlate(context.Background(), im.idx, Request{Components: []string{"dmesg"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Timeline) == 0 {
		t.Fatal("dmesg filter left no events; the scenario's OOM kills are kernel lines")
	}
	for _, e := range res.Timeline {
		if e.Component != "kernel" && e.LogType != "dmesg" {
			t.Errorf("dmesg filter kept %s from %s (%s)", e.Component, e.Ref, e.LogType)
		}
	}
	full, err := Correlate(context.Background(), im.idx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	factEvents := 0
	for _, e := range full.Timeline {
		if e.Kind == "fact" {
			factEvents++
		}
	}
	if factEvents == len(full.Timeline) {
		t.Fatal("timeline has no finding events to cut")
	}
	cut, err := Correlate(context.Background(), im.idx, Request{MaxEvents: factEvents})
	if err != nil {
		t.Fatal(err)
	}
	if !cut.Truncated || len(cut.Timeline) != factEvents {
		t.Fatalf("MaxEvents %d: truncated=%v, %d events", factEvents, cut.Truncated, len(cut.Timeline))
	}
	for _, e := range cut.Timeline {
		if e.Kind != "fact" {
			t.Errorf("cut timeline kept finding %s over a crash fact", e.Ref)
		}
	}
	checkTimeOrdered(t, cut.Timeline)
}
