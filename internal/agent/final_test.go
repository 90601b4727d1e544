package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

// crashingPods creates n running pods on the node and returns a function that crashes pod i.
func crashingPods(t *testing.T, cs *fake.Clientset, n int, now func() time.Time) func(i int) {
	t.Helper()
	pods := make([]*corev1.Pod, n)
	for i := range pods {
		pods[i] = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: fmt.Sprintf("api-%d", i), UID: types.UID(fmt.Sprintf("uid-%d", i))},
			Spec:       corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "api"}}},
			Status:     corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "api", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
		}
		if _, err := cs.CoreV1().Pods("shop").Create(context.Background(), pods[i], metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return func(i int) {
		s := &pods[i].Status.ContainerStatuses[0]
		s.RestartCount++
		s.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, FinishedAt: metav1.NewTime(now())}}
		s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
		update(t, cs, pods[i])
	}
}

// oneAtATime lets one snapshot through and then none: what the final snapshot must make up for.
var oneAtATime = Limits{Dedup: time.Hour, PodEvery: 10 * time.Minute, PerHour: 0, Burst: 1}

func finals(s *recordSink, why string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pods []string
	for _, tr := range s.triggers {
		if strings.HasPrefix(tr.Reason, "final: "+why) {
			pods = append(pods, tr.Pod)
		}
	}
	return pods
}

func TestFinalSnapshotOnStop(t *testing.T) {
	cs := fake.NewClientset(node(false))
	sink := newRecordSink(nil)
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	h := &host{root: t.TempDir()}
	a, stop := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now, Limits: oneAtATime})
	crash := crashingPods(t, cs, 4, clk.now)
	for i := 0; i < 3; i++ {
		crash(i)
	}
	waitFor(t, "three verdicts", func() bool { return counted(a, Taken)+counted(a, NodeLimited) == 3 })
	// Pod 3 crashed more than FinalWithin ago: the last snapshot leaves it out.
	clk.add(-2 * time.Hour)
	crash(3)
	waitFor(t, "the fourth verdict", func() bool { return counted(a, NodeLimited) == 3 })
	clk.add(2 * time.Hour)

	if err := stop(); err != nil { // the command cancels the context on SIGTERM
		t.Fatal(err)
	}
	got := finals(sink, "SIGTERM")
	if len(got) != 2 || sink.count() != 3 {
		t.Fatalf("final snapshots of %v (%d snapshots in all), want the two pods refused by the limit in the last hour and 3 in all", got, sink.count())
	}
	for _, p := range got {
		if p == "api-3" {
			t.Errorf("the last snapshot took api-3, which crashed two hours ago")
		}
	}
}

func TestFinalSnapshotOnSpotNotice(t *testing.T) {
	var noticed, tokens atomic.Bool
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" && r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") != "":
			fmt.Fprint(w, "tok-1")
		case r.Method == http.MethodGet && r.URL.Path == "/latest/meta-data/spot/instance-action":
			if r.Header.Get("X-aws-ec2-metadata-token") != "tok-1" {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			tokens.Store(true)
			if !noticed.Load() {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, `{"action": "terminate", "time": "2026-11-20T10:02:00Z"}`)
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
		}
	}))
	defer imds.Close()

	cs := fake.NewClientset(node(false))
	sink := newRecordSink(nil)
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	h := &host{root: t.TempDir()}
	a, stop := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now, Limits: oneAtATime,
		IMDS: imds.URL, SpotPoll: 10 * time.Millisecond})
	crash := crashingPods(t, cs, 2, clk.now)
	crash(0)
	crash(1)
	waitFor(t, "two verdicts", func() bool { return counted(a, Taken)+counted(a, NodeLimited) == 2 })
	waitFor(t, "a token-authenticated poll", tokens.Load)
	if n := sink.count(); n != 1 {
		t.Fatalf("%d snapshots before the notice, want 1", n)
	}
	noticed.Store(true)
	waitFor(t, "the last snapshot on the spot notice", func() bool { return len(finals(sink, "spot interruption notice")) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Stopping finds nothing left: both crashes have their snapshot.
	if n := sink.count(); n != 2 {
		t.Errorf("%d snapshots, want 2: the one the limit allowed and the spot notice's", n)
	}
}

func TestFinalSnapshotOnDrain(t *testing.T) {
	cs := fake.NewClientset(node(false))
	sink := newRecordSink(nil)
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	h := &host{root: t.TempDir()}
	a, _ := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now, Limits: oneAtATime, NodePoll: 10 * time.Millisecond})
	crash := crashingPods(t, cs, 2, clk.now)
	crash(0)
	crash(1)
	waitFor(t, "two verdicts", func() bool { return counted(a, Taken)+counted(a, NodeLimited) == 2 })
	if _, err := cs.CoreV1().Nodes().Update(context.Background(), node(true), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the last snapshot on the drain", func() bool { return len(finals(sink, "node "+nodeName+" cordoned")) == 1 })
}
