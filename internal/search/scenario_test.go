package search

import (
	"context"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/store"
)

// importScenario writes a scenario's archive and imports it into a fresh store.
func importScenario(t *testing.T, s scenario.Scenario, layout scenario.Layout) (*store.Entry, *index.Index, scenario.Truth) {
	t.Helper()
	return scenariotest.Import(t, "", s, layout)
}

// killQuery is the SOP query plus the kernel's victim line, which OOM kill facts point at.
const killQuery = sopQuery + "|Killed process"

// TestSearchFindsPlantedOOMKills searches the SOP query in every scenario with a planted OOM kill
// and checks each OOM kill fact of the index is a match with the same place and time, and that
// Read shows that line: search, read and the index must agree on line numbers, offsets and times.
func TestSearchFindsPlantedOOMKills(t *testing.T) {
	for _, s := range scenario.All() {
		planted := 0
		for _, f := range s.Truth.Facts {
			if f.Kind == facts.OOMKill {
				planted++
			}
		}
		if planted == 0 {
			continue
		}
		for _, layout := range scenario.Layouts() {
			t.Run(s.Name+"/"+string(layout), func(t *testing.T) {
				t.Parallel()
				e, idx, truth := importScenario(t, s, layout)
				// The layout's own truth: memory.oom.group kills exist on cgroup v2 only.
				planted := 0
				for _, f := range truth.Facts {
					if f.Kind == facts.OOMKill {
						planted++
					}
				}
				res, err := Search(context.Background(), e, idx, Request{Query: killQuery, MaxPerFile: CapMaxPerFile, MaxTotal: CapMaxTotal})
				if err != nil {
					t.Fatal(err)
				}
				found := map[string]evidence.LineRef{}
				for _, m := range flatten(res) {
					found[m.LineRef.String()] = m.LineRef
				}
				kills := 0
				for _, f := range idx.Facts {
					if f.Kind != facts.OOMKill {
						continue
					}
					kills++
					for _, ref := range append([]evidence.LineRef{f.Ref}, f.Also...) {
						got, ok := found[ref.String()]
						if !ok {
							t.Errorf("OOM kill at %s is not among the matches", ref)
							continue
						}
						// Read must show the same line at the same place.
						rd, err := Read(context.Background(), e, idx, ReadRequest{LogKey: ref.File, StartLine: ref.Line, LineCount: 1})
						if err != nil {
							t.Error(err)
						} else if len(rd.Lines) != 1 || rd.Lines[0].Offset != ref.Offset || !strings.Contains(rd.Lines[0].Text, "Killed process") {
							t.Errorf("read %s: %+v; want the victim line at offset %d", ref, rd.Lines, ref.Offset)
						}
						if got.Offset != ref.Offset || !got.Time.Equal(ref.Time) || got.TimeQuality != ref.TimeQuality {
							t.Errorf("%s: search says offset %d time %s (%s), index says offset %d time %s (%s)",
								ref, got.Offset, got.Time, got.TimeQuality, ref.Offset, ref.Time, ref.TimeQuality)
						}
					}
				}
				if kills < planted {
					t.Errorf("index has %d OOM kill facts, the scenario planted %d", kills, planted)
				}
			})
		}
	}
}
