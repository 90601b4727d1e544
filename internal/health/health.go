// Package health answers "are this cluster's nodes well?" from two views that fail
// independently: AWS (the EKS cluster, its node groups, the EC2 instances and their SSM status)
// and the Kubernetes API (each node's Ready and pressure conditions). Either view alone is an
// answer; what one could not read is a gap, never a failure of the other.
package health

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/kube"
)

// AWSView is the AWS side; *eks.Client is the real one.
type AWSView interface {
	ClusterHealth(ctx context.Context, clusterName string) (*eks.ClusterHealth, error)
}

// KubeView hands out a Kubernetes client for a cluster name; *kube.Clusters is the real one.
type KubeView interface {
	Client(ctx context.Context, clusterName string) (*kube.Client, error)
}

// ErrNotConfigured reports that neither view was given.
var ErrNotConfigured = errors.New("cluster health is not configured")

// Report is both views merged.
type Report struct {
	Cluster string             `json:"cluster"`
	AWS     *eks.ClusterHealth `json:"aws,omitempty" jsonschema:"the EKS cluster, node groups and EC2 instances with SSM status"`
	Nodes   []kube.NodeHealth  `json:"nodes,omitempty" jsonschema:"each node's conditions from the Kubernetes API"`
	// Unhealthy merges both views: cluster, nodegroup/NAME, instance/ID and node/NAME subjects.
	Unhealthy []eks.Problem `json:"unhealthy"`
	Gaps      []string      `json:"gaps,omitempty"`
}

// Check reads whichever views are given (nil: not configured) and merges them. It fails only when
// no view could be read at all.
func Check(ctx context.Context, cluster string, aws AWSView, kv KubeView) (*Report, error) {
	if aws == nil && kv == nil {
		return nil, fmt.Errorf("%w: it needs AWS credentials and region (AWS_PROFILE/AWS_REGION, or an instance role) for the "+
			"EKS, EC2 and SSM view, or cluster access (--kubeconfig) for the nodes' conditions, or both", ErrNotConfigured)
	}
	r := &Report{Cluster: cluster, Unhealthy: []eks.Problem{}}
	var awsErr, kubeErr error
	if aws != nil {
		if cluster == "" {
			awsErr = errors.New("clusterName is required for the AWS view (the EKS cluster's name)")
		} else {
			r.AWS, awsErr = aws.ClusterHealth(ctx, cluster)
		}
		if awsErr != nil {
			r.Gaps = append(r.Gaps, "AWS: "+awsErr.Error())
		} else {
			r.Unhealthy = append(r.Unhealthy, r.AWS.Unhealthy...)
			r.Gaps = append(r.Gaps, r.AWS.Gaps...)
		}
	} else {
		r.Gaps = append(r.Gaps, "AWS view not configured (needs AWS credentials and region): no node groups, EC2 state or SSM status")
	}
	if kv != nil {
		var c *kube.Client
		if c, kubeErr = kv.Client(ctx, cluster); kubeErr == nil {
			r.Nodes, kubeErr = c.NodeConditions(ctx)
		}
		if kubeErr != nil {
			r.Gaps = append(r.Gaps, "Kubernetes: "+kubeErr.Error())
		}
		for _, n := range r.Nodes {
			if !n.Unhealthy {
				continue
			}
			why := n.Why
			if r.AWS != nil {
				// The node's own reason, with what AWS knows of its instance: a NotReady node
				// whose SSM agent is gone cannot be collected from either.
				if inst, ok := r.AWS.Instance(n.InstanceID); ok && inst.SSMPingStatus != "" {
					why += fmt.Sprintf(" (EC2 %s, SSM %s)", inst.State, inst.SSMPingStatus)
				}
			}
			r.Unhealthy = append(r.Unhealthy, eks.Problem{Subject: "node/" + n.Name, Why: why})
		}
	} else {
		r.Gaps = append(r.Gaps, "Kubernetes view not configured (--kubeconfig): no node conditions")
	}
	if (aws == nil || awsErr != nil) && (kv == nil || kubeErr != nil) {
		return nil, fmt.Errorf("health of cluster %q: nothing could be read: %s", cluster, strings.Join(r.Gaps, "; "))
	}
	return r, nil
}
