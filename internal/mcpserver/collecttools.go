package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/collect"
)

// startsWork marks collect: it starts an SSM automation that runs the log collector on the node
// and uploads to S3 — it writes, so clients should ask first, but it changes nothing the node's
// workloads depend on, and the same idempotency token never starts a second one.
func startsWork(title string) *mcp.ToolAnnotations {
	notDestructive, openWorld := false, true
	return &mcp.ToolAnnotations{Title: title, DestructiveHint: &notDestructive, OpenWorldHint: &openWorld}
}

func (s *server) registerCollection(r *registry) {
	addTool(r, SetAWS, s.collector != nil, &mcp.Tool{Name: "collect", Annotations: startsWork("Collect a node's logs"), Description: "Starts collecting " +
		"the node's logs with the SSM automation AWSSupport-CollectEKSInstanceLogs, which runs the EKS log collector on the " +
		"instance and uploads the bundle to the server's S3 bucket. instanceId is i- followed by 8 or 17 hex digits; region " +
		"defaults to the configured one, then the configured search list. The same idempotencyToken returns the execution it " +
		"started before. Answers the executionId at once: call status(executionId) until it says completed (typically 3–10 " +
		"minutes), which downloads, imports and indexes the bundle. The instance must be a running EKS node registered with SSM. " +
		"method kube (when the server allows nodes/proxy) instead gathers kubelet and containerd journals, /var/log/messages and " +
		"the node's pod logs through the Kubernetes API for nodeName (or the node of instanceId) and answers with the indexed bundle."},
		s.collect)
	addTool(r, SetAWS, s.collector != nil, &mcp.Tool{Name: "status", Annotations: fetchesIntoStore("Follow a collection"), Description: "Reports a collection " +
		"started by collect (or any execution of AWSSupport-CollectEKSInstanceLogs that uploads to this server's bucket): running (with the automation's current step and steps done), failed (with the reason), cancelled, or " +
		"completed. The call that first sees the automation succeed finds the bundle in S3, downloads it (resuming an interrupted " +
		"download) and imports and indexes it, so it can take a minute (with a progressToken it sends progress notifications); the " +
		"answer then names the bundle and the next call (errors or quick_triage with instanceId)."}, s.status)
}

// CollectIn is the collect tool's input.
type CollectIn struct {
	InstanceID string `json:"instanceId,omitempty" jsonschema:"the node's EC2 instance id (i- and 8 or 17 hex digits)"`
	Method     string `json:"method,omitempty" jsonschema:"ssm (default): the AWS automation; kube: the Kubernetes node log API, when the server allows nodes/proxy"`
	NodeName   string `json:"nodeName,omitempty" jsonschema:"method kube: the node's name (default: the node whose providerID names instanceId)"`
	ClusterIn
	IdempotencyToken string `json:"idempotencyToken,omitempty" jsonschema:"any string; the same token for the same instance returns the same execution instead of starting another"`
	Region           string `json:"region,omitempty" jsonschema:"the instance's AWS region; default the configured region, then the configured search list"`
}

// CollectOut is the collect tool's answer.
type CollectOut struct {
	ExecutionID    string          `json:"executionId"`
	AlreadyStarted bool            `json:"alreadyStarted" jsonschema:"true when the idempotency token named an execution started before"`
	Execution      *collect.Record `json:"execution"`
	Hint           string          `json:"hint"`
}

func (s *server) collect(ctx context.Context, _ *mcp.CallToolRequest, in CollectIn) (*mcp.CallToolResult, CollectOut, error) {
	if s.collector == nil {
		return nil, CollectOut{}, errNoCollector
	}
	switch in.Method {
	case "", collect.MethodSSM:
	case collect.MethodKube:
		return s.collectKube(ctx, in)
	default:
		return nil, CollectOut{}, fmt.Errorf("method %q: want ssm (the AWS automation) or kube (the Kubernetes node log API)", in.Method)
	}
	if in.NodeName != "" {
		return nil, CollectOut{}, errors.New("nodeName is for method kube; the ssm method takes instanceId")
	}
	rec, existing, err := s.collector.Collect(ctx, collect.Request{InstanceID: in.InstanceID, Region: in.Region, IdempotencyToken: in.IdempotencyToken,
		Confirm: s.confirmCollect})
	if err != nil {
		return nil, CollectOut{}, err
	}
	return nil, CollectOut{ExecutionID: rec.ExecutionID, AlreadyStarted: existing, Execution: rec,
		Hint: fmt.Sprintf("next: status(executionId=%q) every 30–60 s until state is completed", rec.ExecutionID)}, nil
}

// confirmCollect is asked by the collector just before an SSM automation starts on inst.
func (s *server) confirmCollect(_ context.Context, inst cloud.Instance, _ string) error {
	if len(s.allowedClusters) > 0 && !slices.Contains(s.allowedClusters, inst.Cluster) {
		return fmt.Errorf("instanceId %s is a node of cluster %q, which this server may not reach: it may reach only %s (serve --allowed-clusters)",
			inst.ID, inst.Cluster, strings.Join(s.allowedClusters, ", "))
	}
	return nil
}

// collectKube gathers the node's journals, log files and pod logs through the API server, imports
// and indexes them in this one call: there is nothing to poll.
func (s *server) collectKube(ctx context.Context, in CollectIn) (*mcp.CallToolResult, CollectOut, error) {
	if !s.allowNodeProxy {
		return nil, CollectOut{}, errors.New("method kube reads the node's logs through the API server's node log query, which needs " +
			"\"get\" on \"nodes/proxy\" — a permission that reaches the whole kubelet API — so this server does it only when started " +
			"with --allow-node-proxy; use method ssm, or ask the operator")
	}
	c, cluster, err := s.client(ctx, in.ClusterIn)
	if err != nil {
		return nil, CollectOut{}, err
	}
	rec, err := app.CollectKube(ctx, s.collector, c, app.KubeCollect{Node: in.NodeName, InstanceID: in.InstanceID, Cluster: cluster,
		Names: app.MCPCollectNames})
	if err != nil {
		return nil, CollectOut{}, err
	}
	return nil, CollectOut{ExecutionID: rec.ExecutionID, Execution: rec,
		Hint: fmt.Sprintf("bundle %s is indexed (see execution.missing for what the node log API could not give): errors(bundleId=%q) or quick_triage(bundleId=%q)",
			rec.BundleID, rec.BundleID, rec.BundleID)}, nil
}

// StatusIn is the status tool's input.
type StatusIn struct {
	ExecutionID string `json:"executionId" jsonschema:"the executionId collect answered"`
}

// StatusOut is the status tool's answer.
type StatusOut struct {
	ExecutionID string          `json:"executionId"`
	State       string          `json:"state" jsonschema:"running, completed, failed or cancelled"`
	Execution   *collect.Record `json:"execution"`
	NextStep    string          `json:"nextStep"`
}

func (s *server) status(ctx context.Context, req *mcp.CallToolRequest, in StatusIn) (*mcp.CallToolResult, StatusOut, error) {
	if s.collector == nil {
		return nil, StatusOut{}, errNoCollector
	}
	rec, err := s.collector.Status(ctx, in.ExecutionID, progressNotifier(ctx, req))
	if err != nil {
		if rec == nil || errors.Is(err, collect.ErrUnknownExecution) {
			return nil, StatusOut{}, err
		}
		// The record is still worth having: it says how far the collection got.
		return nil, StatusOut{}, fmt.Errorf("%w (phase %s, %d of %d bytes downloaded)", err, rec.Phase, rec.Downloaded, rec.Size)
	}
	out := StatusOut{ExecutionID: rec.ExecutionID, State: rec.State, Execution: rec}
	switch rec.State {
	case collect.StateCompleted:
		out.NextStep = fmt.Sprintf("bundle %s is indexed: errors(instanceId=%q) or quick_triage(instanceId=%q), then the K3 SOP's search calls",
			rec.BundleID, rec.InstanceID, rec.InstanceID)
	case collect.StateFailed, collect.StateCancelled:
		out.NextStep = "the collection did not produce a bundle (see execution.failureReason); fix that and call collect again with a new idempotencyToken"
	default:
		out.NextStep = fmt.Sprintf("still %s: call status(executionId=%q) again in 30–60 s", phaseWords(rec), rec.ExecutionID)
	}
	return nil, out, nil
}

// progressNotifier reports the download and import to a client that asked for progress (a
// progressToken in the call's _meta): the call that downloads a bundle can take a minute, and a
// client that hears nothing may give up on it. At most one notification a second, plus the last.
func progressNotifier(ctx context.Context, req *mcp.CallToolRequest) collect.Progress {
	if req == nil || req.Params == nil || req.Session == nil {
		return nil
	}
	token := req.Params.GetProgressToken()
	if token == nil {
		return nil
	}
	var last time.Time
	var sent float64
	return func(phase string, done, total int64) {
		final := total > 0 && done >= total
		if !final && time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		// Progress must grow across the call: the download counts up to its size, the import
		// after it.
		progress := float64(done)
		if phase == "import" {
			progress = float64(total) + float64(done)
			total *= 2
		} else if total > 0 {
			total *= 2
		}
		if progress < sent {
			return
		}
		sent = progress
		msg := fmt.Sprintf("downloading the bundle: %.1f of %.1f MiB", float64(done)/(1<<20), float64(total/2)/(1<<20))
		if phase == "import" {
			msg = "importing and indexing the bundle"
		}
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: progress, Total: float64(total), Message: msg})
	}
}

func phaseWords(r *collect.Record) string {
	switch r.Phase {
	case "download":
		return "waiting for or downloading the bundle from S3"
	case "import":
		return "importing the bundle"
	}
	if r.CurrentStep != "" {
		return fmt.Sprintf("collecting on the node (step %q, %d of %d done)", r.CurrentStep, r.StepsDone, r.StepsTotal)
	}
	return "collecting on the node"
}

var errNoCollector = errors.New("collection is not configured on this server: it needs a bundle store (serve --store DIR), and for AWS " +
	"the S3 bucket the automation uploads to (serve --bucket) and AWS credentials and region; without AWS, collect on the node " +
	"with `nodediag collect --local` and import the result")
