package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultCallTimeout bounds a tool call when Options.CallTimeout is zero. The runbook's calls
// answer in milliseconds to seconds on a 1 GiB bundle; a call still running after two minutes is
// a query that reads far more than it needs, and holds a core and memory that other callers of
// a shared server need.
const DefaultCallTimeout = 2 * time.Minute

// stopGrace is how long a tool whose context has ended may take to return before its call is
// answered without it. Every tool here watches its context between blocks or API calls; one
// that does not must not hold the call past its limit.
const stopGrace = time.Second

// errCallTimeout is the cause of a call's context ending at the call timeout, which tells it
// apart from the client cancelling or going away.
var errCallTimeout = errors.New("the call ran past the server's time limit per call")

// narrowing says, per tool, how to ask for less, for the answer to a call that ran out of time.
var narrowing = map[string]string{
	"search": "narrow it with logTypes (kubelet,containerd,dmesg…), a time window (incident_time, or start_time and end_time) " +
		"or a more specific query; countOnly=true counts without listing",
	"read":                "read fewer lines (lineCount) or a byte range (startByte, endByte)",
	"correlate":           "narrow it with a smaller timeWindow, components or pod",
	"errors":              "give a time window (incident_time, or start_time and end_time)",
	"list_k8s_resources":  "narrow it with namespace, labelSelector or fieldSelector, or a smaller limit",
	"get_k8s_events":      "ask for fewer events (limit) or give the namespace",
	"get_pod_logs":        "ask for fewer lines (tail_lines) or a shorter since_seconds",
	"get_cloudwatch_logs": "narrow it with a shorter window (minutes, or start_time and end_time), one log_type or a filter_pattern",
	"status":              "call status again: a download resumes where it stopped",
	"collect":             "call it again; the approval, when the server asks for one, must come within the limit",
}

// callTimeoutResult is the isError answer of a call stopped at the limit: what happened, the
// limit and the flag that sets it, and how to ask for less.
func callTimeoutResult(tool string, limit time.Duration) *mcp.CallToolResult {
	how, ok := narrowing[tool]
	if !ok {
		how = "call it again with a narrower request"
	}
	res := &mcp.CallToolResult{}
	res.SetError(fmt.Errorf("%s was stopped: it ran longer than this server's limit of %v per call (serve --call-timeout). "+
		"To finish within it, %s; or ask the server's operator for a longer --call-timeout", tool, limit, how))
	return res
}

// callLimit is receiving middleware that bounds every tools/call by limit. The tool's context
// ends at the limit; its answer is then an isError result naming the limit and how to narrow the
// request, not a protocol error, so that an agent reads it and asks again for less. A search
// stopped this way would otherwise return its partial matches as a success.
func callLimit(limit time.Duration, log *slog.Logger) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != "tools/call" {
				return next(ctx, method, req)
			}
			name := ""
			if cr, ok := req.(*mcp.CallToolRequest); ok && cr.Params != nil {
				name = cr.Params.Name
			}
			cctx, cancel := context.WithTimeoutCause(ctx, limit, errCallTimeout)
			defer cancel()
			type answer struct {
				res mcp.Result
				err error
			}
			done := make(chan answer, 1)
			go func() {
				res, err := next(cctx, method, req)
				done <- answer{res, err}
			}()
			var a answer
			select {
			case a = <-done:
			case <-cctx.Done():
				select {
				case a = <-done:
				case <-time.After(stopGrace):
					log.Warn("a tool did not stop within its grace period after its context ended; answering without it",
						"tool", name, "grace", stopGrace, "cause", context.Cause(cctx))
					a = answer{err: context.Cause(cctx)}
				}
			}
			if context.Cause(cctx) == errCallTimeout && ctx.Err() == nil {
				return callTimeoutResult(name, limit), nil
			}
			return a.res, a.err
		}
	}
}
