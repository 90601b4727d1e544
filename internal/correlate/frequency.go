package correlate

import (
	"slices"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
)

// Frequency is how often one container crashed, computed from the logs alone.
type Frequency struct {
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty" yaml:"pod,omitempty"`
	PodUID    string `json:"podUID,omitempty" yaml:"podUID,omitempty"`
	Container string `json:"container" yaml:"container"`
	// Restarts counts distinct container IDs that exited non-zero: each container ID runs once,
	// so kubelet's and containerd's lines of one exit count once.
	Restarts int       `json:"restarts" yaml:"restarts"`
	First    time.Time `json:"first,omitzero" yaml:"first,omitempty"`
	Last     time.Time `json:"last,omitzero" yaml:"last,omitempty"`
	// PerTenMinutes and PerHour are the most exits seen in any 10-minute and any 1-hour span.
	PerTenMinutes int `json:"perTenMinutes" yaml:"perTenMinutes"`
	PerHour       int `json:"perHour" yaml:"perHour"`
	// BackOffs are the back-off delays kubelet announced, one per back-off period, in time order
	// (the ladder 10s, 20s, 40s, … up to 5m0s).
	BackOffs  []string `json:"backOffs,omitempty" yaml:"backOffs,omitempty"`
	ExitCodes []int    `json:"exitCodes,omitempty" yaml:"exitCodes,omitempty"` // distinct, in order of first appearance
}

// frequency groups facts by pod UID (else namespace/pod) and container name.
func frequency(scoped []*facts.Fact) []Frequency {
	type acc struct {
		f     Frequency
		seen  map[string]bool
		times []time.Time
	}
	byKey := map[string]*acc{}
	var order []string
	get := func(f *facts.Fact) *acc {
		key := f.PodUID
		if key == "" {
			key = f.Namespace + "/" + f.Pod
		}
		key += "|" + f.Container
		a := byKey[key]
		if a == nil {
			a = &acc{f: Frequency{Namespace: f.Namespace, Pod: f.Pod, PodUID: f.PodUID, Container: f.Container}, seen: map[string]bool{}}
			byKey[key] = a
			order = append(order, key)
		}
		return a
	}
	for _, f := range scoped { // idx.Facts is time-ordered, so ladders and codes come out in order
		if f.Container == "" {
			continue
		}
		switch {
		case f.Kind == facts.BackOff:
			if f.Delay != "" {
				a := get(f)
				a.f.BackOffs = append(a.f.BackOffs, f.Delay)
			}
		case nonZeroExit(f):
			a := get(f)
			id := f.ContainerID
			if id == "" {
				id = f.Ref.String() // an exit without an ID cannot be matched with its twin; it counts alone
			}
			if a.seen[id] {
				continue
			}
			a.seen[id] = true
			a.f.Restarts++
			if !slices.Contains(a.f.ExitCodes, *f.ExitCode) {
				a.f.ExitCodes = append(a.f.ExitCodes, *f.ExitCode)
			}
			if t := f.Ref.Time; !t.IsZero() {
				a.times = append(a.times, t)
			}
		}
	}
	out := make([]Frequency, 0, len(order))
	for _, k := range order {
		a := byKey[k]
		if a.f.Restarts == 0 && len(a.f.BackOffs) == 0 {
			continue
		}
		slices.SortFunc(a.times, func(x, y time.Time) int { return x.Compare(y) })
		if n := len(a.times); n > 0 {
			a.f.First, a.f.Last = a.times[0], a.times[n-1]
		}
		a.f.PerTenMinutes = densest(a.times, 10*time.Minute)
		a.f.PerHour = densest(a.times, time.Hour)
		out = append(out, a.f)
	}
	return out
}

// densest returns the most times that fit in any span of length w (sorted input).
func densest(ts []time.Time, w time.Duration) int {
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
