package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
)

// List limits: a page of 100 rows fits an agent's context; 500 is the most one call returns so
// that a cluster with thousands of pods cannot flood it.
const (
	DefaultListLimit = 100
	MaxListLimit     = 500
)

// lastApplied is the annotation kubectl apply writes: a second copy of the whole object, which
// doubles what an agent reads and says nothing the object does not.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// ListRequest selects the objects ListResources lists.
type ListRequest struct {
	// Kind is the kind, plural or short name, any case: Pod, pods, po, Deployment, deploy.
	Kind string `json:"kind"`
	// APIVersion pins the group and version (v1, apps/v1); empty: the preferred one.
	APIVersion string `json:"apiVersion,omitempty"`
	// Namespace; empty lists every namespace. Ignored for cluster-scoped kinds (Node).
	Namespace     string `json:"namespace,omitempty"`
	LabelSelector string `json:"labelSelector,omitempty"`
	FieldSelector string `json:"fieldSelector,omitempty"`
	// Limit is the page size: default 100, at most 500.
	Limit int64 `json:"limit,omitempty"`
	// Continue is the token of the previous page's result.
	Continue string `json:"continue,omitempty"`
}

// ListResult is one page of compact rows.
type ListResult struct {
	Kind       string        `json:"kind"`
	APIVersion string        `json:"apiVersion"`
	Namespace  string        `json:"namespace,omitempty"`
	Items      []ResourceRow `json:"items"`
	// Continue fetches the next page; empty on the last one. The API server's own token, passed
	// back as it came (never redacted).
	Continue string `json:"continue,omitempty" redact:"-"`
	// Total counts every matching object when the server says (or this is the only page).
	Total *int64 `json:"total,omitempty"`
}

// ResourceRow is what `kubectl get -o wide` shows of an object, plus what a crash diagnosis
// needs first: a pod's last termination, a node's instance id.
type ResourceRow struct {
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Created    string `json:"created,omitempty"` // RFC 3339, UTC
	Age        string `json:"age,omitempty"`     // as kubectl prints it: 45s, 12m, 5h, 3d
	// Status is a one-line summary: a pod's state, ready count, restarts and last termination; a
	// node's conditions; a deployment's replicas; else its conditions.
	Status string `json:"status,omitempty"`

	// Pods.
	Phase           string           `json:"phase,omitempty"`
	Ready           string           `json:"ready,omitempty"` // x/y containers, or replicas for workloads
	Restarts        *int32           `json:"restarts,omitempty"`
	Node            string           `json:"node,omitempty"`
	LastTermination *LastTermination `json:"lastTermination,omitempty"`
	// Nodes.
	InstanceID string `json:"instanceId,omitempty"`
}

// LastTermination is how a pod's crash-looping (or most restarted) container last ended.
type LastTermination struct {
	Container string `json:"container"`
	Reason    string `json:"reason,omitempty"`
	ExitCode  int32  `json:"exitCode"`
	Signal    int32  `json:"signal,omitempty"`
	Finished  string `json:"finished,omitempty"`
}

func (c *Client) resource(ctx context.Context, kind, apiVersion string) (Resource, dynamic.NamespaceableResourceInterface, error) {
	if c.dyn == nil {
		return Resource{}, nil, fmt.Errorf("listing or reading kind %q needs a dynamic client; this client was built without one (use NewClient, NewClientForConfig or NewClientWith)", kind)
	}
	r, err := c.Resolve(ctx, kind, apiVersion)
	if err != nil {
		return Resource{}, nil, err
	}
	return r, c.dyn.Resource(r.GVR), nil
}

// ListResources lists one page of objects of a kind as compact rows. Secrets are listed by name
// and type only.
func (c *Client) ListResources(ctx context.Context, req ListRequest) (*ListResult, error) {
	if req.Limit < 0 {
		return nil, fmt.Errorf("%w: limit %d: want 1 to %d (0 for the default %d)", ErrInput, req.Limit, MaxListLimit, DefaultListLimit)
	}
	limit := req.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	r, ri, err := c.resource(ctx, req.Kind, req.APIVersion)
	if err != nil {
		return nil, err
	}
	ns := req.Namespace
	if !r.Namespaced {
		ns = ""
	}
	opts := metav1.ListOptions{LabelSelector: req.LabelSelector, FieldSelector: req.FieldSelector, Limit: limit, Continue: req.Continue}
	if r.GVR.Group == "" && r.GVR.Resource == "secrets" {
		return c.listSecrets(ctx, r, ns, limit, opts)
	}
	var lister dynamic.ResourceInterface = ri
	if r.Namespaced {
		lister = ri.Namespace(ns)
	}
	list, err := lister.List(ctx, opts)
	if err != nil {
		return nil, c.apiErr(fmt.Sprintf("list %s %s", r.GVR.Resource, where(ns)), err)
	}
	now := time.Now()
	return page(r, ns, list.Items, list.GetRemainingItemCount(), req.Continue, list.GetContinue(), limit,
		func(u *unstructured.Unstructured) ResourceRow { return row(u, r, now) }), nil
}

// page is the answer for one page of a list: at most limit rows — a server honours limit; a fake
// or an aggregated API may not, and cutting here keeps the promise, the lost rows counted in
// total — and the total when the server says it (remaining) or this is the only page.
func page[T any](r Resource, ns string, items []T, remaining *int64, asked, next string, limit int64, rowOf func(*T) ResourceRow) *ListResult {
	total := int64(-1)
	if remaining != nil {
		total = int64(len(items)) + *remaining
	} else if asked == "" && next == "" {
		total = int64(len(items))
	}
	if int64(len(items)) > limit {
		items = items[:limit]
	}
	out := &ListResult{Kind: r.Kind, APIVersion: r.APIVersion(), Namespace: ns, Items: make([]ResourceRow, 0, len(items)), Continue: next}
	if total >= 0 {
		out.Total = &total
	}
	for i := range items {
		out.Items = append(out.Items, rowOf(&items[i]))
	}
	return out
}

// listSecrets lists Secrets through the metadata API (PartialObjectMetadataList): the API
// server sends names, labels and times, never the data, so not even this process holds a
// credential. The type is in the object, not its metadata, and is not shown.
func (c *Client) listSecrets(ctx context.Context, r Resource, ns string, limit int64, opts metav1.ListOptions) (*ListResult, error) {
	if c.meta == nil {
		return nil, fmt.Errorf("%w: listing Secrets needs the metadata-only API, which this client was built without (a full list would carry their data)", ErrSecretRefused)
	}
	var lister metadata.ResourceInterface = c.meta.Resource(r.GVR)
	if ns != "" {
		lister = c.meta.Resource(r.GVR).Namespace(ns)
	}
	list, err := lister.List(ctx, opts)
	if err != nil {
		return nil, c.apiErr("list secrets "+where(ns), err)
	}
	now := time.Now()
	return page(r, ns, list.Items, list.RemainingItemCount, opts.Continue, list.Continue, limit, func(m *metav1.PartialObjectMetadata) ResourceRow {
		return baseRow(m.Name, m.Namespace, m.CreationTimestamp, r, now)
	}), nil
}

// baseRow is what every row says: the object's name, kind and age.
func baseRow(name, ns string, created metav1.Time, r Resource, now time.Time) ResourceRow {
	rw := ResourceRow{Name: name, Namespace: ns, Kind: r.Kind, APIVersion: r.APIVersion()}
	if !created.IsZero() {
		rw.Created = created.UTC().Format(time.RFC3339)
		rw.Age = Age(now.Sub(created.Time))
	}
	return rw
}

func where(ns string) string {
	if ns == "" {
		return "in all namespaces"
	}
	return "in namespace " + ns
}

func row(u *unstructured.Unstructured, r Resource, now time.Time) ResourceRow {
	rw := baseRow(u.GetName(), u.GetNamespace(), u.GetCreationTimestamp(), r, now)
	switch {
	case r.GVR.Group == "" && r.GVR.Resource == "pods":
		var p corev1.Pod
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p) == nil {
			podRow(&rw, &p)
			return rw
		}
	case r.GVR.Group == "" && r.GVR.Resource == "nodes":
		var n corev1.Node
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &n) == nil {
			h := Health(&n)
			rw.InstanceID, rw.Status = h.InstanceID, h.Summary()
			return rw
		}
	case r.GVR.Group == "apps" && r.GVR.Resource == "deployments":
		var d appsv1.Deployment
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d) == nil {
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = *d.Spec.Replicas
			}
			rw.Ready = fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, want)
			rw.Status = fmt.Sprintf("ready %s, up-to-date %d, available %d", rw.Ready, d.Status.UpdatedReplicas, d.Status.AvailableReplicas)
			if cs := conditionSummary(u); cs != "" {
				rw.Status += "; " + cs
			}
			return rw
		}
	}
	rw.Status = conditionSummary(u)
	return rw
}

func podRow(rw *ResourceRow, p *corev1.Pod) {
	rw.Phase, rw.Node = string(p.Status.Phase), p.Spec.NodeName
	ready, restarts := 0, int32(0)
	state := string(p.Status.Phase)
	for _, s := range p.Status.ContainerStatuses {
		if s.Ready {
			ready++
		}
		restarts += s.RestartCount
		// kubectl's STATUS column: a container's waiting or terminated reason beats the phase.
		if s.State.Waiting != nil && s.State.Waiting.Reason != "" {
			state = s.State.Waiting.Reason
		} else if s.State.Terminated != nil && s.State.Terminated.Reason != "" && state == string(p.Status.Phase) {
			state = s.State.Terminated.Reason
		}
	}
	if p.DeletionTimestamp != nil {
		state = "Terminating"
	}
	rw.Ready = fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
	rw.Restarts = &restarts
	parts := []string{state, "ready " + rw.Ready, fmt.Sprintf("restarts %d", restarts)}
	if name, err := PickContainer(p, ""); err == nil {
		if t := Terminated(Status(p, name)); t != nil {
			lt := &LastTermination{Container: name, Reason: t.Reason, ExitCode: t.ExitCode, Signal: t.Signal}
			if !t.FinishedAt.IsZero() {
				lt.Finished = t.FinishedAt.UTC().Format(time.RFC3339)
			}
			rw.LastTermination = lt
			parts = append(parts, fmt.Sprintf("last %s %s (exit %d)", name, orDefault(t.Reason, "terminated"), t.ExitCode))
		}
	}
	if rw.Node != "" {
		parts = append(parts, "node "+rw.Node)
	}
	rw.Status = strings.Join(parts, ", ")
}

// orDefault is s, or fallback when s is empty.
func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// conditionSummary is "Type=Status" for each of status.conditions, a condition that is not
// True also naming its reason, so a failing condition reads without a second call.
func conditionSummary(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var parts []string
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		st, _ := m["status"].(string)
		if typ == "" {
			continue
		}
		p := typ + "=" + st
		if reason, _ := m["reason"].(string); st != "True" && reason != "" {
			p += " (" + reason + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// Age renders a duration as kubectl does in its AGE column: seconds under 2 minutes, minutes
// under 2 hours, hours under 2 days, else days.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// isSecret says whether a kind names Secrets, in any spelling an agent might use.
func isSecret(kind string) bool {
	k := strings.ToLower(strings.TrimSpace(kind))
	return k == "secret" || k == "secrets"
}

// ErrSecretRefused marks a request to read a Secret's content.
var ErrSecretRefused = fmt.Errorf("%w: reading Secrets is refused", ErrInput)

// ReadResource reads one object as JSON-shaped data, without metadata.managedFields and the
// last-applied-configuration annotation (bookkeeping that doubles an object's size). A
// namespaced kind without a namespace is read from "default", as kubectl does. Secrets are
// refused: their values are credentials, and nothing in a crash diagnosis needs them (list
// them for names and types).
func (c *Client) ReadResource(ctx context.Context, kind, apiVersion, namespace, name string) (map[string]any, error) {
	if isSecret(kind) {
		return nil, fmt.Errorf("%w: kind %q: a Secret's data is a credential an agent must not see; list_k8s_resources shows Secret names and types", ErrSecretRefused, kind)
	}
	if name == "" {
		return nil, fmt.Errorf("%w: name is required to read a %s", ErrInput, kind)
	}
	r, ri, err := c.resource(ctx, kind, apiVersion)
	if err != nil {
		return nil, err
	}
	// The kind may have been a short name or another group's "Secret"-kinded resource.
	if r.Kind == "Secret" || r.GVR.Resource == "secrets" {
		return nil, fmt.Errorf("%w: %q resolves to %s %s: a Secret's data is a credential an agent must not see", ErrSecretRefused, kind, r.APIVersion(), r.Kind)
	}
	var getter dynamic.ResourceInterface = ri
	if r.Namespaced {
		if namespace == "" {
			namespace = metav1.NamespaceDefault
		}
		getter = ri.Namespace(namespace)
	}
	u, err := getter.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, c.apiErr(fmt.Sprintf("get %s %s", r.Kind, objName(namespace, name, r.Namespaced)), err)
	}
	obj := u.Object
	unstructured.RemoveNestedField(obj, "metadata", "managedFields")
	if ann := u.GetAnnotations(); ann != nil {
		if _, ok := ann[lastApplied]; ok {
			delete(ann, lastApplied)
			if len(ann) == 0 {
				unstructured.RemoveNestedField(obj, "metadata", "annotations")
			} else {
				u.SetAnnotations(ann)
			}
		}
	}
	return obj, nil
}

func objName(ns, name string, namespaced bool) string {
	if namespaced {
		return ns + "/" + name
	}
	return name
}

// sortedKeys is for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
