package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/kube"
)

// KubeCollect is a collection through the Kubernetes node log API: the node by name, or the node
// whose providerID names InstanceID.
type KubeCollect struct {
	Node, InstanceID string
	Cluster          string        // what the record names the cluster
	Since            time.Duration // how far back to read the journals; 0 is the gatherer's default
	Progress         gather.Progress
	BeforeImport     func(*gather.Result) // called once the node's files are on disk
	Names            CollectNames
}

// CollectNames are a face's spellings of the node and instance parameters.
type CollectNames struct{ Node, Instance string }

var (
	CLICollectNames = CollectNames{Node: "--node", Instance: "--instance-id"}
	MCPCollectNames = CollectNames{Node: "nodeName", Instance: "instanceId"}
)

// CollectKube gathers the node's journals, log files and pod logs through the API server c
// reaches, then imports and indexes them: one call, nothing to poll.
func CollectKube(ctx context.Context, col *collect.Collector, c *kube.Client, req KubeCollect) (*collect.Record, error) {
	node, err := nodeOf(ctx, c, req)
	if err != nil {
		return nil, err
	}
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	opt := gather.KubeOptions{Progress: req.Progress}
	if req.Since > 0 {
		opt.Since = time.Now().Add(-req.Since)
	}
	return col.Gather(ctx, collect.MethodKube, req.Cluster, func(dst string) (*gather.Result, error) {
		res, err := gather.FromNode(ctx, cfg, node, dst, opt)
		if err == nil && req.BeforeImport != nil {
			req.BeforeImport(res)
		}
		return res, err
	})
}

// Check refuses a request that names no node, or names it twice, before any cluster is asked.
func (req KubeCollect) Check() error {
	n := req.Names
	switch {
	case req.Node != "" && req.InstanceID != "":
		return badf("%s and %s both name the node: give one", n.Node, n.Instance)
	case req.Node == "" && req.InstanceID == "":
		return badf("the kube method needs %s (the node's name as `kubectl get nodes` shows it), or %s to find the node whose providerID names it", n.Node, n.Instance)
	}
	return nil
}

// nodeOf is the node to read: the one named, or the one whose providerID names the instance.
func nodeOf(ctx context.Context, c *kube.Client, req KubeCollect) (string, error) {
	n := req.Names
	if err := req.Check(); err != nil {
		return "", err
	}
	if req.Node != "" {
		return req.Node, nil
	}
	nodes, err := c.NodeConditions(ctx)
	if err != nil {
		return "", err
	}
	var names []string
	for _, nd := range nodes {
		if nd.InstanceID == req.InstanceID {
			return nd.Name, nil
		}
		if len(names) < 10 {
			names = append(names, nd.Name+" ("+nd.InstanceID+")")
		}
	}
	more := ""
	if len(nodes) > len(names) {
		more = fmt.Sprintf(" and %d more", len(nodes)-len(names))
	}
	return "", badf("no node of cluster %q has a providerID naming %s; its nodes: %s%s; give %s", req.Cluster, req.InstanceID,
		strings.Join(names, ", "), more, n.Node)
}
