package scenario

import (
	"fmt"
	"time"
)

// loop describes a crash loop: how each attempt starts, how long it lives, and what kills it.
type loop struct {
	p      *pod
	deaths int
	// firstStart, when set, is when attempt 0 started (a pod that ran for days before it broke);
	// otherwise the pod arrives at the plan's origin.
	firstStart time.Time
	lifetime   func(i int) time.Duration
	// start replaces the normal create+start (exec failures never get a running task).
	start func(i int, t time.Time) (cid string, pid int, started time.Time)
	// die plants what ends attempt i at t and returns when the task exited, its exit code,
	// whether containerd saw an OOM, and the Pod API's termination reason.
	die func(i int, started, t time.Time, cid string, pid int) (exited time.Time, code int, oom bool, reason string)
}

// crashLoopBackOff is kubelet's ladder: 10s doubling to a 5-minute cap.
func crashLoopBackOff(k int) time.Duration {
	d := 10 * time.Second << k
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d
}

// run plays the loop from origin. kubelet restarts after the first death at once and backs off
// from the second on (doBackOff only starts the clock at the first restart). The last back-off
// is still running at capture: that is what makes the pod show CrashLoopBackOff.
func (b *builder) run(origin time.Time, l loop) (end time.Time, gap time.Duration) {
	p := l.p
	b.pod = p
	t := origin
	if !l.firstStart.IsZero() {
		t = l.firstStart
	}
	p.created = t
	t = b.runSandbox(t, p).Add(b.g.between(300*time.Millisecond, time.Second))
	var cids []string
	for i := 0; i < l.deaths; i++ {
		var cid string
		var pid int
		var started time.Time
		if l.start != nil {
			cid, pid, started = l.start(i, t)
		} else {
			cid, pid, started = b.startContainer(t, p, i)
			b.event(started, p, "Normal", "Pulled", fmt.Sprintf("Container image %q already present on machine", p.image))
			b.event(started, p, "Normal", "Created", "Created container: "+p.container)
			b.event(started, p, "Normal", "Started", "Started container "+p.container)
		}
		if i >= 2 { // kubelet keeps the last dead container and collects older ones
			b.removeContainer(started.Add(b.g.between(time.Second, 3*time.Second)), cids[i-2])
		}
		cids = append(cids, cid)
		death := started
		if l.lifetime != nil {
			death = started.Add(l.lifetime(i))
		}
		if i == 0 && !l.firstStart.IsZero() {
			death = origin
		}
		exited, code, oom, reason := l.die(i, started, death, cid, pid)
		seen := b.containerExit(exited, p, cid, pid, code, oom)
		b.status.term = &termState{exitCode: code, reason: reason, startedAt: started, finishd: exited, containerID: cid}
		b.status.containerID = cid
		b.status.restarts = i
		if i == 0 {
			t = seen.Add(b.g.between(500*time.Millisecond, 1500*time.Millisecond))
			continue
		}
		delay := crashLoopBackOff(i - 1)
		from := seen.Add(b.g.between(100*time.Millisecond, 900*time.Millisecond))
		next := b.backOff(from, p, delay)
		if i == l.deaths-1 {
			b.status.waitingReason = "CrashLoopBackOff"
			b.status.waitingMessage = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", goDuration(delay), p.container, p.name, p.ns, p.uid)
			// capture somewhere in the middle of the last back-off
			return from, delay * time.Duration(35+b.g.r.IntN(30)) / 100
		}
		t = next.Add(b.g.between(100*time.Millisecond, 1200*time.Millisecond))
	}
	return t, time.Minute
}
