package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// nodePage is the page size of a node listing: big enough that most clusters take one call,
// small enough that a 5,000-node cluster does not arrive in one response.
const nodePage = 500

// NodeRef is the node a pod runs on and the EC2 instance behind it, which is what a node-log
// collection is asked for.
type NodeRef struct {
	Name       string `json:"name"`
	ProviderID string `json:"providerId"`
	InstanceID string `json:"instanceId"`
	Zone       string `json:"zone,omitempty"`
	Region     string `json:"region,omitempty"`
}

// NodeOf finds the pod's node and the node's EC2 instance id from spec.providerID. It fails,
// saying which, when the pod is not scheduled, its node is gone, or the node is not an EC2
// instance (Fargate, another cloud, kind).
func (c *Client) NodeOf(ctx context.Context, namespace, pod string) (NodeRef, error) {
	if namespace == "" || pod == "" {
		return NodeRef{}, fmt.Errorf("%w: want a namespace and a pod name, got namespace %q pod %q", ErrInput, namespace, pod)
	}
	p, err := c.cs.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return NodeRef{}, c.apiErr(fmt.Sprintf("get pod %s/%s", namespace, pod), err)
	}
	if p.Spec.NodeName == "" {
		return NodeRef{}, fmt.Errorf("pod %s/%s is not scheduled to a node (spec.nodeName is empty; phase %s): there are no node logs to read", namespace, pod, p.Status.Phase)
	}
	n, err := c.cs.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return NodeRef{}, fmt.Errorf("pod %s/%s ran on node %s, which no longer exists (scaled in or replaced): its instance id is not in the API; look for the instance in EC2 by its private DNS name %s: %w", namespace, pod, p.Spec.NodeName, p.Spec.NodeName, err)
	}
	if err != nil {
		return NodeRef{}, c.apiErr("get node "+p.Spec.NodeName, err)
	}
	ref := NodeRef{Name: n.Name, ProviderID: n.Spec.ProviderID, InstanceID: InstanceID(n.Spec.ProviderID)}
	ref.Zone, ref.Region = zoneRegion(n)
	if ref.InstanceID == "" {
		return ref, fmt.Errorf("node %s of pod %s/%s has providerID %q, which is not an EC2 instance (want aws:///ZONE/i-…; Fargate and other clouds have no instance to collect logs from)", n.Name, namespace, pod, n.Spec.ProviderID)
	}
	return ref, nil
}

// zoneRegion reads the zone from the topology labels, else from the providerID
// (aws:///us-west-2a/i-…); the region from its label, else the zone without its letter.
func zoneRegion(n *corev1.Node) (zone, region string) {
	zone = n.Labels[corev1.LabelTopologyZone]
	region = n.Labels[corev1.LabelTopologyRegion]
	if zone == "" {
		if rest, ok := strings.CutPrefix(n.Spec.ProviderID, "aws:///"); ok {
			if z, _, ok := strings.Cut(rest, "/"); ok {
				zone = z
			}
		}
	}
	if region == "" && len(zone) > 1 {
		last := zone[len(zone)-1]
		if last >= 'a' && last <= 'z' {
			region = zone[:len(zone)-1]
		}
	}
	return zone, region
}

// Condition is one node condition as the kubelet last reported it.
type Condition struct {
	Status         string `json:"status"`
	Reason         string `json:"reason,omitempty"`
	Message        string `json:"message,omitempty"`
	LastTransition string `json:"lastTransition,omitempty"`
}

// NodeHealth is a node's conditions and whether they make it unhealthy.
type NodeHealth struct {
	Name               string     `json:"name"`
	InstanceID         string     `json:"instanceId,omitempty"`
	ProviderID         string     `json:"providerId,omitempty"`
	Unschedulable      bool       `json:"unschedulable,omitempty"`
	Ready              *Condition `json:"ready,omitempty"`
	MemoryPressure     *Condition `json:"memoryPressure,omitempty"`
	DiskPressure       *Condition `json:"diskPressure,omitempty"`
	PIDPressure        *Condition `json:"pidPressure,omitempty"`
	NetworkUnavailable *Condition `json:"networkUnavailable,omitempty"`
	// Unhealthy is set when Ready is not True, or a pressure condition or NetworkUnavailable is
	// True; Why says which, with the kubelet's reasons.
	Unhealthy bool   `json:"unhealthy"`
	Why       string `json:"why,omitempty"`
}

// Health reads a node's conditions.
func Health(n *corev1.Node) NodeHealth {
	h := NodeHealth{Name: n.Name, ProviderID: n.Spec.ProviderID, InstanceID: InstanceID(n.Spec.ProviderID), Unschedulable: n.Spec.Unschedulable}
	for _, c := range n.Status.Conditions {
		cond := &Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message}
		if !c.LastTransitionTime.IsZero() {
			cond.LastTransition = c.LastTransitionTime.UTC().Format(time.RFC3339)
		}
		switch c.Type {
		case corev1.NodeReady:
			h.Ready = cond
		case corev1.NodeMemoryPressure:
			h.MemoryPressure = cond
		case corev1.NodeDiskPressure:
			h.DiskPressure = cond
		case corev1.NodePIDPressure:
			h.PIDPressure = cond
		case corev1.NodeNetworkUnavailable:
			h.NetworkUnavailable = cond
		}
	}
	var why []string
	switch {
	case h.Ready == nil:
		why = append(why, "Ready not reported")
	case h.Ready.Status != string(corev1.ConditionTrue):
		why = append(why, "Ready="+h.Ready.Status+reasonOf(h.Ready))
	}
	for _, p := range []struct {
		name string
		c    *Condition
	}{{"MemoryPressure", h.MemoryPressure}, {"DiskPressure", h.DiskPressure}, {"PIDPressure", h.PIDPressure}, {"NetworkUnavailable", h.NetworkUnavailable}} {
		if p.c != nil && p.c.Status == string(corev1.ConditionTrue) {
			why = append(why, p.name+"=True"+reasonOf(p.c))
		}
	}
	h.Unhealthy = len(why) > 0
	h.Why = strings.Join(why, "; ")
	return h
}

func reasonOf(c *Condition) string {
	if c.Reason == "" {
		return ""
	}
	return " (" + c.Reason + ")"
}

// Summary is the node's one-line status: Ready or what is wrong, and cordoning.
func (h NodeHealth) Summary() string {
	s := "Ready"
	if h.Unhealthy {
		s = h.Why
	}
	if h.Unschedulable {
		s += ", SchedulingDisabled"
	}
	return s
}

// NodeConditions reads every node's health, paging through the node list.
func (c *Client) NodeConditions(ctx context.Context) ([]NodeHealth, error) {
	var out []NodeHealth
	err := c.eachNode(ctx, "", "list nodes", func(n *corev1.Node) { out = append(out, Health(n)) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachNode pages through the nodes selector picks ("": all), calling fn on each; what names
// the listing in an error.
func (c *Client) eachNode(ctx context.Context, selector, what string, fn func(*corev1.Node)) error {
	cont := ""
	for page := 0; ; page++ {
		list, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: selector, Limit: nodePage, Continue: cont})
		if err != nil {
			return c.apiErr(fmt.Sprintf("%s (page %d)", what, page+1), err)
		}
		for i := range list.Items {
			fn(&list.Items[i])
		}
		// A server repeating its token would loop forever; the same token twice ends it.
		if list.Continue == "" || list.Continue == cont {
			return nil
		}
		cont = list.Continue
	}
}

// NodesMatching lists the nodes a label selector (kubectl's -l syntax) picks, paging through
// the list, with the EC2 instance behind each; InstanceID is empty for a node that is not an
// EC2 instance. A selector that does not parse, or that picks no node, is ErrInput.
func (c *Client) NodesMatching(ctx context.Context, selector string) ([]NodeRef, error) {
	if _, err := labels.Parse(selector); err != nil || strings.TrimSpace(selector) == "" {
		return nil, fmt.Errorf("%w: label selector %q: want kubectl's syntax, e.g. eks.amazonaws.com/nodegroup=ng-1 or 'role in (web,api)': %v", ErrInput, selector, err)
	}
	var out []NodeRef
	err := c.eachNode(ctx, selector, fmt.Sprintf("list nodes matching %q", selector), func(n *corev1.Node) {
		ref := NodeRef{Name: n.Name, ProviderID: n.Spec.ProviderID, InstanceID: InstanceID(n.Spec.ProviderID)}
		ref.Zone, ref.Region = zoneRegion(n)
		out = append(out, ref)
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no node matches the label selector %q (kubectl get nodes -l '%s' lists the same)", ErrInput, selector, selector)
	}
	return out, nil
}
