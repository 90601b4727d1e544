package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/store"
)

func TestLimiterRestore(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	lim := Limits{Dedup: time.Hour, PodEvery: 10 * time.Minute, PerHour: 6, Burst: 3}
	tests := []struct {
		name  string
		state LimiterState
		pod   string
		ctr   string
		want  string
	}{
		{"container within dedup", LimiterState{Containers: map[string]time.Time{"u1/app": now.Add(-30 * time.Minute)}, Pods: map[string]time.Time{"u1": now.Add(-30 * time.Minute)}, Tokens: 3, Filled: now}, "u1", "app", Duplicate},
		{"container past dedup", LimiterState{Containers: map[string]time.Time{"u1/app": now.Add(-61 * time.Minute)}, Tokens: 3, Filled: now}, "u1", "app", Allowed},
		{"pod within its window, other container", LimiterState{Pods: map[string]time.Time{"u1": now.Add(-5 * time.Minute)}, Tokens: 3, Filled: now}, "u1", "sidecar", PodLimited},
		{"bucket empty", LimiterState{Tokens: 0, Filled: now}, "u2", "app", NodeLimited},
		{"bucket refilled since saved", LimiterState{Tokens: 0, Filled: now.Add(-20 * time.Minute)}, "u2", "app", Allowed},
		// A state from a clock ahead of ours, or edited: it may make the agent wait, never
		// take more than Burst.
		{"times in the future count as now", LimiterState{Containers: map[string]time.Time{"u1/app": now.Add(48 * time.Hour)}, Tokens: 3, Filled: now}, "u1", "app", Duplicate},
		{"negative tokens are none", LimiterState{Tokens: -50, Filled: now}, "u2", "app", NodeLimited},
		{"no saved fill time", LimiterState{Tokens: 1}, "u2", "app", Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(lim)
			l.Restore(tt.state, now)
			if got := l.Allow(tt.pod, tt.ctr, now); got != tt.want {
				t.Errorf("Allow = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("tokens above burst are burst", func(t *testing.T) {
		l := NewLimiter(lim)
		l.Restore(LimiterState{Tokens: 1e9, Filled: now}, now)
		allowed := 0
		for i := range 10 {
			if l.Allow(string(rune('a'+i)), "app", now) == Allowed {
				allowed++
			}
		}
		if allowed != lim.Burst {
			t.Errorf("%d allowed after restoring a huge bucket, want burst %d", allowed, lim.Burst)
		}
	})
}

func TestLimiterStateRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	a := NewLimiter(DefaultLimits)
	if a.Allow("u1", "app", now) != Allowed || a.Allow("u2", "app", now.Add(time.Minute)) != Allowed {
		t.Fatal("fresh limiter refused")
	}
	b := NewLimiter(DefaultLimits)
	b.Restore(a.State(), now.Add(2*time.Minute))
	for _, c := range []struct{ pod, ctr, want string }{{"u1", "app", Duplicate}, {"u2", "app", Duplicate}, {"u3", "app", Allowed}, {"u4", "app", NodeLimited}} {
		if got := b.Allow(c.pod, c.ctr, now.Add(2*time.Minute)); got != c.want {
			t.Errorf("restored limiter: %s/%s = %s, want %s", c.pod, c.ctr, got, c.want)
		}
	}
}

// A restarted agent (a new pod of the DaemonSet, or the container after an OOM kill) sees the
// loop it already snapshotted as a pod waiting in CrashLoopBackOff on its first list; the saved
// limits make that a duplicate rather than a second snapshot.
func TestRestartKeepsLimits(t *testing.T) {
	for _, kind := range []string{"folder", "bucket"} {
		t.Run(kind, func(t *testing.T) {
			var keeper StateKeeper = FileState{Dir: filepath.Join(t.TempDir(), "agent")}
			if kind == "bucket" {
				r, err := remote.Open(context.Background(), "file://"+filepath.ToSlash(t.TempDir()), t.TempDir(), nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				keeper = RemoteState{Remote: r}
			}
			h := newHost(t, "container-oom-v2")
			cs := fake.NewClientset(node(false), before(h.pod))
			sink := newRecordSink(nil)
			clk := &clock{t: h.capture}
			first, stop := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now, State: keeper})
			update(t, cs, h.pod)
			waitFor(t, "the snapshot", func() bool { return sink.count() == 1 })
			waitFor(t, "the taken counter", func() bool { return counted(first, Taken) == 1 })
			if err := stop(); err != nil {
				t.Fatal(err)
			}

			clk.add(10 * time.Minute)
			second, _ := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now, State: keeper})
			waitFor(t, "the restarted agent's verdict", func() bool { return counted(second, Duplicate)+counted(second, Taken) > 0 })
			if n := counted(second, Duplicate); n != 1 {
				t.Errorf("restarted agent: %d duplicate verdicts, want 1", n)
			}
			if n := sink.count(); n != 1 {
				t.Errorf("%d snapshots after a restart inside the de-duplication window, want 1", n)
			}
		})
	}
}

func TestRestoreIgnoresBadState(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"corrupt":    "{not json",
		"other node": `{"node":"ip-10-9-9-9.ec2.internal","limits":{"containers":{"u/app":"2026-12-06T10:00:00Z"},"tokens":0}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, store.SafeName(nodeName)+".json"), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := New(Options{Node: nodeName, Client: fake.NewClientset(), Sink: failingSink{}, State: FileState{Dir: dir}})
			if err != nil {
				t.Fatal(err)
			}
			a.restoreLimits(context.Background())
			if got := a.lim.Allow("u", "app", a.opt.Now()); got != Allowed {
				t.Errorf("after a %s state: %s, want fresh limits (allowed)", name, got)
			}
		})
	}
	t.Run("oversized", func(t *testing.T) {
		big := make([]byte, maxStateBytes+1)
		if err := os.WriteFile(filepath.Join(dir, store.SafeName(nodeName)+".json"), big, 0o600); err != nil {
			t.Fatal(err)
		}
		var s agentState
		if _, err := (FileState{Dir: dir}).Load(context.Background(), nodeName, &s); err == nil {
			t.Error("an oversized state file loaded")
		}
	})
}
