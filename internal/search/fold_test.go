package search

import (
	"slices"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
)

func TestFold(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	m := func(id, file string, line int, when, text string) Match {
		var tm time.Time
		if when != "" {
			tm = at(when)
		}
		return Match{ID: id, LineRef: evidence.LineRef{File: file, Line: line, Time: tm}, Text: text}
	}
	// One OOM kill as AL2 writes it to three files (the message is mm/oom_kill.c's
	// "Memory cgroup out of memory: Killed process %d (%s) …"), a kubelet line in kubelet.log
	// and messages, a second kill of the same pid number later, and an untimed line twice.
	const kill = "Memory cgroup out of memory: Killed process 51438 (java) total-vm:2617335kB, anon-rss:523467kB, file-rss:11562kB, shmem-rss:0kB, UID:1000 pgtables:2610kB oom_score_adj:985"
	const backoff = `E1120 08:17:50.424985    3051 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 10s restarting failed container=api pod=api-7d9f8b6c4d-x2x9k_shop(aaa2e8fe-bc21-41f8-7abb-c9ea50487435)\""`
	res := &Result{Files: []FileMatches{
		{File: "kernel/dmesg.current", Matches: []Match{
			m("S-001", "kernel/dmesg.current", 11797, "2026-11-20T08:17:49.000011Z", "[1040730.018018] "+kill),
			m("S-002", "kernel/dmesg.current", 11900, "2026-11-20T08:30:00.5Z", "[1041501.518018] "+kill),
		}},
		{File: "kernel/dmesg.human.current", Matches: []Match{
			m("S-003", "kernel/dmesg.human.current", 11797, "2026-11-20T08:17:49Z", "[Fri Nov 20 08:17:49 2026] "+kill),
		}},
		{File: "kubelet/kubelet.log", Matches: []Match{
			m("S-004", "kubelet/kubelet.log", 83748, "2026-11-20T08:17:50.424985Z", backoff),
			m("S-005", "kubelet/kubelet.log", 90000, "", "no time here"),
		}},
		{File: "var_log/messages", Matches: []Match{
			m("S-006", "var_log/messages", 81766, "2026-11-20T08:17:49Z", "Nov 20 08:17:49 ip-10-0-37-142 kernel: "+kill),
			m("S-007", "var_log/messages", 81767, "2026-11-20T08:17:50Z", "Nov 20 08:17:50 ip-10-0-37-142 kubelet[3051]: "+backoff),
			m("S-008", "var_log/messages", 81900, "2026-11-20T08:30:05Z", "Nov 20 08:30:05 ip-10-0-37-142 kernel: "+kill),
			m("S-009", "var_log/messages", 90001, "", "no time here"),
		}},
	}}
	recs := res.Fold()
	got := map[string][]string{}
	var order []string
	for _, r := range recs {
		got[r.ID] = r.Copies
		order = append(order, r.ID)
	}
	want := map[string][]string{
		"S-001": {"kernel/dmesg.human.current:11797", "var_log/messages:81766"},
		"S-002": nil, // the later kill: messages stamps it 4.5 s away, more than copySkew
		"S-004": {"var_log/messages:81767"},
		"S-005": nil,
		"S-008": nil,
		"S-009": nil,
	}
	if !slices.Equal(order, []string{"S-001", "S-002", "S-004", "S-005", "S-008", "S-009"}) {
		t.Errorf("records %v, want S-001 S-002 S-004 S-005 S-008 S-009", order)
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("%s copies %v, want %v", id, got[id], w)
		}
	}
	// Nothing is lost: every match is a record or a copy.
	n := 0
	for _, r := range recs {
		n += 1 + len(r.Copies)
	}
	if n != 9 {
		t.Errorf("records and copies name %d lines, want the 9 matches", n)
	}
}

func TestFoldCutLines(t *testing.T) {
	long := "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-220c8e8bface3fb4d4058b49d89d8daf6fcd2246470384f3c502d16db13d3885.scope,mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podaaa2e8fe_bc21_41f8_7abb_c9ea50487435.slice/cri-containerd-220c8e8bface3fb4d4058b49d89d8daf6fcd2246470384f3c502d16db13d3885.scope,task_memcg=/kubepods.slice,task=java,pid=51438,uid=1000"
	other := "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-3e9fc3f34c658d9f6af30b81e937887d4486d14d88f98f6fbf7a55e41a46affa.scope,mems_allowed=0"
	tm := time.Date(2026, 11, 20, 8, 17, 49, 0, time.UTC)
	a, cutA := cutLine([]byte("[1040730.018007] "+long), 320)
	b, cutB := cutLine([]byte("Nov 20 08:17:49 ip-10-0-37-142 kernel: "+long), 320)
	res := &Result{Files: []FileMatches{
		{Matches: []Match{{ID: "S-001", LineRef: evidence.LineRef{File: "kernel/dmesg.current", Line: 1, Time: tm}, Text: a, Cut: cutA}}},
		{Matches: []Match{
			{ID: "S-002", LineRef: evidence.LineRef{File: "var_log/messages", Line: 7, Time: tm}, Text: b, Cut: cutB},
			{ID: "S-003", LineRef: evidence.LineRef{File: "var_log/messages", Line: 8, Time: tm}, Text: "Nov 20 08:17:49 ip-10-0-37-142 kernel: " + other},
		}},
	}}
	recs := res.Fold()
	if !cutA || !cutB || len(recs) != 2 || !slices.Equal(recs[0].Copies, []string{"var_log/messages:7"}) || recs[1].ID != "S-003" {
		t.Errorf("cut copies of one record must fold and another container's must not: %+v", recs)
	}
}
