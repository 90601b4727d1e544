package kube_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
)

// timedEvent is an event of api-1 and the one time field its producer set.
type timedEvent struct {
	reason string
	field  string // last, eventTime, first, created
	at     time.Duration
}

func buildEvent(base time.Time, ns, kind, name string, te timedEvent) *corev1.Event {
	e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "." + te.reason}, Reason: te.reason, Type: corev1.EventTypeWarning,
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: ns, FieldPath: "spec.containers{api}"},
		Source:         corev1.EventSource{Component: "kubelet", Host: "ip-10-0-1-23"}, Count: 2}
	t := base.Add(te.at)
	switch te.field {
	case "last":
		e.LastTimestamp = metav1.NewTime(t)
	case "eventTime":
		e.EventTime = metav1.NewMicroTime(t)
	case "first":
		e.FirstTimestamp = metav1.NewTime(t)
	case "created":
		e.CreationTimestamp = metav1.NewTime(t)
	}
	return e
}

func TestEvents(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 26, 0, 0, time.UTC)
	mine := []timedEvent{{"Killing", "last", 10 * time.Second}, {"BackOff", "eventTime", 20 * time.Second}, {"Pulled", "first", 5 * time.Second}, {"Scheduled", "created", time.Second}}
	// Expected order derived from the times built, newest first.
	byTime := slices.Clone(mine)
	slices.SortFunc(byTime, func(a, b timedEvent) int { return int(b.at - a.at) })
	var newestFirst []string
	for _, e := range byTime {
		newestFirst = append(newestFirst, e.reason)
	}
	var objs []runtime.Object
	for _, te := range mine {
		objs = append(objs, buildEvent(base, "shop", "Pod", "api-1", te))
	}
	objs = append(objs,
		buildEvent(base, "shop", "Pod", "web-1", timedEvent{"OtherPod", "last", time.Hour}),
		buildEvent(base, "ops", "Pod", "api-1", timedEvent{"OtherNamespace", "last", time.Hour}),
		buildEvent(base, "shop", "Deployment", "api-1", timedEvent{"OtherKind", "last", time.Hour}),
		buildEvent(base, "default", "Node", "ip-10-0-1-23", timedEvent{"SystemOOM", "last", time.Minute}))

	tests := []struct {
		name       string
		req        kube.EventsRequest
		want       []string
		total      int
		selectorIn string
		wantErr    bool
	}{
		{name: "pod events newest first", req: kube.EventsRequest{Kind: "Pod", Name: "api-1", Namespace: "shop"}, want: newestFirst, total: len(mine), selectorIn: "involvedObject.kind=Pod"},
		{name: "short kind resolves", req: kube.EventsRequest{Kind: "po", Name: "api-1", Namespace: "shop"}, want: newestFirst, total: len(mine), selectorIn: "involvedObject.kind=Pod"},
		{name: "limit keeps the newest", req: kube.EventsRequest{Kind: "pods", Name: "api-1", Namespace: "shop", Limit: 2}, want: newestFirst[:2], total: len(mine), selectorIn: "involvedObject.namespace=shop"},
		{name: "no kind: any kind of that name", req: kube.EventsRequest{Name: "api-1", Namespace: "shop"}, want: append([]string{"OtherKind"}, newestFirst...), total: len(mine) + 1, selectorIn: "involvedObject.name=api-1"},
		{name: "node events from any namespace", req: kube.EventsRequest{Kind: "node", Name: "ip-10-0-1-23", Namespace: "shop"}, want: []string{"SystemOOM"}, total: 1, selectorIn: "involvedObject.kind=Node"},
		{name: "no name", req: kube.EventsRequest{Kind: "Pod"}, wantErr: true},
		{name: "negative limit", req: kube.EventsRequest{Name: "api-1", Limit: -3}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := kubetest.New(objs...)
			var selector string
			f.Clientset.PrependReactor("list", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
				selector = a.(k8stesting.ListAction).GetListRestrictions().Fields.String()
				return false, nil, nil
			})
			res, err := f.Client.Events(context.Background(), tt.req)
			if tt.wantErr {
				if !errors.Is(err, kube.ErrInput) {
					t.Fatalf("err %v, want ErrInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range res.Items {
				got = append(got, e.Reason)
			}
			if !slices.Equal(got, tt.want) || res.Total != tt.total {
				t.Errorf("events %v (total %d), want %v (total %d)", got, res.Total, tt.want, tt.total)
			}
			if !strings.Contains(selector, tt.selectorIn) {
				t.Errorf("field selector %q lacks %q", selector, tt.selectorIn)
			}
		})
	}
}

func TestEventRow(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 26, 0, 0, time.UTC)
	kubelet := buildEvent(base, "shop", "Pod", "api-1", timedEvent{"BackOff", "last", 30 * time.Second})
	kubelet.FirstTimestamp = metav1.NewTime(base)
	kubelet.Message = "Back-off restarting failed container api"
	// An events.k8s.io writer: eventTime, reportingController and a series instead of count.
	newAPI := buildEvent(base, "shop", "Pod", "api-1", timedEvent{"Unhealthy", "eventTime", 0})
	newAPI.Source, newAPI.Count = corev1.EventSource{}, 0
	newAPI.ReportingController, newAPI.ReportingInstance = "kubelet", "ip-10-0-1-24"
	newAPI.Series = &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(base.Add(time.Minute))}
	tests := []struct {
		name string
		ev   *corev1.Event
		want kube.EventRow
	}{
		{"core v1 from the kubelet", kubelet, kube.EventRow{Type: kubelet.Type, Reason: kubelet.Reason, Message: kubelet.Message, Count: kubelet.Count,
			First: base.Format(time.RFC3339), Last: base.Add(30 * time.Second).Format(time.RFC3339),
			Source: "kubelet on ip-10-0-1-23", FieldPath: kubelet.InvolvedObject.FieldPath}},
		{"series and reporting controller", newAPI, kube.EventRow{Type: newAPI.Type, Reason: newAPI.Reason, Count: 7,
			First: base.Format(time.RFC3339), Last: base.Add(time.Minute).Format(time.RFC3339),
			Source: "kubelet on ip-10-0-1-24", FieldPath: newAPI.InvolvedObject.FieldPath}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := kubetest.New(tt.ev).Client.Events(context.Background(), kube.EventsRequest{Kind: "Pod", Name: "api-1", Namespace: "shop"})
			if err != nil || len(res.Items) != 1 {
				t.Fatalf("%v, %v", res, err)
			}
			if res.Items[0] != tt.want {
				t.Errorf("row %+v\nwant %+v", res.Items[0], tt.want)
			}
		})
	}
	// Without discovery (RBAC may forbid it) the kind is compared as written, any case.
	f := kubetest.New(kubelet)
	f.Clientset.Resources = nil
	res, err := f.Client.Events(context.Background(), kube.EventsRequest{Kind: "pod", Name: "api-1", Namespace: "shop"})
	if err != nil || len(res.Items) != 1 {
		t.Errorf("without discovery: %v, %v", res, err)
	}
}

func TestNodeOf(t *testing.T) {
	c := newCluster()
	unscheduled := c.elsewhere
	labelled := c.node.DeepCopy()
	labelled.Name = "labelled"
	labelled.Labels = map[string]string{corev1.LabelTopologyZone: "eu-west-1b", corev1.LabelTopologyRegion: "eu-west-1"}
	onLabelled := c.healthy.DeepCopy()
	onLabelled.Spec.NodeName = "labelled"
	gce := c.node.DeepCopy()
	gce.Name, gce.Spec.ProviderID = "gke-1", "gce://proj/us-central1-a/gke-1"
	onGCE := c.healthy.DeepCopy()
	onGCE.Name, onGCE.Spec.NodeName = "on-gce", "gke-1"
	gone := c.healthy.DeepCopy()
	gone.Name, gone.Spec.NodeName = "orphan", "ip-10-9-9-9"
	objs := []runtime.Object{c.crashing, unscheduled, c.node, labelled, onLabelled, gce, onGCE, gone}

	tests := []struct {
		name, ns, pod string
		want          kube.NodeRef
		wantErr       string
	}{
		{"zone from providerID", "shop", "api-1", kube.NodeRef{Name: c.node.Name, ProviderID: c.node.Spec.ProviderID, InstanceID: "i-0123456789abcdef0", Zone: "us-west-2a", Region: "us-west-2"}, ""},
		{"zone and region from labels", "shop", "web-1", kube.NodeRef{Name: "labelled", ProviderID: c.node.Spec.ProviderID, InstanceID: "i-0123456789abcdef0", Zone: "eu-west-1b", Region: "eu-west-1"}, ""},
		{"unscheduled", "ops", "cron-1", kube.NodeRef{}, "not scheduled"},
		{"node deleted", "shop", "orphan", kube.NodeRef{}, "ip-10-9-9-9, which no longer exists"},
		{"not AWS", "shop", "on-gce", kube.NodeRef{}, "not an EC2 instance"},
		{"pod missing", "shop", "absent", kube.NodeRef{}, "get pod shop/absent"},
		{"no namespace", "", "api-1", kube.NodeRef{}, "want a namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kubetest.New(objs...).Client.NodeOf(context.Background(), tt.ns, tt.pod)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NodeOf = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNodeConditions(t *testing.T) {
	node := func(name string, conds ...corev1.NodeCondition) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/i-0" + name},
			Status: corev1.NodeStatus{Conditions: conds}}
	}
	cond := func(typ corev1.NodeConditionType, st corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: typ, Status: st, Reason: reason, Message: reason + " message", LastTransitionTime: metav1.NewTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))}
	}
	nodes := []*corev1.Node{
		node("aaa", cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"), cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory")),
		node("bbb", cond(corev1.NodeReady, corev1.ConditionFalse, "KubeletNotReady")),
		node("ccc", cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"), cond(corev1.NodeDiskPressure, corev1.ConditionTrue, "KubeletHasDiskPressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionTrue, "KubeletHasInsufficientPID")),
		node("ddd", cond(corev1.NodeReady, corev1.ConditionUnknown, "NodeStatusUnknown"), cond(corev1.NodeNetworkUnavailable, corev1.ConditionTrue, "NoRouteCreated")),
		node("eee"),
	}
	want := map[string]string{ // name → Why; "" healthy
		"aaa": "",
		"bbb": "Ready=False (KubeletNotReady)",
		"ccc": "DiskPressure=True (KubeletHasDiskPressure); PIDPressure=True (KubeletHasInsufficientPID)",
		"ddd": "Ready=Unknown (NodeStatusUnknown); NetworkUnavailable=True (NoRouteCreated)",
		"eee": "Ready not reported",
	}
	var objs []runtime.Object
	for _, n := range nodes {
		objs = append(objs, n)
	}
	f := kubetest.New(objs...)
	// The fake ignores limit and continue; this reactor pages two nodes at a time as a server
	// with a small page would, so the loop must follow the tokens to see them all.
	var calls []metav1.ListOptions
	f.Clientset.PrependReactor("list", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).ListOptions
		calls = append(calls, opts)
		start := 0
		if opts.Continue != "" {
			start = int(opts.Continue[0] - '0')
		}
		end := min(start+2, len(nodes))
		list := &corev1.NodeList{}
		for _, n := range nodes[start:end] {
			list.Items = append(list.Items, *n)
		}
		if end < len(nodes) {
			list.Continue = string(rune('0' + end))
		}
		return true, list, nil
	})
	got, err := f.Client.NodeConditions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || len(got) != len(nodes) {
		t.Fatalf("%d list calls, %d nodes; want 3 pages and %d nodes", len(calls), len(got), len(nodes))
	}
	for _, h := range got {
		w, ok := want[h.Name]
		if !ok || h.Why != w || h.Unhealthy != (w != "") || h.InstanceID != "i-0"+h.Name {
			t.Errorf("%s: unhealthy %t why %q instance %q; want why %q", h.Name, h.Unhealthy, h.Why, h.InstanceID, w)
		}
	}
	if r := got[1].Ready; r == nil || r.Reason != "KubeletNotReady" || r.Message != "KubeletNotReady message" || r.LastTransition != "2026-11-20T10:00:00Z" {
		t.Errorf("bbb Ready %+v", r)
	}
}
