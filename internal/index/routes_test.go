package index

import (
	"context"
	"fmt"
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

// TestSandboxRoute: containerd 1.4, 1.6.37+ and 1.7.24+ word a pause container's exit like any
// container's; once RunPodSandbox has returned its ID, the exit counts as a sandbox exit.
func TestSandboxRoute(t *testing.T) {
	const (
		sb      = "438c761f2b7c3a4d4e5f8a9b0c1d2e3f4a5b6c7d8e9f00112233445566778899"
		ctr     = "c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"
		created = `time="2026-11-20T10:00:01.000000000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:api-0,Uid:5da5612b-9738-493c-af51-a213072997f6,Namespace:shop,Attempt:0,} returns sandbox id \"` + sb + `\""`
	)
	exit := func(id string, code int) string {
		return fmt.Sprintf(`time="2026-11-20T10:26:17.000000000Z" level=info msg="received exit event container_id:\"%s\" id:\"%s\" pid:16775 exit_status:%d exited_at:{seconds:1795170377 nanos:101880397}"`, id, id, code)
	}
	b := newBuilder(t, nil)
	text := strings.Join([]string{created, exit(sb, 137), exit(ctr, 137), exit(sb, 0)}, "\n") + "\n"
	if err := b.IndexFile(context.Background(), "containerd/containerd-log.txt", "containerd", strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range b.Finish().Findings {
		got[f.Rule] = f.Count
	}
	want := map[string]int{"containerd-sandbox-created": 1, "containerd-sandbox-exit": 2, "containerd-task-exit-nonzero": 1}
	for rule, n := range want {
		if got[rule] != n {
			t.Errorf("%s: %d hits, want %d (all: %v)", rule, got[rule], n, got)
		}
	}
	if got["containerd-task-exit-zero"] != 0 {
		t.Errorf("a sandbox's clean exit counted as a container's: %v", got)
	}
}
