package index

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
)

func TestCollapseRepeats(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	line := 0
	mk := func(k facts.Kind, delay string) facts.Fact {
		line++
		return facts.Fact{Kind: k, Delay: delay, PodUID: "u1", Pod: "api-0", Namespace: "shop", Container: "api",
			Ref: evidence.LineRef{File: "kubelet/kubelet.log", Line: line, Time: t0.Add(time.Duration(line) * time.Second)}}
	}
	missing := func() facts.Fact {
		f := mk(facts.ConfigMissing, "")
		f.FailureKind, f.Name = "configmap", "app-config"
		return f
	}
	other := func() facts.Fact {
		f := mk(facts.BackOff, "10s")
		f.PodUID, f.Container = "u2", "web" // another pod's back-off never folds into api's
		return f
	}
	// Built in order, so that line numbers follow positions.
	var in []facts.Fact
	for _, f := range []func() facts.Fact{
		func() facts.Fact { return mk(facts.BackOff, "10s") }, missing, func() facts.Fact { return mk(facts.BackOff, "10s") }, other,
		func() facts.Fact { return mk(facts.BackOff, "10s") },
		func() facts.Fact { return mk(facts.ContainerExit, "") },
		func() facts.Fact { return mk(facts.BackOff, "5m0s") }, missing, func() facts.Fact { return mk(facts.BackOff, "5m0s") },
		func() facts.Fact { return mk(facts.ContainerExit, "") },
		func() facts.Fact { return mk(facts.BackOff, "5m0s") }, missing,
	} {
		in = append(in, f())
	}
	got := collapseRepeats(in)
	var desc []string
	for _, f := range got {
		s := fmt.Sprintf("%s %s@%d", f.Kind, f.Delay, f.Ref.Line)
		if f.Repeats > 0 {
			s += fmt.Sprintf(" +%d..%d", f.Repeats, f.LastRef.Line)
		}
		desc = append(desc, s)
	}
	want := []string{
		"BackOff 10s@1 +2..5", "ConfigMissing @2 +2..12", "BackOff 10s@4",
		"ContainerExit @6",
		"BackOff 5m0s@7 +1..9", // same delay after an exit is a new restart, not a repeat
		"ContainerExit @10",
		"BackOff 5m0s@11",
	}
	if strings.Join(desc, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(desc, "\n"), strings.Join(want, "\n"))
	}
}
