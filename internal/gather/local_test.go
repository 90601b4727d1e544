package gather

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isoJournal rewrites the node log query's short-precise lines ("Nov 20 10:26:17.000001 host …",
// UTC) into the short-iso-precise lines journalctl -o short-iso-precise prints on an AL2023 node.
func isoJournal(t *testing.T, lines []string, year int) string {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		f := strings.SplitN(l, " ", 4)
		ts, err := time.Parse("Jan 02 15:04:05.000000 2006", f[0]+" "+f[1]+" "+f[2]+" "+itoa(year))
		if err != nil {
			t.Fatalf("scenario line %q: %v", l, err)
		}
		b.WriteString(ts.Format("2006-01-02T15:04:05.000000-0700") + " " + f[3] + "\n")
	}
	return b.String()
}

// fakeRunner answers the exact commands Local runs; anything else fails the test.
type fakeRunner struct {
	t     *testing.T
	out   map[string]string // command line → stdout
	fail  map[string]error  // command line → start error
	calls []string
}

func (f *fakeRunner) run(_ context.Context, name string, args ...string) (io.ReadCloser, error) {
	line := strings.Join(append([]string{name}, args...), "|")
	f.calls = append(f.calls, line)
	if err, ok := f.fail[line]; ok {
		return nil, err
	}
	out, ok := f.out[line]
	if !ok {
		f.t.Errorf("unexpected command %q", line)
		return nil, exec.ErrNotFound
	}
	return io.NopCloser(strings.NewReader(out)), nil
}

func writeFile(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLocalScenario(t *testing.T) {
	n := loadScenario(t, "container-oom-v2")
	year := n.capture.Year()
	root := t.TempDir()
	writeFile(t, root, "sys/devices/virtual/dmi/id/board_asset_tag", "i-0a1b2c3d4e5f60718\n")
	writeFile(t, root, "etc/hostname", n.pod.Spec.NodeName+"\n")
	podLog := "2026-11-20T10:26:10.5Z stdout F starting checkout\n2026-11-20T10:26:16Z stderr F killed\n"
	podRel := "var/log/pods/" + n.pod.Namespace + "_" + n.pod.Name + "_" + string(n.pod.UID) + "/" + n.truth.Container + "/0.log"
	writeFile(t, root, podRel, podLog)

	since := "10 days ago"
	f := &fakeRunner{t: t, out: map[string]string{
		"journalctl|-u|kubelet|--since|" + since + "|-o|short-iso-precise|--no-pager":    isoJournal(t, n.units["kubelet"], year),
		"journalctl|-u|containerd|--since|" + since + "|-o|short-iso-precise|--no-pager": isoJournal(t, n.units["containerd"], year),
		"journalctl|-k|--since|" + since + "|-o|short-iso-precise|--no-pager":            isoJournal(t, n.units["kernel"], year),
	}}
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Run: f.run, Now: func() time.Time { return n.capture }})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 {
		t.Errorf("commands run: %q, want the three journalctl calls only", f.calls)
	}
	lines := map[string]int{}
	for _, fr := range res.Files {
		lines[fr.Path] = fr.Lines
	}
	for path, want := range map[string]int{
		"kubelet/kubelet.log":                               len(n.units["kubelet"]),
		"containerd/containerd-log.txt":                     len(n.units["containerd"]),
		"kernel/dmesg.journal":                              len(n.units["kernel"]),
		"var_log/" + strings.TrimPrefix(podRel, "var/log/"): 2,
	} {
		if lines[path] != want {
			t.Errorf("%s: %d lines, want %d (files %v)", path, lines[path], want, lines)
		}
	}
	missing := map[string]bool{}
	for _, m := range res.Missing {
		missing[m.What] = true
	}
	if !missing["var_log/messages"] || len(res.Missing) != 1 {
		t.Errorf("missing = %v, want only var_log/messages (the fake root has neither messages nor syslog)", res.Missing)
	}
	if !strings.HasPrefix(filepath.Base(res.Dir), "eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_nodediag-local") {
		t.Errorf("bundle folder %s", filepath.Base(res.Dir))
	}

	imp, fs := importBundle(t, res.Dir)
	if imp.Entry.Manifest.NodeName != n.pod.Spec.NodeName {
		t.Errorf("store read node %q, want %q", imp.Entry.Manifest.NodeName, n.pod.Spec.NodeName)
	}
	for _, want := range n.truth.Facts {
		found := false
		for _, fc := range fs {
			if fc.Kind == want.Kind && (want.ContainerID == "" || fc.ContainerID == want.ContainerID) &&
				(want.PID == 0 || fc.PID == want.PID || fc.Kind == "ContainerExit") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("planted %s (container %s pid %d) not among the indexed facts", want.Kind, want.ContainerID, want.PID)
		}
	}
}

func TestLocalWithoutPrivileges(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "etc/hostname", "ip-10-0-1-2.us-west-2.compute.internal\n")
	writeFile(t, root, "var/log/messages", strings.Repeat("x", 50)+"\nNov 20 10:00:00 ip-10-0-1-2 kernel: one\nNov 20 10:00:01 ip-10-0-1-2 kernel: two\n")
	noEntries := "-- No entries --\n"
	since := "10 days ago"
	f := &fakeRunner{t: t,
		out: map[string]string{
			"journalctl|-u|kubelet|--since|" + since + "|-o|short-iso-precise|--no-pager":    noEntries,
			"journalctl|-u|containerd|--since|" + since + "|-o|short-iso-precise|--no-pager": noEntries,
			"journalctl|-k|--since|" + since + "|-o|short-iso-precise|--no-pager":            noEntries,
			"dmesg|--ctime": "",
		},
		fail: map[string]error{"dmesg": errors.New("dmesg: read kernel buffer failed: Operation not permitted")},
	}
	// A cap below the messages file keeps its newest whole lines only.
	capBytes := int64(len("Nov 20 10:00:00 ip-10-0-1-2 kernel: one\nNov 20 10:00:01 ip-10-0-1-2 kernel: two\n") + 5)
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Run: f.run, MaxFileBytes: capBytes,
		Now: func() time.Time { return time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]string{}
	for _, m := range res.Missing {
		missing[m.What] = m.Why
	}
	for what, want := range map[string]string{
		"kubelet/kubelet.log":           "systemd-journal",
		"containerd/containerd-log.txt": "no entries",
		"kernel messages":               "Operation not permitted",
		"var_log/messages":              "last",
		"instance id":                   "IMDS is not asked",
		"var_log/pods":                  "could not be read",
	} {
		if !strings.Contains(missing[what], want) {
			t.Errorf("missing %q = %q, want it to mention %q", what, missing[what], want)
		}
	}
	if len(res.Files) != 1 || res.Files[0].Path != "var_log/messages" || res.Files[0].Lines != 2 {
		t.Errorf("files = %+v, want var_log/messages with its 2 newest lines", res.Files)
	}
	if !strings.HasPrefix(filepath.Base(res.Dir), "eks_ip-10-0-1-2.us-west-2.compute.internal_2026-11-20_1030-UTC_nodediag-local") {
		t.Errorf("bundle folder %s, want one named after the host", filepath.Base(res.Dir))
	}
}

// TestLocalRealMachine runs Local on this machine's own tools: it must finish and say what it
// could not read rather than fail.
func TestLocalRealMachine(t *testing.T) {
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("journalctl is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Local(ctx, t.TempDir(), LocalOptions{Timeout: 20 * time.Second, MaxFileBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files)+len(res.Missing) < 4 {
		t.Errorf("files %v missing %v: every source should be either gathered or listed missing", res.Files, res.Missing)
	}
	for _, m := range res.Missing {
		if m.What == "" || m.Why == "" {
			t.Errorf("a missing entry without what or why: %+v", m)
		}
	}
	if _, err := os.Stat(filepath.Join(res.Dir, ManifestName)); err != nil {
		t.Error(err)
	}
}

// TestLocalPodDirs: the agent's bundle holds the named container's logs only, and a folder name
// that climbs out of /var/log/pods stays under it.
func TestLocalPodDirs(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "var/log/pods/shop_api_u1/api/0.log", "2026-11-20T10:26:10Z stdout F one\n")
	writeFile(t, root, "var/log/pods/shop_api_u1/sidecar/0.log", "2026-11-20T10:26:10Z stdout F two\n")
	writeFile(t, root, "var/log/secret.log", "not a pod log\n")
	// No journalctl or dmesg on this node: the pod logs and the caller's files are the bundle.
	run := func(context.Context, string, ...string) (io.ReadCloser, error) { return nil, exec.ErrNotFound }
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Run: run, Method: "agent", NodeName: "node-a",
		PodDirs: []string{"shop_api_u1/api", "../../secret.log"},
		Extra:   []ExtraFile{{Path: "nodediag/pod.json", Source: "test", Data: []byte("{}\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Files {
		got = append(got, f.Path)
	}
	want := []string{"nodediag/pod.json", "var_log/pods/shop_api_u1/api/0.log"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %q, want %q", got, want)
	}
	if res.Method != "agent" || !strings.Contains(filepath.Base(res.Dir), "_nodediag-agent") || res.NodeName != "node-a" {
		t.Errorf("method %q, folder %s, node %q: want the agent's", res.Method, res.Dir, res.NodeName)
	}
}

// TestLocalPodDirsNewestFirst: under a byte budget, the container's current and previous logs
// are gathered before the rotated parts, whatever their names' or times' order (10.log and
// 10.log.<time>.gz sort before 9.log; the rotated part is newer than the previous log).
func TestLocalPodDirsNewestFirst(t *testing.T) {
	root := t.TempDir()
	logOf := func(n int) string {
		return strings.Repeat("2026-11-20T10:26:10Z stdout F "+strings.Repeat("x", 69)+"\n", n)
	}
	dir := "var/log/pods/shop_api_u1/api/"
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i, name := range []string{"9.log", "10.log.20261120-100500.gz", "10.log"} { // oldest first
		writeFile(t, root, dir+name, logOf(10))
		at := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(filepath.Join(root, dir+name), at, at); err != nil {
			t.Fatal(err)
		}
	}
	run := func(context.Context, string, ...string) (io.ReadCloser, error) { return nil, exec.ErrNotFound }
	size := int64(len(logOf(10)))
	res, err := Local(context.Background(), t.TempDir(), LocalOptions{Root: root, Run: run, Method: "agent",
		PodDirs: []string{"shop_api_u1/api"}, MaxTotalBytes: 2*size + size/2})
	if err != nil {
		t.Fatal(err)
	}
	whole := map[string]bool{}
	for _, f := range res.Files {
		whole[path.Base(f.Path)] = f.Bytes == size
	}
	if !whole["10.log"] || !whole["9.log"] {
		t.Errorf("current and previous logs not kept whole under the budget: %v", whole)
	}
	if whole["10.log.20261120-100500.gz"] {
		t.Errorf("the rotated part was kept whole and a live log cut: %v", whole)
	}
}
