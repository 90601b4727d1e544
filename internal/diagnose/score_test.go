package diagnose

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/scenario"
)

var raiseFloor = flag.Bool("raise-floor", false, "raise testdata/score_floor.json to the scores measured now (never lowers it)")

const floorPath = "testdata/score_floor.json"

// score tallies one measure over every scenario.
type score struct{ got, of int }

func (s score) pct() float64 {
	if s.of == 0 {
		return 100
	}
	return 100 * float64(s.got) / float64(s.of)
}

func (s *score) add(ok bool) {
	s.of++
	if ok {
		s.got++
	}
}

// scores are the harness's measures, by the names the floor file uses.
type scores struct {
	Class, ExitCode, CrossRefs, Escalation, Evidence score
}

func (s *scores) byName() map[string]*score {
	return map[string]*score{"class": &s.Class, "exit_code": &s.ExitCode, "cross_references": &s.CrossRefs,
		"escalation": &s.Escalation, "key_evidence_cited": &s.Evidence}
}

// TestScoreFloor diagnoses every scenario with its pod status, events and previous log and
// scores what a reviewer of the runbook's Output Format would: the root-cause class, the exit
// code, the cross-referenced runbooks and the escalation against the truth, and the share of the
// truth's key evidence lines the diagnosis cites. A measure below its floor fails the test; the
// floor only moves up (-raise-floor).
func TestScoreFloor(t *testing.T) {
	var total scores
	var misses []string
	for _, s := range scenario.All() {
		im := importScenario(t, s)
		d, err := Diagnose(context.Background(), im.idx, Input{PodStatus: im.pod, Events: im.events, PreviousLog: im.prevLog, Entry: im.entry})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range scoreOne(d, im.truth, &total) {
			misses = append(misses, s.Name+": "+m)
		}
	}
	var b strings.Builder
	names := []string{"class", "exit_code", "cross_references", "escalation", "key_evidence_cited"}
	for _, n := range names {
		sc := total.byName()[n]
		fmt.Fprintf(&b, "%-20s %6.1f%% (%d/%d)\n", n, sc.pct(), sc.got, sc.of)
	}
	t.Logf("scores over %d scenarios:\n%s", len(scenario.All()), b.String())
	if len(misses) > 0 {
		t.Logf("misses:\n  %s", strings.Join(misses, "\n  "))
	}
	floor := readFloor(t)
	for _, n := range names {
		got := total.byName()[n].pct()
		if got+1e-9 < floor[n] {
			t.Errorf("%s scored %.1f%%, below its floor %.1f%%", n, got, floor[n])
		}
		if *raiseFloor && got > floor[n] {
			floor[n] = got
		}
	}
	if *raiseFloor {
		data, _ := json.MarshalIndent(floor, "", "  ")
		if err := os.WriteFile(floorPath, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scoreOne adds one diagnosis to the tallies and returns what it got wrong.
func scoreOne(d *Diagnosis, truth scenario.Truth, sc *scores) []string {
	var miss []string
	ok := d.Class == wantClass(truth.RootCause)
	sc.Class.add(ok)
	if !ok {
		miss = append(miss, fmt.Sprintf("class %q, want %q", d.Class, wantClass(truth.RootCause)))
	}
	if truth.RootCause != "none" {
		ok = d.ExitCode != nil && *d.ExitCode == truth.ExitCode
		sc.ExitCode.add(ok)
		if !ok {
			miss = append(miss, fmt.Sprintf("exit code %v, want %d", ptr(d.ExitCode), truth.ExitCode))
		}
	}
	got := sopsOf(d.CrossReference)
	ok = slices.Equal(got, sortedCopy(truth.CrossRefs))
	sc.CrossRefs.add(ok)
	if !ok {
		miss = append(miss, fmt.Sprintf("cross-references %v, want %v", got, truth.CrossRefs))
	}
	ok = (len(d.Escalation) > 0) == truth.Escalate
	sc.Escalation.add(ok)
	if !ok {
		miss = append(miss, fmt.Sprintf("escalation %q, want escalate=%v", d.Escalation, truth.Escalate))
	}
	cited := citedText(d)
	for _, re := range truth.KeyEvidence {
		rx := regexp.MustCompile(re)
		ok := slices.ContainsFunc(cited, rx.MatchString)
		sc.Evidence.add(ok)
		if !ok {
			miss = append(miss, "key evidence not cited: "+re)
		}
	}
	return miss
}

// sopsOf returns the runbook ids the cross-references name ("K2: …"), sorted.
func sopsOf(refs []string) []string {
	var out []string
	for _, r := range refs {
		if id, _, ok := strings.Cut(r, ":"); ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// citedText returns the text of every line some claim cites, as the evidence quotes it.
func citedText(d *Diagnosis) []string {
	var out []string
	for _, c := range d.Citations {
		for _, l := range d.CitedLines(c.Claim) {
			out = append(out, l.Text)
		}
	}
	return out
}

func readFloor(t *testing.T) map[string]float64 {
	t.Helper()
	floor := map[string]float64{}
	data, err := os.ReadFile(filepath.FromSlash(floorPath))
	if err != nil {
		if os.IsNotExist(err) && *raiseFloor {
			return floor
		}
		t.Fatalf("%v (create it with: go test ./internal/diagnose -run TestScoreFloor -raise-floor)", err)
	}
	if err := json.Unmarshal(data, &floor); err != nil {
		t.Fatalf("%s: %v", floorPath, err)
	}
	return floor
}
