package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ErrInput marks input that is not what a flag accepts; errors.Is tells callers to report a
// usage error rather than a failure.
var ErrInput = errors.New("invalid Kubernetes input")

// maxFileBytes caps what is read from one input file: a pod or an event list is kilobytes, and a
// wrong path (a bundle, a core dump) must not be read whole into memory.
const maxFileBytes = 64 << 20

// typeMeta is read first so that a List, a Pod and an EventList can be told apart before the
// whole document is decoded into one of them.
type typeMeta struct {
	Kind       string            `json:"kind"`
	APIVersion string            `json:"apiVersion"`
	Items      []json.RawMessage `json:"items"`
}

// ParsePod decodes a v1.Pod as `kubectl get pod -o json` prints it, or a v1.List holding exactly
// one Pod (what `kubectl get pods -l … -o json` prints when one pod matches).
func ParsePod(data []byte) (*corev1.Pod, error) {
	var tm typeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, fmt.Errorf("%w: pod JSON does not parse: %w (want the output of kubectl get pod -o json)", ErrInput, err)
	}
	switch tm.Kind {
	case "Pod", "":
		if tm.Kind == "" && tm.Items != nil {
			return nil, fmt.Errorf("%w: a document with items but no kind: want kind Pod or a List of one Pod", ErrInput)
		}
		return decodePod(data)
	case "List", "PodList":
		var pods []json.RawMessage
		for _, it := range tm.Items {
			var k typeMeta
			if err := json.Unmarshal(it, &k); err != nil {
				return nil, fmt.Errorf("%w: list item does not parse: %w", ErrInput, err)
			}
			if k.Kind == "Pod" || (k.Kind == "" && tm.Kind == "PodList") {
				pods = append(pods, it)
			}
		}
		if len(pods) != 1 {
			return nil, fmt.Errorf("%w: the %s holds %d pods, want exactly 1 (select one pod with kubectl get pod NAME -o json)", ErrInput, tm.Kind, len(pods))
		}
		return decodePod(pods[0])
	default:
		return nil, fmt.Errorf("%w: kind %q is not a Pod (want kind Pod, or a List of one Pod)", ErrInput, tm.Kind)
	}
}

func decodePod(data []byte) (*corev1.Pod, error) {
	var p corev1.Pod
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: pod does not decode as v1.Pod: %w", ErrInput, err)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("%w: pod has no metadata.name (want a v1.Pod from kubectl get pod -o json)", ErrInput)
	}
	return &p, nil
}

// ParseEvents decodes a v1.EventList (`kubectl get events -o json`), a v1.List of Events, or a
// single Event.
func ParseEvents(data []byte) ([]corev1.Event, error) {
	var tm typeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, fmt.Errorf("%w: events JSON does not parse: %w (want the output of kubectl get events -o json)", ErrInput, err)
	}
	switch tm.Kind {
	case "Event":
		var e corev1.Event
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("%w: event does not decode as v1.Event: %w", ErrInput, err)
		}
		return []corev1.Event{e}, nil
	case "EventList", "List", "":
		if tm.Kind == "" && tm.Items == nil {
			return nil, fmt.Errorf("%w: a document without kind or items: want an EventList", ErrInput)
		}
		out := make([]corev1.Event, 0, len(tm.Items))
		for i, it := range tm.Items {
			var e corev1.Event
			if err := json.Unmarshal(it, &e); err != nil {
				return nil, fmt.Errorf("%w: item %d does not decode as v1.Event: %w", ErrInput, i, err)
			}
			if e.Kind != "" && e.Kind != "Event" {
				return nil, fmt.Errorf("%w: item %d is kind %q, want Event", ErrInput, i, e.Kind)
			}
			out = append(out, e)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: kind %q is not an EventList (want kubectl get events -o json)", ErrInput, tm.Kind)
	}
}

// LoadPodFile reads and parses a --pod-json file.
func LoadPodFile(path string) (*corev1.Pod, error) {
	data, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	p, err := ParsePod(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// LoadEventsFile reads and parses an --events-json file.
func LoadEventsFile(path string) ([]corev1.Event, error) {
	data, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	ev, err := ParseEvents(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ev, nil
}

// LoadLogFile reads a --previous-log file (`kubectl logs --previous`).
func LoadLogFile(path string) (string, error) {
	data, err := readSmall(path)
	if err != nil {
		return "", err
	}
	return string(data), nil
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open Kubernetes input: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if n > maxFileBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d MiB; want one pod, its events or its previous log", ErrInput, path, maxFileBytes>>20)
	}
	return buf.Bytes(), nil
}

// PickContainer chooses the container to diagnose: the one named (among containers and init
// containers), else the one waiting in CrashLoopBackOff, else the one with the most restarts,
// else the pod's only container.
func PickContainer(p *corev1.Pod, name string) (string, error) {
	statuses := append(append([]corev1.ContainerStatus(nil), p.Status.ContainerStatuses...), p.Status.InitContainerStatuses...)
	if name != "" {
		for _, c := range p.Spec.Containers {
			if c.Name == name {
				return name, nil
			}
		}
		for _, c := range p.Spec.InitContainers {
			if c.Name == name {
				return name, nil
			}
		}
		for _, s := range statuses {
			if s.Name == name {
				return name, nil
			}
		}
		return "", fmt.Errorf("%w: pod %s/%s has no container %q (it has %s)", ErrInput, p.Namespace, p.Name, name, strings.Join(ContainerNames(p), ", "))
	}
	for _, s := range statuses {
		if s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff" {
			return s.Name, nil
		}
	}
	best, most := "", int32(0)
	for _, s := range statuses {
		if s.RestartCount > most {
			best, most = s.Name, s.RestartCount
		}
	}
	if best != "" {
		return best, nil
	}
	if len(p.Spec.Containers) == 1 {
		return p.Spec.Containers[0].Name, nil
	}
	return "", fmt.Errorf("%w: pod %s/%s has %d containers and none is crash-looping or restarting; name one with --container (%s)",
		ErrInput, p.Namespace, p.Name, len(p.Spec.Containers), strings.Join(ContainerNames(p), ", "))
}

// ContainerNames lists the pod's containers, init containers first, in spec order.
func ContainerNames(p *corev1.Pod) []string {
	var out []string
	for _, c := range p.Spec.InitContainers {
		out = append(out, c.Name)
	}
	for _, c := range p.Spec.Containers {
		out = append(out, c.Name)
	}
	return out
}

// Status returns the named container's status, or nil when the pod reports none.
func Status(p *corev1.Pod, container string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses} {
		for i := range list {
			if list[i].Name == container {
				return &list[i]
			}
		}
	}
	return nil
}

// Spec returns the named container's spec, or nil.
func Spec(p *corev1.Pod, container string) *corev1.Container {
	for _, list := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == container {
				return &list[i]
			}
		}
	}
	return nil
}

// Terminated returns the container's last termination: lastState.terminated, else the current
// state when the container is terminated now. Nil when neither is known.
func Terminated(s *corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if s == nil {
		return nil
	}
	if s.LastTerminationState.Terminated != nil {
		return s.LastTerminationState.Terminated
	}
	return s.State.Terminated
}

// EventsFor keeps the events about the pod (and, when container is set, those whose fieldPath
// names that container or no container), plus node events (SystemOOM, NodeNotReady), which say
// what happened on the pod's node. The order is kept.
func EventsFor(events []corev1.Event, p *corev1.Pod, container string) []corev1.Event {
	var out []corev1.Event
	for _, e := range events {
		o := e.InvolvedObject
		switch {
		case o.Kind == "Node":
			if p == nil || p.Spec.NodeName == "" || o.Name == "" || o.Name == p.Spec.NodeName {
				out = append(out, e)
			}
		case o.Kind == "Pod" || o.Kind == "":
			if p != nil && (o.Name != p.Name || (o.Namespace != "" && o.Namespace != p.Namespace)) {
				continue
			}
			if container != "" && o.FieldPath != "" && !fieldPathNames(o.FieldPath, container) {
				continue
			}
			out = append(out, e)
		}
	}
	return out
}

func fieldPathNames(fp, container string) bool {
	return strings.HasSuffix(fp, "{"+container+"}")
}
