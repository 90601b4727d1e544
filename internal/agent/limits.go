package agent

import (
	"sync"
	"time"
)

// Verdicts of Limiter.Allow, used as the result label of the snapshot counter.
const (
	Allowed     = "allowed"
	Duplicate   = "deduplicated"
	PodLimited  = "pod_rate_limited"
	NodeLimited = "node_rate_limited"
)

// Limits bound how often the agent snapshots. A crash loop restarts a container every five
// minutes at most (the kubelet's back-off cap), so without them one loop would take a snapshot
// per restart for as long as it lasts.
type Limits struct {
	// Dedup: a container with a snapshot taken this recently gets no second one; its loop is
	// already on record.
	Dedup time.Duration
	// PodEvery: at most one snapshot per pod this often, whichever container crashed.
	PodEvery time.Duration
	// PerHour and Burst: the node's token bucket, shared by all its pods, so that a node where
	// a hundred pods crash at once (a bad config rollout) takes Burst snapshots, then PerHour.
	PerHour float64
	Burst   int
}

// DefaultLimits are the agent's defaults.
var DefaultLimits = Limits{Dedup: time.Hour, PodEvery: 10 * time.Minute, PerHour: 6, Burst: 3}

// Limiter decides whether a crash gets a snapshot. It is safe for concurrent use.
type Limiter struct {
	l      Limits
	mu     sync.Mutex
	pods   map[string]time.Time // pod UID → last snapshot allowed
	ctrs   map[string]time.Time // pod UID/container → last snapshot allowed
	tokens float64
	filled time.Time
}

// NewLimiter returns a limiter whose bucket starts full.
func NewLimiter(l Limits) *Limiter {
	return &Limiter{l: l, pods: map[string]time.Time{}, ctrs: map[string]time.Time{}, tokens: float64(l.Burst)}
}

// Allow reports whether a snapshot of pod's container may be taken at now, and if not which
// limit refused it. An allowed snapshot is charged at once, so concurrent crashes cannot all
// pass the same check.
func (lim *Limiter) Allow(pod, container string, now time.Time) string {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	lim.refill(now)
	key := pod + "/" + container
	if t, ok := lim.ctrs[key]; ok && now.Sub(t) < lim.l.Dedup {
		return Duplicate
	}
	if t, ok := lim.pods[pod]; ok && now.Sub(t) < lim.l.PodEvery {
		return PodLimited
	}
	if lim.tokens < 1 {
		return NodeLimited
	}
	lim.tokens--
	lim.pods[pod], lim.ctrs[key] = now, now
	lim.prune(now)
	return Allowed
}

func (lim *Limiter) refill(now time.Time) {
	if !lim.filled.IsZero() && now.After(lim.filled) {
		lim.tokens += now.Sub(lim.filled).Hours() * lim.l.PerHour
		if max := float64(lim.l.Burst); lim.tokens > max {
			lim.tokens = max
		}
	}
	if lim.filled.IsZero() || now.After(lim.filled) {
		lim.filled = now
	}
}

// prune forgets pods whose windows have passed, so that a node that runs many short-lived
// pods does not grow the maps for the agent's lifetime.
func (lim *Limiter) prune(now time.Time) {
	keep := max(lim.l.Dedup, lim.l.PodEvery)
	for k, t := range lim.ctrs {
		if now.Sub(t) >= keep {
			delete(lim.ctrs, k)
		}
	}
	for k, t := range lim.pods {
		if now.Sub(t) >= keep {
			delete(lim.pods, k)
		}
	}
}

// LimiterState is what a Limiter remembers, kept across the agent's restarts: an agent that is
// OOM-killed or rolled out would otherwise start with a full bucket and no memory of the loops
// it already took, and take the same snapshots again.
type LimiterState struct {
	Pods       map[string]time.Time `json:"pods,omitempty"`
	Containers map[string]time.Time `json:"containers,omitempty"`
	Tokens     float64              `json:"tokens"`
	Filled     time.Time            `json:"filled"`
}

// State returns a copy of what lim remembers.
func (lim *Limiter) State() LimiterState {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	s := LimiterState{Pods: make(map[string]time.Time, len(lim.pods)), Containers: make(map[string]time.Time, len(lim.ctrs)), Tokens: lim.tokens, Filled: lim.filled}
	for k, t := range lim.pods {
		s.Pods[k] = t
	}
	for k, t := range lim.ctrs {
		s.Containers[k] = t
	}
	return s
}

// Restore makes lim remember s as of now. A saved state comes from storage anyone with write
// access to the store could edit, and from a clock that may differ from ours: times after now
// count as now and tokens are kept within [0, Burst], so a bad state can only make the agent
// more careful for one window, never let it take more than its limits.
func (lim *Limiter) Restore(s LimiterState, now time.Time) {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	clamp := func(t time.Time) time.Time {
		if t.After(now) {
			return now
		}
		return t
	}
	for k, t := range s.Pods {
		lim.pods[k] = clamp(t)
	}
	for k, t := range s.Containers {
		lim.ctrs[k] = clamp(t)
	}
	lim.tokens = min(max(s.Tokens, 0), float64(lim.l.Burst))
	lim.filled = clamp(s.Filled)
	if lim.filled.IsZero() {
		lim.filled = now
	}
	lim.refill(now)
	lim.prune(now)
}
