package runbook

import "slices"

// Tool is a tool a runbook may call: nodediag's own tools and the EKS MCP server's Kubernetes
// and CloudWatch tools that the SOPs use beside them.
type Tool struct {
	Name string `json:"name"`
	// Params are the parameter names the tool accepts, spelt as the K3 SOP spells them. Where the
	// EKS MCP server spells one differently (cluster_name for clusterName) both are listed,
	// because nodediag's MCP server accepts both.
	Params []string `json:"params"`
	// EKS is true for the tools an agent calls on the EKS MCP server rather than on nodediag.
	EKS bool `json:"eks,omitempty"`
}

// Accepts reports whether the tool takes a parameter of that name.
func (t Tool) Accepts(param string) bool { return slices.Contains(t.Params, param) }

// bundleParams pick a bundle: an instance's newest, or one bundle by id.
var bundleParams = []string{"instanceId", "bundleId"}

// windowParams bound a query in time, resolved against the bundle's capture time.
var windowParams = []string{"incident_time", "start_time", "end_time"}

func withParams(lists ...[]string) []string { return slices.Concat(lists...) }

// KnownTools are the tools a runbook may name, by name: the issue-6 tool list with the parameter
// names the K3 SOP uses. Lint refuses any other tool or parameter.
var KnownTools = map[string]Tool{
	"collect":  {Name: "collect", Params: []string{"instanceId", "idempotencyToken", "region", "method", "nodeName", "clusterName", "cluster_name"}},
	"status":   {Name: "status", Params: []string{"executionId"}},
	"validate": {Name: "validate", Params: bundleParams},
	"errors":   {Name: "errors", Params: withParams(bundleParams, []string{"severity", "response_format", "pageSize", "pageToken"}, windowParams)},
	"search": {Name: "search", Params: withParams(bundleParams, []string{"query", "logTypes", "exclude",
		"caseSensitive", "context", "maxResults", "maxPerFile"}, windowParams)},
	"read":           {Name: "read", Params: withParams(bundleParams, []string{"logKey", "startLine", "lineCount", "startByte", "endByte"})},
	"correlate":      {Name: "correlate", Params: withParams(bundleParams, []string{"pivotEvent", "timeWindow", "components", "pod", "pod_name", "container", "container_name", "maxEvents"})},
	"summarize":      {Name: "summarize", Params: withParams(bundleParams, []string{"finding_ids"})},
	"quick_triage":   {Name: "quick_triage", Params: bundleParams},
	"cluster_health": {Name: "cluster_health", Params: []string{"clusterName", "cluster_name"}},
	"list_sops":      {Name: "list_sops", Params: []string{"query"}},
	"get_sop":        {Name: "get_sop", Params: []string{"sopId"}},
	"diagnose_crashloop": {Name: "diagnose_crashloop", Params: withParams(bundleParams, []string{"clusterName", "cluster_name",
		"namespace", "pod", "pod_name", "container", "container_name"})},
	"fleet_crashloops": {Name: "fleet_crashloops", Params: []string{"min_nodes", "maxResults", "response_format"}},
	"compare_nodes":    {Name: "compare_nodes", Params: []string{"failingInstanceId", "healthyInstanceId"}},
	"list_k8s_resources": {Name: "list_k8s_resources", EKS: true, Params: []string{"clusterName", "cluster_name", "kind",
		"apiVersion", "api_version", "namespace", "label_selector", "field_selector"}},
	"read_k8s_resource": {Name: "read_k8s_resource", EKS: true, Params: []string{"clusterName", "cluster_name", "kind",
		"apiVersion", "api_version", "name", "namespace"}},
	"get_k8s_events": {Name: "get_k8s_events", EKS: true, Params: []string{"clusterName", "cluster_name", "kind", "name", "namespace"}},
	"get_pod_logs": {Name: "get_pod_logs", EKS: true, Params: []string{"clusterName", "cluster_name", "namespace", "pod_name",
		"container_name", "previous", "since_seconds", "tail_lines", "limit_bytes"}},
	"get_cloudwatch_logs": {Name: "get_cloudwatch_logs", EKS: true, Params: []string{"clusterName", "cluster_name", "resource_type",
		"resource_name", "log_type", "filter_pattern", "minutes", "start_time", "end_time", "limit"}},
}
