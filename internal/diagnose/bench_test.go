package diagnose

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/benchdata"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

var (
	bigOnce sync.Once
	bigIdx  *index.Index
	bigEnt  *store.Entry
	bigDir  string
	bigErr  error
)

// bigBundle imports the 1 GiB bundle once per test binary. It is skipped when the bundle is
// absent and in -short mode (the import takes seconds, not a unit test's milliseconds).
func bigBundle(tb testing.TB) (*index.Index, string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: the 1 GiB bundle's import is not short")
	}
	dir := benchdata.Folder(tb, 1024)
	bigOnce.Do(func() {
		if bigDir, bigErr = os.MkdirTemp("", "diagnose-bench-"); bigErr != nil {
			return
		}
		tempDirs = append(tempDirs, bigDir)
		var st *store.Store
		if st, bigErr = store.Open(bigDir, nil); bigErr != nil {
			return
		}
		var res *store.ImportResult
		if res, bigErr = st.Import(context.Background(), dir, store.ImportOptions{}); bigErr != nil {
			return
		}
		bigEnt = res.Entry
		if bigIdx = res.Index; bigIdx == nil {
			bigIdx, bigErr = st.Index(context.Background(), res.Entry, false)
		}
	})
	if bigErr != nil {
		tb.Fatal(bigErr)
	}
	return bigIdx, filepath.Join(filepath.Dir(dir), "expected.json")
}

// benchExpected is the part of expected.json the diagnosis is checked against.
type benchExpected struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
	ExitCode  int    `json:"exit_code"`
	RootCause string `json:"root_cause"`
	LimitKB   int64  `json:"limit_kb"`
	Restarts  []struct {
		Time     time.Time `json:"time"`
		ExitCode int       `json:"exit_code"`
	} `json:"restarts"`
}

// TestBenchBundleDiagnosis: from node logs only, the 1 GiB bundle's incident is a container OOM
// with the expected exit code, limit and restarts, and a back-off after every restart but the first
// on kubelet's doubling ladder.
func TestBenchBundleDiagnosis(t *testing.T) {
	idx, expPath := bigBundle(t)
	raw, err := os.ReadFile(expPath)
	if err != nil {
		t.Fatal(err)
	}
	var exp benchExpected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatalf("%s: %v", expPath, err)
	}
	d, err := Diagnose(context.Background(), idx, Input{Namespace: exp.Namespace, Pod: exp.Pod})
	if err != nil {
		t.Fatal(err)
	}
	if d.Class != exp.RootCause || d.OOMLevel != LevelContainer {
		t.Errorf("class %q level %q, want %q at container level: %s", d.Class, d.OOMLevel, exp.RootCause, d.RootCause)
	}
	if d.ExitCode == nil || *d.ExitCode != exp.ExitCode {
		t.Errorf("exit code %v, want %d", ptr(d.ExitCode), exp.ExitCode)
	}
	if d.Container != exp.Container || d.Restarts != len(exp.Restarts) {
		t.Errorf("container %q with %d restarts, want %q with %d", d.Container, d.Restarts, exp.Container, len(exp.Restarts))
	}
	if len(d.BackOffs) != len(exp.Restarts)-1 {
		t.Fatalf("back-offs %v, want %d (one per restart after the first)", d.BackOffs, len(exp.Restarts)-1)
	}
	// expected.json lists restarts, not delays: the ladder is checked for kubelet's shape — it
	// doubles from one back-off to the next and stops at the 5m0s cap.
	var prev time.Duration
	for i, s := range d.BackOffs {
		got, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("back-off %q: %v", s, err)
		}
		if i > 0 && got != min(2*prev, 5*time.Minute) {
			t.Errorf("back-off %d is %s after %s, want it doubled (at most 5m0s)", i, got, prev)
		}
		prev = got
	}
	if want := facts.KiB(exp.LimitKB); exp.LimitKB > 0 && !strings.Contains(d.RootCause, want) {
		t.Errorf("root cause %q does not show the %s limit", d.RootCause, want)
	}
}

// BenchmarkDiagnose times a diagnosis after import: on a scenario bundle, and on the 1 GiB
// bundle from node logs only (the runbook's promise is well under a second).
func BenchmarkDiagnose(b *testing.B) {
	b.Run("scenario", func(b *testing.B) {
		s, _ := scenario.Lookup("container-oom-v2")
		im := importScenario(b, s)
		in := Input{PodStatus: im.pod, Events: im.events, Entry: im.entry}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Diagnose(context.Background(), im.idx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bench1g/node-logs-only", func(b *testing.B) {
		idx, _ := bigBundle(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Diagnose(context.Background(), idx, Input{Namespace: "shop", Pod: "api-7d9f8b6c4d-x2x9k"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bench1g/node-logs-only-with-line-text", func(b *testing.B) {
		idx, _ := bigBundle(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Diagnose(context.Background(), idx, Input{Namespace: "shop", Pod: "api-7d9f8b6c4d-x2x9k", Entry: bigEnt}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bench1g/quick-triage", func(b *testing.B) {
		idx, _ := bigBundle(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := QuickTriage(context.Background(), idx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
