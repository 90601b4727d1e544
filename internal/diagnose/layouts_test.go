package diagnose

import (
	"context"
	"testing"

	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
)

// TestScenarioOtherLayouts: the class, exit code and OOM level come out of the node's logs in
// every producer's layout, not only the scenario's own.
func TestScenarioOtherLayouts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: imports every scenario in every layout")
	}
	for _, s := range scenario.All() {
		for _, l := range scenario.Layouts() {
			if l == s.Layout {
				continue // TestScenarioNodeLogsOnly covers it
			}
			t.Run(s.Name+"/"+string(l), func(t *testing.T) {
				t.Parallel()
				_, idx, truth := scenariotest.Import(t, "", s, l)
				truth = nodeLogsOnly(truth)
				d, err := Diagnose(context.Background(), idx, Input{Namespace: truth.Namespace, Pod: truth.Pod, Container: truth.Container})
				if err != nil {
					t.Fatal(err)
				}
				if want := wantClass(truth.RootCause); d.Class != want || d.OOMLevel != wantLevel(truth.RootCause) {
					t.Errorf("class %q level %q, want %q %q: %s", d.Class, d.OOMLevel, want, wantLevel(truth.RootCause), d.RootCause)
				}
				if truth.RootCause != "none" && (d.ExitCode == nil || *d.ExitCode != truth.ExitCode) {
					t.Errorf("exit code %v, want %d", ptr(d.ExitCode), truth.ExitCode)
				}
			})
		}
	}
}
