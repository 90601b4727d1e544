package correlate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nodediag/nodediag/internal/benchdata"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/store"
)

// The 1 GiB benchmark bundle (bench/run.sh writes it): a folder, with expected.json beside it.
// Tests that need it skip when it is absent; benchmarks write it (internal/benchdata).
var (
	bigOnce  sync.Once
	bigEntry *store.Entry
	bigIdx   *index.Index
	bigErr   error
)

func bigBundle(tb testing.TB) (*store.Entry, *index.Index, string) {
	tb.Helper()
	dir := benchdata.Folder(tb, 1024)
	bigOnce.Do(func() {
		var root string
		if root, bigErr = tempDir(); bigErr != nil {
			return
		}
		var st *store.Store
		if st, bigErr = store.Open(root, nil); bigErr != nil {
			return
		}
		var res *store.ImportResult
		if res, bigErr = st.Import(context.Background(), dir, store.ImportOptions{}); bigErr != nil {
			return
		}
		bigEntry, bigIdx = res.Entry, res.Index
		if bigIdx == nil {
			bigIdx, bigErr = st.Index(context.Background(), res.Entry, false)
		}
	})
	if bigErr != nil {
		tb.Fatal(bigErr)
	}
	return bigEntry, bigIdx, filepath.Join(filepath.Dir(dir), "expected.json")
}

// TestBenchBundleIncident: on the 1 GiB bundle, every OOM restart that expected.json lists has a
// complete chain whose containerd exit carries the expected pid and exit code.
func TestBenchBundleIncident(t *testing.T) {
	_, idx, expPath := bigBundle(t)
	raw, err := os.ReadFile(expPath)
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Container string `json:"container"`
		Restarts  []struct {
			ContainerID string `json:"container_id"`
			PID         int    `json:"pid"`
			ExitCode    int    `json:"exit_code"`
		} `json:"restarts"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatalf("%s: %v", expPath, err)
	}
	res, err := Correlate(context.Background(), idx, Request{Pivot: "OOMKill", Container: exp.Container})
	if err != nil {
		t.Fatal(err)
	}
	checkTimeOrdered(t, res.Timeline)
	for _, r := range exp.Restarts {
		c := chainFor(t, res, r.ContainerID)
		if c.Cause != "oom" || c.PID != r.PID || c.ExitCode == nil || *c.ExitCode != r.ExitCode {
			t.Errorf("%s: cause %s pid %d exit %v; want oom, pid %d, exit %d", short(r.ContainerID), c.Cause, c.PID, c.ExitCode, r.PID, r.ExitCode)
		}
		for _, step := range []string{StepKernelOOM, StepContainerd, StepKubelet} {
			if l := linkOf(c, step); l == nil || l.Status != Proven {
				t.Errorf("%s: %s link not proven: %+v", short(r.ContainerID), step, l)
			}
		}
	}
}

func benchCorrelate(b *testing.B, idx *index.Index, req Request) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Correlate(context.Background(), idx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorrelate times the default timeline (and validation) on a scenario bundle and, when
// NODEDIAG_BENCH_BUNDLE is set, on the 1 GiB bundle. Import happens once, outside the timing.
func BenchmarkCorrelate(b *testing.B) {
	b.Run("scenario/default", func(b *testing.B) {
		im := importScenario(b, "container-oom-v2", "")
		benchCorrelate(b, im.idx, Request{})
	})
	b.Run("scenario/regex", func(b *testing.B) {
		im := importScenario(b, "container-oom-v2", "")
		benchCorrelate(b, im.idx, Request{Pivot: "oom|exit 137", Window: 24 * 3600e9})
	})
	b.Run("bench1g/default", func(b *testing.B) {
		_, idx, _ := bigBundle(b)
		benchCorrelate(b, idx, Request{})
	})
	b.Run("bench1g/day", func(b *testing.B) {
		_, idx, _ := bigBundle(b)
		benchCorrelate(b, idx, Request{Pivot: "ContainerExit", Window: MaxWindow, MaxEvents: 100000})
	})
	b.Run("bench1g/validate", func(b *testing.B) {
		e, idx, _ := bigBundle(b)
		b.ReportAllocs()
		for b.Loop() {
			if v := Validate(e, idx); v == nil {
				b.Fatal("nil validation")
			}
		}
	})
}
