package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// The Kubernetes side of a scenario: the pod as `kubectl get pod -o json` shows it and the
// events as `kubectl get events -o json` lists them, written beside the bundle so that an
// offline diagnosis has what the SOP's first step reads from the API.

// event is one aggregated Kubernetes event (the API folds repeats into count/first/last).
type event struct {
	obj         string // "Pod" or "Node"
	typ, reason string
	message     string
	first, last time.Time
	count       int
	container   string
	component   string
}

// event records an occurrence; repeats of the same reason and message fold into one item.
func (b *builder) event(t time.Time, p *pod, typ, reason, msg string) {
	b.recordEvent("Pod", p, typ, reason, msg, t, "kubelet")
}

func (b *builder) nodeEvent(t time.Time, typ, reason, msg, component string) {
	b.recordEvent("Node", nil, typ, reason, msg, t, component)
}

func (b *builder) recordEvent(obj string, p *pod, typ, reason, msg string, t time.Time, component string) {
	if !t.Before(b.n.capture) {
		return
	}
	ctr := ""
	if p != nil {
		ctr = p.container
	}
	for i := range b.events {
		e := &b.events[i]
		if e.obj == obj && e.reason == reason && e.message == msg && e.container == ctr {
			e.count++
			if t.After(e.last) {
				e.last = t
			}
			return
		}
	}
	b.events = append(b.events, event{obj: obj, typ: typ, reason: reason, message: msg, first: t, last: t, count: 1, container: ctr, component: component})
}

type objectMeta struct {
	Name              string            `json:"name"`
	GenerateName      string            `json:"generateName,omitempty"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	CreationTimestamp string            `json:"creationTimestamp,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	OwnerReferences   []ownerRef        `json:"ownerReferences,omitempty"`
}

type ownerRef struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         bool   `json:"controller"`
	BlockOwnerDeletion bool   `json:"blockOwnerDeletion"`
}

type podObj struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   objectMeta     `json:"metadata"`
	Spec       map[string]any `json:"spec"`
	Status     map[string]any `json:"status"`
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ownerOf derives the controller from the pod's name, as the generated names encode it.
func ownerOf(p *pod) (kind, name string) {
	switch p.owner {
	case "DaemonSet", "StatefulSet", "Job":
		return p.owner, ownerName(p)
	}
	return "ReplicaSet", ownerName(p)
}

func ownerName(p *pod) string {
	for i := len(p.name) - 1; i >= 0; i-- {
		if p.name[i] == '-' {
			return p.name[:i]
		}
	}
	return p.name
}

func podJSON(b *builder) ([]byte, error) {
	p, st, n := b.pod, b.status, b.n
	kind, owner := ownerOf(p)
	ownerAPI := "apps/v1"
	if kind == "Job" {
		ownerAPI = "batch/v1"
	}
	ctr := map[string]any{
		"name":                     p.container,
		"image":                    p.image,
		"imagePullPolicy":          "IfNotPresent",
		"terminationMessagePath":   "/dev/termination-log",
		"terminationMessagePolicy": "File",
	}
	if len(p.command) > 0 {
		ctr["command"] = p.command
	}
	res := map[string]any{}
	if p.limitMi > 0 {
		res["limits"] = map[string]string{"memory": fmt.Sprintf("%dMi", p.limitMi), "cpu": "1"}
	}
	if p.requestMi > 0 {
		res["requests"] = map[string]string{"memory": fmt.Sprintf("%dMi", p.requestMi), "cpu": "250m"}
	}
	ctr["resources"] = res
	for k, v := range b.specExtra {
		ctr[k] = v
	}
	spec := map[string]any{
		"nodeName":                      n.host,
		"containers":                    []any{ctr},
		"restartPolicy":                 "Always",
		"terminationGracePeriodSeconds": 30,
		"dnsPolicy":                     "ClusterFirst",
		"serviceAccountName":            "default",
		"schedulerName":                 "default-scheduler",
	}
	if b.volumes != nil {
		spec["volumes"] = b.volumes
	}
	if p.ip == n.ip {
		spec["hostNetwork"] = true
		spec["priorityClassName"] = "system-node-critical"
	}

	cs := map[string]any{
		"name":         p.container,
		"image":        p.image,
		"imageID":      fmt.Sprintf("%s@sha256:%x", imageRepo(p.image), sha256.Sum256([]byte(p.image))),
		"ready":        st.ready,
		"started":      st.running,
		"restartCount": st.restarts,
	}
	if st.containerID != "" {
		cs["containerID"] = "containerd://" + st.containerID
	}
	switch {
	case st.running:
		cs["state"] = map[string]any{"running": map[string]string{"startedAt": rfc(st.startedAt)}}
	default:
		w := map[string]string{"reason": st.waitingReason}
		if st.waitingMessage != "" {
			w["message"] = st.waitingMessage
		}
		cs["state"] = map[string]any{"waiting": w}
	}
	last := map[string]any{}
	if tm := st.term; tm != nil {
		term := map[string]any{
			"exitCode":    tm.exitCode,
			"reason":      tm.reason,
			"startedAt":   rfc(tm.startedAt),
			"finishedAt":  rfc(tm.finishd),
			"containerID": "containerd://" + tm.containerID,
		}
		if tm.message != "" {
			term["message"] = tm.message
		}
		last["terminated"] = term
	}
	cs["lastState"] = last

	ready, readyReason := "True", ""
	if !st.podReady {
		ready, readyReason = "False", "ContainersNotReady"
	}
	if st.podReadyReason != "" {
		readyReason = st.podReadyReason
	}
	cond := func(typ, status, reason string) map[string]any {
		c := map[string]any{"type": typ, "status": status, "lastProbeTime": nil, "lastTransitionTime": rfc(p.created.Add(3 * time.Second))}
		if reason != "" {
			c["reason"] = reason
			if st.podConditionMsg != "" {
				c["message"] = st.podConditionMsg
			}
		}
		return c
	}
	phase := st.podPhase
	if phase == "" {
		phase = "Running"
	}
	status := map[string]any{
		"phase":  phase,
		"hostIP": n.ip,
		"podIP":  p.ip,
		"podIPs": []map[string]string{{"ip": p.ip}},
		"conditions": []any{
			cond("PodReadyToStartContainers", "True", ""),
			cond("Initialized", "True", ""),
			cond("Ready", ready, readyReason),
			cond("ContainersReady", ready, readyReason),
			cond("PodScheduled", "True", ""),
		},
		"startTime":         rfc(p.created),
		"qosClass":          string(p.qos),
		"containerStatuses": []any{cs},
	}
	obj := podObj{
		APIVersion: "v1",
		Kind:       "Pod",
		Metadata: objectMeta{
			Name:              p.name,
			GenerateName:      owner + "-",
			Namespace:         p.ns,
			UID:               p.uid,
			ResourceVersion:   fmt.Sprint(48211000 + int(streamKey(p.uid)%900000)),
			CreationTimestamp: rfc(p.created),
			Labels:            map[string]string{"app.kubernetes.io/name": p.container},
			OwnerReferences: []ownerRef{{APIVersion: ownerAPI, Kind: kind, Name: owner,
				UID: fmt.Sprintf("%016x", streamKey(owner))[:8] + "-" + p.uid[9:], Controller: true, BlockOwnerDeletion: true}},
		},
		Spec:   spec,
		Status: status,
	}
	if kind == "StatefulSet" { // its pods are named by ordinal, not generated
		obj.Metadata.GenerateName = ""
	}
	return marshal(obj)
}

type eventItem struct {
	APIVersion         string            `json:"apiVersion"`
	Kind               string            `json:"kind"`
	Metadata           objectMeta        `json:"metadata"`
	InvolvedObject     map[string]string `json:"involvedObject"`
	Reason             string            `json:"reason"`
	Message            string            `json:"message"`
	Source             map[string]string `json:"source"`
	FirstTimestamp     string            `json:"firstTimestamp"`
	LastTimestamp      string            `json:"lastTimestamp"`
	Count              int               `json:"count"`
	Type               string            `json:"type"`
	EventTime          any               `json:"eventTime"`
	ReportingComponent string            `json:"reportingComponent"`
	ReportingInstance  string            `json:"reportingInstance"`
}

func eventsJSON(b *builder) ([]byte, error) {
	items := []eventItem{}
	for i, e := range b.events {
		inv := map[string]string{"kind": e.obj, "name": b.n.host, "uid": b.n.host, "apiVersion": "v1"}
		name, ns := b.n.host, "default"
		if e.obj == "Pod" {
			p := b.pod
			inv = map[string]string{"kind": "Pod", "namespace": p.ns, "name": p.name, "uid": p.uid, "apiVersion": "v1",
				"resourceVersion": fmt.Sprint(48211000 + int(streamKey(p.uid)%900000)), "fieldPath": "spec.containers{" + e.container + "}"}
			name, ns = p.name, p.ns
		}
		host := b.n.host
		if e.component != "kubelet" {
			host = ""
		}
		items = append(items, eventItem{
			APIVersion: "v1", Kind: "Event",
			Metadata: objectMeta{Name: fmt.Sprintf("%s.%016x", name, streamKey(name, e.reason, e.message, fmt.Sprint(i))>>1),
				Namespace: ns, CreationTimestamp: rfc(e.first), ResourceVersion: fmt.Sprint(48300000 + i)},
			InvolvedObject: inv, Reason: e.reason, Message: e.message,
			Source:         map[string]string{"component": e.component, "host": host},
			FirstTimestamp: rfc(e.first), LastTimestamp: rfc(e.last), Count: e.count, Type: e.typ,
			ReportingComponent: e.component, ReportingInstance: host,
		})
	}
	return marshal(map[string]any{"apiVersion": "v1", "kind": "EventList", "metadata": map[string]string{"resourceVersion": "48399999"}, "items": items})
}

// marshal writes indented JSON without HTML escaping, as kubectl prints it.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}

// imageRepo strips the tag: imageID names the repository and the digest.
func imageRepo(image string) string {
	for i := len(image) - 1; i >= 0 && image[i] != '/'; i-- {
		if image[i] == ':' {
			return image[:i]
		}
	}
	return image
}
