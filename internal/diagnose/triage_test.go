package diagnose

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/scenario"
)

// TestQuickTriageScenarios: the triage's root cause is the truth's class, every scenario, from
// the node's logs alone, and it recommends K3 first.
func TestQuickTriageScenarios(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			im := importScenario(t, s)
			tr, err := QuickTriage(context.Background(), im.idx)
			if err != nil {
				t.Fatal(err)
			}
			want := wantClass(nodeLogsOnly(im.truth).RootCause)
			if got, _, _ := strings.Cut(tr.RootCause, " — "); got != want {
				t.Errorf("triage root cause %q, want class %q", tr.RootCause, want)
			}
			if tr.Diagnosis == nil || tr.Diagnosis.Class != want {
				t.Errorf("triage diagnosis disagrees with its root cause")
			}
			if len(tr.SOPs) == 0 || tr.SOPs[0] != "K3" {
				t.Errorf("SOPs %v, want K3 first", tr.SOPs)
			}
			for i := 1; i < len(tr.TopFindings); i++ {
				if rank(tr.TopFindings[i].Severity) < rank(tr.TopFindings[i-1].Severity) {
					t.Errorf("top findings not most severe first: %s after %s", tr.TopFindings[i].Severity, tr.TopFindings[i-1].Severity)
				}
			}
			// The crash facts must count every planted exit of the truth's container.
			if im.truth.Pod != "" {
				want, got := 0, 0
				for _, f := range im.truth.Facts {
					if f.Kind == "ContainerExit" && f.ExitCode != nil && *f.ExitCode != 0 {
						want++
					}
				}
				for _, c := range tr.CrashFacts {
					if c.Kind == "ContainerExit" && c.Pod == im.truth.Pod && c.Container == im.truth.Container {
						got += c.Count
					}
				}
				// kubelet and containerd each log an exit where both saw it, so at least once each.
				if got < want {
					t.Errorf("crash facts count %d exits of %s, the truth planted %d", got, im.truth.Container, want)
				}
			}
		})
	}
}

func rank(s string) int {
	return map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}[s]
}

// TestSummarize: every claim stands on findings or lines, the root-cause claim agrees with the
// truth, only the findings asked about are summarized, and an unknown id is refused.
func TestSummarize(t *testing.T) {
	for _, name := range []string{"container-oom-v2", "segfault", "healthy"} {
		t.Run(name, func(t *testing.T) {
			s, _ := scenario.Lookup(name)
			im := importScenario(t, s)
			var ids []string
			for _, f := range im.idx.Findings {
				if rank(f.Severity) <= 1 {
					ids = append(ids, f.ID)
				}
			}
			sum, err := Summarize(context.Background(), im.idx, ids)
			if err != nil {
				t.Fatal(err)
			}
			want := wantClass(im.truth.RootCause)
			if got, _, _ := strings.Cut(sum.RootCause, " — "); got != want {
				t.Errorf("summary root cause %q, want class %q", sum.RootCause, want)
			}
			for _, c := range sum.Claims {
				if len(c.Findings) == 0 && len(c.Lines) == 0 && !strings.HasPrefix(c.Text, "crash frequency") {
					t.Errorf("claim %q stands on nothing", c.Text)
				}
				for _, id := range c.Findings {
					if !contains(ids, id) {
						t.Errorf("claim %q cites %s, which was not asked about", c.Text, id)
					}
				}
			}
			if len(sum.Critical) != len(ids) {
				t.Errorf("%d critical/high findings listed, %d asked about", len(sum.Critical), len(ids))
			}
			if want != "" && len(sum.Recommendations) == 0 {
				t.Errorf("a root cause without recommendations")
			}
		})
	}
	s, _ := scenario.Lookup("healthy")
	im := importScenario(t, s)
	if _, err := Summarize(context.Background(), im.idx, []string{"F-999"}); !errors.Is(err, ErrInput) {
		t.Errorf("Summarize of an unknown finding: %v, want ErrInput", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
