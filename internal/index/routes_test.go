package index

import (
	"context"
	"strings"
	"testing"
)

// TestStartupRoute: "PLEG is not healthy" and "container runtime is down" are what every kubelet
// says in its first seconds; within two minutes of a kubelet start in the same file they count
// as kubelet-not-ready-at-startup (info), later as the failures they are.
func TestStartupRoute(t *testing.T) {
	const (
		start    = `Nov 20 10:21:05 ip-10-0-37-142 systemd[1]: Started kubelet.service - Kubernetes Kubelet.`
		down     = `Nov 20 10:21:06 ip-10-0-37-142 kubelet[3187]: E1120 10:21:06.110022    3187 kubelet.go:2436] "Skipping pod synchronization" err="container runtime is down"`
		pleg     = `Nov 20 10:22:30 ip-10-0-37-142 kubelet[3187]: E1120 10:22:30.110022    3187 kubelet.go:2436] "Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m0.5s ago; threshold is 3m0s"`
		plegLate = `Nov 20 10:40:30 ip-10-0-37-142 kubelet[3187]: E1120 10:40:30.110022    3187 kubelet.go:2436] "Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m0.5s ago; threshold is 3m0s"`
	)
	cases := []struct {
		name  string
		lines []string
		want  map[string]int
	}{
		{"at start-up", []string{start, down, pleg}, map[string]int{"kubelet-started": 1, "kubelet-not-ready-at-startup": 2}},
		{"later", []string{start, plegLate}, map[string]int{"kubelet-started": 1, "kubelet-pleg-not-healthy": 1}},
		{"no start in the file", []string{down}, map[string]int{"kubelet-container-runtime-down": 1}},
		// One line that is both: the route must not count it twice under the same rule.
		{"both wordings on one line", []string{start, `Nov 20 10:21:06 ip-10-0-37-142 kubelet[3187]: I1120 10:21:06.269821    3187 kubelet.go:1799] skipping pod synchronization - [container runtime is down PLEG is not healthy: pleg was last seen active 2562047h47m16.854775807s ago; threshold is 3m0s]`},
			map[string]int{"kubelet-started": 1, "kubelet-not-ready-at-startup": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(t, nil)
			if err := b.IndexFile(context.Background(), "var_log/messages", "messages", strings.NewReader(strings.Join(tc.lines, "\n")+"\n")); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, f := range b.Finish().Findings {
				got[f.Rule] = f.Count
			}
			for rule, n := range tc.want {
				if got[rule] != n {
					t.Errorf("%s: %d hits, want %d (all: %v)", rule, got[rule], n, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
		})
	}
}
