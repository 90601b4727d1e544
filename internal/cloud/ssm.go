package cloud

import (
	"context"
	"crypto/sha1"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Document is the AWS-owned SSM automation runbook that collects an EKS node's logs and uploads
// them to S3.
const Document = "AWSSupport-CollectEKSInstanceLogs"

// Execution states, as nodediag reports them.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Execution is one automation execution's state.
type Execution struct {
	ID            string
	Region        string
	Status        string // StatusRunning, StatusCompleted, StatusFailed or StatusCancelled
	RawStatus     string // SSM's own status, e.g. InProgress or TimedOut
	FailureReason string // why it failed or was cancelled; empty otherwise
	CurrentStep   string
	StepsDone     int
	StepsTotal    int
	Start, End    time.Time
	Outputs       map[string][]string
	// Document and Parameters are what the execution was started with: which runbook, on which
	// instance (EKSInstanceId), uploading where (LogDestination).
	Document   string
	Parameters map[string][]string
}

// Collectable says why the log-collection automation cannot run on inst, if it cannot: it runs
// only on a running EKS node.
func (inst Instance) Collectable() error {
	if inst.Cluster == "" {
		return fmt.Errorf("%w: %s has none of the tags eks:cluster-name, aws:eks:cluster-name or kubernetes.io/cluster/<name>: "+
			"collect from an EKS worker node, or import a bundle taken another way", ErrNotEKSNode, inst.ID)
	}
	if inst.State != "running" {
		return fmt.Errorf("%w: %s is %s: SSM can collect only from a running instance; start it, or collect from another node",
			ErrNotRunning, inst.ID, orUnknown(inst.State))
	}
	return nil
}

// StartCollection starts the log-collection automation on inst, uploading to Options.Bucket. It
// refuses instances that are not EKS nodes or not running, since the automation would fail on them
// minutes later. A non-empty idempotencyToken is turned into SSM's ClientToken, so starting again
// with the same token returns the same execution instead of collecting twice.
func (a *AWS) StartCollection(ctx context.Context, inst Instance, idempotencyToken string) (string, error) {
	if err := ValidInstanceID(inst.ID); err != nil {
		return "", err
	}
	if err := inst.Collectable(); err != nil {
		return "", err
	}
	if a.opts.Bucket == "" {
		return "", fmt.Errorf("%w: the automation uploads the bundle to S3: pass --bucket NAME or set the bucket in nodediag's config", ErrNoBucket)
	}
	c, err := a.region(ctx, inst.Region)
	if err != nil {
		return "", err
	}
	params := map[string][]string{
		"EKSInstanceId":  {inst.ID},
		"LogDestination": {a.opts.Bucket},
	}
	if a.opts.RoleARN != "" {
		params["AutomationAssumeRole"] = []string{a.opts.RoleARN}
	}
	in := &ssm.StartAutomationExecutionInput{DocumentName: aws.String(Document), Parameters: params}
	if idempotencyToken != "" {
		in.ClientToken = aws.String(ClientToken(idempotencyToken))
	}
	out, err := c.ssm.StartAutomationExecution(ctx, in)
	if err != nil {
		if apiCode(err) == "IdempotentParameterMismatch" {
			return "", fmt.Errorf("idempotency token %q was already used for a different collection: use a new token: %w", idempotencyToken, err)
		}
		return "", classify("ssm:StartAutomationExecution in "+inst.Region, err)
	}
	id := aws.ToString(out.AutomationExecutionId)
	if id == "" {
		return "", fmt.Errorf("ssm:StartAutomationExecution in %s returned no execution id", inst.Region)
	}
	return id, nil
}

// clientTokenNamespace seeds ClientToken's hash so nodediag's tokens do not collide with UUIDs
// other tools derive from the same strings.
const clientTokenNamespace = "nodediag:ssm:StartAutomationExecution:"

// ClientToken derives SSM's ClientToken, which must be a UUID, from an arbitrary caller token:
// a UUIDv5-style name-based UUID (SHA-1, version and variant bits set), the same for the same token.
func ClientToken(token string) string {
	sum := sha1.Sum([]byte(clientTokenNamespace + token))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Execution reads the automation execution's state and progress.
func (a *AWS) Execution(ctx context.Context, region, executionID string) (Execution, error) {
	if executionID == "" {
		return Execution{}, fmt.Errorf("%w: empty execution id: pass the id collect returned", ErrExecutionNotFound)
	}
	c, err := a.region(ctx, region)
	if err != nil {
		return Execution{}, err
	}
	if region == "" {
		region = a.cfg.Region
	}
	out, err := c.ssm.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String(executionID)})
	if err != nil {
		if apiCode(err) == "AutomationExecutionNotFoundException" {
			return Execution{}, fmt.Errorf("%w: no execution %s in %s: check the id and the region it was started in: %w",
				ErrExecutionNotFound, executionID, region, err)
		}
		return Execution{}, classify("ssm:GetAutomationExecution in "+region, err)
	}
	if out.AutomationExecution == nil {
		return Execution{}, fmt.Errorf("%w: ssm:GetAutomationExecution in %s returned no execution for %s", ErrExecutionNotFound, region, executionID)
	}
	return toExecution(*out.AutomationExecution, region), nil
}

// statusOf maps SSM's automation status to nodediag's four states. Unknown statuses count as
// running: a new SSM status must not make status() report a collection as finished.
func statusOf(s types.AutomationExecutionStatus) string {
	switch s {
	case types.AutomationExecutionStatusSuccess, types.AutomationExecutionStatusCompletedWithSuccess:
		return StatusCompleted
	case types.AutomationExecutionStatusFailed, types.AutomationExecutionStatusTimedout,
		types.AutomationExecutionStatusRejected, types.AutomationExecutionStatusCompletedWithFailure,
		types.AutomationExecutionStatusExited, types.AutomationExecutionStatusChangeCalendarOverrideRejected:
		return StatusFailed
	case types.AutomationExecutionStatusCancelling, types.AutomationExecutionStatusCancelled:
		return StatusCancelled
	}
	return StatusRunning
}

// stepDone reports whether a step has finished, whatever the outcome.
func stepDone(s types.AutomationExecutionStatus) bool {
	switch s {
	case types.AutomationExecutionStatusSuccess, types.AutomationExecutionStatusFailed,
		types.AutomationExecutionStatusTimedout, types.AutomationExecutionStatusCancelled,
		types.AutomationExecutionStatusCompletedWithSuccess, types.AutomationExecutionStatusCompletedWithFailure,
		types.AutomationExecutionStatusExited, types.AutomationExecutionStatusRejected:
		return true
	}
	return false
}

// toExecution converts the SDK's execution.
func toExecution(ae types.AutomationExecution, region string) Execution {
	e := Execution{
		ID:          aws.ToString(ae.AutomationExecutionId),
		Region:      region,
		RawStatus:   string(ae.AutomationExecutionStatus),
		Status:      statusOf(ae.AutomationExecutionStatus),
		CurrentStep: aws.ToString(ae.CurrentStepName),
		StepsTotal:  len(ae.StepExecutions),
		Outputs:     ae.Outputs,
		Document:    aws.ToString(ae.DocumentName),
		Parameters:  ae.Parameters,
	}
	if ae.ExecutionStartTime != nil {
		e.Start = ae.ExecutionStartTime.UTC()
	}
	if ae.ExecutionEndTime != nil {
		e.End = ae.ExecutionEndTime.UTC()
	}
	for _, s := range ae.StepExecutions {
		if stepDone(s.StepStatus) {
			e.StepsDone++
		}
	}
	if e.Status == StatusFailed || e.Status == StatusCancelled {
		e.FailureReason = failureReason(ae)
		// A timeout's messages often speak only of the step; say plainly that time ran out.
		if ae.AutomationExecutionStatus == types.AutomationExecutionStatusTimedout &&
			!strings.Contains(strings.ToLower(e.FailureReason), "timed out") {
			e.FailureReason = "timed out: " + e.FailureReason
		}
	}
	return e
}

// failureReason says why an execution failed: its own FailureMessage, else the failed step's
// message and details, else its outputs, else its status ("timed out" for TimedOut).
func failureReason(ae types.AutomationExecution) string {
	if m := strings.TrimSpace(aws.ToString(ae.FailureMessage)); m != "" {
		return m
	}
	for _, s := range ae.StepExecutions {
		if s.StepStatus != types.AutomationExecutionStatusFailed && s.StepStatus != types.AutomationExecutionStatusTimedout {
			continue
		}
		var parts []string
		if m := strings.TrimSpace(aws.ToString(s.FailureMessage)); m != "" {
			parts = append(parts, m)
		}
		if d := s.FailureDetails; d != nil {
			if t := aws.ToString(d.FailureType); t != "" {
				parts = append(parts, "failure type "+t)
			}
			if len(d.Details) > 0 {
				parts = append(parts, joinOutputs(d.Details))
			}
		}
		if s.StepStatus == types.AutomationExecutionStatusTimedout && len(parts) == 0 {
			parts = append(parts, "timed out")
		}
		if len(parts) > 0 {
			return "step " + aws.ToString(s.StepName) + ": " + strings.Join(parts, "; ")
		}
	}
	if len(ae.Outputs) > 0 {
		return joinOutputs(ae.Outputs)
	}
	switch ae.AutomationExecutionStatus {
	case types.AutomationExecutionStatusTimedout:
		return "timed out"
	case types.AutomationExecutionStatusCancelled, types.AutomationExecutionStatusCancelling:
		return "cancelled"
	}
	return strings.ToLower(string(ae.AutomationExecutionStatus))
}

// joinOutputs renders an SSM outputs map in key order so a reason reads the same on every call.
func joinOutputs(m map[string][]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(m[k], ", "))
	}
	return strings.Join(parts, "; ")
}

// orUnknown names an empty state.
func orUnknown(s string) string {
	if s == "" {
		return "in an unknown state"
	}
	return s
}
