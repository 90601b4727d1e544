package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestCrashedOnPublishedStatuses: container statuses as users published them in public
// issues (kubectl describe, transcribed field by field), before and after a restart, and
// whether the agent takes them for a crash.
func TestCrashedOnPublishedStatuses(t *testing.T) {
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	loop := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	term := func(reason string, code int32) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code}}
	}
	status := func(restarts int32, state, last corev1.ContainerState) *corev1.ContainerStatus {
		return &corev1.ContainerStatus{Name: "app", RestartCount: restarts, State: state, LastTerminationState: last}
	}
	pod := func(s *corev1.ContainerStatus) *corev1.Pod {
		if s == nil {
			return nil
		}
		return &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{*s}}}
	}
	for _, tc := range []struct {
		name       string
		prev, now  *corev1.ContainerStatus
		wantReason string // "": no crash
		wantExit   *int32
	}{
		{
			// AliyunContainerService/kube-eventer#285: "State: Waiting, Reason: CrashLoopBackOff;
			// Last State: Terminated, Reason: OOMKilled, Exit Code: 1; Restart Count: 3".
			name: "kube-eventer#285, restart seen", prev: status(2, running, term("OOMKilled", 1)),
			now: status(3, loop, term("OOMKilled", 1)), wantReason: "restart", wantExit: ptr(int32(1)),
		},
		{
			name: "kube-eventer#285, first sight of the loop", now: status(3, loop, term("OOMKilled", 1)),
			wantReason: "CrashLoopBackOff", wantExit: ptr(int32(1)),
		},
		{
			// kubernetes/kubernetes#131530: "Reason: OOMKilled, Exit Code: 0" — restarted under
			// restartPolicy Always, an OOM kill with exit 0 is still a crash.
			name: "kubernetes#131530, OOMKilled with exit 0", prev: status(0, running, corev1.ContainerState{}),
			now: status(1, running, term("OOMKilled", 0)), wantReason: "restart", wantExit: ptr(int32(0)),
		},
		{
			// kubernetes/kubernetes#19825: "the termination reason is just Error, though I do
			// still get the 137 error code".
			name: "kubernetes#19825, Error 137", prev: status(4, running, term("Error", 137)),
			now: status(5, running, term("Error", 137)), wantReason: "restart", wantExit: ptr(int32(137)),
		},
		{
			// A container that finished its work and was restarted (restartPolicy Always): not
			// a crash until the kubelet backs it off.
			name: "Completed, exit 0", prev: status(0, running, corev1.ContainerState{}),
			now: status(1, running, term("Completed", 0)),
		},
		{
			// kubernetes/kubernetes#10861 (2015): "State: Running, Restart Count: 5" and no last
			// state — nothing says how it ended; the back-off, when it comes, is the sign.
			name: "kubernetes#10861, restart with no last state", prev: status(4, running, corev1.ContainerState{}),
			now: status(5, running, corev1.ContainerState{}),
		},
		{
			name: "still backing off", prev: status(3, loop, term("OOMKilled", 137)),
			now: status(3, loop, term("OOMKilled", 137)),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, ok := crashed(pod(tc.prev), tc.now, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
			if got := map[bool]string{true: tr.Reason, false: ""}[ok]; got != tc.wantReason {
				t.Fatalf("crash %q, want %q", got, tc.wantReason)
			}
			if ok && (tr.ExitCode == nil) != (tc.wantExit == nil) || ok && tr.ExitCode != nil && *tr.ExitCode != *tc.wantExit {
				t.Errorf("exit code %v, want %v", tr.ExitCode, tc.wantExit)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
