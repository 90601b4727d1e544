package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
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
		"started before. Unless the server pre-approves collections, the user is asked to approve each one (an elicitation naming " +
		"the instance and the bucket) before it starts. Answers the executionId at once: call status(executionId) until it says completed (typically 3–10 " +
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

func (s *server) collect(ctx context.Context, req *mcp.CallToolRequest, in CollectIn) (*mcp.CallToolResult, CollectOut, error) {
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
		Confirm: s.confirmCollect(req)})
	var ask *askApproval
	if errors.As(err, &ask) {
		// Nothing started: the client asks its user and calls again with the answer.
		return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{approvalInput: ask.params}, RequestState: ask.state}, CollectOut{}, nil
	}
	if err != nil {
		return nil, CollectOut{}, err
	}
	return nil, CollectOut{ExecutionID: rec.ExecutionID, AlreadyStarted: existing, Execution: rec,
		Hint: fmt.Sprintf("next: status(executionId=%q) every 30–60 s until state is completed", rec.ExecutionID)}, nil
}

// confirmCollect is asked by the collector just before an SSM automation starts on inst: the
// instance must be of an allowed cluster, and the collection approved — by the operator for
// every call (--approve-collect), or by the client's user for this one.
func (s *server) confirmCollect(req *mcp.CallToolRequest) func(context.Context, cloud.Instance, string) error {
	return func(_ context.Context, inst cloud.Instance, bucket string) error {
		if len(s.allowedClusters) > 0 && !slices.Contains(s.allowedClusters, inst.Cluster) {
			return fmt.Errorf("instanceId %s is a node of cluster %q, which this server may not reach: it may reach only %s (serve --allowed-clusters)",
				inst.ID, inst.Cluster, strings.Join(s.allowedClusters, ", "))
		}
		if s.approveCollect {
			return nil
		}
		return userApproval(req, inst, bucket)
	}
}

// approvalInput names the approval among a call's input requests and responses.
const approvalInput = "approve-collect"

// askApproval stops a collection before it starts, to ask the client's user: collect answers
// it as an input request (MCP elicitation, in the multi round-trip form of SEP-2322), and the
// client calls collect again with the user's answer. For clients of protocol versions before
// multi round-trips, the SDK sends the same elicitation as a request of its own and calls the
// tool again with the answer.
type askApproval struct {
	params *mcp.ElicitParams
	state  string
}

func (a *askApproval) Error() string { return "collect needs the user's approval" }

// userApproval asks the client's user to approve running the log-collection automation on inst
// — collect is the one tool that starts work in the AWS account, and an agent should not start
// it on a node its user did not see named — or reads the answer of a call made again with it.
// The question is a form of one checkbox; only "accept" with the box checked approves. The
// request state ties an answer to the instance and bucket it was given for.
func userApproval(req *mcp.CallToolRequest, inst cloud.Instance, bucket string) error {
	dest := "the bucket the server is configured with"
	if bucket != "" {
		dest = "s3://" + bucket
	}
	what := fmt.Sprintf("the SSM automation %s on instance %s", cloud.Document, inst.ID)
	var caps *mcp.ElicitationCapabilities
	if req != nil {
		if c := req.ClientCapabilities(); c != nil {
			caps = c.Elicitation
		}
	}
	if caps == nil || (caps.Form == nil && caps.URL != nil) {
		return fmt.Errorf("collect was not started: it runs %s, and this server asks its user to approve that first through an "+
			"MCP elicitation (a form), which this client does not support. Call collect from a client that supports elicitation, "+
			"or ask the server's operator to pre-approve collections with serve --approve-collect (meant for unattended use)", what)
	}
	state := approvalInput + " " + inst.ID + " " + dest
	if req.Params != nil && req.Params.RequestState == state {
		if res, ok := req.Params.InputResponses[approvalInput].(*mcp.ElicitResult); ok {
			switch {
			case res.Action == "accept" && res.Content["approve"] == true:
				return nil
			case res.Action == "accept":
				return fmt.Errorf("collect was not approved: the user left \"Start the collection\" unchecked, so %s was not started", what)
			case res.Action == "decline":
				return fmt.Errorf("collect was not approved: the user declined %s; nothing was started", what)
			default:
				return fmt.Errorf("collect was not approved: the user dismissed the request to approve %s (%s); nothing was started", what, res.Action)
			}
		}
	}
	node := inst.PrivateDNSName
	if node == "" {
		node = "(no private DNS name)"
	}
	return &askApproval{state: state, params: &mcp.ElicitParams{
		Mode: "form",
		Message: fmt.Sprintf("Approve collecting this node's logs? nodediag will start %s — node %s, cluster %s, region %s — which runs "+
			"the EKS log collector on the node and uploads the bundle to %s. It reads the node and changes none of its workloads.",
			what, node, inst.Cluster, inst.Region, dest),
		RequestedSchema: &jsonschema.Schema{
			Type: "object",
			Properties: map[string]*jsonschema.Schema{
				"approve": {Type: "boolean", Title: "Start the collection",
					Description: fmt.Sprintf("run %s on %s, uploading to %s", cloud.Document, inst.ID, dest)},
			},
			Required: []string{"approve"},
		},
	}}
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
