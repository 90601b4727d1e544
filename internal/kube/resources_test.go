package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
)

const secretValue = "hunter2-do-not-leak"

// cluster is a small cluster: a crash-looping pod, a healthy one with a label, a pod in another
// namespace, a node on EC2, a deployment short of replicas, and a Secret.
type cluster struct {
	crashing, healthy, elsewhere *corev1.Pod
	node                         *corev1.Node
	deploy                       *appsv1.Deployment
	secret                       *corev1.Secret
	created                      time.Time
}

func newCluster() cluster {
	created := time.Now().Add(-(90*time.Minute + 30*time.Second)).Truncate(time.Second)
	meta := func(ns, name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(created)}
	}
	crashing := &corev1.Pod{ObjectMeta: meta("shop", "api-1"), Spec: corev1.PodSpec{NodeName: "ip-10-0-1-23", Containers: []corev1.Container{{Name: "api"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "api", RestartCount: 4,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}}}}}
	healthy := &corev1.Pod{ObjectMeta: meta("shop", "web-1"), Spec: corev1.PodSpec{NodeName: "ip-10-0-1-23", Containers: []corev1.Container{{Name: "web"}, {Name: "proxy"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true}, {Name: "proxy", Ready: true}}}}
	healthy.Labels = map[string]string{"app": "web"}
	elsewhere := &corev1.Pod{ObjectMeta: meta("ops", "cron-1"), Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	node := &corev1.Node{ObjectMeta: meta("", "ip-10-0-1-23"), Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/i-0123456789abcdef0"},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue, Reason: "KubeletHasInsufficientMemory"}}}}
	three := int32(3)
	deploy := &appsv1.Deployment{ObjectMeta: meta("shop", "api"), Spec: appsv1.DeploymentSpec{Replicas: &three},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable"}}}}
	secret := &corev1.Secret{ObjectMeta: meta("shop", "db-password"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte(secretValue)}}
	return cluster{crashing, healthy, elsewhere, node, deploy, secret, created}
}

func (c cluster) objects() []runtime.Object {
	return []runtime.Object{c.crashing, c.healthy, c.elsewhere, c.node, c.deploy, c.secret}
}

func names(rows []kube.ResourceRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Namespace+"/"+r.Name)
	}
	slices.Sort(out)
	return out
}

func TestListResources(t *testing.T) {
	c := newCluster()
	tests := []struct {
		name      string
		req       kube.ListRequest
		want      []string // namespace/name, sorted
		kind      string
		wantErr   string
		checkRows func(t *testing.T, rows []kube.ResourceRow)
	}{
		{name: "plural in a namespace", req: kube.ListRequest{Kind: "pods", Namespace: "shop"}, want: []string{"shop/api-1", "shop/web-1"}, kind: "Pod"},
		{name: "short name and label selector", req: kube.ListRequest{Kind: "po", Namespace: "shop", LabelSelector: "app=web"}, want: []string{"shop/web-1"}, kind: "Pod"},
		{name: "kind any case with apiVersion, all namespaces", req: kube.ListRequest{Kind: "POD", APIVersion: "v1"}, want: []string{"ops/cron-1", "shop/api-1", "shop/web-1"}, kind: "Pod"},
		{name: "crash-looping pod row", req: kube.ListRequest{Kind: "Pod", Namespace: "shop", LabelSelector: "!app"}, want: []string{"shop/api-1"}, kind: "Pod",
			checkRows: func(t *testing.T, rows []kube.ResourceRow) {
				r, st := rows[0], c.crashing.Status.ContainerStatuses[0]
				lt := st.LastTerminationState.Terminated
				if r.LastTermination == nil || r.LastTermination.Reason != lt.Reason || r.LastTermination.ExitCode != lt.ExitCode || r.LastTermination.Container != st.Name {
					t.Errorf("last termination %+v, want %s %s exit %d", r.LastTermination, st.Name, lt.Reason, lt.ExitCode)
				}
				if r.Restarts == nil || *r.Restarts != st.RestartCount || r.Ready != "0/1" || r.Node != c.crashing.Spec.NodeName || r.Phase != string(corev1.PodRunning) {
					t.Errorf("row %+v", r)
				}
				if !strings.HasPrefix(r.Status, st.State.Waiting.Reason) {
					t.Errorf("status %q does not lead with %s", r.Status, st.State.Waiting.Reason)
				}
				if r.Created != c.created.UTC().Format(time.RFC3339) || r.Age != "90m" {
					t.Errorf("created %q age %q; want %s, 90m", r.Created, r.Age, c.created.UTC().Format(time.RFC3339))
				}
			}},
		{name: "node with instance id and pressure", req: kube.ListRequest{Kind: "no", Namespace: "ignored"}, want: []string{"/ip-10-0-1-23"}, kind: "Node",
			checkRows: func(t *testing.T, rows []kube.ResourceRow) {
				if rows[0].InstanceID != "i-0123456789abcdef0" || !strings.Contains(rows[0].Status, "MemoryPressure=True (KubeletHasInsufficientMemory)") {
					t.Errorf("node row %+v", rows[0])
				}
			}},
		{name: "deployment ready of desired", req: kube.ListRequest{Kind: "deploy", APIVersion: "apps/v1", Namespace: "shop"}, want: []string{"shop/api"}, kind: "Deployment",
			checkRows: func(t *testing.T, rows []kube.ResourceRow) {
				if rows[0].Ready != "2/3" || !strings.Contains(rows[0].Status, "Available=False (MinimumReplicasUnavailable)") {
					t.Errorf("deployment row %+v", rows[0])
				}
			}},
		// Listed from the metadata API: the data never reaches the process (TestSecretsListedAsMetadata).
		{name: "secrets: names only", req: kube.ListRequest{Kind: "secrets", Namespace: "shop"}, want: []string{"shop/db-password"}, kind: "Secret"},
		{name: "limit cuts a page the server did not", req: kube.ListRequest{Kind: "pods", Namespace: "shop", Limit: 1}, want: []string{"shop/api-1"}, kind: "Pod"},
		{name: "typo lists close kinds", req: kube.ListRequest{Kind: "Deploymnet"}, wantErr: "Deployment (apps/v1)"},
		{name: "kind not in that group", req: kube.ListRequest{Kind: "pods", APIVersion: "apps/v1"}, wantErr: "no kind \"pods\" in apps/v1"},
		{name: "negative limit", req: kube.ListRequest{Kind: "pods", Limit: -1}, wantErr: "limit -1"},
		{name: "no kind", req: kube.ListRequest{}, wantErr: "kind is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := kubetest.New(c.objects()...).Client.ListResources(context.Background(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, kube.ErrInput) {
					t.Fatalf("err %v, want an ErrInput containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(res.Items); !slices.Equal(got, tt.want) {
				t.Fatalf("rows %v, want %v", got, tt.want)
			}
			if res.Kind != tt.kind {
				t.Errorf("kind %q, want %q", res.Kind, tt.kind)
			}
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), secretValue) || strings.Contains(string(b), "aHVudGVy") {
				t.Errorf("a list result carries secret data: %s", b)
			}
			if tt.checkRows != nil {
				tt.checkRows(t, res.Items)
			}
		})
	}
}

func TestReadResource(t *testing.T) {
	c := newCluster()
	applied := c.crashing.DeepCopy()
	applied.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"big":"copy"}`, "team": "payments"}
	applied.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	onlyApplied := c.healthy.DeepCopy()
	onlyApplied.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
	objs := []runtime.Object{applied, onlyApplied, c.node, c.deploy, c.secret}

	tests := []struct {
		name                         string
		kind, apiVersion, ns, object string
		wantAnnotations              map[string]any // nil: no annotations key
		wantErr                      error
	}{
		{"managed fields and last-applied stripped", "Pod", "v1", "shop", "api-1", map[string]any{"team": "payments"}, nil},
		{"annotations emptied are removed", "pods", "", "shop", "web-1", nil, nil},
		{"cluster-scoped node ignores namespace", "node", "", "shop", "ip-10-0-1-23", nil, nil},
		{"deployment by short name", "deploy", "apps/v1", "shop", "api", nil, nil},
		{"Secret refused", "Secret", "v1", "shop", "db-password", nil, kube.ErrSecretRefused},
		{"secrets refused with any apiVersion", "secrets", "apps/v1", "shop", "db-password", nil, kube.ErrSecretRefused},
		{"secret refused whatever the case and spaces", " SECRET ", "", "shop", "db-password", nil, kube.ErrSecretRefused},
		{"no name", "Pod", "", "shop", "", nil, kube.ErrInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := kubetest.New(objs...)
			obj, err := f.Client.ReadResource(context.Background(), tt.kind, tt.apiVersion, tt.ns, tt.object)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				if b, _ := json.Marshal(obj); strings.Contains(string(b), secretValue) {
					t.Fatal("secret data returned")
				}
				// A refusal is decided before any request: nothing was read from the cluster.
				if n := len(f.Dynamic.Actions()); tt.wantErr == kube.ErrSecretRefused && n != 0 {
					t.Errorf("%d dynamic actions for a refused Secret", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			md, _ := obj["metadata"].(map[string]any)
			if md["name"] != tt.object {
				t.Fatalf("metadata.name %v, want %s", md["name"], tt.object)
			}
			if _, ok := md["managedFields"]; ok {
				t.Error("managedFields kept")
			}
			ann, has := md["annotations"]
			if tt.wantAnnotations == nil && has {
				t.Errorf("annotations %v, want none", ann)
			}
			if tt.wantAnnotations != nil {
				got, _ := ann.(map[string]any)
				if len(got) != len(tt.wantAnnotations) || got["team"] != tt.wantAnnotations["team"] {
					t.Errorf("annotations %v, want %v", got, tt.wantAnnotations)
				}
			}
		})
	}
	if _, err := kubetest.New(objs...).Client.ReadResource(context.Background(), "Pod", "", "shop", "absent"); err == nil || !strings.Contains(err.Error(), "shop/absent") {
		t.Errorf("a missing pod: %v", err)
	}
	// Without a dynamic client the generic calls say what is missing instead of panicking.
	if _, err := kube.NewClientFrom(kubetest.New().Clientset).ReadResource(context.Background(), "Pod", "", "shop", "api-1"); err == nil || !strings.Contains(err.Error(), "dynamic client") {
		t.Errorf("no dynamic client: %v", err)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {45 * time.Second, "45s"}, {119 * time.Second, "119s"}, {2 * time.Minute, "2m"},
		{119 * time.Minute, "119m"}, {2 * time.Hour, "2h"}, {47 * time.Hour, "47h"}, {49 * time.Hour, "2d"},
	}
	for _, tt := range tests {
		if got := kube.Age(tt.d); got != tt.want {
			t.Errorf("Age(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// BenchmarkListResources lists a full page of crash-looping pods: the dynamic list, the typed
// conversion of each row and its summary.
func BenchmarkListResources(b *testing.B) {
	c := newCluster()
	var objs []runtime.Object
	for i := range kube.MaxListLimit {
		p := c.crashing.DeepCopy()
		p.Name = "api-" + strconv.Itoa(i)
		objs = append(objs, p)
	}
	client := kubetest.New(objs...).Client
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		res, err := client.ListResources(ctx, kube.ListRequest{Kind: "pods", Namespace: "shop", Limit: kube.MaxListLimit})
		if err != nil || len(res.Items) != kube.MaxListLimit {
			b.Fatalf("%d rows, %v", len(res.Items), err)
		}
	}
}

// TestSecretsListedAsMetadata: listing Secrets asks the metadata API (which answers
// PartialObjectMetadata, never data) and not the dynamic client (whose list carries the data).
func TestSecretsListedAsMetadata(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: "shop"}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"password": []byte("hunter2hunter2")}}
	f := kubetest.New(secret)
	res, err := f.Client.ListResources(context.Background(), kube.ListRequest{Kind: "secret", Namespace: "shop"})
	if err != nil || len(res.Items) != 1 || res.Items[0].Name != "db-password" {
		t.Fatalf("list secrets: %+v %v", res, err)
	}
	for _, a := range f.Dynamic.Actions() {
		if a.GetResource().Resource == "secrets" {
			t.Errorf("the dynamic client was asked %s secrets: its answer carries their data", a.GetVerb())
		}
	}
	listed := false
	for _, a := range f.Metadata.Actions() {
		listed = listed || (a.GetVerb() == "list" && a.GetResource().Resource == "secrets")
	}
	if !listed {
		t.Error("the metadata API was not asked for the Secrets")
	}
	if b, _ := json.Marshal(res); strings.Contains(string(b), "hunter2") {
		t.Errorf("the list shows the Secret's data: %s", b)
	}
	if _, err := kube.NewClientWith(f.Clientset, f.Dynamic).ListResources(context.Background(), kube.ListRequest{Kind: "secrets", Namespace: "shop"}); !errors.Is(err, kube.ErrSecretRefused) {
		t.Errorf("without the metadata API: %v, want the list refused rather than read whole", err)
	}
}
