package kube

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Log limits: the last 100 lines usually hold the error that ended a container; 64 KiB keeps a
// chatty container's answer inside an agent's context; 1 MiB is the most one call returns.
const (
	DefaultTailLines = 100
	DefaultLogBytes  = 64 << 10
	MaxLogBytes      = 1 << 20
)

// LogsRequest selects a container's log.
type LogsRequest struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	// Container; empty: the pod's only container, else the crash-looping one (PickContainer).
	Container string `json:"container,omitempty"`
	// Previous reads the last terminated instance's log (kubectl logs --previous).
	Previous bool `json:"previous,omitempty"`
	// TailLines: the last N lines; default 100.
	TailLines int64 `json:"tailLines,omitempty"`
	// SinceSeconds: only lines newer than this many seconds; 0 for no bound.
	SinceSeconds int64 `json:"sinceSeconds,omitempty"`
	// LimitBytes: default 64 KiB, at most 1 MiB.
	LimitBytes int64 `json:"limitBytes,omitempty"`
}

// LogsResult is the log text and how much of it there is.
type LogsResult struct {
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	Container string `json:"container"`
	Previous  bool   `json:"previous"`
	Text      string `json:"text"`
	Lines     int    `json:"lines"`
	// Truncated is set when the log was cut at LimitBytes; ask with a larger limit, or fewer
	// tail lines, to see the rest.
	Truncated bool `json:"truncated"`
}

// PodLogs reads a container's log, or its previous instance's. Asking for the previous log of a
// container that has not terminated yet fails with the restart count, rather than with the API
// server's less helpful "previous terminated container not found".
func (c *Client) PodLogs(ctx context.Context, req LogsRequest) (*LogsResult, error) {
	if req.Namespace == "" || req.Pod == "" {
		return nil, fmt.Errorf("%w: want a namespace and a pod name, got namespace %q pod %q", ErrInput, req.Namespace, req.Pod)
	}
	if req.TailLines < 0 || req.SinceSeconds < 0 || req.LimitBytes < 0 {
		return nil, fmt.Errorf("%w: tailLines %d, sinceSeconds %d, limitBytes %d: want 0 (the default) or more", ErrInput, req.TailLines, req.SinceSeconds, req.LimitBytes)
	}
	p, err := c.cs.CoreV1().Pods(req.Namespace).Get(ctx, req.Pod, metav1.GetOptions{})
	if err != nil {
		return nil, c.apiErr(fmt.Sprintf("get pod %s/%s", req.Namespace, req.Pod), err)
	}
	container, err := PickContainer(p, req.Container)
	if err != nil {
		return nil, err
	}
	if req.Previous {
		st := Status(p, container)
		restarts := int32(0)
		if st != nil {
			restarts = st.RestartCount
		}
		if st == nil || (st.LastTerminationState.Terminated == nil && restarts == 0) {
			return nil, fmt.Errorf("%w: no previous terminated instance of container %s in pod %s/%s; restartCount %d (read the current log with previous=false)", ErrInput, container, req.Namespace, req.Pod, restarts)
		}
	}
	tail := req.TailLines
	if tail == 0 {
		tail = DefaultTailLines
	}
	limit := req.LimitBytes
	if limit == 0 {
		limit = DefaultLogBytes
	}
	limit = min(limit, MaxLogBytes)
	// One byte more than the limit is asked for: receiving it is how a cut is told from a log
	// that is exactly limit bytes long.
	ask := limit + 1
	opts := &corev1.PodLogOptions{Container: container, Previous: req.Previous, TailLines: &tail, LimitBytes: &ask}
	if req.SinceSeconds > 0 {
		since := req.SinceSeconds
		opts.SinceSeconds = &since
	}
	rc, err := c.cs.CoreV1().Pods(req.Namespace).GetLogs(req.Pod, opts).Stream(ctx)
	if err != nil {
		return nil, c.apiErr(fmt.Sprintf("read log of %s/%s container %s (previous %t)", req.Namespace, req.Pod, container, req.Previous), err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	// The reader is bounded too: a server that ignores limitBytes must not fill memory.
	if _, err := buf.ReadFrom(io.LimitReader(rc, ask)); err != nil {
		return nil, c.apiErr(fmt.Sprintf("read log of %s/%s container %s", req.Namespace, req.Pod, container), err)
	}
	data := buf.Bytes()
	out := &LogsResult{Pod: req.Pod, Namespace: req.Namespace, Container: container, Previous: req.Previous}
	if int64(len(data)) > limit {
		out.Truncated = true
		data = data[:limit]
		// The cut falls mid-line; the partial last line is dropped so every line is whole.
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		}
	}
	out.Text = string(data)
	out.Lines = countLines(out.Text)
	return out, nil
}

func countLines(s string) int {
	if s == "" {
		return 0
	}
	n := strings.Count(s, "\n")
	if !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}
