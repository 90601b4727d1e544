package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	nodeFQDN  = "ip-10-0-1-229.us-west-2.compute.internal"
	nodeShort = "ip-10-0-1-229"
)

func syslogLines(host string) string {
	return "Nov 19 08:29:24 " + host + " containerd: time=\"2026-11-19T08:29:24.848888499Z\" level=error msg=\"copy shim log\"\n" +
		"Nov 19 19:22:58 " + host + " kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0\n"
}

func isoLines(host string) string {
	return "2026-11-19T06:25:29.149489+0000 " + host + " kubelet[2264]: I1119 06:25:29.149000    2264 kubelet.go:2465] \"SyncLoop ADD\" source=\"api\"\n" +
		"2026-11-19T06:25:30.000001+0000 " + host + " kubelet[2264]: E1119 06:25:30.000001    2264 pod_workers.go:1298] \"Error syncing pod, skipping\"\n"
}

func TestExtractLayouts(t *testing.T) {
	kubeletShort := "-- Logs begin at Tue 2026-11-10 10:38:54 UTC, end at Fri 2026-11-20 10:29:57 UTC. --\n" + string(logLines(1, 40, nodeFQDN))
	dmesg := "[    0.000000] Linux version 6.1.112-122.189.amzn2023.x86_64\n[  147.358790] oom-kill:constraint=CONSTRAINT_MEMCG\n"
	journal := "Mar 14 10:12:31.545053 localhost kernel: x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT\n" +
		"Mar 14 10:12:40.000001 " + nodeFQDN + " kubelet[1201]: I0314 10:12:40.000001    1201 kubelet.go:2465] \"SyncLoop ADD\"\n"
	older, newest := testTime.Add(-time.Hour), testTime.Add(2*time.Hour)

	type want struct {
		layout, top, instance, node string
		capture                     time.Time
		captureSource               string
		files                       map[string]string // path → log type
		content                     map[string]string // path → bytes OnFile and the disk must hold
	}
	tests := []struct {
		name    string
		archive string
		data    func(t *testing.T) []byte
		want    want
	}{
		{
			name:    "collector",
			archive: "eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz",
			data: func(t *testing.T) []byte {
				return gz(t, tarBytes(t, dir("./"), dir("./kubelet/"), file("./kubelet/kubelet.log", kubeletShort),
					dir("./system/"), file("./system/instance-id.txt", "i-0fedcba9876543210\n"),
					dir("./kernel/"), file("./kernel/dmesg.current", dmesg),
					file("./var_log/messages", syslogLines(nodeShort))))
			},
			want: want{
				layout: LayoutCollector, instance: "i-0123456789abcdef0", node: nodeFQDN,
				capture: time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC), captureSource: "archive-name",
				files: map[string]string{"kubelet/kubelet.log": TypeKubelet, "system/instance-id.txt": TypeSystem,
					"kernel/dmesg.current": TypeDmesg, "var_log/messages": TypeMessages},
				content: map[string]string{"kubelet/kubelet.log": kubeletShort, "kernel/dmesg.current": dmesg},
			},
		},
		{
			name:    "node monitoring agent",
			archive: "node-a-logs.tar.gz",
			data: func(t *testing.T) []byte {
				return gz(t, tarBytes(t,
					entry{name: "kubelet/kubelet.log", body: []byte(isoLines(nodeFQDN)), mtime: newest},
					entry{name: "system/instance-id.txt", body: []byte("i-0fedcba9876543210\n"), mtime: older},
					entry{name: "system/pressure_memory.txt", body: []byte("some avg10=0.00\n"), mtime: older},
					entry{name: "kernel/dmesg.current", body: []byte(dmesg), mtime: older}))
			},
			want: want{
				layout: LayoutNMA, instance: "i-0fedcba9876543210", node: nodeFQDN,
				capture: newest, captureSource: "newest-member-mtime",
				files: map[string]string{"kubelet/kubelet.log": TypeKubelet, "system/instance-id.txt": TypeSystem,
					"system/pressure_memory.txt": TypeSystem, "kernel/dmesg.current": TypeDmesg},
				content: map[string]string{"kubelet/kubelet.log": isoLines(nodeFQDN)},
			},
		},
		{
			name:    "node monitoring agent without journal names the node after the archive",
			archive: "ip-10-0-9-9.ec2.internal-logs.tar.gz",
			data: func(t *testing.T) []byte {
				return gz(t, tarBytes(t, entry{name: "kernel/dmesg.current", body: []byte(dmesg), mtime: older}))
			},
			want: want{
				layout: LayoutNMA, instance: "unknown", node: "ip-10-0-9-9.ec2.internal",
				capture: older, captureSource: "newest-member-mtime",
				files: map[string]string{"kernel/dmesg.current": TypeDmesg},
			},
		},
		{
			name:    "bottlerocket logdog",
			archive: "bottlerocket-logs.tar.gz",
			data: func(t *testing.T) []byte {
				return gz(t, tarBytes(t, dir("bottlerocket-logs/"),
					file("bottlerocket-logs/journalctl.log", journal),
					file("bottlerocket-logs/dmesg", dmesg),
					file("bottlerocket-logs/os-release", "NAME=Bottlerocket\n"),
					file("bottlerocket-logs/settings.json", `{"settings":{"network":{"hostname":"other-name"}}}`)))
			},
			want: want{
				layout: LayoutLogdog, top: "bottlerocket-logs", instance: "unknown", node: nodeFQDN,
				capture: testTime, captureSource: "newest-member-mtime",
				files: map[string]string{"journalctl.log": TypeJournal, "dmesg": TypeDmesg,
					"os-release": TypeSystem, "settings.json": TypeConfig},
				content: map[string]string{"journalctl.log": journal},
			},
		},
		{
			name:    "collector folder tarred by a user",
			archive: "upload.tgz",
			data: func(t *testing.T) []byte {
				top := "eks_i-0aa0aa0aa0aa0aa0a_2026-11-19_0815-UTC_0.7.8/"
				return gz(t, tarBytes(t, dir(top), file(top+"kubelet/kubelet.log", kubeletShort),
					file(top+"var_log/messages", syslogLines(nodeShort))))
			},
			want: want{
				layout: LayoutCollector, top: "eks_i-0aa0aa0aa0aa0aa0a_2026-11-19_0815-UTC_0.7.8",
				instance: "i-0aa0aa0aa0aa0aa0a", node: nodeFQDN,
				capture: time.Date(2026, 11, 19, 8, 15, 0, 0, time.UTC), captureSource: "archive-name",
				files: map[string]string{"kubelet/kubelet.log": TypeKubelet, "var_log/messages": TypeMessages},
			},
		},
		{
			name:    "single-category NMA bundle keeps its only folder",
			archive: "n1-logs.tar.gz",
			data: func(t *testing.T) []byte {
				return gz(t, tarBytes(t, file("kubelet/kubelet.log", isoLines(nodeFQDN)), file("kubelet/config.json", "{}")))
			},
			want: want{
				layout: LayoutNMA, instance: "unknown", node: nodeFQDN,
				capture: testTime, captureSource: "newest-member-mtime",
				files: map[string]string{"kubelet/kubelet.log": TypeKubelet, "kubelet/config.json": TypeConfig},
			},
		},
		{
			name:    "syslog only names the short host",
			archive: "misc.tar",
			data: func(t *testing.T) []byte {
				return tarBytes(t, file("var_log/messages", syslogLines(nodeShort)))
			},
			want: want{
				layout: LayoutNMA, instance: "unknown", node: nodeShort,
				capture: testTime, captureSource: "newest-member-mtime",
				files: map[string]string{"var_log/messages": TypeMessages},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorkspace(t)
			src := w.put(t, tt.archive, tt.data(t))
			rec := newRecorder()
			m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			w.assertContained(t)
			got := want{layout: m.Layout, top: m.TopFolder, instance: m.InstanceID, node: m.NodeName,
				capture: m.CaptureTime, captureSource: m.CaptureTimeSource, files: map[string]string{}, content: tt.want.content}
			for _, f := range m.Files {
				got.files[f.Path] = f.LogType
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("manifest mismatch (-want +got):\n%s", diff)
			}
			for p, body := range tt.want.content {
				if string(rec.got[p]) != body {
					t.Errorf("OnFile got %d bytes for %s, want the %d bytes of the member", len(rec.got[p]), p, len(body))
				}
				if string(w.stored(t, p)) != body {
					t.Errorf("stored %s differs from the member", p)
				}
			}
			if m.Source != "file" || m.Origin != src {
				t.Errorf("source/origin = %q/%q, want file/%q", m.Source, m.Origin, src)
			}
		})
	}
}

// The same files packed every supported way give the same manifest files and the same bytes.
func TestExtractForms(t *testing.T) {
	entries := []entry{
		file("system/script-params.txt", "ignore_introspection=false\n"),
		file("kubelet/kubelet.log", string(logLines(7, 200, nodeFQDN))),
		file("containerd/containerd-log.txt", "Nov 19 08:29:24 "+nodeFQDN+" containerd[2954]: time=\"2026-11-19T08:29:24.848888499Z\" level=info msg=\"x\"\n"),
		file("var_log/kube-system_aws-node-7fqz2_"+puid+"/aws-node/0.log", "2026-11-19T02:50:53.90545154Z stderr F {\"level\":\"info\"}\n"),
		file("ipamd/ipam.json", `{"version":"vpc-cni-ipam/1"}`),
	}
	withDirs := []entry{dir("kubelet/"), dir("system/")}
	withDirs = append(withDirs, entries...)
	forms := []struct {
		name string
		make func(t *testing.T, w workspace) string
	}{
		{"tar.gz", func(t *testing.T, w workspace) string { return w.put(t, "b.tar.gz", gz(t, tarBytes(t, withDirs...))) }},
		{"tgz", func(t *testing.T, w workspace) string { return w.put(t, "b.tgz", gz(t, tarBytes(t, entries...))) }},
		{"tar", func(t *testing.T, w workspace) string { return w.put(t, "b.tar", tarBytes(t, withDirs...)) }},
		{"zip", func(t *testing.T, w workspace) string { return w.put(t, "b.zip", zipBytes(t, withDirs...)) }},
		{"folder", func(t *testing.T, w workspace) string {
			d := filepath.Join(w.in, "b")
			writeTree(t, d, entries...)
			return d
		}},
	}
	type row struct {
		Type string
		Size int64
		Log  bool
	}
	want := map[string]row{}
	for _, e := range entries {
		lt, isLog := Classify(e.name)
		want[e.name] = row{lt, int64(len(e.body)), isLog}
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			w := newWorkspace(t)
			rec := newRecorder()
			m, err := Extract(context.Background(), form.make(t, w), w.dest, Options{OnFile: rec.hook})
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			w.assertContained(t)
			got := map[string]row{}
			for _, f := range m.Files {
				got[f.Path] = row{f.LogType, f.Size, f.Log}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files mismatch (-want +got):\n%s", diff)
			}
			for _, e := range entries {
				if !bytes.Equal(rec.got[e.name], e.body) {
					t.Errorf("OnFile content of %s differs from the member", e.name)
				}
			}
			if m.Layout != LayoutCollector || m.NodeName != nodeFQDN {
				t.Errorf("layout, node = %q, %q; want %q, %q", m.Layout, m.NodeName, LayoutCollector, nodeFQDN)
			}
			f, _ := fileByPath(m, "var_log/kube-system_aws-node-7fqz2_"+puid+"/aws-node/0.log")
			if f.Pod == nil || f.Pod.Pod != "aws-node-7fqz2" || f.Pod.PodUID != puid || f.LogType != TypeAWSNode {
				t.Errorf("pod log file = %+v, pod %+v; want aws-node-7fqz2 with uid %s", f, f.Pod, puid)
			}
		})
	}
}

// A folder without a producer's marker files says "folder".
func TestExtractFolderLayout(t *testing.T) {
	w := newWorkspace(t)
	d := filepath.Join(w.in, "mine")
	writeTree(t, d, file("kubelet.log", isoLines(nodeFQDN)), file("dmesg", "[    1.000000] x\n"))
	m, err := Extract(context.Background(), d, w.dest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Layout != LayoutFolder || m.NodeName != nodeFQDN || len(m.Files) != 2 {
		t.Errorf("layout %q node %q files %v; want folder, %s, 2 files", m.Layout, m.NodeName, paths(m), nodeFQDN)
	}
}

func TestExtractNestedLogdog(t *testing.T) {
	journal := "Mar 14 10:12:40.000001 " + nodeFQDN + " kubelet[1201]: I0314 10:12:40.000001    1201 kubelet.go:2465] \"SyncLoop ADD\"\n"
	dmesg := "[  139.201482] Memory cgroup out of memory: Killed process 7788 (bash)\n"
	inner := gz(t, tarBytes(t, dir("bottlerocket-logs/"),
		file("bottlerocket-logs/journalctl.log", journal),
		file("bottlerocket-logs/dmesg", dmesg)))
	w := newWorkspace(t)
	src := w.put(t, "n-logs.tar.gz", gz(t, tarBytes(t,
		file("kubelet/kubelet.log", isoLines(nodeFQDN)),
		entry{name: "bottlerocket/logdog/bottlerocket-logs.tar.gz", body: inner},
		file("bottlerocket/application-inventory.json", `{"Content":[]}`))))
	rec := newRecorder()
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	w.assertContained(t)
	wantOrder := []string{"kubelet/kubelet.log", "bottlerocket/logdog/bottlerocket-logs/journalctl.log",
		"bottlerocket/logdog/bottlerocket-logs/dmesg", "bottlerocket/application-inventory.json"}
	if diff := cmp.Diff(wantOrder, rec.order); diff != "" {
		t.Errorf("OnFile order (-want +got):\n%s", diff)
	}
	if string(rec.got[wantOrder[1]]) != journal || string(rec.got[wantOrder[2]]) != dmesg {
		t.Errorf("nested members' content differs from what was packed")
	}
	arch, ok := fileByPath(m, "bottlerocket/logdog/bottlerocket-logs.tar.gz")
	if !ok || !arch.Compressed || arch.Log || arch.Size != int64(len(inner)) {
		t.Errorf("nested archive file = %+v, want compressed non-log of %d bytes", arch, len(inner))
	}
	if !bytes.Equal(w.stored(t, arch.Path), inner) {
		t.Errorf("nested archive not stored as it is")
	}
	if f, _ := fileByPath(m, wantOrder[1]); f.LogType != TypeJournal {
		t.Errorf("nested journal type %q, want %q", f.LogType, TypeJournal)
	}
	if m.Layout != LayoutNMA {
		t.Errorf("layout %q, want %q", m.Layout, LayoutNMA)
	}
}

// Rotated and compressed members stay compressed on disk; OnFile and Open see them decompressed.
func TestExtractRotatedGzipMembers(t *testing.T) {
	ipamd1 := `{"level":"info","ts":"2022-03-20T17:48:56.540Z","caller":"aws-k8s-agent/main.go:27","msg":"Starting L-IPAMD   ..."}` + "\n"
	podLog := "2026-11-19T02:50:53.90545154Z stderr F {\"level\":\"info\"}\n2026-11-19T02:50:53.905552332Z stdout P part\n"
	messages := syslogLines(nodeShort)
	members := map[string][]byte{
		"var_log/aws-routed-eni/ipamd.log.1.gz":                                             gz(t, []byte(ipamd1)),
		"var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log.20261119-101010.gz": gz(t, []byte(podLog)),
		"var_log/messages-20261119":                                                         []byte(messages),
	}
	plain := map[string]string{
		"var_log/aws-routed-eni/ipamd.log.1.gz":                                             ipamd1,
		"var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log.20261119-101010.gz": podLog,
		"var_log/messages-20261119":                                                         messages,
	}
	wantType := map[string]string{
		"var_log/aws-routed-eni/ipamd.log.1.gz":                                             TypeIPAMD,
		"var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log.20261119-101010.gz": TypeAWSNode,
		"var_log/messages-20261119":                                                         TypeMessages,
	}
	var entries []entry
	for p, b := range members {
		entries = append(entries, entry{name: p, body: b})
	}
	w := newWorkspace(t)
	src := w.put(t, "r.tar.gz", gz(t, tarBytes(t, entries...)))
	rec := newRecorder()
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	for p, body := range plain {
		f, ok := fileByPath(m, p)
		if !ok {
			t.Fatalf("%s missing from %v", p, paths(m))
		}
		if f.LogType != wantType[p] || !f.Log || f.Compressed != strings.HasSuffix(p, ".gz") {
			t.Errorf("%s: type %q log %v compressed %v", p, f.LogType, f.Log, f.Compressed)
		}
		if string(rec.got[p]) != body {
			t.Errorf("%s: OnFile got %q, want %q", p, rec.got[p], body)
		}
		if !bytes.Equal(w.stored(t, p), members[p]) {
			t.Errorf("%s: stored bytes differ from the member", p)
		}
		rc, err := Open(w.dest, f)
		if err != nil {
			t.Fatalf("Open %s: %v", p, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != body {
			t.Errorf("Open %s = %q, %v; want %q", p, b, err, body)
		}
	}
}

// OnFile may stop reading early; the file is still stored whole.
func TestExtractOnFilePartialRead(t *testing.T) {
	big := logLines(3, 5000, nodeFQDN)
	w := newWorkspace(t)
	src := w.put(t, "p.tar.gz", gz(t, tarBytes(t, entry{name: "kubelet/kubelet.log", body: big},
		entry{name: "var_log/aws-routed-eni/ipamd.log.1.gz", body: gz(t, big)})))
	rec := newRecorder()
	rec.limit = 100
	m, err := Extract(context.Background(), src, w.dest, Options{OnFile: rec.hook})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.stored(t, "kubelet/kubelet.log"), big) || len(rec.got["kubelet/kubelet.log"]) != 100 {
		t.Errorf("stored %d bytes (want %d), OnFile read %d (want 100)",
			len(w.stored(t, "kubelet/kubelet.log")), len(big), len(rec.got["kubelet/kubelet.log"]))
	}
	if !bytes.Equal(w.stored(t, "var_log/aws-routed-eni/ipamd.log.1.gz"), gz(t, big)) {
		t.Errorf("compressed member not stored whole")
	}
	if len(m.Warnings) != 0 {
		t.Errorf("unexpected warnings %v", m.Warnings)
	}
}

func TestBundleID(t *testing.T) {
	data := gz(t, tarBytes(t, file("kubelet/kubelet.log", isoLines(nodeFQDN))))
	id := func(name string, data []byte) string {
		w := newWorkspace(t)
		m, err := Extract(context.Background(), w.put(t, name, data), w.dest, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	a := id("eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz", data)
	if b := id("eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz", data); a != b {
		t.Errorf("same archive gave ids %q and %q", a, b)
	}
	if !regexp.MustCompile(`^20261120T1030Z-[0-9a-f]{8}$`).MatchString(a) {
		t.Errorf("id %q does not start with the capture time and end with a short hash", a)
	}
	if c := id("other.tar.gz", data); c == a {
		t.Errorf("different archive name gave the same id %q", c)
	}
}

func TestManifestJSONRoundTrip(t *testing.T) {
	w := newWorkspace(t)
	src := w.put(t, "eks_i-0123456789abcdef0_2026-11-20_1030-UTC_0.7.9.tar.gz", gz(t, tarBytes(t,
		file("kubelet/kubelet.log", isoLines(nodeFQDN)),
		file("var_log/kube-system_aws-node-7fqz2_"+puid+"/aws-node/0.log", "x\n"),
		entry{name: "bad", typ: '3'})))
	m, err := Extract(context.Background(), src, w.dest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Manifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*m, back); diff != "" {
		t.Errorf("JSON round trip changed the manifest (-before +after):\n%s", diff)
	}
	for _, key := range []string{`"instanceId":"i-0123456789abcdef0"`, `"logType":"kubelet"`, `"skipped":[{"path":"bad"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("bundle.json lacks %s: %s", key, b)
		}
	}
}
