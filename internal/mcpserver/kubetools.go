package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/kube"
)

// The Kubernetes tools are the K3 SOP's Phase 1 (pod state, events, previous log), named and
// parameterised like the EKS MCP server's so that an agent can follow the SOP against nodediag
// alone. They only get and list, and refuse Secrets.
func (s *server) registerKube(r *registry) {
	addTool(r, SetKubernetes, s.clusters != nil, &mcp.Tool{Name: "list_k8s_resources", Annotations: readsOutside("List Kubernetes objects"), Description: "Lists " +
		"objects of one kind (Pod, pods, po, Deployment, Node… any case; apiVersion optional) in a namespace (empty: all) with " +
		"optional label and field selectors, as compact rows: pods with phase, ready, restarts, node and last termination " +
		"(reason, exit code); nodes with Ready/pressure conditions and EC2 instance id. Pages of limit rows (default 100, cap " +
		"500) with a continue token. Secrets list names and types only. clusterName picks the kubeconfig context; api_version, " +
		"cluster_name, label_selector and field_selector spellings are accepted."}, s.listK8s)
	addTool(r, SetKubernetes, s.clusters != nil, &mcp.Tool{Name: "read_k8s_resource", Annotations: readsOutside("Read a Kubernetes object"), Description: "Returns " +
		"one object (kind, apiVersion optional, name, namespace for namespaced kinds) as JSON without metadata.managedFields and " +
		"the last-applied-configuration annotation. For a crash-looping pod look at status.containerStatuses[].lastState.terminated " +
		"(exitCode, reason) and restartCount. Secrets are refused. clusterName picks the kubeconfig context."}, s.readK8s)
	addTool(r, SetKubernetes, s.clusters != nil, &mcp.Tool{Name: "get_k8s_events", Annotations: readsOutside("Events of a Kubernetes object"), Description: "Lists " +
		"the events of one object (kind, name, namespace; node events are in default), newest first, compact: type, reason, " +
		"message, count, first and last time, source and the container's fieldPath; limit default 50, cap 500."}, s.k8sEvents)
	addTool(r, SetKubernetes, s.clusters != nil, &mcp.Tool{Name: "get_pod_logs", Annotations: readsOutside("A container's log"), Description: "Reads a " +
		"container's log; previous=true reads the last terminated instance's, which holds the crash-looping container's last " +
		"words. container_name defaults to the pod's only container, else its crash-looping one; tail_lines default 100; " +
		"since_seconds optional; limit_bytes default 65536, cap 1048576 (truncated says when it cut). pod_name, container_name " +
		"and the camelCase spellings are all accepted."}, s.podLogs)
}

// ClusterIn names the cluster in either spelling.
type ClusterIn struct {
	ClusterName  string `json:"clusterName,omitempty" jsonschema:"the cluster: the kubeconfig context whose name or cluster matches it (EKS ARN and eksctl names too); default the current context"`
	ClusterName2 string `json:"cluster_name,omitempty" jsonschema:"the EKS MCP server's spelling of clusterName"`
}

// name is the cluster given in either spelling.
func (in ClusterIn) name() (string, error) {
	return pick("clusterName", in.ClusterName, "cluster_name", in.ClusterName2)
}

// cluster is the cluster a call names (in either spelling), once --allowed-clusters lets it.
func (s *server) cluster(in ClusterIn) (string, error) {
	name, err := in.name()
	if err != nil {
		return "", err
	}
	return s.allowCluster("clusterName", name)
}

// allowCluster checks a cluster name against Options.AllowedClusters. The names are compared
// exactly, as the caller wrote them, not after resolving them to a kubeconfig context: an
// allowed name then reaches what it always reached, and no other spelling can reach more.
// An empty name (the current context) is the allowed cluster when there is only one.
func (s *server) allowCluster(param, name string) (string, error) {
	if len(s.allowedClusters) == 0 {
		return name, nil
	}
	allowed := strings.Join(s.allowedClusters, ", ")
	if name == "" {
		if len(s.allowedClusters) == 1 {
			return s.allowedClusters[0], nil
		}
		return "", fmt.Errorf("%s is required on this server, which may reach only the clusters %s (serve --allowed-clusters): name one of them", param, allowed)
	}
	if !slices.Contains(s.allowedClusters, name) {
		return "", fmt.Errorf("%s %q is not a cluster this server may reach: it may reach only %s (serve --allowed-clusters)", param, name, allowed)
	}
	return name, nil
}

// client resolves the cluster parameter into a client, or says how to configure access.
func (s *server) client(ctx context.Context, in ClusterIn) (*kube.Client, string, error) {
	name, err := s.cluster(in)
	if err != nil {
		return nil, "", err
	}
	if s.clusters == nil {
		return nil, name, errors.New("Kubernetes access is not configured on this server (it was started with --no-kube, or " +
			"found no kubeconfig): the server's operator starts `nodediag serve --kubeconfig FILE`, whose contexts are the " +
			"clusterName values, or runs it in a pod with a service account; the node-log tools work without it")
	}
	c, err := s.clusters.Client(ctx, name)
	return c, name, err
}

// ListK8sIn is the list_k8s_resources tool's input.
type ListK8sIn struct {
	ClusterIn
	Kind           string `json:"kind" jsonschema:"kind, plural or short name, any case (Pod, pods, po, Node, deploy)"`
	APIVersion     string `json:"apiVersion,omitempty" jsonschema:"group/version (v1, apps/v1); default the preferred one"`
	APIVersion2    string `json:"api_version,omitempty" jsonschema:"the EKS MCP server's spelling of apiVersion"`
	Namespace      string `json:"namespace,omitempty" jsonschema:"namespace; empty lists every namespace"`
	LabelSelector  string `json:"labelSelector,omitempty" jsonschema:"label selector (app=api,tier!=db)"`
	LabelSelector2 string `json:"label_selector,omitempty" jsonschema:"the EKS MCP server's spelling of labelSelector"`
	FieldSelector  string `json:"fieldSelector,omitempty" jsonschema:"field selector (spec.nodeName=ip-10-0-1-2.ec2.internal, status.phase=Running)"`
	FieldSelector2 string `json:"field_selector,omitempty" jsonschema:"the EKS MCP server's spelling of fieldSelector"`
	Limit          int64  `json:"limit,omitempty" jsonschema:"rows per page: default 100, cap 500"`
	Continue       string `json:"continue,omitempty" jsonschema:"the continue token of the previous page"`
}

// ListK8sOut is the list_k8s_resources tool's answer.
type ListK8sOut struct {
	Cluster string `json:"cluster,omitempty"`
	kube.ListResult
	Hint string `json:"hint"`
}

func (s *server) listK8s(ctx context.Context, _ *mcp.CallToolRequest, in ListK8sIn) (*mcp.CallToolResult, ListK8sOut, error) {
	var out ListK8sOut
	c, name, err := s.client(ctx, in.ClusterIn)
	if err != nil {
		return nil, out, err
	}
	req := kube.ListRequest{Kind: in.Kind, Namespace: in.Namespace, Limit: in.Limit, Continue: in.Continue}
	if req.APIVersion, err = pick("apiVersion", in.APIVersion, "api_version", in.APIVersion2); err != nil {
		return nil, out, err
	}
	if req.LabelSelector, err = pick("labelSelector", in.LabelSelector, "label_selector", in.LabelSelector2); err != nil {
		return nil, out, err
	}
	if req.FieldSelector, err = pick("fieldSelector", in.FieldSelector, "field_selector", in.FieldSelector2); err != nil {
		return nil, out, err
	}
	if req.Kind == "" {
		return nil, out, errors.New("kind is required (Pod, Node, Deployment, Event… or their plural or short names)")
	}
	res, err := c.ListResources(ctx, req)
	if err != nil {
		return nil, out, err
	}
	out = ListK8sOut{Cluster: name, ListResult: *res, Hint: "next: read_k8s_resource(kind, name, namespace) for one object, get_k8s_events for its events"}
	if res.Continue != "" {
		out.Hint = "more rows: call again with continue; " + out.Hint
	}
	return nil, out, nil
}

// ReadK8sIn is the read_k8s_resource tool's input.
type ReadK8sIn struct {
	ClusterIn
	Kind        string `json:"kind" jsonschema:"kind, plural or short name, any case"`
	APIVersion  string `json:"apiVersion,omitempty" jsonschema:"group/version (v1, apps/v1); default the preferred one"`
	APIVersion2 string `json:"api_version,omitempty" jsonschema:"the EKS MCP server's spelling of apiVersion"`
	Name        string `json:"name" jsonschema:"the object's name"`
	Namespace   string `json:"namespace,omitempty" jsonschema:"the object's namespace (namespaced kinds; default \"default\")"`
}

// ReadK8sOut is the read_k8s_resource tool's answer.
type ReadK8sOut struct {
	Cluster string         `json:"cluster,omitempty"`
	Object  map[string]any `json:"object" jsonschema:"the object, without managedFields"`
	Hint    string         `json:"hint"`
}

func (s *server) readK8s(ctx context.Context, _ *mcp.CallToolRequest, in ReadK8sIn) (*mcp.CallToolResult, ReadK8sOut, error) {
	var out ReadK8sOut
	c, name, err := s.client(ctx, in.ClusterIn)
	if err != nil {
		return nil, out, err
	}
	apiVersion, err := pick("apiVersion", in.APIVersion, "api_version", in.APIVersion2)
	if err != nil {
		return nil, out, err
	}
	if in.Kind == "" || in.Name == "" {
		return nil, out, fmt.Errorf("kind and name are required (got kind %q name %q)", in.Kind, in.Name)
	}
	obj, err := c.ReadResource(ctx, in.Kind, apiVersion, in.Namespace, in.Name)
	if err != nil {
		return nil, out, err
	}
	hint := "next: get_k8s_events(kind, name, namespace) for its events"
	if strings.EqualFold(in.Kind, "pod") || strings.EqualFold(in.Kind, "pods") || strings.EqualFold(in.Kind, "po") {
		hint = "look at status.containerStatuses[].lastState.terminated (exitCode, reason) and restartCount; next: " +
			"get_k8s_events(kind=Pod, name, namespace), get_pod_logs(previous=true), and the node's logs through diagnose_crashloop"
	}
	return nil, ReadK8sOut{Cluster: name, Object: obj, Hint: hint}, nil
}

// EventsIn is the get_k8s_events tool's input.
type EventsIn struct {
	ClusterIn
	Kind      string `json:"kind,omitempty" jsonschema:"the object's kind (Pod, Node…); empty matches any kind with that name"`
	Name      string `json:"name" jsonschema:"the object's name"`
	Namespace string `json:"namespace,omitempty" jsonschema:"the object's namespace; empty searches every namespace"`
	Limit     int    `json:"limit,omitempty" jsonschema:"events to return: default 50, cap 500"`
}

// EventsOut is the get_k8s_events tool's answer.
type EventsOut struct {
	Cluster string `json:"cluster,omitempty"`
	kube.EventsResult
	Hint string `json:"hint"`
}

func (s *server) k8sEvents(ctx context.Context, _ *mcp.CallToolRequest, in EventsIn) (*mcp.CallToolResult, EventsOut, error) {
	var out EventsOut
	c, name, err := s.client(ctx, in.ClusterIn)
	if err != nil {
		return nil, out, err
	}
	res, err := c.Events(ctx, kube.EventsRequest{Kind: in.Kind, Name: in.Name, Namespace: in.Namespace, Limit: in.Limit})
	if err != nil {
		return nil, out, err
	}
	return nil, EventsOut{Cluster: name, EventsResult: *res,
		Hint: "BackOff events mean CrashLoopBackOff; next: get_pod_logs(previous=true), then the node's logs (diagnose_crashloop or collect)"}, nil
}

// PodLogsIn is the get_pod_logs tool's input.
type PodLogsIn struct {
	ClusterIn
	Namespace     string `json:"namespace,omitempty" jsonschema:"the pod's namespace (default \"default\")"`
	Pod           string `json:"pod,omitempty" jsonschema:"the pod's name"`
	PodName       string `json:"pod_name,omitempty" jsonschema:"the EKS MCP server's spelling of pod"`
	Container     string `json:"container,omitempty" jsonschema:"the container; default the pod's only one, else its crash-looping one"`
	ContainerName string `json:"container_name,omitempty" jsonschema:"the EKS MCP server's spelling of container"`
	Previous      bool   `json:"previous,omitempty" jsonschema:"read the last terminated instance's log"`
	TailLines     int64  `json:"tail_lines,omitempty" jsonschema:"the last N lines: default 100"`
	TailLines2    int64  `json:"tailLines,omitempty" jsonschema:"camelCase spelling of tail_lines"`
	SinceSeconds  int64  `json:"since_seconds,omitempty" jsonschema:"only lines newer than this many seconds"`
	LimitBytes    int64  `json:"limit_bytes,omitempty" jsonschema:"at most this many bytes: default 65536, cap 1048576"`
}

// PodLogsOut is the get_pod_logs tool's answer.
type PodLogsOut struct {
	Cluster string `json:"cluster,omitempty"`
	kube.LogsResult
	Hint string `json:"hint"`
}

func (s *server) podLogs(ctx context.Context, _ *mcp.CallToolRequest, in PodLogsIn) (*mcp.CallToolResult, PodLogsOut, error) {
	var out PodLogsOut
	c, name, err := s.client(ctx, in.ClusterIn)
	if err != nil {
		return nil, out, err
	}
	pod, container, err := pickWorkload(in.Pod, in.PodName, in.Container, in.ContainerName)
	if err != nil {
		return nil, out, err
	}
	if pod == "" {
		return nil, out, errors.New("pod (or pod_name) is required")
	}
	tail := in.TailLines
	if in.TailLines2 != 0 {
		if tail != 0 && tail != in.TailLines2 {
			return nil, out, fmt.Errorf("tail_lines %d and tailLines %d disagree: give one of them", tail, in.TailLines2)
		}
		tail = in.TailLines2
	}
	namespace := in.Namespace
	if namespace == "" {
		namespace = "default"
	}
	res, err := c.PodLogs(ctx, kube.LogsRequest{Namespace: namespace, Pod: pod, Container: container, Previous: in.Previous,
		TailLines: tail, SinceSeconds: in.SinceSeconds, LimitBytes: in.LimitBytes})
	if err != nil {
		return nil, out, err
	}
	hint := "next: the node's logs — diagnose_crashloop(namespace, pod) runs the whole K3 SOP"
	if res.Truncated {
		hint = "cut at limit_bytes: ask with fewer tail_lines or a larger limit_bytes to see the rest; " + hint
	}
	return nil, PodLogsOut{Cluster: name, LogsResult: *res, Hint: hint}, nil
}
