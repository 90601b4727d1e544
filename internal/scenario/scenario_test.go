package scenario

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/tartest"
)

// testNoise keeps the tests fast; the incident does not depend on it.
const testNoise = 150

// bundle is a written bundle read back: its files by slash path, and what lies beside it.
type bundle struct {
	root  string
	files map[string]string
	truth Truth
	pod   map[string]any
	evts  map[string]any
}

func readBundle(t *testing.T, s Scenario, l Layout, opt Options) bundle {
	t.Helper()
	dir := t.TempDir()
	root, err := Write(dir, s, l, opt)
	if err != nil {
		t.Fatalf("Write(%s, %s): %v", s.Name, l, err)
	}
	b := bundle{root: root, files: map[string]string{}}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b.files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.truth, err = ReadTruth(filepath.Join(dir, "truth.json")); err != nil {
		t.Fatal(err)
	}
	for name, into := range map[string]*map[string]any{"pod.json": &b.pod, "events.json": &b.evts} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, into); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return b
}

// lines of the files whose path matches, in path order.
func (b bundle) lines(pathRe string) []string {
	re := regexp.MustCompile(pathRe)
	var paths []string
	for p := range b.files {
		if re.MatchString(p) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []string
	for _, p := range paths {
		out = append(out, strings.Split(strings.TrimSuffix(b.files[p], "\n"), "\n")...)
	}
	return out
}

// Where each kind of evidence lives, per layout (reference §2–§4).
func kernelFile(l Layout) string {
	if l == Bottlerocket {
		return `^dmesg$`
	}
	return `^kernel/dmesg\.current$`
}

func containerdLines(b bundle, l Layout) []string {
	if l == Bottlerocket {
		return grep(b.lines(`^journalctl\.log$`), ` containerd\[\d+\]: `)
	}
	return b.lines(`^containerd/containerd-log\.txt$`)
}

func kubeletLines(b bundle, l Layout) []string {
	if l == Bottlerocket {
		return grep(b.lines(`^journalctl\.log$`), ` kubelet\[\d+\]: `)
	}
	return b.lines(`^kubelet/kubelet\.log$`)
}

// having keeps the lines that contain sub.
func having(lines []string, sub string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

func grep(lines []string, re string) []string {
	r := regexp.MustCompile(re)
	var out []string
	for _, l := range lines {
		if r.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

func TestDeterministic(t *testing.T) {
	s, _ := Lookup("container-oom-v2")
	opt := Options{Seed: 7, NoiseLines: testNoise}
	a, err := build(s, AL2023, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := build(s, AL2023, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.files) != len(b.files) {
		t.Fatalf("file count %d vs %d", len(a.files), len(b.files))
	}
	for i := range a.files {
		if a.files[i].path != b.files[i].path || !bytes.Equal(a.files[i].data, b.files[i].data) {
			t.Fatalf("same seed, different %s", a.files[i].path)
		}
	}
	if !bytes.Equal(a.pod, b.pod) || !bytes.Equal(a.events, b.events) {
		t.Fatal("same seed, different pod.json or events.json")
	}
	aa, _ := a.archive(AL2023, DefaultCapture)
	ba, _ := b.archive(AL2023, DefaultCapture)
	if !bytes.Equal(aa, ba) {
		t.Fatal("same seed, different archive bytes")
	}
	c, err := build(s, AL2023, Options{Seed: 8, NoiseLines: testNoise})
	if err != nil {
		t.Fatal(err)
	}
	if c.truth.Facts[0].ContainerID == a.truth.Facts[0].ContainerID {
		t.Error("another seed drew the same container id")
	}
	// The incident has its own random stream: more noise leaves it where it was.
	d, err := build(s, AL2023, Options{Seed: 7, NoiseLines: 3 * testNoise})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.truth, d.truth); diff != "" {
		t.Errorf("noise moved the incident (-150 lines +450 lines):\n%s", diff)
	}
}

// checkAPI checks what the API side (pod.json, events.json) and truth.json say against the
// hand-written truth.
func checkAPI(t *testing.T, s Scenario, b bundle) {
	t.Helper()
	if b.truth.RootCause != s.Truth.RootCause || b.truth.ExitCode != s.Truth.ExitCode || !b.truth.CaptureTime.Equal(DefaultCapture) {
		t.Errorf("truth.json = %+v", b.truth)
	}
	for _, f := range b.truth.Facts {
		if f.Kind != facts.BackOff && f.Kind != facts.ConfigMissing && f.ContainerID == "" && f.PID == 0 {
			t.Errorf("fact %+v has neither container id nor pid", f)
		}
	}
	spec := b.pod["spec"].(map[string]any)
	if spec["nodeName"] != "ip-10-0-37-142.us-west-2.compute.internal" {
		t.Errorf("pod spec.nodeName = %v", spec["nodeName"])
	}
	if s.Truth.Pod == "" {
		return
	}
	meta := b.pod["metadata"].(map[string]any)
	if meta["name"] != s.Truth.Pod || meta["namespace"] != s.Truth.Namespace || meta["uid"] != s.Truth.PodUID {
		t.Errorf("pod metadata = %v", meta)
	}
	cs := b.pod["status"].(map[string]any)["containerStatuses"].([]any)[0].(map[string]any)
	if got, want := cs["restartCount"], float64(len(s.Truth.BackOffs)); got != want {
		t.Errorf("restartCount = %v, want %v (one restart per back-off)", got, want)
	}
	term := cs["lastState"].(map[string]any)["terminated"].(map[string]any)
	if term["exitCode"] != float64(s.Truth.ExitCode) {
		t.Errorf("lastState.terminated.exitCode = %v, want %d", term["exitCode"], s.Truth.ExitCode)
	}
	waiting := cs["state"].(map[string]any)["waiting"].(map[string]any)["reason"]
	if want := map[bool]string{true: "CreateContainerConfigError", false: "CrashLoopBackOff"}[s.Truth.RootCause == "missing_config"]; waiting != want {
		t.Errorf("state.waiting.reason = %v, want %s", waiting, want)
	}
	if len(b.evts["items"].([]any)) == 0 {
		t.Error("events.json has no events")
	}
}

var archiveName = regexp.MustCompile(`^eks_(i-[0-9a-f]{17})_(\d{4}-\d{2}-\d{2}_\d{4})-UTC_(\d+\.\d+\.\d+)\.tar\.gz$`)

type member struct {
	name string
	dir  bool
	data []byte
}

func readArchive(t *testing.T, p string) []member {
	t.Helper()
	var ms []member
	for _, m := range tartest.Members(t, p) {
		data := m.Data
		if strings.HasSuffix(m.Name, ".gz") { // compare content, not one compressor's bytes
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
		}
		ms = append(ms, member{name: m.Name, dir: m.Dir, data: data})
	}
	return ms
}

func TestLayoutInvariants(t *testing.T) {
	s, _ := Lookup("container-oom-v2")
	for _, l := range Layouts() {
		t.Run(string(l), func(t *testing.T) {
			p, err := WriteArchive(t.TempDir(), s, l, Options{NoiseLines: testNoise})
			if err != nil {
				t.Fatal(err)
			}
			ms := readArchive(t, p)
			names := map[string]bool{}
			dirs := 0
			for _, m := range ms {
				names[m.name] = true
				if m.dir {
					dirs++
				}
			}
			base := filepath.Base(p)
			switch l {
			case AL2, AL2023:
				m := archiveName.FindStringSubmatch(base)
				if m == nil {
					t.Fatalf("archive name %q does not parse", base)
				}
				if m[1] != "i-0a1b2c3d4e5f60718" || m[2] != DefaultCapture.Format("2006-01-02_1504") {
					t.Errorf("archive name %q: instance %s, time %s", base, m[1], m[2])
				}
				if ms[0].name != "./" || !ms[0].dir {
					t.Errorf("first member %q, want the ./ directory", ms[0].name)
				}
				for _, m := range ms {
					if !strings.HasPrefix(m.name, "./") {
						t.Errorf("member %q lacks ./", m.name)
					}
				}
				for _, want := range []string{"./kernel/", "./kernel/dmesg.current", "./kernel/dmesg.human.current", "./kubelet/kubelet.log",
					"./containerd/containerd-log.txt", "./system/procstat.txt", "./var_log/aws-routed-eni/ipamd-2026-11-19T10-00-00.000.log.gz"} {
					if !names[want] {
						t.Errorf("no member %s", want)
					}
				}
				if got := names["./var_log/messages"]; got != (l == AL2) {
					t.Errorf("var_log/messages present = %v in %s (AL2023 has no rsyslog)", got, l)
				}
				if l == AL2023 && !names["./nodeadm/nodeadm-config.log"] {
					t.Error("AL2023 bundle without nodeadm logs")
				}
			case Bottlerocket:
				if base != "bottlerocket-logs.tar.gz" {
					t.Errorf("archive name %q", base)
				}
				for _, m := range ms {
					if !strings.HasPrefix(m.name, "bottlerocket-logs/") {
						t.Errorf("member %q outside bottlerocket-logs/", m.name)
					}
				}
				for _, want := range []string{"bottlerocket-logs/journalctl.log", "bottlerocket-logs/dmesg", "bottlerocket-logs/kube-status", "bottlerocket-logs/os-release", "bottlerocket-logs/settings.json"} {
					if !names[want] {
						t.Errorf("no member %s", want)
					}
				}
			case NMA:
				if base != "ip-10-0-37-142.us-west-2.compute.internal-logs.tar.gz" {
					t.Errorf("archive name %q", base)
				}
				if dirs != 0 {
					t.Errorf("%d directory entries; the NMA writes files only", dirs)
				}
				for _, m := range ms {
					if strings.HasPrefix(m.name, "./") || strings.HasPrefix(m.name, "/") {
						t.Errorf("member %q has a prefix", m.name)
					}
					if strings.HasPrefix(m.name, "var_log/") && !strings.Contains(m.name, "/aws-routed-eni/") && strings.Count(m.name, "/") != 3 {
						t.Errorf("member %q: the NMA copies pod log directories only", m.name)
					}
				}
				for _, want := range []string{"kernel/dmesg.current", "system/pressure_memory.txt", "kubelet/kubelet.log"} {
					if !names[want] {
						t.Errorf("no member %s", want)
					}
				}
				if names["var_log/messages"] {
					t.Error("the NMA on AL2023 has no messages to copy")
				}
			}
		})
	}
}

// Line shapes the consistency checks read; written here from the reference, not taken from
// the generator.
var (
	dmesgRawRe   = regexp.MustCompile(`^\[\s*(\d+)\.(\d{6})\] (.*)$`)
	dmesgCtimeRe = regexp.MustCompile(`^\[(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\] (.*)$`)
	ctrdTimeRe   = regexp.MustCompile(`time="([^"]+)"`)
	klogRe       = regexp.MustCompile(`[IWEF](\d{4} \d\d:\d\d:\d\d\.\d{6})\s+\d+ `)
	backOffRe    = regexp.MustCompile(`back-off (\S+) restarting failed container=(\S+) `)
	btimeRe      = regexp.MustCompile(`(?m)^btime (\d+)$`)
)

// kernelTimes maps each kernel message of the raw ring buffer to its wall time (btime +
// seconds since boot), after checking the --ctime rendering agrees line by line.
func kernelTimes(t *testing.T, b bundle, l Layout) (msgs []string, times []time.Time) {
	t.Helper()
	raw := b.lines(kernelFile(l))
	var boot time.Time
	if l == Bottlerocket { // logdog has no procstat: anchor on the first entry of the journal
		boot = time.Time{}
	} else {
		m := btimeRe.FindStringSubmatch(b.files["system/procstat.txt"])
		if m == nil {
			t.Fatal("no btime in system/procstat.txt")
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		boot = time.Unix(sec, 0).UTC()
	}
	var human []string
	if l != Bottlerocket {
		human = b.lines(`^kernel/dmesg\.human\.current$`)
		if len(human) != len(raw) {
			t.Fatalf("dmesg.current has %d lines, dmesg.human.current %d", len(raw), len(human))
		}
	}
	for i, line := range raw {
		m := dmesgRawRe.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("dmesg line %q", line)
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		us, _ := strconv.ParseInt(m[2], 10, 64)
		wall := boot.Add(time.Duration(sec)*time.Second + time.Duration(us)*time.Microsecond)
		if human != nil {
			h := dmesgCtimeRe.FindStringSubmatch(human[i])
			if h == nil || h[2] != m[3] {
				t.Fatalf("dmesg.human.current line %d %q does not render %q", i, human[i], line)
			}
			ht, err := time.Parse("Mon Jan _2 15:04:05 2006", h[1])
			if err != nil {
				t.Fatal(err)
			}
			if !ht.Equal(boot.Add(time.Duration(sec) * time.Second)) {
				t.Fatalf("line %d: --ctime %s, btime+seconds %s", i, ht, boot.Add(time.Duration(sec)*time.Second))
			}
		}
		msgs = append(msgs, m[3])
		times = append(times, wall)
	}
	return msgs, times
}

// journalKernel checks logdog's two kernel renderings against each other: each dmesg record
// appears in journalctl.log at boot time plus its seconds (the boot time from journalctl-boots,
// whose first entry is the kernel's first record). It returns the messages.
func journalKernel(t *testing.T, b bundle) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+0 [0-9a-f]{32} (\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC) `).FindStringSubmatch(b.files["journalctl-boots"])
	if m == nil {
		t.Fatalf("journalctl-boots: %q", b.files["journalctl-boots"])
	}
	boot, err := time.Parse("Mon 2006-01-02 15:04:05 MST", m[1])
	if err != nil {
		t.Fatal(err)
	}
	journal := map[string]bool{}
	for _, l := range grep(b.lines(`^journalctl\.log$`), ` kernel: `) {
		journal[l[:22]+" "+l[strings.Index(l, " kernel: ")+9:]] = true
	}
	var msgs []string
	for _, line := range b.lines(`^dmesg$`) {
		d := dmesgRawRe.FindStringSubmatch(line)
		sec, _ := strconv.ParseInt(d[1], 10, 64)
		us, _ := strconv.ParseInt(d[2], 10, 64)
		at := boot.Add(time.Duration(sec)*time.Second + time.Duration(us)*time.Microsecond)
		if key := at.Format("Jan 02 15:04:05.000000") + " " + d[3]; !journal[key] {
			t.Fatalf("journalctl.log has no kernel line %q", key)
		}
		msgs = append(msgs, d[3])
	}
	return msgs
}

func ctrdStamp(t *testing.T, line string) time.Time {
	t.Helper()
	m := ctrdTimeRe.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no time= in %q", line)
	}
	ts, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func klogTime(t *testing.T, line string, year int) time.Time {
	t.Helper()
	m := klogRe.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no klog header in %q", line)
	}
	ts, err := time.Parse("0102 15:04:05.000000 2006", m[1]+" "+strconv.Itoa(year))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestEveryScenarioEveryLayout writes each scenario in each layout, checks the API side against
// the hand-written truth, then reads the files the way an engineer would and finds each truth
// fact where the reference says it must be, at consistent times.
func TestEveryScenarioEveryLayout(t *testing.T) {
	for _, s := range All() {
		for _, l := range Layouts() {
			t.Run(s.Name+"/"+string(l), func(t *testing.T) {
				t.Parallel()
				checkBundle(t, s, l, Options{Seed: 3, NoiseLines: testNoise})
			})
		}
	}
}

// TestEveryScenarioEveryRelease runs the checks of TestEveryScenarioEveryLayout on each
// scenario in its own layout under every modelled containerd release.
func TestEveryScenarioEveryRelease(t *testing.T) {
	for _, s := range All() {
		for _, v := range ContainerdReleases() {
			t.Run(s.Name+"/"+v, func(t *testing.T) {
				t.Parallel()
				checkBundle(t, s, s.Layout, Options{Seed: 3, NoiseLines: testNoise / 3, Containerd: v})
			})
		}
	}
}

// exitLineRe matches containerd's own line for a container's or sandbox's exit in any release
// (not the podsandbox handler's copy, which repeats one).
var exitLineRe = regexp.MustCompile(`msg="(TaskExit event (&|container_id)|received (container |sandbox |sandbox container )?exit event )`)

// checkBundle writes a scenario in a layout, checks the API side against the hand-written
// truth, then reads the files the way an engineer would and finds each truth fact where the
// reference says it must be, at consistent times.
func checkBundle(t *testing.T, s Scenario, l Layout, opt Options) {
	t.Helper()
	b := readBundle(t, s, l, opt)
	checkAPI(t, s, b)
	ctrd := containerdLines(b, l)
	kube := kubeletLines(b, l)
	var kmsgs []string
	var ktimes []time.Time
	if l != Bottlerocket {
		kmsgs, ktimes = kernelTimes(t, b, l)
	} else {
		kmsgs = journalKernel(t, b)
	}
	for i, f := range b.truth.Facts {
		// The kernel names the container's init process: the PID containerd's
		// exit event carries for the same container — unless the victim is a child of the
		// init (python3 under tini), which the report's cgroup ties to the container instead.
		// (An exit without a pid is one containerd logged at debug: kubelet's alone tells it.)
		if (f.Kind == facts.Segfault || f.Kind == facts.OOMKill) && f.ContainerID != "" {
			j := slices.IndexFunc(b.truth.Facts[i:], func(g TruthFact) bool { return g.Kind == facts.ContainerExit })
			init := j >= 0 && b.truth.Facts[i+j].Process == f.Process
			if j < 0 || b.truth.Facts[i+j].ContainerID != f.ContainerID || init && b.truth.Facts[i+j].PID != 0 && b.truth.Facts[i+j].PID != f.PID {
				t.Errorf("%s of pid %d in %s is not followed by that container's exit", f.Kind, f.PID, f.ContainerID)
			}
		}
		switch f.Kind {
		case facts.OOMKill:
			want := fmt.Sprintf("Killed process %d (%s)", f.PID, f.Process)
			i := slices.IndexFunc(kmsgs, func(m string) bool { return strings.Contains(m, want) })
			if i < 0 {
				t.Fatalf("no kernel line %q", want)
			}
			if f.ContainerID != "" && !slices.ContainsFunc(kmsgs, func(m string) bool {
				return strings.Contains(m, f.ContainerID) && (strings.Contains(m, "task_memcg=") || strings.HasPrefix(m, "Task in "))
			}) {
				t.Errorf("no kernel line names the victim's cgroup %s", f.ContainerID)
			}
			if ktimes != nil && f.ContainerID != "" {
				checkChain(t, ktimes[i], f.ContainerID, ctrd, kube)
			}
		case facts.Segfault:
			want := fmt.Sprintf("%s[%d]: segfault at ", f.Process, f.PID)
			if !slices.ContainsFunc(kmsgs, func(m string) bool { return strings.Contains(m, want) }) {
				t.Errorf("no kernel line %q", want)
			}
		case facts.ContainerExit:
			exit := grep(having(ctrd, f.ContainerID), `(?i)exit`)
			if f.PID != 0 {
				if len(grep(grep(exit, exitLineRe.String()), fmt.Sprintf(`(pid:|Pid:)%d\b`, f.PID))) != 1 {
					t.Errorf("no containerd exit event for %s with pid %d", f.ContainerID, f.PID)
				}
			} else if len(exit) != 0 {
				t.Errorf("container %s has no exit with a pid in the truth but has an exit event: %v", f.ContainerID, exit)
			}
			if len(grep(having(kube, f.ContainerID), fmt.Sprintf(`containerID="%s" exitCode=%d$`, f.ContainerID, *f.ExitCode))) != 1 {
				t.Errorf("no PLEG line for %s with exitCode=%d", f.ContainerID, *f.ExitCode)
			}
		case facts.TaskOOM:
			if len(grep(having(ctrd, f.ContainerID), `TaskOOM event `)) != 1 {
				t.Errorf("no TaskOOM for %s", f.ContainerID)
			}
		case facts.ExecFailure:
			if len(grep(having(ctrd, f.ContainerID), `level=error msg="StartContainer for \\"`+f.ContainerID+`\\" failed" error=".*executable file not found in \$PATH`)) != 1 {
				t.Errorf("no start error for %s", f.ContainerID)
			}
		case facts.Killing:
			if len(grep(having(kube, f.ContainerID), `"Killing container with a grace period" .*containerID="containerd://`+f.ContainerID+`"`)) != 1 {
				t.Errorf("no kill of %s", f.ContainerID)
			}
			if len(having(ctrd, `Stop container \"`+f.ContainerID+`\" with signal terminated`)) != 1 {
				t.Errorf("containerd did not stop %s", f.ContainerID)
			}
		case facts.ConfigMissing:
			if len(grep(kube, `configmap \\*"`+f.Name+`\\*" not found`)) == 0 {
				t.Errorf("no kubelet line says configmap %s is missing", f.Name)
			}
		}
		if f.ContainerID != "" && len(having(ctrd, `returns container id \"`+f.ContainerID+`\"`)) != 1 {
			t.Errorf("container %s was never created in the containerd log", f.ContainerID)
		}
	}
	// Each program's own stamps never go backwards.
	checkMonotonic(t, "kubelet", kube, func(l string) time.Time { return klogTime(t, l, 2026) })
	checkMonotonic(t, "containerd", grep(ctrd, `time="`), func(l string) time.Time { return ctrdStamp(t, l) })
	// The back-off periods, collapsing kubelet's repeats within one period.
	var periods []string
	last := ""
	for _, line := range kube {
		if m := backOffRe.FindStringSubmatch(line); m != nil && m[2] == b.truth.Container {
			if m[1] != last {
				periods = append(periods, m[1])
			}
			last = m[1]
		}
	}
	if diff := cmp.Diff(b.truth.BackOffs, periods); diff != "" {
		t.Errorf("back-off periods in kubelet's log differ from the truth (-truth +log):\n%s", diff)
	}
	if l == AL2 {
		checkMessages(t, b, kmsgs, ktimes)
	}
}

func checkMonotonic(t *testing.T, what string, lines []string, stamp func(string) time.Time) {
	t.Helper()
	var prev time.Time
	for _, l := range lines {
		if !klogRe.MatchString(l) && what == "kubelet" {
			continue // systemd's lines about the unit
		}
		ts := stamp(l)
		if ts.Before(prev) {
			t.Errorf("%s stamps go backwards at %q", what, l)
			return
		}
		prev = ts
	}
}

// checkChain: kernel kill → containerd exit within milliseconds → kubelet PLEG within a second.
// Where containerd logs exits at debug only, kubelet's PLEG line follows the kill within a second.
func checkChain(t *testing.T, kill time.Time, cid string, ctrd, kube []string) {
	t.Helper()
	exits := grep(having(ctrd, cid), exitLineRe.String())
	pleg := having(having(kube, cid), `container finished`)
	if len(exits) > 1 || len(pleg) != 1 {
		t.Fatalf("container %s: %d exit events, %d PLEG lines", cid, len(exits), len(pleg))
	}
	seen := klogTime(t, pleg[0], kill.Year())
	if len(exits) == 0 {
		if d := seen.Sub(kill); d <= 0 || d > 1100*time.Millisecond {
			t.Errorf("kubelet saw the exit %v after the kernel kill", d)
		}
		return
	}
	exit := ctrdStamp(t, exits[0])
	if d := exit.Sub(kill); d < 0 || d > 100*time.Millisecond {
		t.Errorf("containerd exit %s is %v after the kernel kill %s", exit, d, kill)
	}
	if d := seen.Sub(exit); d <= 0 || d > time.Second {
		t.Errorf("kubelet saw the exit %v after containerd", d)
	}
}

// checkMessages: rsyslog's copy of each kernel line carries the same wall second as dmesg.
func checkMessages(t *testing.T, b bundle, kmsgs []string, ktimes []time.Time) {
	t.Helper()
	msgs := grep(b.lines(`^var_log/messages$`), ` kernel: `)
	for _, line := range msgs {
		if strings.Contains(line, " kernel[") || !strings.Contains(line, " ip-10-0-37-142 kernel: ") {
			t.Fatalf("messages kernel line %q: want the short hostname and a bare kernel: tag", line)
		}
	}
	for i, m := range kmsgs {
		if !strings.HasPrefix(m, "Killed process") && !strings.HasPrefix(m, "Memory cgroup out of memory") && !strings.HasPrefix(m, "Out of memory") {
			continue
		}
		want := ktimes[i].Format("Jan _2 15:04:05") + " ip-10-0-37-142 kernel: " + m
		if !slices.Contains(msgs, want) {
			t.Errorf("var_log/messages lacks %q", want)
		}
	}
}

// crashWordings are what a crash leaves in node logs (reference §6); none belongs in a
// healthy bundle.
var crashWordings = regexp.MustCompile(`CrashLoopBackOff|back-off \d|invoked oom-killer|oom-kill:|Killed process|Out of memory|segfault at|traps:|TaskOOM|` +
	`exit_status:|ExitStatus:[1-9]|exitCode=[1-9]|Killing container|Probe failed|executable file not found|exec format error|` +
	`configmap "[^"]*" not found|Got sys oom event|killed by the OOM killer|StartError|RunContainerError|CreateContainerConfigError`)

// sandboxIDRe finds the sandbox ids containerd returns; an exit event naming one is a pod
// sandbox's (pause) exit, which a finished pod has and a healthy node shows.
var sandboxIDRe = regexp.MustCompile(`returns sandbox id \\"([0-9a-f]{64})\\"`)

func TestHealthyHasNoCrashWordings(t *testing.T) {
	s, _ := Lookup("healthy")
	for _, l := range Layouts() {
		t.Run(string(l), func(t *testing.T) {
			b := readBundle(t, s, l, Options{Seed: 5, NoiseLines: 250})
			sandboxes := map[string]bool{}
			for _, line := range containerdLines(b, l) {
				if m := sandboxIDRe.FindStringSubmatch(line); m != nil {
					sandboxes[m[1]] = true
				}
			}
			pauseExit := func(line string) bool {
				if !strings.Contains(line, "exit event") {
					return false
				}
				for id := range sandboxes {
					if strings.Contains(line, id) {
						return true
					}
				}
				return false
			}
			all := strings.Builder{}
			for p, data := range b.files {
				for _, line := range strings.Split(data, "\n") {
					if crashWordings.MatchString(line) && !pauseExit(line) {
						t.Errorf("%s: %q", p, line)
					}
				}
				all.WriteString(data)
			}
			// The false leads a naive grep trips over are all there.
			text := all.String()
			leads := []string{"exitCode=0", "Nameserver limits exceeded", `level=error msg="copy shim log"`, "Failed to get system container stats",
				"exit_status:137"} // the pause process of a finished Job's pod, SIGKILLed when kubelet stops its sandbox
			if l != Bottlerocket { // logdog collects neither pod logs nor ps
				leads = append(leads, "NXDOMAIN", "oom_score_adj")
			}
			for _, lead := range leads {
				if !strings.Contains(text, lead) {
					t.Errorf("healthy %s bundle lacks the false lead %q", l, lead)
				}
			}
			if len(b.truth.Facts) != 0 {
				t.Errorf("healthy truth lists facts: %+v", b.truth.Facts)
			}
		})
	}
}

func TestYearTurn(t *testing.T) {
	s, _ := Lookup("container-oom-v1")
	b := readBundle(t, s, AL2, Options{YearTurn: true, NoiseLines: testNoise})
	if !b.truth.CaptureTime.Equal(YearTurnCapture) {
		t.Fatalf("capture %s", b.truth.CaptureTime)
	}
	kube := b.lines(`^kubelet/kubelet\.log$`)
	if !strings.HasPrefix(kube[1], "Dec ") || !strings.HasPrefix(kube[len(kube)-1], "Jan 0") {
		t.Errorf("kubelet.log runs %q … %q, want December to January", kube[1][:15], kube[len(kube)-1][:15])
	}
	human := b.files["kernel/dmesg.human.current"]
	if !strings.Contains(human, " 2026] ") || !strings.Contains(human, " 2027] ") {
		t.Error("dmesg --ctime does not span the year turn")
	}
	if !strings.Contains(b.files["containerd/containerd-log.txt"], `time="2027-01-0`) {
		t.Error("containerd's own stamps do not carry 2027")
	}
}

func TestLookup(t *testing.T) {
	names := Names()
	if len(names) != 23 {
		t.Errorf("%d scenarios, want the 12 of the brief, the 6 of issue 12 and the 5 held-out ones", len(names))
	}
	for _, n := range names {
		s, ok := Lookup(n)
		if !ok || s.Name != n || !validLayout(s.Layout) || s.Truth.RootCause == "" {
			t.Errorf("Lookup(%q) = %+v, %v", n, s.Name, ok)
		}
	}
	a, _ := Lookup("container-oom-v2")
	a.Truth.Facts[0].Process = "changed"
	if b, _ := Lookup("container-oom-v2"); b.Truth.Facts[0].Process != "java" {
		t.Error("changing a looked-up scenario changed the registry")
	}
	if _, ok := Lookup("no-such"); ok {
		t.Error("Lookup found a scenario that does not exist")
	}
	if _, err := Write(t.TempDir(), Scenario{Name: "x"}, AL2, Options{}); err == nil {
		t.Error("Write accepted an unregistered scenario")
	}
	s, _ := Lookup("healthy")
	if _, err := Write(t.TempDir(), s, Layout("ubuntu"), Options{}); err == nil {
		t.Error("Write accepted an unknown layout")
	}
}

// BenchmarkBuild measures rendering one full-size bundle (default noise) per layout.
func BenchmarkBuild(b *testing.B) {
	s, _ := Lookup("container-oom-v1")
	for _, l := range Layouts() {
		b.Run(string(l), func(b *testing.B) {
			var size int
			for b.Loop() {
				res, err := build(s, l, Options{})
				if err != nil {
					b.Fatal(err)
				}
				size = 0
				for _, f := range res.files {
					size += len(f.data)
				}
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB/bundle")
		})
	}
}
