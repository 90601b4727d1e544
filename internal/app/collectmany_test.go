package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/kube"
)

// fleetAccount is a fake AWS account with n running EKS nodes of cluster prod, the first
// inGroup of them in node group ng-a and the rest in ng-b, each uploading a copy of the example
// bundle, and the bucket eks-logs. The real SDK talks to it over loopback.
func fleetAccount(t *testing.T, n, inGroup int) (*awsfake.Account, *cloud.AWS, []string) {
	t.Helper()
	acct := awsfake.New()
	t.Cleanup(acct.Close)
	data, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("i-0fee7%012x", i)
		ng := "ng-a"
		if i >= inGroup {
			ng = "ng-b"
		}
		acct.AddInstance(awsfake.Instance{ID: id, Region: "us-west-2", State: "running", PrivateDNSName: fmt.Sprintf("ip-10-0-0-%d.us-west-2.compute.internal", i),
			Tags: map[string]string{"eks:cluster-name": "prod", "eks:nodegroup-name": ng}})
		acct.SetBundle(id, data)
		ids = append(ids, id)
	}
	acct.AddBucket("eks-logs")
	return acct, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "eks-logs"}), ids
}

// TestCollectManyConcurrency: 40 nodes at concurrency 5 all start, never more than 5 requests
// reach AWS at once, a node whose start is denied has a row naming the denied action while the
// rest proceed, and the batch, read back from the store, is followed to every bundle indexed.
func TestCollectManyConcurrency(t *testing.T) {
	const n, conc = 40, 5
	acct, aws, ids := fleetAccount(t, n, n)
	acct.Latency = 10 * time.Millisecond // so that concurrent starts overlap at the server
	denied := ids[17]
	acct.Inject(awsfake.Fault{Action: "StartAutomationExecution", Instance: denied, Code: "AccessDeniedException",
		Message: "User: arn:aws:sts::111122223333:assumed-role/oncall/alice is not authorized to perform: ssm:StartAutomationExecution on resource: arn:aws:ssm:us-west-2::automation-definition/AWSSupport-CollectEKSInstanceLogs:$DEFAULT"})
	st := openStore(t)
	col, err := collect.New(st, aws, nil)
	if err != nil {
		t.Fatal(err)
	}
	var targets []app.CollectTarget
	for _, id := range ids {
		targets = append(targets, app.CollectTarget{InstanceID: id})
	}
	var calls atomic.Int32 // Done runs on every start's goroutine
	b, err := app.CollectMany(context.Background(), col, app.CollectManyRequest{Targets: targets, Concurrency: conc, Source: "test",
		Done: func(collect.BatchNode, int, int) { calls.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if m := acct.MaxInFlight(); m > conc || m < 2 {
		t.Errorf("%d requests in flight at most; want 2 to %d", m, conc)
	}
	if c := calls.Load(); c != n {
		t.Errorf("Done called %d times; want %d", c, n)
	}
	started := map[string]bool{}
	for i, node := range b.Nodes {
		if node.InstanceID != ids[i] {
			t.Errorf("row %d is %s; want %s, in the order given", i, node.InstanceID, ids[i])
		}
		if node.InstanceID == denied {
			if node.ExecutionID != "" || !strings.Contains(node.Error, "ssm:StartAutomationExecution") || !strings.Contains(node.Error, "alice") {
				t.Errorf("denied node's row %+v: want no execution and the error naming the action and the principal", node)
			}
			continue
		}
		if node.ExecutionID == "" || node.Error != "" || started[node.ExecutionID] {
			t.Errorf("row %+v: want an execution of its own and no error", node)
		}
		started[node.ExecutionID] = true
	}
	if got := len(acct.Executions()); got != n-1 || len(started) != n-1 {
		t.Errorf("the account ran %d executions, the rows name %d; want %d", got, len(started), n-1)
	}

	// status --batch in a later process: the batch is read back from the store.
	col2, err := collect.New(st, aws, nil)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := col2.LoadBatch(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.Nodes) != n || saved.Nodes[17].Error == "" || saved.Nodes[0].ExecutionID != b.Nodes[0].ExecutionID {
		t.Fatalf("saved batch: %d nodes, %+v; want what CollectMany returned", len(saved.Nodes), saved.Nodes[:1])
	}
	var s *app.BatchStatus
	for round := 0; round < 10; round++ { // the fake's automation ends on its third poll
		if s = app.FollowMany(context.Background(), col2, saved.Nodes, conc); s.Finished() {
			break
		}
	}
	if !s.Finished() || s.Indexed != n-1 || s.Counts[collect.StateCompleted] != n-1 || s.Counts[app.StateNotStarted] != 1 {
		t.Fatalf("after following: counts %v, %d indexed; want %d completed and indexed, 1 not started", s.Counts, s.Indexed, n-1)
	}
	for _, ns := range s.Nodes {
		if ns.State != collect.StateCompleted {
			continue
		}
		e, err := st.Resolve(ns.InstanceID, ns.BundleID)
		if err != nil || e.Manifest.InstanceID != ns.InstanceID {
			t.Errorf("node %s: bundle %s not in the store as its own: %v", ns.InstanceID, ns.BundleID, err)
		}
	}
	if _, err := col2.LoadBatch("batch-nope"); !errors.Is(err, collect.ErrUnknownBatch) || !strings.Contains(err.Error(), b.ID) {
		t.Errorf("unknown batch: %v; want ErrUnknownBatch listing %s", err, b.ID)
	}
}

// TestCollectManyNodegroup: a node group's instances come from one filtered DescribeInstances,
// are not looked up again, and the other group's nodes are left alone; the same idempotency
// token starts nothing twice.
func TestCollectManyNodegroup(t *testing.T) {
	acct, aws, ids := fleetAccount(t, 12, 7)
	acct.AddInstance(awsfake.Instance{ID: "i-0dead00000000000a", Region: "us-west-2", State: "terminated",
		Tags: map[string]string{"eks:cluster-name": "prod", "eks:nodegroup-name": "ng-a"}})
	targets, err := app.NodegroupTargets(context.Background(), aws, "prod", "ng-a", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 7 {
		t.Fatalf("%d targets; want the 7 live instances of ng-a", len(targets))
	}
	for i, tg := range targets {
		if tg.InstanceID != ids[i] || tg.Instance == nil {
			t.Errorf("target %d: %+v; want %s, described", i, tg, ids[i])
		}
	}
	col, err := collect.New(openStore(t), aws, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := app.CollectManyRequest{Targets: targets, Concurrency: 3, IdempotencyToken: "incident-42"}
	b, err := app.CollectMany(context.Background(), col, req)
	if err != nil {
		t.Fatal(err)
	}
	if d := len(acct.RequestsFor("DescribeInstances")); d != 1 {
		t.Errorf("%d DescribeInstances calls; want the node group's listing alone", d)
	}
	again, err := app.CollectMany(context.Background(), col, req)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Nodes {
		if b.Nodes[i].Error != "" || again.Nodes[i].ExecutionID != b.Nodes[i].ExecutionID || !again.Nodes[i].Existing {
			t.Errorf("node %d: first %+v, again %+v; want the same execution, said to be started before", i, b.Nodes[i], again.Nodes[i])
		}
	}
	if got := len(acct.Executions()); got != 7 {
		t.Errorf("%d executions; want 7", got)
	}
	if _, err := app.NodegroupTargets(context.Background(), aws, "prod", "ng-zzz", ""); !errors.Is(err, cloud.ErrInstanceNotFound) || !strings.Contains(err.Error(), "ng-zzz") {
		t.Errorf("an empty node group: %v; want ErrInstanceNotFound naming it", err)
	}
}

// TestSelectorTargets: a label selector picks nodes through the Kubernetes API, each node's
// instance read from its providerID; a node that is no EC2 instance is a row with why.
func TestSelectorTargets(t *testing.T) {
	node := func(name, providerID, role string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"role": role}}, Spec: corev1.NodeSpec{ProviderID: providerID}}
	}
	c := kube.NewClientFrom(fake.NewClientset(
		node("ip-10-0-0-1.ec2.internal", "aws:///us-east-1a/i-0aaaaaaaaaaaaaaa1", "web"),
		node("ip-10-0-0-2.ec2.internal", "aws:///us-east-1b/i-0aaaaaaaaaaaaaaa2", "db"),
		node("fargate-ip-10-0-0-3", "", "web"),
	))
	targets, err := app.SelectorTargets(context.Background(), c, "role=web")
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]app.CollectTarget{}
	for _, tg := range targets {
		by[tg.NodeName] = tg
	}
	web, fg := by["ip-10-0-0-1.ec2.internal"], by["fargate-ip-10-0-0-3"]
	if len(targets) != 2 || web.InstanceID != "i-0aaaaaaaaaaaaaaa1" || web.Region != "us-east-1" || web.Err != "" || fg.InstanceID != "" ||
		!strings.Contains(fg.Err, "fargate-ip-10-0-0-3") {
		t.Errorf("targets %+v; want the web node's instance and the Fargate node with why it cannot be collected", targets)
	}
	if _, err := app.SelectorTargets(context.Background(), c, "role=nothing"); !errors.Is(err, kube.ErrInput) {
		t.Errorf("a selector matching nothing: %v; want kube.ErrInput", err)
	}
	if _, err := app.SelectorTargets(context.Background(), c, "role in (web"); !errors.Is(err, kube.ErrInput) {
		t.Errorf("a selector that does not parse: %v; want kube.ErrInput", err)
	}
}
