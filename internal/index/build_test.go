package index

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/lines"
	"github.com/nodediag/nodediag/internal/logtime"
)

var capture = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

func newBuilder(t *testing.T, small map[string]string) *Builder {
	t.Helper()
	cat, err := detect.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(cat, Options{BundleID: "b", InstanceID: "i-1", Capture: capture, CaptureSource: "test",
		ReadSmallFile: func(p string) ([]byte, error) {
			if s, ok := small[p]; ok {
				return []byte(s), nil
			}
			return nil, os.ErrNotExist
		}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const oomLine = "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope,mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope,task_memcg=/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope,task=bash,pid=7788,uid=0"
const killedLine = "Memory cgroup out of memory: Killed process 7788 (bash) total-vm:7169492kB, anon-rss:7165824kB, file-rss:956kB, shmem-rss:0kB, UID:0 pgtables:14076kB oom_score_adj:1000"

// TestProvenanceAfterACutLine: a line past the cap is cut, counted, and every later hit still
// carries its exact line number and byte offset.
func TestProvenanceAfterACutLine(t *testing.T) {
	var sb strings.Builder
	var wantOffsets []int64
	prefix := "Nov 20 08:17:49 ip-10-0-1-1 kernel: "
	sb.WriteString("Nov 20 08:17:48 ip-10-0-1-1 systemd: Started Session 1 of user root.\n")
	sb.WriteString("Nov 20 08:17:48 ip-10-0-1-1 app: " + strings.Repeat("x", lines.DefaultMaxLine+1000) + "\n")
	for i := 0; i < 3; i++ {
		wantOffsets = append(wantOffsets, int64(sb.Len()))
		sb.WriteString(prefix + oomLine + "\n")
	}
	b := newBuilder(t, nil)
	if err := b.IndexFile(context.Background(), "var_log/messages", "messages", strings.NewReader(sb.String())); err != nil {
		t.Fatal(err)
	}
	idx := b.Finish()
	if idx.Files[0].CutLines != 1 || idx.Files[0].Lines != 5 {
		t.Fatalf("file: %d lines, %d cut; want 5 lines, 1 cut", idx.Files[0].Lines, idx.Files[0].CutLines)
	}
	if !strings.Contains(strings.Join(idx.Warnings, "\n"), "var_log/messages: 1 lines longer than") {
		t.Errorf("no warning about the cut line: %q", idx.Warnings)
	}
	var f *Finding
	for i := range idx.Findings {
		if idx.Findings[i].Rule == "kernel-oom-kill-memcg" {
			f = &idx.Findings[i]
		}
	}
	if f == nil || f.Count != 3 {
		t.Fatalf("kernel-oom-kill-memcg finding: %+v", f)
	}
	for i, s := range f.Samples {
		if s.Line != 3+i || s.Offset != wantOffsets[i] {
			t.Errorf("sample %d at line %d offset %d, want line %d offset %d", i, s.Line, s.Offset, 3+i, wantOffsets[i])
		}
		want := time.Date(2026, 11, 20, 8, 17, 49, 0, time.UTC)
		if !s.Time.Equal(want) || s.TimeQuality != logtime.YearInferred {
			t.Errorf("sample %d time %s %s, want %s year-inferred", i, s.Time, s.TimeQuality, want)
		}
	}
}

// TestDmesgAnchoredToSyslogCopy: raw dmesg seconds get wall-clock times from the same kernel
// record seen in syslog, and the OOM kill seen in both files is one fact.
func TestDmesgAnchoredToSyslogCopy(t *testing.T) {
	boot := time.Date(2026, 11, 8, 7, 12, 19, 0, time.UTC)
	at := 1098330.25 // seconds since boot
	wall := boot.Add(time.Duration(at * float64(time.Second)))
	dmesg := fmt.Sprintf("[%12.6f] %s\n[%12.6f] %s\n", at, oomLine, at+0.000011, killedLine)
	syslog := fmt.Sprintf("%s ip-10-0-1-1 kernel: %s\n%s ip-10-0-1-1 kernel: %s\n",
		wall.Format("Jan _2 15:04:05"), oomLine, wall.Format("Jan _2 15:04:05"), killedLine)
	b := newBuilder(t, nil)
	ctx := context.Background()
	if err := b.IndexFile(ctx, "kernel/dmesg.current", "dmesg", strings.NewReader(dmesg)); err != nil {
		t.Fatal(err)
	}
	if err := b.IndexFile(ctx, "var_log/messages", "messages", strings.NewReader(syslog)); err != nil {
		t.Fatal(err)
	}
	idx := b.Finish()
	if !strings.Contains(idx.Time.BootSource, "raw dmesg and in syslog") {
		t.Fatalf("boot source %q", idx.Time.BootSource)
	}
	// The syslog prefix has whole seconds, so the anchor is good to a second.
	if d := idx.Time.Boot.Sub(boot); d < -time.Second || d > time.Second {
		t.Errorf("boot %s, want %s ±1s", idx.Time.Boot, boot)
	}
	var ooms []facts.Fact
	for _, f := range idx.Facts {
		if f.Kind == facts.OOMKill {
			ooms = append(ooms, f)
		}
	}
	if len(ooms) != 1 {
		t.Fatalf("want one OOM kill seen in two files, got %d: %+v", len(ooms), ooms)
	}
	o := ooms[0]
	if o.PID != 7788 || o.ContainerID != "9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987" || o.PodUID != "a5d8fdd1-1369-469e-8a7d-2c1047529435" {
		t.Errorf("OOM kill fields: pid %d container %s pod %s", o.PID, o.ContainerID, o.PodUID)
	}
	if len(o.Also) != 1 {
		t.Errorf("the other copy should be in Also: %+v", o.Also)
	}
	refs := append(o.Also, o.Ref)
	for _, r := range refs {
		if d := r.Time.Sub(wall); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s at %s, want %s ±2s", r, r.Time, wall)
		}
		if r.File == "kernel/dmesg.current" && r.TimeQuality != logtime.BootAnchored {
			t.Errorf("dmesg ref quality %s, want boot-anchored", r.TimeQuality)
		}
	}
}

// TestNoBootTimeSaysNone: without any boot source, raw dmesg times are none, not guessed.
func TestNoBootTimeSaysNone(t *testing.T) {
	b := newBuilder(t, nil)
	dmesg := fmt.Sprintf("[  139.201465] %s\n[  139.201482] %s\n", oomLine, killedLine)
	if err := b.IndexFile(context.Background(), "kernel/dmesg.current", "dmesg", strings.NewReader(dmesg)); err != nil {
		t.Fatal(err)
	}
	idx := b.Finish()
	if len(idx.Facts) != 1 {
		t.Fatalf("facts: %+v", idx.Facts)
	}
	if r := idx.Facts[0].Ref; r.TimeQuality != logtime.None || !r.Time.IsZero() {
		t.Errorf("ref %+v: want no time", r)
	}
	if !strings.Contains(strings.Join(idx.Warnings, "\n"), "no boot time found") {
		t.Errorf("warnings %q lack the missing boot time", idx.Warnings)
	}
	for _, f := range idx.Findings {
		if !f.First.IsZero() || f.Untimed != f.Count {
			t.Errorf("%s: first %s untimed %d of %d: want all untimed", f.Rule, f.First, f.Untimed, f.Count)
		}
	}
}

// TestBootFromProcStatAndMinuteCounts: btime anchors dmesg; window counts come from the minutes.
func TestBootFromProcStatAndMinuteCounts(t *testing.T) {
	boot := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	b := newBuilder(t, map[string]string{"system/procstat.txt": fmt.Sprintf("cpu  1 2 3\nbtime %d\n", boot.Unix())})
	var sb strings.Builder
	for i := 0; i < 4; i++ { // minutes 10, 11, 12, 13 after boot
		fmt.Fprintf(&sb, "[%12.6f] %s\n", float64(600+60*i), oomLine)
	}
	if err := b.IndexFile(context.Background(), "kernel/dmesg.current", "dmesg", strings.NewReader(sb.String())); err != nil {
		t.Fatal(err)
	}
	idx := b.Finish()
	if idx.Time.BootSource != "system/procstat.txt btime" || !idx.Time.Boot.Equal(boot) {
		t.Fatalf("boot %s from %q", idx.Time.Boot, idx.Time.BootSource)
	}
	for _, f := range idx.Findings {
		if f.Rule != "kernel-oom-kill-memcg" {
			continue
		}
		if !f.First.Equal(boot.Add(10*time.Minute)) || !f.Last.Equal(boot.Add(13*time.Minute)) {
			t.Errorf("first %s last %s", f.First, f.Last)
		}
		if n := f.CountBetween(boot.Add(11*time.Minute), boot.Add(13*time.Minute)); n != 2 {
			t.Errorf("CountBetween 11..13 min = %d, want 2", n)
		}
		return
	}
	t.Fatal("no kernel-oom-kill-memcg finding")
}

func TestSaveReplacesAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	for _, v := range []string{"v1", "v2"} {
		if err := Save(dir, &Index{Schema: SchemaVersion, CatalogVersion: v}); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := Load(dir, "v2")
	if err != nil || idx.CatalogVersion != "v2" {
		t.Fatalf("load: %v %+v", err, idx)
	}
	if _, err := Load(dir, "v3"); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("index of another catalog version: err %v, want stale", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".index-*"))
	if len(left) > 0 || fileExists(dir+".old") {
		t.Errorf("temporary folders left behind: %v", left)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestNodeZoneAppliesToFilesWithoutOne: containerd's time= proves the node runs at UTC+10, so
// kubelet's zone-less journal and klog stamps are read at UTC+10 too.
func TestNodeZoneAppliesToFilesWithoutOne(t *testing.T) {
	containerd := `Nov 20 18:17:49 ip-10-0-1-1 containerd[2954]: time="2026-11-20T18:17:49.035985782+10:00" level=info msg="TaskOOM event container_id:\"9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987\""` + "\n"
	kubelet := `Nov 20 18:18:32 ip-10-0-1-1 kubelet[3187]: E1120 18:18:32.878000    3187 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 20s restarting failed container=api pod=api-0_shop(aaa2e8fe-bc21-41f8-7abb-c9ea50487435)\"" pod="shop/api-0" podUID="aaa2e8fe-bc21-41f8-7abb-c9ea50487435"` + "\n"
	b := newBuilder(t, nil)
	ctx := context.Background()
	if err := b.IndexFile(ctx, "kubelet/kubelet.log", "kubelet", strings.NewReader(kubelet)); err != nil {
		t.Fatal(err)
	}
	if err := b.IndexFile(ctx, "containerd/containerd-log.txt", "containerd", strings.NewReader(containerd)); err != nil {
		t.Fatal(err)
	}
	idx := b.Finish()
	if !strings.HasPrefix(idx.Time.Zone, "UTC+10:00") {
		t.Errorf("zone %q, want UTC+10:00", idx.Time.Zone)
	}
	want := map[facts.Kind]time.Time{
		facts.TaskOOM: time.Date(2026, 11, 20, 8, 17, 49, 35985782, time.UTC),
		facts.BackOff: time.Date(2026, 11, 20, 8, 18, 32, 878000000, time.UTC),
	}
	for _, f := range idx.Facts {
		if w, ok := want[f.Kind]; ok {
			if !f.Ref.Time.Equal(w) {
				t.Errorf("%s at %s, want %s", f.Kind, f.Ref.Time, w)
			}
			delete(want, f.Kind)
		}
	}
	if len(want) > 0 {
		t.Errorf("facts missing: %v", want)
	}
	for _, f := range idx.Findings {
		if f.Rule == "kubelet-crashloop-backoff" && !f.First.Equal(time.Date(2026, 11, 20, 8, 18, 32, 878000000, time.UTC)) {
			t.Errorf("finding first %s", f.First)
		}
	}
}

// repeatReader yields line n times without holding them in memory.
type repeatReader struct {
	line []byte
	n    int
	pos  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	written := 0
	for written < len(p) && r.n > 0 {
		c := copy(p[written:], r.line[r.pos:])
		written += c
		r.pos += c
		if r.pos == len(r.line) {
			r.pos = 0
			r.n--
		}
	}
	if written == 0 {
		return 0, io.EOF
	}
	return written, nil
}

// TestLastLineOfABigFile: the last line of a 100 MiB journal is read, numbered and timed like
// the first: every line counts, not just a head of the file.
func TestLastLineOfABigFile(t *testing.T) {
	noise := []byte("Nov 20 08:00:00 ip-10-0-1-1 kubelet[3187]: I1120 08:00:00.000000    3187 kubelet.go:2485] \"SyncLoop (probe)\" probe=\"readiness\" status=\"ready\" pod=\"shop/web-1\"\n")
	n := (100 << 20) / len(noise)
	last := "Nov 20 10:29:59 ip-10-0-1-1 kernel: " + oomLine + "\n"
	r := io.MultiReader(&repeatReader{line: noise, n: n}, strings.NewReader(last))
	b := newBuilder(t, nil)
	if err := b.IndexFile(context.Background(), "var_log/messages", "messages", r); err != nil {
		t.Fatal(err)
	}
	idx := b.Finish()
	if got := idx.Files[0].Lines; got != int64(n+1) {
		t.Fatalf("lines %d, want %d", got, n+1)
	}
	for _, f := range idx.Findings {
		if f.Rule == "kernel-oom-kill-memcg" {
			s := f.Samples[0]
			if s.Line != n+1 || s.Offset != int64(n*len(noise)) || !s.Time.Equal(time.Date(2026, 11, 20, 10, 29, 59, 0, time.UTC)) {
				t.Errorf("last line found at line %d offset %d time %s; want line %d offset %d 10:29:59", s.Line, s.Offset, s.Time, n+1, n*len(noise))
			}
			return
		}
	}
	t.Fatal("the OOM kill on the last line was not found")
}

// TestOOMGroupVictimsJoined: with memory.oom.group one OOM kills every process of the container;
// the group notice names the cgroup, so the second victim is attributed to the container too.
func TestOOMGroupVictimsJoined(t *testing.T) {
	const id = "9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987"
	dmesg := "[  139.201465] " + oomLine + "\n" +
		"[  139.201482] " + killedLine + "\n" +
		"[  139.208991] Tasks in /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-" + id + ".scope are going to be killed due to memory.oom.group set\n" +
		"[  139.209001] Memory cgroup out of memory: Killed process 7620 (nginx) total-vm:11464kB, anon-rss:1156kB, file-rss:3900kB, shmem-rss:0kB, UID:0 pgtables:60kB oom_score_adj:1000\n"
	b := newBuilder(t, nil)
	if err := b.IndexFile(context.Background(), "kernel/dmesg.current", "dmesg", strings.NewReader(dmesg)); err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, f := range b.Finish().Facts {
		if f.Kind == facts.OOMKill {
			got[f.PID] = f.ContainerID
		}
	}
	if len(got) != 2 || got[7788] != id || got[7620] != id {
		t.Errorf("OOM kills by pid → container: %v; want 7788 and 7620 both in %s", got, id[:12])
	}
}
