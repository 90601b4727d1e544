package mcpserver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a tools/call, the only values of the outcome label.
const (
	OutcomeOK            = "ok"             // the tool answered
	OutcomeToolError     = "tool_error"     // the tool answered with isError (bad input, unknown bundle, …)
	OutcomeProtocolError = "protocol_error" // no result: JSON-RPC error (unknown tool, cancelled, …)
)

// UnknownTool is the tool label of calls naming a tool the server does not have. The label is
// never the client's string: any client could otherwise create one time series per name it sends.
const UnknownTool = "unknown"

// toolBuckets span a cached errors listing (milliseconds) to a diagnosis that indexes a large
// bundle first (tens of seconds).
var toolBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// toolMetrics counts tools/call requests by tool, outcome and caller, and logs each one.
type toolMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	callers  []string
	log      *slog.Logger

	mu    sync.Mutex
	known map[string]bool // tool names the server has served or listed
}

// Instrument registers nodediag_mcp_tool_calls_total{tool,outcome,caller} and
// nodediag_mcp_tool_duration_seconds{tool} in reg and counts every tools/call srv receives, on
// any transport, through the SDK's receiving middleware; log, when not nil, gets one line per
// call saying who called what and how it went. caller is the name of the token the call came
// with (AnonymousCaller without authentication); callers are the names whose series exist
// from the start. It lists srv's tools once over an in-memory session so that the tool label
// is exact from the first call; names outside that list (and outside later tools/list
// answers) are counted as "unknown".
func Instrument(ctx context.Context, srv *mcp.Server, reg prometheus.Registerer, callers []string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &toolMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nodediag_mcp_tool_calls_total",
			Help: "MCP tools/call requests by tool, outcome (ok, tool_error: an isError result, protocol_error: a JSON-RPC error) and caller (the name of the bearer token).",
		}, []string{"tool", "outcome", "caller"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nodediag_mcp_tool_duration_seconds",
			Help:    "Time to answer an MCP tools/call, by tool.",
			Buckets: toolBuckets,
		}, []string{"tool"}),
		callers: callers,
		log:     log,
		known:   map[string]bool{},
	}
	for _, c := range []prometheus.Collector{m.calls, m.duration} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering the MCP tool metrics (is the server instrumented twice in one registry?): %w", err)
		}
	}
	srv.AddReceivingMiddleware(m.middleware)
	return m.learnTools(ctx, srv)
}

// learnTools lists srv's tools through the instrumented path, which records their names.
func (m *toolMetrics) learnTools(ctx context.Context, srv *mcp.Server) error {
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		return fmt.Errorf("connecting to the MCP server to list its tools for the metrics: %w", err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "nodediag-metrics", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		return fmt.Errorf("connecting to the MCP server to list its tools for the metrics: %w", err)
	}
	defer cs.Close()
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return fmt.Errorf("listing the MCP server's tools for the metrics: %w", err)
		}
		// The series exist at zero before the first call, so a rate() has a start point.
		for _, o := range []string{OutcomeOK, OutcomeToolError, OutcomeProtocolError} {
			for _, c := range m.callers {
				m.calls.WithLabelValues(tool.Name, o, c)
			}
		}
	}
	return nil
}

func (m *toolMetrics) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "tools/list" {
			res, err := next(ctx, method, req)
			if lr, ok := res.(*mcp.ListToolsResult); ok && err == nil {
				m.mu.Lock()
				for _, t := range lr.Tools {
					m.known[t.Name] = true
				}
				m.mu.Unlock()
			}
			return res, err
		}
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		name := ""
		if cr, ok := req.(*mcp.CallToolRequest); ok && cr.Params != nil {
			name = cr.Params.Name
		}
		start := time.Now()
		res, err := next(ctx, method, req)
		elapsed := time.Since(start).Seconds()

		outcome := OutcomeOK
		switch r, ok := res.(*mcp.CallToolResult); {
		case err != nil || !ok || r == nil:
			outcome = OutcomeProtocolError
		case r.IsError:
			outcome = OutcomeToolError
		}
		tool, caller := m.label(name, outcome), toolCaller(req)
		m.calls.WithLabelValues(tool, outcome, caller).Inc()
		m.duration.WithLabelValues(tool).Observe(elapsed)
		attrs := []any{"tool", tool, "caller", caller, "outcome", outcome, "seconds", elapsed}
		if err != nil {
			attrs = append(attrs, "err", err)
		}
		m.log.Info("tool call", attrs...)
		return res, err
	}
}

// label is the tool label of a call: its name when the server has that tool. A call that got a
// result reached a registered handler, so its name is a tool; a protocol error may be the SDK's
// "unknown tool", so its name is kept only if it was listed or answered before.
func (m *toolMetrics) label(name, outcome string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if outcome != OutcomeProtocolError && name != "" {
		m.known[name] = true
	}
	if m.known[name] {
		return name
	}
	return UnknownTool
}
