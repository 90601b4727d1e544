package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CrashLoop is a pod with a container in CrashLoopBackOff, and the node it runs on.
type CrashLoop struct {
	Namespace string `json:"namespace" yaml:"namespace"`
	Name      string `json:"name" yaml:"name"`
	Node      string `json:"node,omitempty" yaml:"node,omitempty"`
}

// Bounds of the cluster-wide view: pages of clusterPage pods, at most clusterPages of them. The
// view only has to tell whether crash loops span several nodes, which the first thousands of pods
// tell as well as all of them.
const (
	clusterPage  = 500
	clusterPages = 10
)

// CrashLoops lists the pods of the whole cluster that have a container waiting in
// CrashLoopBackOff. truncated is set when the cluster has more pods than the view reads.
func (c *Client) CrashLoops(ctx context.Context) (loops []CrashLoop, truncated bool, err error) {
	opts := metav1.ListOptions{Limit: clusterPage}
	for page := 0; page < clusterPages; page++ {
		list, err := c.cs.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return loops, false, c.apiErr("list pods in all namespaces", err)
		}
		for i := range list.Items {
			if p := &list.Items[i]; crashLooping(p) {
				loops = append(loops, CrashLoop{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName})
			}
		}
		if list.Continue == "" {
			return loops, false, nil
		}
		opts.Continue = list.Continue
	}
	return loops, true, nil
}

func crashLooping(p *corev1.Pod) bool {
	for _, list := range [][]corev1.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses} {
		for _, s := range list {
			if w := s.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				return true
			}
		}
	}
	return false
}

// clusterView adds the cluster's crash loops to info, or a gap saying why they are missing.
func (c *Client) clusterView(ctx context.Context, info *PodInfo) {
	loops, truncated, err := c.CrashLoops(ctx)
	switch {
	case err != nil:
		info.Gaps = append(info.Gaps, fmt.Sprintf("cluster-wide pod list not read (%v): whether other nodes crash-loop too is unknown", err))
	case truncated:
		info.Gaps = append(info.Gaps, fmt.Sprintf("cluster-wide view cut after %d pods: crash loops of the others are not counted", clusterPage*clusterPages))
	}
	info.ClusterCrashLoops = loops
}
