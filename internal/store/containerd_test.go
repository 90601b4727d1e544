package store

import (
	"slices"
	"testing"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
)

// joinScenarios are the scenarios whose story rests on joining a kernel or kubelet line to a
// container through containerd's lines: what containerd writes about exits decides how. The
// healthy node comes along: its finished Jobs' pod sandboxes and its exec probes exit in every
// release's own wording, and none of it may become a crash fact.
var joinScenarios = []string{"container-oom-v2", "container-oom-v1", "segfault", "exec-not-found", "exec-format", "liveness-sigterm", "node-oom", "healthy"}

// joinNoise keeps the matrix fast: the joins do not depend on the amount of noise, and 100 lines
// per log still put cron Jobs, pod sandbox exits and exec-probe exits around the incident.
const joinNoise = 100

// TestJoinsPerContainerdVersion imports each join scenario in every layout under every modelled
// containerd release (each on either side of a change in what containerd writes at info level)
// and checks the invariants of TestScenariosAgainstTruth, plus how the kernel's facts reached
// their container: an OOM kill through the cgroup its report names; a segfault through
// containerd's exit event of the same pid where the release logs exits at info, through the one
// exit with code 139 kubelet saw right after it where it does not (1.6.0–1.6.36, 1.7.0–1.7.23).
// No exit the incident did not plant (a pod sandbox's pause process, an exec probe) may surface
// as a crash.
func TestJoinsPerContainerdVersion(t *testing.T) {
	for _, name := range joinScenarios {
		s, ok := scenario.Lookup(name)
		if !ok {
			t.Fatalf("no scenario %q", name)
		}
		for _, layout := range scenario.Layouts() {
			if name == "container-oom-v1" && layout != scenario.AL2 {
				continue // its cgroup v1 node exists on AL2 only; elsewhere it is container-oom-v2 again
			}
			for _, v := range scenario.ContainerdReleases() {
				t.Run(name+"/"+string(layout)+"/"+v, func(t *testing.T) {
					t.Parallel()
					res, truth := importWritten(t, s, layout, scenario.Options{NoiseLines: joinNoise, Containerd: v},
						scenario.WriteArchive, ImportOptions{})
					idx := res.Index
					checkAgainstTruth(t, idx, truth)
					checkKernelJoins(t, idx, truth)
					checkNoStrayExits(t, idx, truth)
				})
			}
		}
	}
}

// checkKernelJoins checks that every planted OOM kill and segfault is joined to the planted
// container, by the strongest link the bundle holds.
func checkKernelJoins(t *testing.T, idx *index.Index, truth scenario.Truth) {
	t.Helper()
	for i, want := range truth.Facts {
		if want.Kind != facts.OOMKill && want.Kind != facts.Segfault {
			continue
		}
		// The exit that follows the kill in the truth: its pid is set only when containerd's
		// exit line with that pid is in the bundle.
		j := slices.IndexFunc(truth.Facts[i:], func(g scenario.TruthFact) bool { return g.Kind == facts.ContainerExit })
		if j < 0 {
			t.Fatalf("%s of pid %d is followed by no exit in the truth", want.Kind, want.PID)
		}
		exit := truth.Facts[i+j]
		wantBy := "cgroup" // every OOM report here names the victim's cgroup
		if want.Kind == facts.Segfault {
			wantBy = "exit code"
			if exit.PID != 0 {
				wantBy = "pid"
			}
		}
		k := slices.IndexFunc(idx.Facts, func(f facts.Fact) bool {
			return f.Kind == want.Kind && f.PID == want.PID && (want.ContainerID == "" || f.ContainerID == "" || f.ContainerID == want.ContainerID)
		})
		if k < 0 {
			t.Errorf("%s of pid %d not indexed", want.Kind, want.PID)
			continue
		}
		f := idx.Facts[k]
		if f.ContainerID != want.ContainerID || f.Container != truth.Container || f.Pod != truth.Pod {
			t.Errorf("%s of pid %d at %s joined to container %q (%q, pod %q), want %s (%s, pod %s); joinedBy %q",
				want.Kind, want.PID, f.Ref, f.ContainerID, f.Container, f.Pod, want.ContainerID, truth.Container, truth.Pod, f.JoinedBy)
			continue
		}
		if f.JoinedBy != wantBy {
			t.Errorf("%s of pid %d at %s joined by %q, want %q", want.Kind, want.PID, f.Ref, f.JoinedBy, wantBy)
		}
	}
}

// checkNoStrayExits: the only non-zero exits in the index are the incident's containers'.
func checkNoStrayExits(t *testing.T, idx *index.Index, truth scenario.Truth) {
	t.Helper()
	for _, f := range idx.Facts {
		if f.Kind != facts.ContainerExit || f.ExitCode == nil || *f.ExitCode == 0 {
			continue
		}
		if !truthContainer(truth, f.ContainerID) {
			t.Errorf("exit %d of %q at %s (%s) is not the incident's: a sandbox or exec exit read as a container's",
				*f.ExitCode, f.ContainerID, f.Ref, f.Source)
		}
	}
}
