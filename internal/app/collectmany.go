package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/kube"
)

// DefaultCollectConcurrency is how many nodes a batch collection starts at once unless told.
// Starting one is two small AWS calls (ec2:DescribeInstances, ssm:StartAutomationExecution);
// ten keeps a batch of hundreds to seconds and far below SSM's API rate limits, and SSM itself
// queues the automations it runs.
const DefaultCollectConcurrency = 10

// CollectTarget is one node of a batch collection.
type CollectTarget struct {
	InstanceID string
	NodeName   string
	Region     string          // where to look for the instance; "" searches as a single collect does
	Instance   *cloud.Instance // already described (a node group listing): not looked up again
	// Err, when set, is why the node cannot be collected from (a node that is no EC2 instance);
	// it becomes the node's row without any AWS call.
	Err string
}

// CollectManyRequest asks for SSM collections on many nodes.
type CollectManyRequest struct {
	Targets          []CollectTarget
	Source           string // how the nodes were chosen, recorded with the batch
	IdempotencyToken string // per node token+":"+instance, so running the batch again starts nothing twice
	Concurrency      int    // nodes started at once; <= 0 is DefaultCollectConcurrency
	// Done, when set, is called as each node's start ends, from the goroutine that started it.
	Done func(node collect.BatchNode, done, total int)
}

// CollectMany starts the log-collection automation on every target, Concurrency at a time, and
// records the batch in the store (collect.Batch) before the first start and after each, so that
// status --batch follows it even after a crash. A node that cannot be started (not found, not
// an EKS node, not running, denied) is a row with the error and does not stop the others. There
// is no cap on the number of nodes: SSM queues what it cannot run at once.
func CollectMany(ctx context.Context, col *collect.Collector, req CollectManyRequest) (*collect.Batch, error) {
	if len(req.Targets) == 0 {
		return nil, badf("no node to collect from: give instance ids, a node group or a label selector")
	}
	conc := req.Concurrency
	if conc <= 0 {
		conc = DefaultCollectConcurrency
	}
	now := time.Now()
	b := &collect.Batch{ID: collect.NewBatchID(now), Created: now.UTC(), Source: req.Source}
	seen := map[string]bool{}
	var targets []CollectTarget
	for _, t := range req.Targets {
		key := t.InstanceID
		if key == "" {
			key = "node:" + t.NodeName
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		targets = append(targets, t)
		b.Nodes = append(b.Nodes, collect.BatchNode{InstanceID: t.InstanceID, NodeName: t.NodeName, Error: t.Err})
	}
	if err := col.SaveBatch(b); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	done := 0
	finish := func(i int, n collect.BatchNode) {
		mu.Lock()
		b.Nodes[i] = n
		done++
		d := done
		// Saved as each node starts: a crash keeps every execution started so far.
		if err := col.SaveBatch(b); err != nil && n.Error == "" {
			n.Error = "started, but the batch record could not be saved: " + err.Error()
			b.Nodes[i] = n
		}
		mu.Unlock()
		if req.Done != nil {
			req.Done(n, d, len(targets))
		}
	}
	next := eachBounded(ctx, len(targets), conc, func(i int) {
		finish(i, startOne(ctx, col, req, targets[i]))
	})
	for i := next; i < len(targets); i++ {
		finish(i, collect.BatchNode{InstanceID: targets[i].InstanceID, NodeName: targets[i].NodeName,
			Error: fmt.Sprintf("not started: %v", context.Cause(ctx))})
	}
	return b, nil
}

func startOne(ctx context.Context, col *collect.Collector, req CollectManyRequest, t CollectTarget) collect.BatchNode {
	n := collect.BatchNode{InstanceID: t.InstanceID, NodeName: t.NodeName, Error: t.Err}
	if t.Err != "" {
		return n
	}
	if err := ctx.Err(); err != nil {
		n.Error = fmt.Sprintf("not started: %v", context.Cause(ctx))
		return n
	}
	token := ""
	if req.IdempotencyToken != "" {
		token = req.IdempotencyToken + ":" + t.InstanceID
	}
	rec, existing, err := col.Collect(ctx, collect.Request{InstanceID: t.InstanceID, Region: t.Region, IdempotencyToken: token, Instance: t.Instance})
	if err != nil {
		n.Error = err.Error()
		return n
	}
	n.ExecutionID, n.Existing = rec.ExecutionID, existing
	if n.NodeName == "" {
		n.NodeName = rec.NodeName
	}
	return n
}

// SelectorTargets are the nodes a label selector picks, as targets: each node's instance from its
// providerID; a node that is no EC2 instance (Fargate, another cloud) is a target with its Err.
func SelectorTargets(ctx context.Context, c *kube.Client, selector string) ([]CollectTarget, error) {
	nodes, err := c.NodesMatching(ctx, selector)
	if err != nil {
		return nil, err
	}
	out := make([]CollectTarget, 0, len(nodes))
	for _, n := range nodes {
		t := CollectTarget{InstanceID: n.InstanceID, NodeName: n.Name, Region: n.Region}
		if n.InstanceID == "" {
			t.Err = fmt.Sprintf("node %s has providerID %q, which is not an EC2 instance: SSM cannot collect from it (try --method kube --node %s)",
				n.Name, n.ProviderID, n.Name)
		}
		out = append(out, t)
	}
	return out, nil
}

// NodegroupTargets are the instances of an EKS managed node group (cloud.AWS.NodegroupInstances),
// already described, so that starting each costs one call.
func NodegroupTargets(ctx context.Context, aws interface {
	NodegroupInstances(ctx context.Context, cluster, nodegroup, region string) ([]cloud.Instance, error)
}, cluster, nodegroup, region string) ([]CollectTarget, error) {
	if cluster == "" || nodegroup == "" {
		return nil, badf("a node group is named within its cluster: give both --nodegroup and --cluster")
	}
	insts, err := aws.NodegroupInstances(ctx, cluster, nodegroup, region)
	if err != nil {
		return nil, err
	}
	out := make([]CollectTarget, 0, len(insts))
	for i := range insts {
		out = append(out, CollectTarget{InstanceID: insts[i].ID, NodeName: insts[i].PrivateDNSName, Region: insts[i].Region, Instance: &insts[i]})
	}
	return out, nil
}

// NodeStatus is where one node of a batch stands.
type NodeStatus struct {
	InstanceID  string `json:"instanceId,omitempty" yaml:"instanceId,omitempty"`
	NodeName    string `json:"nodeName,omitempty" yaml:"nodeName,omitempty"`
	ExecutionID string `json:"executionId,omitempty" yaml:"executionId,omitempty"`
	// State is the collection's (running, completed, failed, cancelled), or "not started".
	State      string `json:"state" yaml:"state"`
	Phase      string `json:"phase,omitempty" yaml:"phase,omitempty"`
	Step       string `json:"currentStep,omitempty" yaml:"currentStep,omitempty"`
	StepsDone  int    `json:"stepsDone,omitempty" yaml:"stepsDone,omitempty"`
	StepsTotal int    `json:"stepsTotal,omitempty" yaml:"stepsTotal,omitempty"`
	Downloaded int64  `json:"downloaded,omitempty" yaml:"downloaded,omitempty"`
	Size       int64  `json:"size,omitempty" yaml:"size,omitempty"`
	BundleID   string `json:"bundleId,omitempty" yaml:"bundleId,omitempty"`
	// Reason is why the node failed or did not start, or what went wrong following it this time
	// (the next status retries).
	Reason  string   `json:"reason,omitempty" yaml:"reason,omitempty"`
	Missing []string `json:"missing,omitempty" yaml:"missing,omitempty"`
}

// StateNotStarted is the state of a batch node whose collection never started.
const StateNotStarted = "not started"

// BatchStatus is every node of a batch, with counts by state.
type BatchStatus struct {
	BatchID string         `json:"batchId,omitempty" yaml:"batchId,omitempty"`
	Source  string         `json:"source,omitempty" yaml:"source,omitempty"`
	Nodes   []NodeStatus   `json:"nodes" yaml:"nodes"`
	Counts  map[string]int `json:"counts" yaml:"counts"`
	Indexed int            `json:"indexed" yaml:"indexed"` // nodes whose bundle is in the store
}

// StateNotFound is the state of an execution id neither the store nor SSM knows: it has nothing
// left to do.
const StateNotFound = "not found"

// StateUnknown is the state of a node whose record could not be read this time (another process
// holds it, the record is gone); the next status asks again.
const StateUnknown = "unknown"

// Finished reports whether no node has anything left to do, as far as this status could tell.
func (s *BatchStatus) Finished() bool {
	return s.Counts[collect.StateRunning] == 0 && s.Counts[StateUnknown] == 0
}

// FollowMany advances every node's collection as Status does for one (poll the automation,
// download, import), Concurrency nodes at a time, and says where each stands. An error following
// one node is that node's Reason; the others go on.
func FollowMany(ctx context.Context, col *collect.Collector, nodes []collect.BatchNode, concurrency int) *BatchStatus {
	if concurrency <= 0 {
		concurrency = DefaultCollectConcurrency
	}
	out := &BatchStatus{Nodes: make([]NodeStatus, len(nodes)), Counts: map[string]int{}}
	var todo []int // the nodes whose collection started
	for i, n := range nodes {
		if n.ExecutionID == "" {
			out.Nodes[i] = NodeStatus{InstanceID: n.InstanceID, NodeName: n.NodeName, State: StateNotStarted, Reason: n.Error}
			continue
		}
		todo = append(todo, i)
	}
	next := eachBounded(ctx, len(todo), concurrency, func(k int) {
		out.Nodes[todo[k]] = followOne(ctx, col, nodes[todo[k]])
	})
	for _, i := range todo[next:] {
		n := nodes[i]
		out.Nodes[i] = NodeStatus{InstanceID: n.InstanceID, NodeName: n.NodeName, ExecutionID: n.ExecutionID,
			State: collect.StateRunning, Reason: fmt.Sprintf("not followed: %v", context.Cause(ctx))}
	}
	for _, s := range out.Nodes {
		out.Counts[s.State]++
		if s.BundleID != "" {
			out.Indexed++
		}
	}
	return out
}

// followOne advances one started node's collection and says where it stands.
func followOne(ctx context.Context, col *collect.Collector, n collect.BatchNode) NodeStatus {
	s := NodeStatus{InstanceID: n.InstanceID, NodeName: n.NodeName, ExecutionID: n.ExecutionID}
	rec, err := col.Status(ctx, n.ExecutionID, nil)
	if rec != nil {
		s.InstanceID, s.State, s.Phase, s.Step = rec.InstanceID, rec.State, rec.Phase, rec.CurrentStep
		s.StepsDone, s.StepsTotal, s.Downloaded, s.Size = rec.StepsDone, rec.StepsTotal, rec.Downloaded, rec.Size
		s.BundleID, s.Reason, s.Missing = rec.BundleID, rec.FailureReason, rec.Missing
		if s.NodeName == "" {
			s.NodeName = rec.NodeName
		}
	}
	if err != nil {
		switch {
		case errors.Is(err, collect.ErrUnknownExecution):
			s.State = StateNotFound
		case s.State == "":
			s.State = StateUnknown
		}
		s.Reason = err.Error()
	}
	return s
}
