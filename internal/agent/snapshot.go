package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/redact"
)

// Method is the gather method of the agent's snapshots: their folders are named
// eks_<instance>_<time>-UTC_nodediag-agent and their manifest says "method": "agent".
const Method = gather.MethodAgent

// Paths of the API's view of the pod inside a snapshot, beside the collector's layout.
const (
	PodFile      = "nodediag/pod.json"
	EventsFile   = "nodediag/events.json"
	HostnameFile = "nodediag/hostname"
)

// snapshot builds one bundle about j's crash and hands it to the sink.
func (a *Agent) snapshot(ctx context.Context, j job) (string, error) {
	t := j.trigger
	log := a.opt.Log.With("pod", t.Namespace+"/"+t.Pod, "container", t.Container, "reason", t.Reason)
	id, bytes, err := a.take(ctx, j)
	if err != nil {
		a.opt.Metrics.Snapshots.WithLabelValues(Failed).Inc()
		log.Error("snapshot failed", "err", err)
		return "", err
	}
	a.opt.Metrics.Snapshots.WithLabelValues(Taken).Inc()
	a.opt.Metrics.Bytes.Add(float64(bytes))
	log.Info("snapshot taken", "bundle", id, "bytes", bytes)
	return id, nil
}

func (a *Agent) take(ctx context.Context, j job) (id string, size int64, err error) {
	t := j.trigger
	extra, err := a.apiFiles(ctx, j.pod)
	if err != nil {
		return "", 0, err
	}
	work, err := os.MkdirTemp(a.opt.WorkDir, "nodediag-agent-*")
	if err != nil {
		return "", 0, fmt.Errorf("snapshot of %s/%s: work folder: %w", t.Namespace, t.Pod, err)
	}
	// The store holds its own copy once imported; the built folder is not kept.
	defer os.RemoveAll(work)
	since := t.CrashedAt.Add(-a.opt.Window).UTC().Format("2006-01-02 15:04:05") + " UTC"
	res, err := gather.Local(ctx, work, gather.LocalOptions{
		Root:          a.opt.HostRoot,
		Run:           hostRunner(a.opt.HostRoot, a.opt.Run),
		Since:         since,
		MaxFileBytes:  a.opt.MaxFileBytes,
		MaxTotalBytes: a.opt.MaxBytes,
		Timeout:       a.opt.CommandTimeout,
		Now:           a.opt.Now,
		Method:        Method,
		InstanceID:    a.instance,
		NodeName:      a.opt.Node,
		PodDirs:       []string{fmt.Sprintf("%s_%s_%s/%s", t.Namespace, t.Pod, t.PodUID, t.Container)},
		Extra:         extra,
		Trigger:       &t,
		Journal:       journalMode(a.opt.HostRoot),
	})
	if err != nil {
		return "", 0, fmt.Errorf("snapshot of %s/%s container %s: %w", t.Namespace, t.Pod, t.Container, err)
	}
	for _, f := range res.Files {
		size += f.Bytes
	}
	id, err = a.opt.Sink.Put(ctx, res.Dir)
	if err != nil {
		return id, size, fmt.Errorf("snapshot of %s/%s container %s: %w", t.Namespace, t.Pod, t.Container, err)
	}
	return id, size, nil
}

// apiFiles are the pod as the API shows it and its events, redacted: a pod spec can carry
// literal credentials in env values, and the snapshot outlives the pod in shared storage.
func (a *Agent) apiFiles(ctx context.Context, p *corev1.Pod) ([]gather.ExtraFile, error) {
	pod := p.DeepCopy()
	pod.TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	// The node's name, where internal/bundle looks for a host name: a snapshot whose journals
	// could not be read is still found by the pod's node name.
	out := []gather.ExtraFile{{Path: HostnameFile, Source: "the agent's --node", Data: []byte(a.opt.Node + "\n")}}
	add := func(path, source string, v any) error {
		clean, err := redact.Value(v, false)
		if err != nil {
			return fmt.Errorf("redact %s of %s/%s: %w", path, p.Namespace, p.Name, err)
		}
		data, err := json.MarshalIndent(clean, "", "  ")
		if err != nil {
			return fmt.Errorf("encode %s of %s/%s: %w", path, p.Namespace, p.Name, err)
		}
		out = append(out, gather.ExtraFile{Path: path, Source: source, Data: append(data, '\n')})
		return nil
	}
	if err := add(PodFile, "pods get "+p.Namespace+"/"+p.Name+" (the agent's watch)", pod); err != nil {
		return nil, err
	}
	sel := fields.OneTermEqualSelector("involvedObject.uid", string(p.UID)).String()
	lctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	evs, err := a.opt.Client.CoreV1().Events(p.Namespace).List(lctx, metav1.ListOptions{FieldSelector: sel, Limit: 200})
	if err != nil {
		// The node's logs are the point of the snapshot; events are a bonus the API may refuse.
		a.opt.Log.Warn("events not read", "pod", p.Namespace+"/"+p.Name, "err", err)
		return out, nil
	}
	evs.TypeMeta = metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}
	for i := range evs.Items {
		evs.Items[i].ManagedFields = nil
	}
	if err := add(EventsFile, "events list "+p.Namespace+" involvedObject.uid="+string(p.UID), evs); err != nil {
		return nil, err
	}
	return out, nil
}

// journalMode reads the host's journal files with nodediag's reader whenever the agent looks at
// a mounted host root: the agent's image has no journalctl, and a journalctl in a container may
// be older than the host's systemd and refuse its files (journalctl runs only when the root
// holds no journal files). On "/" the agent is the host's own process, and journalctl, if
// installed, is the host's.
func journalMode(root string) string {
	if root == "" || root == "/" {
		return gather.JournalAuto
	}
	return gather.JournalFiles
}

// hostRunner points journalctl at the journals under root (the host's filesystem mounted in the
// agent's container): journalctl --root reads root/var/log/journal and root/run/log/journal.
func hostRunner(root string, run gather.Runner) gather.Runner {
	if run == nil {
		run = gather.ExecRunner
	}
	if root == "" || root == "/" {
		return run
	}
	return func(ctx context.Context, name string, args ...string) (io.ReadCloser, error) {
		if name == "journalctl" {
			args = append([]string{"--root", filepath.Clean(root)}, args...)
		}
		return run(ctx, name, args...)
	}
}
