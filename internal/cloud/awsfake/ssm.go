package awsfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// steps are the automation's step names, in order, as the fake reports them.
var steps = []string{"assertInstanceIsLinux", "runLogCollector", "branchOnLogDestination", "uploadLogsToS3"}

// SSM JSON 1.1 shapes.
type (
	ssmStartInput struct {
		DocumentName string              `json:"DocumentName"`
		Parameters   map[string][]string `json:"Parameters"`
		ClientToken  string              `json:"ClientToken"`
	}
	ssmGetInput struct {
		AutomationExecutionID string `json:"AutomationExecutionId"`
	}
	ssmFailureDetails struct {
		FailureStage string              `json:"FailureStage,omitempty"`
		FailureType  string              `json:"FailureType,omitempty"`
		Details      map[string][]string `json:"Details,omitempty"`
	}
	ssmStep struct {
		StepName       string             `json:"StepName"`
		Action         string             `json:"Action"`
		StepStatus     string             `json:"StepStatus"`
		FailureMessage string             `json:"FailureMessage,omitempty"`
		FailureDetails *ssmFailureDetails `json:"FailureDetails,omitempty"`
	}
	ssmExecution struct {
		AutomationExecutionID     string              `json:"AutomationExecutionId"`
		AutomationExecutionStatus string              `json:"AutomationExecutionStatus"`
		DocumentName              string              `json:"DocumentName"`
		ExecutionStartTime        float64             `json:"ExecutionStartTime"`
		ExecutionEndTime          float64             `json:"ExecutionEndTime,omitempty"`
		FailureMessage            string              `json:"FailureMessage,omitempty"`
		CurrentStepName           string              `json:"CurrentStepName,omitempty"`
		Outputs                   map[string][]string `json:"Outputs,omitempty"`
		Parameters                map[string][]string `json:"Parameters"`
		StepExecutions            []ssmStep           `json:"StepExecutions"`
	}
)

// serveSSM answers SSM's JSON 1.1 protocol: POST / with X-Amz-Target: AmazonSSM.<Action>.
func (a *Account) serveSSM(_ context.Context, w http.ResponseWriter, r *http.Request, region string) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	body, _ := io.ReadAll(r.Body)
	a.record("ssm", action, region, r, body)
	var named struct {
		Parameters map[string][]string `json:"Parameters"`
	}
	_ = json.Unmarshal(body, &named) // a body that is not JSON is refused below
	if f := a.faultFor(action, first(named.Parameters["EKSInstanceId"])); f != nil && f.Code != "" {
		jsonError(w, statusOr(f.Status, http.StatusBadRequest), f.Code, f.Message)
		return
	}
	switch action {
	case "StartAutomationExecution":
		var in ssmStartInput
		if err := json.Unmarshal(body, &in); err != nil {
			jsonError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		a.startExecution(w, in, region)
	case "GetAutomationExecution":
		var in ssmGetInput
		if err := json.Unmarshal(body, &in); err != nil {
			jsonError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		a.getExecution(w, in.AutomationExecutionID, region)
	default:
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+action)
	}
}

// startExecution creates an execution, or returns the one an earlier call with the same ClientToken made.
func (a *Account) startExecution(w http.ResponseWriter, in ssmStartInput, region string) {
	if in.DocumentName != Document {
		jsonError(w, http.StatusBadRequest, "AutomationDefinitionNotFoundException", "Automation definition "+in.DocumentName+" not found")
		return
	}
	inst := first(in.Parameters["EKSInstanceId"])
	a.mu.Lock()
	defer a.mu.Unlock()
	paramsKey, _ := json.Marshal(in.Parameters)
	if in.ClientToken != "" {
		if id, ok := a.tokens[strings.ToLower(in.ClientToken)]; ok {
			prev, _ := json.Marshal(a.executions[id].params)
			if string(prev) != string(paramsKey) {
				jsonError(w, http.StatusBadRequest, "IdempotentParameterMismatch", "The ClientToken was used with different parameters")
				return
			}
			writeJSON(w, map[string]string{"AutomationExecutionId": id})
			return
		}
	}
	if _, ok := a.instances[inst]; !ok || inst == "" {
		jsonError(w, http.StatusBadRequest, "InvalidAutomationExecutionParametersException", "EKSInstanceId "+inst+" is not a valid instance")
		return
	}
	a.nextExec++
	e := &execution{
		id: execID(a.nextExec), instance: inst, bucket: first(in.Parameters["LogDestination"]), region: region,
		params: in.Parameters, start: a.Now().UTC(), outcome: a.outcomes[inst], status: "Pending",
	}
	a.executions[e.id] = e
	if in.ClientToken != "" {
		a.tokens[strings.ToLower(in.ClientToken)] = e.id
	}
	writeJSON(w, map[string]string{"AutomationExecutionId": e.id})
}

// getExecution advances the execution one stage and reports it: the first poll sees Pending, the
// second InProgress, the third the final status (and the upload, on success).
func (a *Account) getExecution(w http.ResponseWriter, id, region string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.executions[id]
	if !ok || e.region != region {
		jsonError(w, http.StatusBadRequest, "AutomationExecutionNotFoundException", "Automation execution "+id+" not found")
		return
	}
	e.polls++
	switch {
	case e.polls <= 1:
		e.status = "Pending"
	case e.polls == 2:
		e.status = "InProgress"
	case e.end.IsZero():
		a.finishLocked(e)
	}
	writeJSON(w, map[string]any{"AutomationExecution": a.viewLocked(e)})
}

// finishLocked ends an execution with its outcome; a success uploads the bundle unless the bucket
// is missing, which fails the upload step as the real runbook does.
func (a *Account) finishLocked(e *execution) {
	e.end = a.Now().UTC()
	e.status = e.outcome.Status
	if e.status == "" {
		e.status = "Success"
	}
	if e.status != "Success" || e.outcome.NoUpload {
		return
	}
	if _, ok := a.buckets[e.bucket]; !ok {
		e.status = "Failed"
		e.outcome.FailedStep = "uploadLogsToS3"
		e.outcome.StepFailureMessage = "upload failed: NoSuchBucket: The specified bucket does not exist: " + e.bucket
		return
	}
	key := e.outcome.Key
	if key == "" {
		key = fmt.Sprintf("eks_%s_%s.tar.gz", e.instance, e.id)
	}
	data, ok := a.bundles[e.instance]
	if !ok {
		data = []byte("bundle of " + e.instance)
	}
	a.putLocked(e.bucket, key, data, e.end)
}

// viewLocked renders an execution as GetAutomationExecution returns it.
func (a *Account) viewLocked(e *execution) ssmExecution {
	v := ssmExecution{
		AutomationExecutionID: e.id, AutomationExecutionStatus: e.status, DocumentName: Document,
		ExecutionStartTime: epoch(e.start), Parameters: e.params,
	}
	failed := e.outcome.FailedStep
	if failed == "" && e.status != "Success" && e.status != "Pending" && e.status != "InProgress" {
		failed = steps[1]
	}
	doneSteps := 0
	switch e.status {
	case "Pending":
	case "InProgress":
		doneSteps = 1
		v.CurrentStepName = steps[1]
	default:
		doneSteps = len(steps)
		v.ExecutionEndTime = epoch(e.end)
		v.FailureMessage = e.outcome.FailureMessage
		v.Outputs = e.outcome.Outputs
	}
	stopped := false
	for i, name := range steps {
		s := ssmStep{StepName: name, Action: "aws:runCommand", StepStatus: "Pending"}
		switch {
		case stopped:
		case name == failed && i < doneSteps:
			s.StepStatus = e.status
			s.FailureMessage = e.outcome.StepFailureMessage
			if e.outcome.StepFailureDetails != nil {
				s.FailureDetails = &ssmFailureDetails{FailureStage: "InputValidation", FailureType: "Verification", Details: e.outcome.StepFailureDetails}
			}
			stopped = true
		case i < doneSteps:
			s.StepStatus = "Success"
		case i == doneSteps && e.status == "InProgress":
			s.StepStatus = "InProgress"
		}
		v.StepExecutions = append(v.StepExecutions, s)
	}
	return v
}

// epoch renders a time as JSON 1.1's epoch seconds.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// first returns a list's first element, or "".
func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// jsonError writes a JSON 1.1 error.
func jsonError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}

// writeJSON writes a JSON 1.1 success response.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}
