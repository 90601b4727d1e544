package store

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// importScenario writes a scenario's archive in a layout and imports it into a fresh store.
func importScenario(t *testing.T, s scenario.Scenario, layout scenario.Layout) (*ImportResult, scenario.Truth) {
	t.Helper()
	return importWritten(t, s, layout, scenario.Options{}, scenario.WriteArchive, ImportOptions{})
}

// importWritten writes a scenario with write (an archive or a folder) and imports it.
func importWritten(t *testing.T, s scenario.Scenario, layout scenario.Layout, sopt scenario.Options,
	write func(string, scenario.Scenario, scenario.Layout, scenario.Options) (string, error), iopt ImportOptions) (*ImportResult, scenario.Truth) {
	t.Helper()
	dir := t.TempDir()
	arch, err := write(filepath.Join(dir, "src"), s, layout, sopt)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := scenario.ReadTruth(filepath.Join(dir, "src", "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), arch, iopt)
	if err != nil {
		t.Fatalf("import %s: %v", filepath.Base(arch), err)
	}
	if res.Partial != nil {
		t.Fatalf("import %s was partial: %v", filepath.Base(arch), res.Partial)
	}
	if res.Index == nil {
		if res.Index, err = st.Index(context.Background(), res.Entry, false); err != nil {
			t.Fatal(err)
		}
	}
	return res, truth
}

// matches tells whether an indexed fact is the planted one: every field the truth states must agree.
func matches(f facts.Fact, want scenario.TruthFact) bool {
	if f.Kind != want.Kind {
		return false
	}
	if want.ContainerID != "" && f.ContainerID != want.ContainerID {
		return false
	}
	if want.Container != "" && f.Container != want.Container {
		return false
	}
	if want.PID != 0 && f.Kind != facts.ContainerExit && f.PID != want.PID {
		return false
	}
	if want.Process != "" && f.Process != "" && f.Process != want.Process {
		return false
	}
	if want.ExitCode != nil && (f.ExitCode == nil || *f.ExitCode != *want.ExitCode) {
		return false
	}
	if want.Delay != "" && f.Delay != want.Delay {
		return false
	}
	if want.Name != "" && f.Name != want.Name {
		return false
	}
	return true
}

// TestScenariosAgainstTruth imports every scenario in every layout and checks the index against
// the truth the generator planted: every planted fact is found with its fields, no kernel OOM kill
// is reported twice, every crash fact of the incident is joined to its pod and container, and the
// healthy node yields no crash facts at all.
func TestScenariosAgainstTruth(t *testing.T) {
	for _, s := range scenario.All() {
		for _, layout := range scenario.Layouts() {
			t.Run(s.Name+"/"+string(layout), func(t *testing.T) {
				t.Parallel()
				res, truth := importScenario(t, s, layout)
				checkAgainstTruth(t, res.Index, truth)
			})
		}
	}
}

// checkAgainstTruth checks an index against the truth its bundle was written with: every planted
// fact is found with its fields, no kernel OOM kill is reported twice, every crash fact of the
// incident is joined to its pod and container, every fact has a time before the capture, and a
// healthy node yields no crash facts at all.
func checkAgainstTruth(t *testing.T, idx *index.Index, truth scenario.Truth) {
	t.Helper()
	if truth.RootCause == "none" {
		if len(idx.Facts) != 0 {
			t.Errorf("healthy node: want no crash facts, got %d, first: %+v", len(idx.Facts), idx.Facts[0])
		}
		return
	}
	for _, want := range truth.Facts {
		found := false
		for _, f := range idx.Facts {
			if matches(f, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("planted %s not found: %+v", want.Kind, want)
		}
	}
	wantOOM, gotOOM := 0, 0
	for _, w := range truth.Facts {
		if w.Kind == facts.OOMKill {
			wantOOM++
		}
	}
	for _, f := range idx.Facts {
		if f.Kind == facts.OOMKill {
			gotOOM++
		}
	}
	if gotOOM != wantOOM {
		t.Errorf("OOM kills: got %d, want %d (each kill once, whatever number of files shows it)", gotOOM, wantOOM)
	}
	if truth.Pod != "" {
		for _, f := range idx.Facts {
			if f.ContainerID == "" || f.Kind == facts.ImagePull {
				continue
			}
			if !truthContainer(truth, f.ContainerID) {
				continue
			}
			if f.Pod != truth.Pod || f.Namespace != truth.Namespace || f.Container != truth.Container {
				t.Errorf("%s at %s not joined: pod %q ns %q container %q, want %s/%s/%s",
					f.Kind, f.Ref, f.Pod, f.Namespace, f.Container, truth.Namespace, truth.Pod, truth.Container)
			}
		}
	}
	for _, f := range idx.Facts {
		if f.Ref.TimeQuality == "none" || f.Ref.Time.IsZero() {
			t.Errorf("%s at %s has no time", f.Kind, f.Ref)
		}
		if f.Ref.Time.After(truth.CaptureTime) {
			t.Errorf("%s at %s is after the capture time %s: %s", f.Kind, f.Ref, truth.CaptureTime, f.Ref.Time)
		}
	}
}

func truthContainer(truth scenario.Truth, id string) bool {
	for _, f := range truth.Facts {
		if f.ContainerID == id {
			return true
		}
	}
	return false
}

// goldenView is the part of an index worth pinning: what a user sees of findings and facts.
type goldenView struct {
	Time     index.TimeContext `json:"time"`
	Files    []goldenFile      `json:"files"`
	Findings []goldenFinding   `json:"findings"`
	Facts    []string          `json:"facts"`
}

type goldenFile struct {
	Path, LogType, Format, Quality string
	Lines                          int64
}

type goldenFinding struct {
	ID, Rule, Severity string
	Count              int
	First, Last        string
	Sample             string
}

func view(idx *index.Index) goldenView {
	v := goldenView{Time: idx.Time}
	for _, f := range idx.Files {
		v.Files = append(v.Files, goldenFile{f.Path, f.LogType, string(f.Format), string(f.Quality), f.Lines})
	}
	for _, f := range idx.Findings {
		g := goldenFinding{ID: f.ID, Rule: f.Rule, Severity: f.Severity, Count: f.Count,
			First: f.First.Format("2006-01-02T15:04:05.000Z"), Last: f.Last.Format("2006-01-02T15:04:05.000Z")}
		if len(f.Samples) > 0 {
			g.Sample = f.Samples[0].String()
		}
		v.Findings = append(v.Findings, g)
	}
	for _, f := range idx.Facts {
		b, _ := json.Marshal(f)
		v.Facts = append(v.Facts, string(b))
	}
	return v
}

// TestScenarioGoldens pins findings and facts of each scenario in its typical layout, so that a
// change to rules, parsers or joins shows up as a reviewable diff. Regenerate with -update.
func TestScenarioGoldens(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			res, _ := importScenario(t, s, s.Layout)
			got := view(res.Index)
			path := filepath.Join("testdata", "golden", fmt.Sprintf("%s-%s.json", s.Name, s.Layout))
			if *update {
				data, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./internal/store -run TestScenarioGoldens -update`)", err)
			}
			var want goldenView
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			// Round-trip got through JSON too, so both sides have the same time representation.
			data, _ = json.Marshal(got)
			var gotRT goldenView
			json.Unmarshal(data, &gotRT)
			if diff := cmp.Diff(want, gotRT); diff != "" {
				t.Errorf("%s differs (-want +got); if the change is intended, rerun with -update:\n%s", path, strings.TrimSpace(diff))
			}
		})
	}
}

// TestYearTurnAndFolderImport: a bundle captured on 2 January whose logs start in December gets
// December times in the previous year, and a folder imports like its archive.
func TestYearTurnAndFolderImport(t *testing.T) {
	for _, name := range []string{"container-oom-v1", "segfault"} {
		s, _ := scenario.Lookup(name)
		for _, layout := range []scenario.Layout{scenario.AL2, scenario.Bottlerocket} {
			t.Run(name+"/"+string(layout), func(t *testing.T) {
				t.Parallel()
				res, truth := importWritten(t, s, layout, scenario.Options{YearTurn: true}, scenario.Write,
					ImportOptions{InstanceID: "i-0feedfeedfeedfeed"})
				idx := res.Index
				if res.Entry.Manifest.InstanceID != "i-0feedfeedfeedfeed" {
					t.Errorf("instance %q, want the --instance override", res.Entry.Manifest.InstanceID)
				}
				sawDecember := false
				for _, f := range idx.Files {
					if f.First.IsZero() {
						continue
					}
					if f.First.After(truth.CaptureTime) || f.Last.After(truth.CaptureTime.Add(time.Minute)) {
						t.Errorf("%s spans %s – %s, after the capture %s", f.Path, f.First, f.Last, truth.CaptureTime)
					}
					if f.First.Year() == 2026 && f.First.Month() == time.December {
						sawDecember = true
					}
				}
				if !sawDecember {
					t.Errorf("no file starts in December 2026; capture %s", truth.CaptureTime)
				}
				for _, want := range truth.Facts {
					found := false
					for _, f := range idx.Facts {
						found = found || matches(f, want)
					}
					if !found {
						t.Errorf("planted %s not found: %+v", want.Kind, want)
					}
				}
			})
		}
	}
}
