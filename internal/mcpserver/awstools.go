package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/health"
)

// ClusterAWS answers cluster_health and get_cloudwatch_logs from AWS; *eks.Client is the real one.
type ClusterAWS interface {
	health.AWSView
	Logs(ctx context.Context, req eks.LogsRequest) (*eks.LogsResult, error)
}

func (s *server) registerCluster(r *registry) {
	addTool(r, SetKubernetes, s.clusters != nil || s.aws != nil, &mcp.Tool{Name: "cluster_health", Annotations: readsOutside("Health of a cluster's nodes"), Description: "Reports " +
		"a cluster's health: from AWS the EKS cluster's status and health issues, its node groups, its EC2 instances with their " +
		"state and SSM ping status (collect needs SSM Online); from the Kubernetes API each node's Ready, memory/disk/PID pressure " +
		"and network conditions. Unhealthy lists every node, node group or instance that is not well, with why; gaps say what " +
		"could not be read. clusterName is the EKS cluster name (cluster_name accepted); either source alone answers."}, s.clusterHealth)
	addTool(r, SetAWS, s.aws != nil, &mcp.Tool{Name: "get_cloudwatch_logs", Annotations: readsOutside("Control-plane logs from CloudWatch"), Description: "Reads " +
		"the cluster's control-plane log events from CloudWatch Logs (/aws/eks/<cluster>/cluster): log_type api, audit, " +
		"authenticator, controllerManager, scheduler, or control-plane (default) for all of them; filter_pattern is a CloudWatch " +
		"filter pattern (\"OOMKilled\"); the window is start_time..end_time (RFC 3339) or the last minutes (default 60); the " +
		"newest limit events (default 100, cap 1000) come back oldest first, truncated when more matched. resource_type must be " +
		"cluster: pod logs are get_pod_logs, node logs are the bundle tools."}, s.cloudWatchLogs)
}

// ClusterHealthIn is the cluster_health tool's input.
type ClusterHealthIn struct {
	ClusterIn
}

// ClusterHealthOut is the cluster_health tool's answer.
type ClusterHealthOut struct {
	health.Report
	Hint string `json:"hint"`
}

func (s *server) clusterHealth(ctx context.Context, _ *mcp.CallToolRequest, in ClusterHealthIn) (*mcp.CallToolResult, ClusterHealthOut, error) {
	name, err := s.cluster(in.ClusterIn)
	if err != nil {
		return nil, ClusterHealthOut{}, err
	}
	r, err := health.Check(ctx, name, s.aws, s.clusters)
	if err != nil {
		return nil, ClusterHealthOut{}, err
	}
	out := ClusterHealthOut{Report: *r, Hint: "every node healthy: the crash is the workload's own; next: diagnose_crashloop(namespace, pod)"}
	if len(r.Unhealthy) > 0 {
		out.Hint = "unhealthy nodes can explain crash loops (evictions, OOM, network): collect(instanceId) for the node's logs, then quick_triage"
	}
	return nil, out, nil
}

// CloudWatchIn is the get_cloudwatch_logs tool's input, in the EKS MCP server's spellings.
type CloudWatchIn struct {
	ClusterIn
	ResourceType  string `json:"resource_type,omitempty" jsonschema:"cluster (the only one served: the control plane's logs)"`
	ResourceName  string `json:"resource_name,omitempty" jsonschema:"the cluster's name when resource_type is cluster (same as clusterName)"`
	LogType       string `json:"log_type,omitempty" jsonschema:"api, audit, authenticator, controllerManager, scheduler, or control-plane (default) for all"`
	FilterPattern string `json:"filter_pattern,omitempty" jsonschema:"a CloudWatch Logs filter pattern, e.g. OOMKilled"`
	Minutes       int    `json:"minutes,omitempty" jsonschema:"the last N minutes (default 60) when start_time is not given"`
	StartTime     string `json:"start_time,omitempty" jsonschema:"window start, RFC 3339"`
	EndTime       string `json:"end_time,omitempty" jsonschema:"window end, RFC 3339 (default now)"`
	Limit         int    `json:"limit,omitempty" jsonschema:"events: default 100, cap 1000 (the newest of the window)"`
}

// CloudWatchOut is the get_cloudwatch_logs tool's answer.
type CloudWatchOut struct {
	Cluster string `json:"cluster"`
	eks.LogsResult
}

func (s *server) cloudWatchLogs(ctx context.Context, _ *mcp.CallToolRequest, in CloudWatchIn) (*mcp.CallToolResult, CloudWatchOut, error) {
	var out CloudWatchOut
	name, err := in.name()
	if err != nil {
		return nil, out, err
	}
	if rt := strings.ToLower(in.ResourceType); rt != "" && rt != "cluster" {
		return nil, out, fmt.Errorf("resource_type %q is not served: only cluster (control-plane logs); a pod's log is get_pod_logs, "+
			"a node's logs are the bundle tools (collect, then errors and search)", in.ResourceType)
	}
	if in.ResourceName != "" {
		if name, err = pick("clusterName", name, "resource_name", in.ResourceName); err != nil {
			return nil, out, err
		}
	}
	if name, err = s.allowCluster("clusterName", name); err != nil {
		return nil, out, err
	}
	if name == "" {
		return nil, out, errors.New("clusterName is required: the EKS cluster whose control-plane logs to read")
	}
	if s.aws == nil {
		return nil, out, errors.New("get_cloudwatch_logs is not configured on this server: it needs AWS credentials and region " +
			"(AWS_PROFILE/AWS_REGION, or an instance role) with logs:FilterLogEvents on /aws/eks/<cluster>/cluster")
	}
	if in.Minutes < 0 {
		return nil, out, fmt.Errorf("minutes %d: want a positive number of minutes", in.Minutes)
	}
	req, err := app.LogsSpec{Cluster: name, LogType: in.LogType, Filter: in.FilterPattern, Start: in.StartTime, End: in.EndTime,
		Last: time.Duration(in.Minutes) * time.Minute, Limit: in.Limit, Names: app.Names{Start: "start_time", End: "end_time", Last: "minutes"}}.Request()
	if err != nil {
		return nil, out, err
	}
	res, err := s.aws.Logs(ctx, req)
	if err != nil {
		return nil, out, err
	}
	return nil, CloudWatchOut{Cluster: name, LogsResult: *res}, nil
}
