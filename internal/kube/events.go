package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// Event limits: 50 of a pod's newest events cover a crash loop's back-offs; 500 at most.
const (
	DefaultEventLimit = 50
	MaxEventLimit     = 500
)

// EventsRequest names the object whose events are read.
type EventsRequest struct {
	// Kind of the object (Pod, pod, po, Node…); empty matches any kind with that name.
	Kind string `json:"kind,omitempty"`
	Name string `json:"name"`
	// Namespace of the object; empty searches every namespace (node events live in "default").
	Namespace string `json:"namespace,omitempty"`
	// Limit: default 50, at most 500.
	Limit int `json:"limit,omitempty"`
}

// EventRow is one event, compact.
type EventRow struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Count   int32  `json:"count"`
	First   string `json:"first,omitempty"` // RFC 3339, UTC
	Last    string `json:"last,omitempty"`
	// Source is the component that reported it (kubelet, default-scheduler…) and its host.
	Source string `json:"source,omitempty"`
	// FieldPath names the container for container events: spec.containers{api}.
	FieldPath string `json:"fieldPath,omitempty"`
}

// EventsResult is an object's events, newest first.
type EventsResult struct {
	Kind      string     `json:"kind,omitempty"`
	Name      string     `json:"name"`
	Namespace string     `json:"namespace,omitempty"`
	Items     []EventRow `json:"items"`
	// Total counts the object's events before the limit.
	Total int `json:"total"`
}

// Events reads the core v1 events of one object, newest first. The server filters by a field
// selector, and the result is filtered again here, because a server (or a fake) that ignores
// the selector must not mix in other objects' events.
func (c *Client) Events(ctx context.Context, req EventsRequest) (*EventsResult, error) {
	if req.Name == "" {
		return nil, fmt.Errorf("%w: name of the object whose events to read is required", ErrInput)
	}
	if req.Limit < 0 {
		return nil, fmt.Errorf("%w: limit %d: want 1 to %d (0 for the default %d)", ErrInput, req.Limit, MaxEventLimit, DefaultEventLimit)
	}
	limit := req.Limit
	if limit == 0 {
		limit = DefaultEventLimit
	}
	limit = min(limit, MaxEventLimit)
	kind, listNS, resolved := req.Kind, req.Namespace, false
	if kind != "" {
		// involvedObject.kind is the Kind ("Pod"); an agent may write "pods" or "po".
		// Without discovery (an RBAC that forbids it), the kind is compared as written.
		if r, err := c.Resolve(ctx, kind, ""); err == nil {
			kind, resolved = r.Kind, true
			if !r.Namespaced {
				listNS = "" // a Node's events are recorded in "default", not in its (empty) namespace
			}
		}
	}
	set := fields.Set{"involvedObject.name": req.Name}
	if resolved {
		// Only a resolved Kind goes to the server: "pods" there would match nothing.
		set["involvedObject.kind"] = kind
	}
	if listNS != "" {
		set["involvedObject.namespace"] = listNS
	}
	list, err := c.cs.CoreV1().Events(listNS).List(ctx, metav1.ListOptions{FieldSelector: set.AsSelector().String()})
	if err != nil {
		return nil, c.apiErr(fmt.Sprintf("list events of %s %s", orDefault(kind, "object"), req.Name), err)
	}
	var mine []corev1.Event
	for _, e := range list.Items {
		o := e.InvolvedObject
		if o.Name != req.Name || (kind != "" && !strings.EqualFold(o.Kind, kind)) || (listNS != "" && o.Namespace != listNS) {
			continue
		}
		mine = append(mine, e)
	}
	SortNewestFirst(mine)
	out := &EventsResult{Kind: kind, Name: req.Name, Namespace: listNS, Total: len(mine), Items: make([]EventRow, 0, min(len(mine), limit))}
	for i := range mine[:min(len(mine), limit)] {
		out.Items = append(out.Items, eventRow(&mine[i]))
	}
	return out, nil
}

// EventTime is when an event last happened: lastTimestamp, else its series' last observation,
// else eventTime, firstTimestamp, and creation — the first that is set, as producers fill
// different ones (the kubelet sets lastTimestamp; events.k8s.io writers set eventTime).
func EventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// SortNewestFirst orders events by EventTime, newest first; ties keep their order.
func SortNewestFirst(evs []corev1.Event) {
	sort.SliceStable(evs, func(i, j int) bool { return EventTime(&evs[i]).After(EventTime(&evs[j])) })
}

func eventRow(e *corev1.Event) EventRow {
	r := EventRow{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count, FieldPath: e.InvolvedObject.FieldPath}
	if r.Count == 0 && e.Series != nil {
		r.Count = e.Series.Count
	}
	r.Count = max(r.Count, 1)
	first := e.FirstTimestamp.Time
	if first.IsZero() {
		first = e.EventTime.Time
	}
	if !first.IsZero() {
		r.First = first.UTC().Format(time.RFC3339)
	}
	if last := EventTime(e); !last.IsZero() {
		r.Last = last.UTC().Format(time.RFC3339)
	}
	src := e.Source.Component
	if src == "" {
		src = e.ReportingController
	}
	host := e.Source.Host
	if host == "" {
		host = e.ReportingInstance
	}
	if host != "" && host != src {
		src = strings.TrimPrefix(src+" on "+host, " on ")
	}
	r.Source = src
	return r
}
