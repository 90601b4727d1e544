package app

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/store"
)

// Snapshot is a stored bundle that the capture agent (nodediag agent) took at a crash: a
// window of the node's journals around one container's restart, not a full collection.
type Snapshot struct {
	ID      string
	Capture time.Time
	Trigger gather.Trigger
	entry   *store.Entry
}

// maxGatherManifest bounds the gather manifest read: it lists a few files.
const maxGatherManifest = 1 << 20

// maxPodFile bounds the pod status and events the snapshot saved (the agent caps a file at
// 4 MiB by default).
const maxPodFile = 8 << 20

// AgentSnapshot reports whether e is one of the agent's snapshots, by the gather manifest in its
// root. A bundle whose manifest cannot be read is taken for a collected one: the diagnosis then
// does not name a trigger it cannot show.
func AgentSnapshot(e *store.Entry) (*Snapshot, bool) {
	if e == nil || e.Manifest == nil {
		return nil, false
	}
	for _, f := range e.Manifest.Files {
		// In the bundle's root, under the top folder the store may have kept.
		if path.Base(f.Path) != gather.ManifestName || strings.Count(f.Path, "/") > 1 {
			continue
		}
		data, err := readSmallFile(e, f, maxGatherManifest)
		var res gather.Result
		if err != nil || json.Unmarshal(data, &res) != nil || res.Method != gather.MethodAgent || res.Trigger == nil {
			return nil, false
		}
		return &Snapshot{ID: e.Manifest.ID, Capture: e.Manifest.CaptureTime, Trigger: *res.Trigger, entry: e}, true
	}
	return nil, false
}

// Note is the line a diagnosis built on the snapshot carries, so a reader knows its node logs
// are a window around one restart rather than a collected bundle.
func (s *Snapshot) Note() string {
	t := s.Trigger
	exit := ""
	if t.ExitCode != nil {
		exit = fmt.Sprintf(", exit code %d", *t.ExitCode)
	}
	return fmt.Sprintf("node logs from the agent's snapshot %s taken at %s after %s/%s container %s restarted (restart %d%s, %s): "+
		"a window of the node's journals around that crash, not a collected bundle; collect one if the node is still there",
		s.ID, s.Capture.UTC().Format(time.RFC3339), t.Namespace, t.Pod, t.Container, t.RestartCount, exit, t.Reason)
}

// PodFiles returns the pod status and events the agent saved with the snapshot, for a diagnosis
// that could not read them from the cluster (the pod is often gone with its node). Either may
// be absent.
func (s *Snapshot) PodFiles() (*corev1.Pod, []corev1.Event) {
	var pod *corev1.Pod
	var events []corev1.Event
	for _, f := range s.entry.Manifest.Files {
		switch {
		case pod == nil && path.Base(f.Path) == "pod.json" && path.Base(path.Dir(f.Path)) == "nodediag":
			if data, err := readSmallFile(s.entry, f, maxPodFile); err == nil {
				pod, _ = kube.ParsePod(data)
			}
		case events == nil && path.Base(f.Path) == "events.json" && path.Base(path.Dir(f.Path)) == "nodediag":
			if data, err := readSmallFile(s.entry, f, maxPodFile); err == nil {
				events, _ = kube.ParseEvents(data)
			}
		}
	}
	return pod, events
}

// readSmallFile reads at most limit bytes of a bundle file the snapshot wrote itself.
func readSmallFile(e *store.Entry, f bundle.File, limit int64) ([]byte, error) {
	rc, err := bundle.Open(e.Dir, f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}

// SnapshotInput prepares a diagnosis on e: when e is the agent's snapshot it returns the note
// naming it and, when in has no pod status (the cluster was not read, or the pod is gone with
// its node), fills the status and events the snapshot saved for that same pod, saying so. For
// any other bundle it does nothing.
func SnapshotInput(e *store.Entry, in *diagnose.Input) []string {
	s, ok := AgentSnapshot(e)
	if !ok {
		return nil
	}
	lines := []string{s.Note()}
	if in.PodStatus != nil {
		return lines
	}
	pod, events := s.PodFiles()
	if pod == nil || in.Pod != pod.Name || in.Namespace != "" && in.Namespace != pod.Namespace {
		return lines
	}
	in.PodStatus = pod
	if in.Events == nil {
		in.Events = events
	}
	return append(lines, fmt.Sprintf("pod status and events of %s/%s as the agent saved them at %s, not read from the cluster now",
		pod.Namespace, pod.Name, s.Capture.UTC().Format(time.RFC3339)))
}
