package correlate

import (
	"context"
	"errors"
	"regexp/syntax"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/logtime"
)

// Identifiers of the hand-built node: one pod with one container that dies twice.
const (
	hUID  = "11111111-2222-3333-4444-555555555555"
	hPod  = "api-0"
	hNS   = "prod"
	hCtr  = "api"
	hCID1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hCID2 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	hCIDX = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" // another pod's container
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func ref(file string, line int, at time.Duration) evidence.LineRef {
	return evidence.LineRef{File: file, Line: line, Time: t0.Add(at), TimeQuality: logtime.Exact}
}

func code(c int) *int { return &c }

func pod(f facts.Fact) facts.Fact {
	f.Namespace, f.Pod, f.PodUID, f.Container = hNS, hPod, hUID, hCtr
	return f
}

// handIndex is a node with the given files and facts, in time order as the indexer leaves them.
func handIndex(files []string, fs ...facts.Fact) *index.Index {
	idx := &index.Index{BundleID: "hand", InstanceID: "i-0123456789abcdef0", Facts: fs}
	for _, f := range files {
		lt := strings.SplitN(f, "/", 2)[0]
		switch {
		case strings.HasPrefix(f, "kernel/dmesg"):
			lt = "dmesg"
		case f == "var_log/messages":
			lt = "messages"
		}
		idx.Files = append(idx.Files, index.File{Path: f, LogType: lt, Bytes: 100, Lines: 10})
	}
	facts.Sort(idx.Facts)
	return idx
}

var allFiles = []string{"kubelet/kubelet.log", "containerd/containerd-log.txt", "kernel/dmesg.current"}

// oomDeath1 is a container killed by the OOM killer with every record present; death 2 has
// containerd's and kubelet's exits but no kernel record.
func twoDeaths(withKernel2 bool) []facts.Fact {
	fs := []facts.Fact{
		pod(facts.Fact{Kind: facts.OOMKill, Source: "kernel-oom-kill", Ref: ref("kernel/dmesg.current", 10, 0), ContainerID: hCID1, PID: 4242, Process: "api"}),
		pod(facts.Fact{Kind: facts.ContainerExit, Source: "containerd-task-exit", Ref: ref("containerd/containerd-log.txt", 20, 100*time.Millisecond), ContainerID: hCID1, PID: 4242, ExitCode: code(137)}),
		pod(facts.Fact{Kind: facts.ContainerExit, Source: "kubelet-pleg-finished", Ref: ref("kubelet/kubelet.log", 30, 800*time.Millisecond), ContainerID: hCID1, ExitCode: code(137)}),
		pod(facts.Fact{Kind: facts.BackOff, Source: "kubelet-backoff", Ref: ref("kubelet/kubelet.log", 31, time.Second), Delay: "10s", DelaySeconds: 10}),
		// A different pod's container is OOM-killed at the same instant as death 2: time alone
		// must not join it.
		{Kind: facts.OOMKill, Source: "kernel-oom-kill", Ref: ref("kernel/dmesg.current", 40, 30*time.Second), ContainerID: hCIDX, PID: 777, Process: "other"},
		pod(facts.Fact{Kind: facts.TaskOOM, Source: "containerd-task-oom", Ref: ref("containerd/containerd-log.txt", 49, 30*time.Second), ContainerID: hCID2}),
		pod(facts.Fact{Kind: facts.ContainerExit, Source: "containerd-task-exit", Ref: ref("containerd/containerd-log.txt", 50, 30*time.Second), ContainerID: hCID2, PID: 5151, ExitCode: code(137)}),
		pod(facts.Fact{Kind: facts.ContainerExit, Source: "kubelet-pleg-finished", Ref: ref("kubelet/kubelet.log", 60, 31*time.Second), ContainerID: hCID2, ExitCode: code(137)}),
	}
	if withKernel2 {
		fs = append(fs, pod(facts.Fact{Kind: facts.OOMKill, Source: "kernel-oom-kill", Ref: ref("kernel/dmesg.current", 45, 30*time.Second), ContainerID: hCID2, PID: 5151, Process: "api"}))
	}
	return fs
}

func chainFor(t *testing.T, res *Result, cid string) Chain {
	t.Helper()
	for _, c := range res.Chains {
		if c.ContainerID == cid {
			return c
		}
	}
	t.Fatalf("no chain for %s; chains: %+v", short(cid), res.Chains)
	return Chain{}
}

// TestUnprovenLinks: a link without a line is Missing, says why, and makes the chain incomplete;
// the why depends on whether the source exists at all.
func TestUnprovenLinks(t *testing.T) {
	tests := []struct {
		name       string
		files      []string
		fs         []facts.Fact
		cid        string
		step       string
		wantStatus string
		wantWhy    string // substring
	}{
		{"kernel record rotated", allFiles, twoDeaths(false), hCID2, StepKernelOOM, Missing, "ring buffer rotated"},
		{"no kernel source", allFiles[:2], twoDeaths(false), hCID2, StepKernelOOM, Missing, "dmesg and syslog are absent"},
		{"kernel record present", allFiles, twoDeaths(true), hCID2, StepKernelOOM, Proven, ""},
		{"last death without back-off", allFiles, twoDeaths(true), hCID2, StepBackOff, Missing, "no back-off logged after this failure"},
		{"first death back-off", allFiles, twoDeaths(true), hCID1, StepBackOff, Proven, ""},
		{"no kubelet exit", allFiles, twoDeaths(true)[:2], hCID1, StepKubelet, Missing, "no kubelet PLEG exit"},
		{"no kubelet log", allFiles[1:], twoDeaths(true)[:2], hCID1, StepKubelet, Missing, "no kubelet log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := handIndex(tt.files, tt.fs...)
			res, err := Correlate(context.Background(), idx, Request{Pivot: "ContainerExit"})
			if err != nil {
				t.Fatal(err)
			}
			c := chainFor(t, res, tt.cid)
			l := linkOf(c, tt.step)
			if l == nil {
				t.Fatalf("no %s link: %+v", tt.step, c.Links)
			}
			if l.Status != tt.wantStatus || !strings.Contains(l.Why, tt.wantWhy) {
				t.Errorf("%s: %s %q, want %s containing %q", tt.step, l.Status, l.Why, tt.wantStatus, tt.wantWhy)
			}
			if tt.wantStatus == Missing && c.Complete {
				t.Errorf("chain with a missing %s link is complete", tt.step)
			}
			if tt.wantStatus == Missing && (len(c.Unproven) == 0 || !strings.HasPrefix(c.Unproven[0], tt.step)) {
				t.Errorf("unproven %q does not name %s", c.Unproven, tt.step)
			}
		})
	}
}

// TestNoJoinByTime: another container's OOM kill at the very second of a death is never linked
// to it, and gets no chain of its own because that container did not die.
func TestNoJoinByTime(t *testing.T) {
	res, err := Correlate(context.Background(), handIndex(allFiles, twoDeaths(false)...), Request{Pivot: "ContainerExit"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Chains {
		if c.ContainerID == hCIDX {
			continue
		}
		for _, l := range c.Links {
			if l.Ref != nil && l.Ref.Line == 40 {
				t.Errorf("chain of %s links the other container's OOM kill (%s)", short(c.ContainerID), l.Ref)
			}
		}
	}
	if c := chainFor(t, res, hCIDX); c.Cause != "oom" {
		// An OOM kill is itself a death record when the container is known: its chain must say
		// that containerd and kubelet never reported the exit.
		t.Errorf("other container's chain cause %q, want oom", c.Cause)
	} else if c.Complete {
		t.Errorf("other container's chain is complete without any exit record: %+v", c.Links)
	}
}

// TestClockDisagreement: one event whose lines in two files are more than 2 s apart is a gap;
// within 2 s it is not.
func TestClockDisagreement(t *testing.T) {
	also := func(d time.Duration) facts.Fact {
		f := pod(facts.Fact{Kind: facts.OOMKill, Source: "kernel-oom-kill", Ref: ref("kernel/dmesg.current", 10, 0), ContainerID: hCID1, PID: 1})
		f.Also = []evidence.LineRef{ref("var_log/messages", 99, d)}
		return f
	}
	exits := func(d time.Duration) []facts.Fact {
		return []facts.Fact{
			pod(facts.Fact{Kind: facts.ContainerExit, Source: "containerd-task-exit", Ref: ref("containerd/containerd-log.txt", 20, 0), ContainerID: hCID1, PID: 1, ExitCode: code(1)}),
			pod(facts.Fact{Kind: facts.ContainerExit, Source: "kubelet-pleg-finished", Ref: ref("kubelet/kubelet.log", 30, d), ContainerID: hCID1, ExitCode: code(1)}),
		}
	}
	tests := []struct {
		name string
		fs   []facts.Fact
		want []string // substrings, one gap each; none when empty
	}{
		{"also copy 5s off", []facts.Fact{also(5 * time.Second)}, []string{"OOMKill at kernel/dmesg.current:10", "var_log/messages:99", "5s apart"}},
		{"also copy 1.5s off", []facts.Fact{also(1500 * time.Millisecond)}, nil},
		{"kubelet 3s after containerd", exits(3 * time.Second), []string{"containerd/containerd-log.txt:20", "kubelet/kubelet.log:30", "3s apart"}},
		{"kubelet 1s after containerd", exits(time.Second), nil},
		{"kubelet 4s before containerd", exits(-4 * time.Second), []string{"4s apart"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Correlate(context.Background(), handIndex(append(allFiles, "var_log/messages"), tt.fs...), Request{Pivot: ".*"})
			if err != nil {
				t.Fatal(err)
			}
			var clock []string
			for _, g := range res.Gaps {
				if strings.HasPrefix(g, "clock disagreement") {
					clock = append(clock, g)
				}
			}
			if len(tt.want) == 0 {
				if len(clock) != 0 {
					t.Errorf("unexpected gaps %q", clock)
				}
				return
			}
			if len(clock) != 1 {
				t.Fatalf("want one clock gap, got %q", clock)
			}
			for _, w := range tt.want {
				if !strings.Contains(clock[0], w) {
					t.Errorf("gap %q lacks %q", clock[0], w)
				}
			}
		})
	}
}

// TestSourceGaps: absent kubelet, containerd and kernel sources and untimed facts are named.
func TestSourceGaps(t *testing.T) {
	untimed := pod(facts.Fact{Kind: facts.ContainerExit, Source: "kubelet-pleg-finished", Ref: evidence.LineRef{File: "kubelet/kubelet.log", Line: 7, TimeQuality: logtime.None}, ContainerID: hCID1, ExitCode: code(2)})
	tests := []struct {
		name  string
		files []string
		fs    []facts.Fact
		want  []string
	}{
		{"all present", allFiles, nil, nil},
		{"no kubelet", allFiles[1:], nil, []string{"no kubelet log"}},
		{"no containerd", []string{allFiles[0], allFiles[2]}, nil, []string{"no containerd log"}},
		{"no kernel", allFiles[:2], nil, []string{"no kernel log"}},
		{"syslog is a kernel source", append(allFiles[:2:2], "var_log/messages"), nil, nil},
		{"untimed fact", allFiles, []facts.Fact{untimed}, []string{"1 fact(s) have no time", "ContainerExit at kubelet/kubelet.log:7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Correlate(context.Background(), handIndex(tt.files, tt.fs...), Request{})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(res.Gaps, "\n")
			if len(tt.want) == 0 && len(res.Gaps) != 0 {
				t.Errorf("unexpected gaps %q", res.Gaps)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("gaps %q lack %q", res.Gaps, w)
				}
			}
		})
	}
}

// TestRequestErrors: each bad request is a RequestError that matches ErrInvalidRequest and says
// what is accepted.
func TestRequestErrors(t *testing.T) {
	idx := handIndex(allFiles, twoDeaths(true)...)
	idx.Findings = []index.Finding{{ID: "F-001", Rule: "kernel-oom-kill-memcg"}, {ID: "F-002", Rule: "kubelet-crashloop-backoff"}}
	tests := []struct {
		name  string
		req   Request
		field string
		want  string
	}{
		{"unknown finding", Request{Pivot: "F-099"}, "pivot", "valid: F-001, F-002"},
		{"bad regex", Request{Pivot: "exit (137"}, "pivot", "missing closing )"},
		{"negative window", Request{Window: -time.Second}, "window", "greater than 0"},
		{"window over cap", Request{Window: 25 * time.Hour}, "window", "at most 24h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Correlate(context.Background(), idx, tt.req)
			var re *RequestError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error %v (%T), want a RequestError", err, err)
			}
			if re.Field != tt.field || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q (field %s), want field %s and %q", err, re.Field, tt.field, tt.want)
			}
		})
	}
	var se *syntax.Error
	if _, err := Correlate(context.Background(), idx, Request{Pivot: "exit (137"}); !errors.As(err, &se) {
		t.Errorf("regex error not unwrapped to *syntax.Error: %v", err)
	}
}

// TestClustersAndFrequency: events split at quiet gaps of a minute; restarts count container IDs,
// not lines, and the densest 10-minute span is counted.
func TestClustersAndFrequency(t *testing.T) {
	var fs []facts.Fact
	// Three deaths 20 s apart, then one 20 minutes later: two clusters, 3 per 10 minutes.
	for i, at := range []time.Duration{0, 20 * time.Second, 40 * time.Second, 20 * time.Minute} {
		cid := strings.Repeat(string(rune('a'+i)), 64)
		fs = append(fs,
			pod(facts.Fact{Kind: facts.ContainerExit, Source: "containerd-task-exit", Ref: ref("containerd/containerd-log.txt", 10*i+1, at), ContainerID: cid, PID: 100 + i, ExitCode: code(1)}),
			pod(facts.Fact{Kind: facts.ContainerExit, Source: "kubelet-pleg-finished", Ref: ref("kubelet/kubelet.log", 10*i+1, at+time.Second), ContainerID: cid, ExitCode: code(1 + i/3)}))
	}
	res, err := Correlate(context.Background(), handIndex(allFiles, fs...), Request{Pivot: "ContainerExit", Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Clusters) != 2 || res.Clusters[0].Events != 6 || res.Clusters[1].Events != 2 {
		t.Errorf("clusters %+v, want 6 events then 2", res.Clusters)
	}
	if len(res.Frequency) != 1 {
		t.Fatalf("frequency %+v, want one container", res.Frequency)
	}
	f := res.Frequency[0]
	if f.Restarts != 4 || f.PerTenMinutes != 3 || f.PerHour != 4 {
		t.Errorf("restarts %d, per 10 min %d, per hour %d; want 4, 3, 4", f.Restarts, f.PerTenMinutes, f.PerHour)
	}
	if !f.First.Equal(t0) || !f.Last.Equal(t0.Add(20*time.Minute)) {
		t.Errorf("first %s last %s", f.First, f.Last)
	}
	// Containerd's line of each exit comes first and wins, so every exit reads code 1.
	if len(f.ExitCodes) != 1 || f.ExitCodes[0] != 1 {
		t.Errorf("exit codes %v, want [1]", f.ExitCodes)
	}
}

// TestSegfaultJoinedByPID: a segfault line that names no container is joined to the containerd
// exit with the same pid, and through that exit's container ID to kubelet's exit 139.
func TestSegfaultJoinedByPID(t *testing.T) {
	fs := []facts.Fact{
		{Kind: facts.Segfault, Source: "kernel-segfault", Ref: ref("kernel/dmesg.current", 5, 0), PID: 9001, Process: "worker"},
		// A segfault of an unrelated pid in the same second stays unjoined.
		{Kind: facts.Segfault, Source: "kernel-segfault", Ref: ref("kernel/dmesg.current", 6, 0), PID: 9002, Process: "sshd"},
		pod(facts.Fact{Kind: facts.ContainerExit, Source: "containerd-task-exit", Ref: ref("containerd/containerd-log.txt", 8, 50*time.Millisecond), ContainerID: hCID1, PID: 9001, ExitCode: code(139)}),
		pod(facts.Fact{Kind: facts.ContainerExit, Source: "kubelet-pleg-finished", Ref: ref("kubelet/kubelet.log", 9, 600*time.Millisecond), ContainerID: hCID1, ExitCode: code(139)}),
	}
	res, err := Correlate(context.Background(), handIndex(allFiles, fs...), Request{Pivot: "Segfault"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Chains) != 1 {
		t.Fatalf("%d chains, want 1 (the unrelated pid has no container): %+v", len(res.Chains), res.Chains)
	}
	c := res.Chains[0]
	if c.Cause != "segfault" || c.ContainerID != hCID1 {
		t.Errorf("chain cause %s container %s, want segfault of %s", c.Cause, short(c.ContainerID), short(hCID1))
	}
	l := linkOf(c, StepSegfault)
	if l == nil || l.Status != Proven || l.Ref.Line != 5 || l.JoinedBy != "pid" {
		t.Errorf("segfault link %+v, want proven from dmesg line 5 joined by pid", l)
	}
	if k := linkOf(c, StepKubelet); k == nil || k.Status != Proven || k.Ref.Line != 9 {
		t.Errorf("kubelet link %+v, want kubelet line 9", k)
	}
}

// TestCancelled: a cancelled context stops Correlate with the context's error.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Correlate(ctx, handIndex(allFiles, twoDeaths(true)...), Request{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}
