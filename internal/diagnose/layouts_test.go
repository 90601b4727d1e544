package diagnose

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
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
				dir := t.TempDir()
				arch, err := scenario.WriteArchive(filepath.Join(dir, "src"), s, l, scenario.Options{})
				if err != nil {
					t.Fatal(err)
				}
				truth, err := scenario.ReadTruth(filepath.Join(dir, "src", "truth.json"))
				if err != nil {
					t.Fatal(err)
				}
				st, err := store.Open(filepath.Join(dir, "store"), nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := st.Import(context.Background(), arch, store.ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				idx := res.Index
				if idx == nil {
					if idx, err = st.Index(context.Background(), res.Entry, false); err != nil {
						t.Fatal(err)
					}
				}
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
