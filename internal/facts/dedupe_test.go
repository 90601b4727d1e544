package facts

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

// oomCopy writes the AKS memory.oom.group block's summary and first kill with one file's prefix.
func oomCopy(prefix string, first int, sec float64) []feed {
	strip := func(s string) string { return s[len("[  139.201465] "):] } // drop the raw dmesg stamp
	return []feed{
		{ExtOOMKill, first, sec, prefix + strip(aksOOMKill)},
		{ExtOOMKilledProcess, first + 1, sec, prefix + strip(aksKilled1)},
	}
}

type refOut struct {
	ref  string
	also []string
}

func refsOf(all []Fact) []refOut {
	var out []refOut
	for _, f := range all {
		r := refOut{ref: f.Ref.String()}
		for _, a := range f.Also {
			r.also = append(r.also, a.String())
		}
		out = append(out, r)
	}
	return out
}

func TestDedupeKernelCopies(t *testing.T) {
	const (
		cur   = "kernel/dmesg.current"
		human = "kernel/dmesg.human.current"
		msgs  = "var_log/messages"
	)
	type file struct {
		name, logType, prefix string
		q                     logtime.Quality
		line                  int
		sec                   float64
	}
	for _, tc := range []struct {
		name  string
		files []file
		want  []refOut
	}{
		{
			// AL2: ring buffer (boot-anchored, off by a fraction of a second), its --ctime
			// rendering (whole seconds) and the syslog copy. The exact stamp wins.
			name: "al2-three-files",
			files: []file{
				{cur, "dmesg", "[  139.201465] ", logtime.BootAnchored, 80, 40.4},
				{human, "dmesg", "[Mon May 19 18:15:23 2025] ", logtime.Exact, 80, 40},
				{msgs, "messages", "May 19 18:15:23 ip-10-0-12-209 kernel: ", logtime.YearInferred, 5000, 40},
			},
			want: []refOut{{human + ":81", []string{msgs + ":5001", cur + ":81"}}},
		},
		{
			name: "ring-buffer-wins-a-tie",
			files: []file{
				{human, "dmesg", "[Mon May 19 18:15:23 2025] ", logtime.BootAnchored, 80, 40},
				{cur, "dmesg", "[  139.201465] ", logtime.BootAnchored, 80, 40.4},
			},
			want: []refOut{{cur + ":81", []string{human + ":81"}}},
		},
		{
			// AL2023 without a boot anchor: the raw copy has no time and matches on content.
			name: "al2023-unanchored",
			files: []file{
				{cur, "dmesg", "[  139.201465] ", logtime.None, 80, -1},
				{human, "dmesg", "[Mon May 19 18:15:23 2025] ", logtime.Exact, 80, 40},
			},
			want: []refOut{{human + ":81", []string{cur + ":81"}}},
		},
		{
			// Bottlerocket has the kernel line once.
			name:  "bottlerocket-once",
			files: []file{{"bottlerocket-logs/journalctl.log", "journal", "May 19 18:15:23.201465 localhost kernel: ", logtime.YearInferred, 7, 40}},
			want:  []refOut{{"bottlerocket-logs/journalctl.log:8", nil}},
		},
		{
			name: "too-far-apart",
			files: []file{
				{cur, "dmesg", "[  139.201465] ", logtime.BootAnchored, 80, 40},
				{msgs, "messages", "May 19 18:15:33 ip-10-0-12-209 kernel: ", logtime.YearInferred, 5000, 50},
			},
			want: []refOut{{cur + ":81", nil}, {msgs + ":5001", nil}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var all []Fact
			for _, f := range tc.files {
				all = append(all, assemble(f.logType, f.name, f.q, oomCopy(f.prefix, f.line, f.sec))...)
			}
			got := Dedupe(all)
			if d := cmp.Diff(tc.want, refsOf(got), cmp.AllowUnexported(refOut{})); d != "" {
				t.Errorf("refs (-want +got):\n%s", d)
			}
			for _, f := range got {
				if f.Kind != OOMKill || f.PID != 7788 || f.ContainerID != cidAKSOOM || f.AnonRSSKB != 7165824 {
					t.Errorf("merged fact lost its content: %+v", f)
				}
			}
		})
	}
}

func TestDedupeKeepsSeparateEvidence(t *testing.T) {
	fact := func(ext, line, file string, n int, sec float64, q logtime.Quality) Fact {
		f, ok := Extract(ext, []byte(line))
		if !ok {
			t.Fatalf("no fact from %q", line)
		}
		f.Ref = lineRef(file, n, sec, q)
		return f
	}
	pleg := `I1120 08:17:43.700000    3187 generic.go:334] "Generic (PLEG): container finished" podID="` + uidShop + `" containerID="` + cidAKSNginx + `" exitCode=137`
	exit := `time="2026-11-20T08:17:43.030000000Z" level=info msg="received exit event container_id:\"` + cidAKSNginx + `\" id:\"` + cidAKSNginx + `\" pid:4242 exit_status:137"`
	backoff := `E1120 08:17:44.700000    3187 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 10s restarting failed container=api pod=api-0_shop(` + uidShop + `)\"" pod="shop/api-0" podUID="` + uidShop + `"`
	segv := `fluent-bit[5151]: segfault at 0 ip 00005581a3b4c5d6 sp 00007ffd2e3f4a50 error 4 in fluent-bit[558100000000+2000000]`
	yi, ex := logtime.YearInferred, logtime.Exact
	all := []Fact{
		fact(ExtPLEGFinished, "Nov 20 08:17:43 ip-10-0-37-142 kubelet[3187]: "+pleg, "kubelet/kubelet.log", 10, 40.7, yi),
		fact(ExtPLEGFinished, "Nov 20 08:17:43 ip-10-0-37-142 kubelet: "+pleg, "var_log/messages", 900, 40.7, yi),
		fact(ExtTaskExit, "Nov 20 08:17:43 ip-10-0-37-142 containerd[2954]: "+exit, "containerd/containerd-log.txt", 20, 40.03, ex),
		// The same back-off printed on two syncs a second apart, in one file: two events.
		fact(ExtBackOff, backoff, "kubelet/kubelet.log", 11, 41.7, yi),
		fact(ExtBackOff, backoff, "kubelet/kubelet.log", 12, 42.7, yi),
		// A segfault Join tied to its container in messages (timed) but not in the unanchored
		// ring buffer: still one event.
		fact(ExtSegfault, "Nov 20 08:17:53 ip-10-0-37-142 kernel: "+segv, "var_log/messages", 950, 50, yi),
		fact(ExtSegfault, "[1043812.120000] "+segv, "kernel/dmesg.current", 30, -1, logtime.None),
	}
	all[5].ContainerID = cidGKE
	got := Dedupe(all)
	want := []refOut{
		{"kubelet/kubelet.log:10", []string{"var_log/messages:900"}},
		{"containerd/containerd-log.txt:20", nil},
		{"kubelet/kubelet.log:11", nil},
		{"kubelet/kubelet.log:12", nil},
		{"var_log/messages:950", []string{"kernel/dmesg.current:30"}},
	}
	if d := cmp.Diff(want, refsOf(got), cmp.AllowUnexported(refOut{})); d != "" {
		t.Errorf("refs (-want +got):\n%s", d)
	}
	if f := got[4]; f.ContainerID != cidGKE {
		t.Errorf("merged segfault container %q, want %q", f.ContainerID, cidGKE)
	}
}

func TestDedupeUntimedAmbiguous(t *testing.T) {
	// Two timed occurrences of the same content (a pid reused hours apart) and one copy without a
	// time: which occurrence the copy is cannot be told, so it stays apart.
	segv := `app[77]: segfault at 8 ip 00007f00deadbeef sp 00007ffd00000000 error 6`
	var all []Fact
	for i, sec := range []float64{10, 7200, -1} {
		f, _ := Extract(ExtSegfault, []byte(segv))
		file := "var_log/messages"
		if sec < 0 {
			file = "kernel/dmesg.current"
		}
		f.Ref = lineRef(file, i+1, sec, logtime.YearInferred)
		all = append(all, f)
	}
	if got := Dedupe(all); len(got) != 3 {
		t.Errorf("got %d facts, want 3 (nothing merged): %+v", len(got), refsOf(got))
	}
}

func TestSort(t *testing.T) {
	ref := func(file string, line int, sec float64) evidence.LineRef {
		return lineRef(file, line, sec, logtime.Exact)
	}
	in := []Fact{
		{Kind: BackOff, Ref: ref("b.log", 3, -1)},
		{Kind: BackOff, Ref: ref("a.log", 9, 5)},
		{Kind: BackOff, Ref: ref("a.log", 2, -1)},
		{Kind: BackOff, Ref: ref("b.log", 1, 5)},
		{Kind: BackOff, Ref: ref("z.log", 1, 1)},
		{Kind: BackOff, Ref: ref("a.log", 4, 5)},
	}
	want := []string{"z.log:1", "a.log:4", "a.log:9", "b.log:1", "a.log:2", "b.log:3"}
	Sort(in)
	var got []string
	for _, f := range in {
		got = append(got, f.Ref.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestSortLarge(t *testing.T) {
	// Exercises the permutation cycles with many elements in reverse order.
	const n = 1000
	all := make([]Fact, n)
	for i := range all {
		all[i].Ref = evidence.LineRef{File: "f", Line: n - i, Time: t0.Add(time.Duration(n-i) * time.Second)}
		all[i].PID = n - i
	}
	Sort(all)
	for i, f := range all {
		if f.Ref.Line != i+1 || f.PID != i+1 {
			t.Fatalf("position %d holds line %d pid %d", i, f.Ref.Line, f.PID)
		}
	}
}
