package agent

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/journal/journaltest"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/store"
)

// diagnosed runs the K3 diagnosis of the truth's container on a stored bundle, from its node
// logs alone (no pod status), as a diagnosis after the node and the pod are gone would.
func diagnosed(t *testing.T, st *store.Store, e *store.Entry, h *host) *diagnose.Diagnosis {
	t.Helper()
	idx, err := st.Index(context.Background(), e, false)
	if err != nil {
		t.Fatal(err)
	}
	d, err := diagnose.Diagnose(context.Background(), idx, diagnose.Input{Namespace: h.truth.Namespace, Pod: h.truth.Pod, Container: h.truth.Container, Entry: e})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSnapshotDiagnosesLikeTheFullBundle(t *testing.T) {
	for _, name := range []string{"container-oom-v2", "jvm-exit-on-oom"} {
		t.Run(name, func(t *testing.T) {
			h := newHost(t, name)
			want := h.truth.RootCause
			if h.truth.NodeLogsRootCause != "" {
				want = h.truth.NodeLogsRootCause
			}

			snaps, err := store.Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			cs := fake.NewClientset(node(false), before(h.pod))
			clk := &clock{t: h.capture}
			sink := newRecordSink(StoreSink{Store: snaps})
			_, stop := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now})
			update(t, cs, h.pod)
			waitFor(t, "the snapshot", func() bool { return sink.count() == 1 })
			if err := stop(); err != nil {
				t.Fatal(err)
			}

			// No collected bundle of the node: the pod's node picks the snapshot, which names itself.
			e, ok := app.BundleOfNode(snaps, kube.InstanceID(node(false).Spec.ProviderID), h.pod.Spec.NodeName)
			if !ok {
				t.Fatal("the pod's node has no bundle in the store, though the agent took a snapshot")
			}
			snap, ok := app.AgentSnapshot(e)
			if !ok {
				t.Fatalf("bundle %s is not recognised as the agent's snapshot", e.Manifest.ID)
			}
			note := snap.Note()
			for _, w := range []string{e.Manifest.ID, h.truth.Namespace + "/" + h.truth.Pod, "container " + h.truth.Container, "agent's snapshot"} {
				if !strings.Contains(note, w) {
					t.Errorf("note %q does not name %q", note, w)
				}
			}
			if pod, events := snap.PodFiles(); pod == nil || pod.UID != h.pod.UID || events == nil {
				t.Errorf("the snapshot's pod status and events: pod %v, %d events", pod != nil, len(events))
			}

			full, err := store.Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := full.Import(context.Background(), h.archive, store.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := app.AgentSnapshot(res.Entry); ok {
				t.Fatalf("the collector's bundle %s is taken for an agent snapshot", res.Entry.Manifest.ID)
			}

			ds, df := diagnosed(t, snaps, e, h), diagnosed(t, full, res.Entry, h)
			for _, c := range []struct {
				what string
				d    *diagnose.Diagnosis
			}{{"snapshot", ds}, {"full bundle", df}} {
				if c.d.Class != want {
					t.Errorf("%s: class %q, want %q (truth); root cause: %s", c.what, c.d.Class, want, c.d.RootCause)
				}
				if c.d.ExitCode == nil || *c.d.ExitCode != h.truth.ExitCode {
					t.Errorf("%s: exit code %v, want %d (truth)", c.what, c.d.ExitCode, h.truth.ExitCode)
				}
			}
		})
	}
}

// TestSnapshotReadsJournalFiles is the shipped image's case: no journalctl (the runner finds no
// command), the host root holds a real journal file written by systemd-journal-remote from the
// scenario's node journal (testdata/README.md). The snapshot carries the kubelet, containerd
// and kernel journals read by nodediag's reader, and diagnosing it finds the crash.
func TestSnapshotReadsJournalFiles(t *testing.T) {
	h := newHost(t, "container-oom-v2")
	want := h.truth.RootCause
	if h.truth.NodeLogsRootCause != "" {
		want = h.truth.NodeLogsRootCause
	}
	raw := journaltest.Unzstd(t, "testdata/container-oom-v2.journal.zst")
	writeFile(t, filepath.Join(h.root, "var/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4/system.journal"), string(raw))
	var mu sync.Mutex
	var ran []string
	noCommands := func(_ context.Context, name string, args ...string) (io.ReadCloser, error) {
		mu.Lock()
		ran = append(ran, name+" "+strings.Join(args, " "))
		mu.Unlock()
		return nil, exec.ErrNotFound
	}

	snaps, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset(node(false), before(h.pod))
	clk := &clock{t: h.capture}
	sink := newRecordSink(StoreSink{Store: snaps})
	_, stop := started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: noCommands, Now: clk.now})
	update(t, cs, h.pod)
	waitFor(t, "the snapshot", func() bool { return sink.count() == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	res := sink.results[0]
	if res.JournalReader != gather.ReaderNodediag {
		t.Errorf("manifest journalReader %q, want %q", res.JournalReader, gather.ReaderNodediag)
	}
	lines := map[string]int{}
	for _, f := range res.Files {
		lines[f.Path] = f.Lines
		if strings.HasPrefix(f.Path, "kubelet/") && !strings.HasPrefix(f.Source, "nodediag journal reader") {
			t.Errorf("%s source %q", f.Path, f.Source)
		}
	}
	for _, p := range []string{"kubelet/kubelet.log", "containerd/containerd-log.txt", "kernel/dmesg.journal"} {
		if lines[p] == 0 {
			t.Errorf("snapshot lacks %s: files %v, missing %+v", p, lines, res.Missing)
		}
	}
	mu.Lock()
	if len(ran) > 0 {
		t.Errorf("commands run though the host root holds journal files: %q", ran)
	}
	mu.Unlock()

	e, ok := app.BundleOfNode(snaps, kube.InstanceID(node(false).Spec.ProviderID), h.pod.Spec.NodeName)
	if !ok {
		t.Fatal("the pod's node has no bundle in the store")
	}
	d := diagnosed(t, snaps, e, h)
	if d.Class != want {
		t.Errorf("class %q, want %q (truth); root cause: %s", d.Class, want, d.RootCause)
	}
	if d.ExitCode == nil || *d.ExitCode != h.truth.ExitCode {
		t.Errorf("exit code %v, want %d (truth)", d.ExitCode, h.truth.ExitCode)
	}
}
