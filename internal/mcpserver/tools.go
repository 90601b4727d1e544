package mcpserver

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/search"
)

// Paging of errors: 50 findings fit an agent's context with their examples; 200 is the most a
// single answer should carry.
const (
	defaultPageSize = 50
	maxPageSize     = 200
	// defaultMaxResults keeps a search answer small (the runbook's node-log walk within 40 KB);
	// the library's own cap still applies above it.
	defaultMaxResults = 50
	// defaultMaxEvents keeps a correlate timeline to what an agent reads in one go; the library's
	// own default (200) is for a terminal.
	defaultMaxEvents = 50
	// defaultMaxLineBytes cuts a search match's text for an agent: the file and line name it,
	// and read gets it whole.
	defaultMaxLineBytes = evidence.QuoteBytes
	// exampleBytes of a finding's first sample show a concise errors answer what its lines look
	// like; detailed gives the samples whole.
	exampleBytes = 200
	// defaultReadLines is a neighbourhood (startLine=<line-20>) rather than a screen: the
	// library's 200 lines of kubelet log were 66 KB.
	defaultReadLines = 40
	// defaultMaxChains: a crash loop repeats one chain; the newest two show it and a change.
	defaultMaxChains = 2
)

func (s *server) register(r *registry) {
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "errors", Annotations: readOnly("Findings of a bundle"), Description: "Lists the findings " +
		"(detection-rule hits grouped by rule, most severe first) of the node's newest bundle or the one bundleId names. " +
		"severity is the lowest to list: critical, high, medium (legacy: warning), low (default) or info. " +
		"response_format concise (default: id, rule, title, severity, count, times, one example line) or detailed " +
		"(adds description, category, per-file counts and every sample). pageSize default 50, cap 200; pass nextPageToken " +
		"back as pageToken for the next page. incident_time (±5 minutes) or start_time/end_time count only hits in that window."}, s.errors)
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "search", Annotations: readOnly("Search the node's logs"), Description: "Searches every text " +
		"file of the bundle with an RE2 regex (case-insensitive unless caseSensitive), optionally only in logTypes " +
		"(comma list, e.g. kubelet,containerd,dmesg), dropping lines that match exclude, inside incident_time (±5 minutes) " +
		"or start_time/end_time. maxResults default 50, maxPerFile default 100 (cap 500), context lines default 0 (cap 20). " +
		"Matches carry file:line; read a neighbourhood with read. When not every match fits, the incident comes first: the " +
		"lines around the newest crash loop (or incident_time, or the newest lines of the window), listed in file and line order, " +
		"with healthy starts and exit-0 lines counted in collapsed; next gives the exact calls for the rest (offset for " +
		"the next page, end_time for older matches, listRoutine=true to list the collapsed lines). The search reads the blocks " +
		"nearest the incident first and stops once its page is certain: total then counts the matches read (totalExact false, " +
		"totalAtMost bounds the rest); exactTotal=true reads everything for exact counts; countOnly=true returns only the " +
		"exact count per file, as rg -c does, and is the cheapest way to learn how often something occurs. The concise " +
		"answer (default) lists each line once, as ref file:line, naming its copies in other files (a kernel line is in " +
		"dmesg, dmesg -T and messages) in copies; response_format=detailed lists matches under their files."}, s.search)
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "read", Annotations: readOnly("Read lines of a log file"), Description: "Reads lines of one " +
		"file of the bundle (logKey: the file path as errors and search name it): startLine (1-based; negative counts from " +
		"the end) and lineCount (default 200, cap 10000), or a byte range startByte..endByte (at most 1 MiB) widened to " +
		"whole lines. The answer says the request for the next page."}, s.read)
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "correlate", Annotations: readOnly("Timeline around a pivot"), Description: "Builds the " +
		"timeline of crash facts and findings around every occurrence of pivotEvent (default CrashLoopBackOff; a finding " +
		"id, a fact kind such as OOMKill, or a regex) within timeWindow seconds (default 300) either side, with causal " +
		"chains, restart frequency and back-off ladder, and gaps. components keeps only those log types (comma list); pod " +
		"(name or namespace/name) and container restrict it to one workload. maxEvents caps the timeline: default 50. A " +
		"longer timeline is cut to the crash facts of the pivot's neighbourhood first, newest first, with routine (low and " +
		"info) finding lines counted in collapsed; next gives the exact calls for the rest (offset, listRoutine=true). " +
		"Events and chain links name their line as ref file:line; response_format=detailed adds log types, IDs and joins."}, s.correlate)
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "validate", Annotations: readOnly("Check a bundle is complete"), Description: "Says whether " +
		"the bundle holds the evidence a crash diagnosis needs (kubelet, containerd and a kernel source are required), " +
		"which sources it has with their time spans, and what is missing."}, s.validate)
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "summarize", Annotations: readOnly("Explain findings"), Description: "Explains the " +
		"given finding_ids (all findings at medium or above when none are given): one claim per finding with its sample " +
		"lines, the root cause with its evidence, the critical and high findings, components, recommendations and SOPs. " +
		"An unknown finding id is an error naming the ids the bundle has."}, s.summarize)
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "quick_triage", Annotations: readOnly("Fast overview of a bundle"), Description: "Gives " +
		"the fast overview of a bundle: the most severe findings, crash facts per workload, the most likely root cause " +
		"and the full K3 diagnosis of the busiest crash-looping container, from the node's logs alone."}, s.quickTriage)
	addTool(r, SetRunbooks, true, &mcp.Tool{Name: "list_sops", Annotations: readOnly("List runbooks"), Description: "Lists the runbooks " +
		"(SOPs) by id, title, severity and status; query keeps those whose id, title, description or triggers contain it " +
		"(case-insensitive). Read one with get_sop."}, s.listSOPs)
	addTool(r, SetRunbooks, true, &mcp.Tool{Name: "get_sop", Annotations: readOnly("Read a runbook"), Description: "Returns one runbook " +
		"by sopId (case-insensitive, e.g. K3): its phases and steps with the tool calls they name, the Output Format and " +
		"the Markdown body."}, s.getSOP)
	addTool(r, SetNodeLogs, s.store != nil, &mcp.Tool{Name: "diagnose_crashloop", Annotations: readsOutside("Diagnose a crash-looping container"),
		Description: "Runs the whole K3 CrashLoopBackOff SOP for namespace/pod (namespace default \"default\"; container optional: " +
			"the pod's crash-looping one) and answers its Output Format: root cause, exit code and meaning, crash frequency, evidence " +
			"with file:line, severity, mitigation, confidence. With cluster access (clusterName picks the kubeconfig context) it reads " +
			"the pod's state, events and previous log, and without instanceId finds the pod's node and its EC2 instance id from the " +
			"node's providerID; the logs are that instance's newest stored bundle, or the one bundleId names. Without a stored bundle " +
			"it says which collect call gets one. pod_name and container_name are accepted for pod and container, cluster_name " +
			"for clusterName."}, s.diagnoseCrashloop)
}

// ErrorsIn is the errors tool's input.
type ErrorsIn struct {
	InstanceID     string `json:"instanceId,omitempty" jsonschema:"the node's EC2 instance id; its newest stored bundle is read (with neither instanceId nor bundleId: the newest bundle in the store)"`
	BundleID       string `json:"bundleId,omitempty" jsonschema:"a stored bundle id; overrides the newest-bundle choice"`
	Severity       string `json:"severity,omitempty" jsonschema:"lowest severity to list: critical, high, medium (or warning), low (default), info"`
	ResponseFormat string `json:"response_format,omitempty" jsonschema:"concise (default) or detailed"`
	PageSize       int    `json:"pageSize,omitempty" jsonschema:"findings per page: default 50, cap 200"`
	PageToken      string `json:"pageToken,omitempty" jsonschema:"nextPageToken of the previous answer, to get the next page"`
	IncidentTime   string `json:"incident_time,omitempty" jsonschema:"count only hits within ±5 minutes of this time (RFC 3339 or 2006-01-02 15:04[:05] UTC)"`
	StartTime      string `json:"start_time,omitempty" jsonschema:"window start (same formats as incident_time)"`
	EndTime        string `json:"end_time,omitempty" jsonschema:"window end (same formats as incident_time)"`
}

// FindingOut is one finding as errors lists it; the detailed fields are empty in concise answers.
type FindingOut struct {
	ID          string         `json:"id"`
	Rule        string         `json:"rule"`
	Title       string         `json:"title"`
	Severity    string         `json:"severity"`
	Count       int            `json:"count" jsonschema:"hits (inside the window when one is given)"`
	First       time.Time      `json:"first,omitzero"`
	Last        time.Time      `json:"last,omitzero"`
	SOPs        []string       `json:"sops,omitempty"`
	Example     string         `json:"example,omitempty" jsonschema:"file:line and text of the first sample (concise)"`
	Description string         `json:"description,omitempty"`
	Category    string         `json:"category,omitempty"`
	Files       map[string]int `json:"files,omitempty"`
	Samples     []index.Sample `json:"samples,omitempty"`
}

// ErrorsOut is the errors tool's answer.
type ErrorsOut struct {
	Bundle        BundleRef    `json:"bundle"`
	MinSeverity   string       `json:"minSeverity"`
	Matching      int          `json:"matching" jsonschema:"findings that pass the severity and time filters, on all pages"`
	Findings      []FindingOut `json:"findings"`
	NextPageToken string       `json:"nextPageToken,omitempty" redact:"-"`
	Hint          string       `json:"hint"`
}

// pageToken is the opaque cursor of errors; it remembers the query so that a token is not
// replayed against different filters or another bundle.
type pageToken struct {
	Bundle string `json:"b"`
	Query  string `json:"q"`
	Offset int    `json:"o"`
}

func (s *server) errors(ctx context.Context, _ *mcp.CallToolRequest, in ErrorsIn) (*mcp.CallToolResult, ErrorsOut, error) {
	var out ErrorsOut
	least, err := app.NormalizeSeverity("severity", in.Severity)
	if err != nil {
		return nil, out, err
	}
	detailed, err := responseFormat(in.ResponseFormat)
	if err != nil {
		return nil, out, err
	}
	size := in.PageSize
	switch {
	case size < 0:
		return nil, out, fmt.Errorf("pageSize %d: want 1 to %d (default %d)", size, maxPageSize, defaultPageSize)
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	w, err := window(in.IncidentTime, in.StartTime, in.EndTime)
	if err != nil {
		return nil, out, err
	}
	_, idx, ref, err := s.open(ctx, in.InstanceID, in.BundleID)
	if err != nil {
		return nil, out, err
	}
	query := strings.Join([]string{least, in.ResponseFormat, in.IncidentTime, in.StartTime, in.EndTime}, "|")
	offset := 0
	if in.PageToken != "" {
		tok, err := decodeToken(in.PageToken)
		if err != nil || tok.Bundle != ref.BundleID || tok.Query != query {
			return nil, out, fmt.Errorf("pageToken is not one this query issued: pass nextPageToken from the previous errors answer with the same instanceId, severity, response_format and time window, or omit it for the first page")
		}
		offset = tok.Offset
	}
	found := app.Errors(idx, app.ErrorsRequest{MinSeverity: least, Window: w})
	out = ErrorsOut{Bundle: ref, MinSeverity: least, Matching: len(found.Findings), Findings: []FindingOut{}}
	for _, f := range found.Findings[min(offset, len(found.Findings)):min(offset+size, len(found.Findings))] {
		fo := FindingOut{ID: f.ID, Rule: f.Rule, Title: f.Title, Severity: f.Severity, Count: f.Count, First: f.First, Last: f.Last, SOPs: f.SOPs}
		if detailed {
			fo.Description, fo.Category, fo.Files, fo.Samples = f.Description, f.Category, f.Files, f.Samples
		} else if len(f.Samples) > 0 {
			text, _ := evidence.Quote([]byte(f.Samples[0].Text), exampleBytes)
			fo.Example = fmt.Sprintf("%s:%d %s", f.Samples[0].File, f.Samples[0].Line, text)
		}
		out.Findings = append(out.Findings, fo)
	}
	if next := offset + len(out.Findings); next < out.Matching {
		out.NextPageToken = encodeToken(pageToken{Bundle: ref.BundleID, Query: query, Offset: next})
	}
	out.Hint = "next: summarize(instanceId, finding_ids=[…]) to explain findings, search(query=…) for their lines, or correlate(pivotEvent=\"CrashLoopBackOff\")"
	return nil, out, nil
}

// responseFormat reads a tool's response_format: concise (the default) or detailed.
func responseFormat(v string) (detailed bool, err error) {
	switch v {
	case "", "concise":
		return false, nil
	case "detailed":
		return true, nil
	}
	return false, fmt.Errorf("response_format %q is not one of concise, detailed", v)
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t) // a struct of strings and an int always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, fmt.Errorf("pageToken: %w", err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("pageToken: %w", err)
	}
	return t, nil
}

// SearchIn is the search tool's input.
type SearchIn struct {
	InstanceID     string `json:"instanceId,omitempty" jsonschema:"the node's EC2 instance id; its newest stored bundle is read (with neither instanceId nor bundleId: the newest bundle in the store)"`
	BundleID       string `json:"bundleId,omitempty" jsonschema:"a stored bundle id; overrides the newest-bundle choice"`
	Query          string `json:"query" jsonschema:"RE2 regular expression, case-insensitive unless caseSensitive"`
	LogTypes       string `json:"logTypes,omitempty" jsonschema:"comma list of log types to search, e.g. kubelet,containerd,dmesg; empty searches all"`
	Exclude        string `json:"exclude,omitempty" jsonschema:"RE2 regex: drop lines that match it"`
	CaseSensitive  bool   `json:"caseSensitive,omitempty" jsonschema:"match case exactly"`
	IncidentTime   string `json:"incident_time,omitempty" jsonschema:"only lines within ±5 minutes of this time (RFC 3339 or 2006-01-02 15:04[:05] UTC)"`
	StartTime      string `json:"start_time,omitempty" jsonschema:"window start (same formats as incident_time)"`
	EndTime        string `json:"end_time,omitempty" jsonschema:"window end (same formats as incident_time)"`
	MaxResults     int    `json:"maxResults,omitempty" jsonschema:"matches listed in all: default 50, cap 5000"`
	MaxPerFile     int    `json:"maxPerFile,omitempty" jsonschema:"matches listed per file: default 100, cap 500"`
	Context        int    `json:"context,omitempty" jsonschema:"lines before and after each match: default 0, cap 20"`
	Offset         int    `json:"offset,omitempty" jsonschema:"skip this many matches of the incident-first order: the nextOffset of a cut answer"`
	ListRoutine    bool   `json:"listRoutine,omitempty" jsonschema:"list healthy starts and exit-0 lines with the others instead of counting them in collapsed"`
	ExactTotal     bool   `json:"exactTotal,omitempty" jsonschema:"read every block the query can match in so total is exact; by default the search stops once its page is certain and total is a lower bound (totalExact false, totalAtMost the upper bound)"`
	MaxLineBytes   int    `json:"maxLineBytes,omitempty" jsonschema:"longer lines are cut with a marker: default 320 (read gets a whole line by file and line)"`
	CountOnly      bool   `json:"countOnly,omitempty" jsonschema:"list no matches: count the matching lines of each file exactly (with the window and logTypes applied); offset, context and listRoutine do not apply"`
	ResponseFormat string `json:"response_format,omitempty" jsonschema:"concise (default): matches once per line of the node, copies in other files named in copies, files with counts only; detailed: matches under their files with offsets and time quality"`
}

// SearchOut is the search tool's answer.
type SearchOut struct {
	Bundle BundleRef `json:"bundle"`
	search.Result
	// Matches is the concise page: files then carry only their counts.
	Matches []search.Record `json:"matches,omitempty"`
	Hint    string          `json:"hint"`
}

func (s *server) search(ctx context.Context, _ *mcp.CallToolRequest, in SearchIn) (*mcp.CallToolResult, SearchOut, error) {
	var out SearchOut
	detailed, err := responseFormat(in.ResponseFormat)
	if err != nil {
		return nil, out, err
	}
	w, err := window(in.IncidentTime, in.StartTime, in.EndTime)
	if err != nil {
		return nil, out, err
	}
	e, idx, ref, err := s.open(ctx, in.InstanceID, in.BundleID)
	if err != nil {
		return nil, out, err
	}
	max := in.MaxResults
	if max <= 0 {
		max = defaultMaxResults
	}
	res, err := search.Search(ctx, e, idx, search.Request{Query: in.Query, Exclude: in.Exclude, CaseSensitive: in.CaseSensitive,
		LogTypes: splitList(in.LogTypes), From: w.From, To: w.To, Around: w.Incident, MaxPerFile: in.MaxPerFile,
		MaxTotal: max, Context: in.Context, Offset: in.Offset, ListRoutine: in.ListRoutine, ExactTotal: in.ExactTotal, CountOnly: in.CountOnly, MaxLineBytes: cmp.Or(in.MaxLineBytes, defaultMaxLineBytes)})
	if err != nil {
		return nil, out, fmt.Errorf("search: %w (fix query or exclude: RE2 syntax, at most %d bytes)", app.Rename(err, app.MCPSearchNames), search.MaxQueryBytes)
	}
	for i, n := range res.Narrow {
		res.Narrow[i] = mcpNarrowWords.Replace(n)
	}
	for i := range res.Next {
		res.Next[i].Call = searchCall(in, res.Next[i])
	}
	out = SearchOut{Bundle: ref, Result: *res, Hint: "next: read(logKey=<file>, startLine=<line-20>) for a match's neighbourhood, or correlate(pivotEvent=…)"}
	if !detailed {
		out.Matches = res.Fold()
		out.Files = slices.Clone(res.Files)
		for i := range out.Files {
			out.Files[i].Matches = nil
		}
		out.Prefilter = nil // how the engine read, not what it found
	}
	switch {
	case res.Focus != nil:
		out.Hint = "cut, incident first (see focus): next[].call gets the rest; " + out.Hint
	case res.Truncated:
		out.Hint = "truncated: narrow with logTypes or a time window (see narrow), or raise maxResults; " + out.Hint
	}
	return nil, out, nil
}

// searchCall writes the search that gets what a cut answer did not list: the agent's own call
// with the offset, window or listRoutine the search package proposes.
func searchCall(in SearchIn, n search.Next) string {
	in.Offset = n.Offset
	if n.Window {
		in.IncidentTime, in.StartTime, in.EndTime = "", whenOf(n.From), whenOf(n.To)
	}
	if n.ListRoutine {
		in.ListRoutine = true
	}
	return callOf("search", in)
}

// ReadIn is the read tool's input.
type ReadIn struct {
	InstanceID string `json:"instanceId,omitempty" jsonschema:"the node's EC2 instance id; its newest stored bundle is read (with neither instanceId nor bundleId: the newest bundle in the store)"`
	BundleID   string `json:"bundleId,omitempty" jsonschema:"a stored bundle id; overrides the newest-bundle choice"`
	LogKey     string `json:"logKey" jsonschema:"the file's path in the bundle, as errors and search name it"`
	StartLine  int    `json:"startLine,omitempty" jsonschema:"1-based first line; negative counts from the end (-200: the last 200 lines)"`
	LineCount  int    `json:"lineCount,omitempty" jsonschema:"lines to return: default 40, cap 10000"`
	StartByte  int64  `json:"startByte,omitempty" jsonschema:"byte mode: first byte (used when endByte > 0)"`
	EndByte    int64  `json:"endByte,omitempty" jsonschema:"byte mode when > 0: end of the range, at most 1 MiB after startByte"`
}

// ReadOut is the read tool's answer.
type ReadOut struct {
	Bundle BundleRef `json:"bundle"`
	search.ReadResult
}

func (s *server) read(ctx context.Context, _ *mcp.CallToolRequest, in ReadIn) (*mcp.CallToolResult, ReadOut, error) {
	var out ReadOut
	e, idx, ref, err := s.open(ctx, in.InstanceID, in.BundleID)
	if err != nil {
		return nil, out, err
	}
	res, err := search.Read(ctx, e, idx, search.ReadRequest{LogKey: in.LogKey, StartLine: in.StartLine,
		LineCount: cmp.Or(in.LineCount, defaultReadLines), StartByte: in.StartByte, EndByte: in.EndByte})
	if err != nil {
		return nil, out, fmt.Errorf("read: %w", err)
	}
	return nil, ReadOut{Bundle: ref, ReadResult: *res}, nil
}

// CorrelateIn is the correlate tool's input.
type CorrelateIn struct {
	InstanceID     string `json:"instanceId,omitempty" jsonschema:"the node's EC2 instance id; its newest stored bundle is read (with neither instanceId nor bundleId: the newest bundle in the store)"`
	BundleID       string `json:"bundleId,omitempty" jsonschema:"a stored bundle id; overrides the newest-bundle choice"`
	PivotEvent     string `json:"pivotEvent,omitempty" jsonschema:"finding id (F-007), fact kind (OOMKill, BackOff, …) or regex; default CrashLoopBackOff"`
	TimeWindow     int    `json:"timeWindow,omitempty" jsonschema:"seconds before and after each pivot occurrence: default 300"`
	Components     string `json:"components,omitempty" jsonschema:"comma list of log types to keep (kubelet, containerd, dmesg, …); empty keeps all"`
	Pod            string `json:"pod,omitempty" jsonschema:"pod name or namespace/name to keep"`
	PodName        string `json:"pod_name,omitempty" jsonschema:"the EKS MCP server's spelling of pod"`
	Container      string `json:"container,omitempty" jsonschema:"container name to keep"`
	ContainerName  string `json:"container_name,omitempty" jsonschema:"the EKS MCP server's spelling of container"`
	MaxEvents      int    `json:"maxEvents,omitempty" jsonschema:"timeline events listed: default 50"`
	Offset         int    `json:"offset,omitempty" jsonschema:"skip this many events of a cut timeline's order: its nextOffset"`
	ListRoutine    bool   `json:"listRoutine,omitempty" jsonschema:"list routine (low and info) finding lines with the others instead of counting them in collapsed"`
	MaxChains      *int   `json:"maxChains,omitempty" jsonschema:"crash chains listed, newest first: default 2, 0 lists every one (a crash loop repeats one chain)"`
	ResponseFormat string `json:"response_format,omitempty" jsonschema:"concise (default): events and chain links name their line file:line; detailed adds component, log type, container and pod UIDs, time quality and the joins"`
}

// CorrelateOut is the correlate tool's answer.
type CorrelateOut struct {
	Bundle BundleRef `json:"bundle"`
	correlate.Result
	// Timeline and Chains stand in for the library's: lines as file:line, detail on request.
	Timeline []EventOut `json:"timeline"`
	Chains   []ChainOut `json:"chains,omitempty"`
	Hint     string     `json:"hint"`
}

func (s *server) correlate(ctx context.Context, _ *mcp.CallToolRequest, in CorrelateIn) (*mcp.CallToolResult, CorrelateOut, error) {
	var out CorrelateOut
	pod, container, err := pickWorkload(in.Pod, in.PodName, in.Container, in.ContainerName)
	if err != nil {
		return nil, out, err
	}
	detailed, err := responseFormat(in.ResponseFormat)
	if err != nil {
		return nil, out, err
	}
	if in.TimeWindow < 0 {
		return nil, out, fmt.Errorf("timeWindow %d: want seconds > 0 (default 300)", in.TimeWindow)
	}
	_, idx, ref, err := s.open(ctx, in.InstanceID, in.BundleID)
	if err != nil {
		return nil, out, err
	}
	req := correlate.Request{Pivot: in.PivotEvent, Window: time.Duration(in.TimeWindow) * time.Second,
		Components: splitList(in.Components), Container: container, MaxEvents: in.MaxEvents, Offset: in.Offset, ListRoutine: in.ListRoutine,
		MaxChains: defaultMaxChains}
	if in.MaxChains != nil {
		if *in.MaxChains < 0 {
			return nil, out, fmt.Errorf("maxChains %d: want 0 (every chain) or more (default %d)", *in.MaxChains, defaultMaxChains)
		}
		req.MaxChains = *in.MaxChains
	}
	if req.MaxEvents <= 0 {
		req.MaxEvents = defaultMaxEvents
	}
	if ns, name, ok := strings.Cut(pod, "/"); ok {
		req.Namespace, req.Pod = ns, name
	} else {
		req.Pod = pod
	}
	res, err := correlate.Correlate(ctx, idx, req)
	if err != nil {
		return nil, out, fmt.Errorf("correlate: %w", err)
	}
	for i := range res.Next {
		call := in
		call.Offset, call.ListRoutine = res.Next[i].Offset, in.ListRoutine || res.Next[i].ListRoutine
		res.Next[i].Call = callOf("correlate", call)
	}
	hint := "next: summarize(finding_ids=[…]) for the findings in the windows, or diagnose_crashloop(namespace, pod) for the Output Format"
	if len(res.Next) > 0 {
		hint = "cut, pivot's neighbourhood and crash facts first: next[].call gets the rest; " + hint
	}
	out = CorrelateOut{Bundle: ref, Result: *res, Timeline: eventsOut(res.Timeline, detailed), Chains: chainsOut(res.Chains, detailed), Hint: hint}
	out.Result.Timeline, out.Result.Chains = nil, nil
	return nil, out, nil
}

// BundleIn is the input of the tools that take only a bundle.
type BundleIn struct {
	InstanceID string `json:"instanceId,omitempty" jsonschema:"the node's EC2 instance id; its newest stored bundle is read (with neither instanceId nor bundleId: the newest bundle in the store)"`
	BundleID   string `json:"bundleId,omitempty" jsonschema:"a stored bundle id; overrides the newest-bundle choice"`
}

// ValidateOut is the validate tool's answer.
type ValidateOut struct {
	Bundle BundleRef `json:"bundle"`
	correlate.Validation
}

func (s *server) validate(ctx context.Context, _ *mcp.CallToolRequest, in BundleIn) (*mcp.CallToolResult, ValidateOut, error) {
	e, idx, ref, err := s.open(ctx, in.InstanceID, in.BundleID)
	if err != nil {
		return nil, ValidateOut{}, err
	}
	return nil, ValidateOut{Bundle: ref, Validation: *correlate.Validate(e, idx)}, nil
}

// SummarizeIn is the summarize tool's input.
type SummarizeIn struct {
	InstanceID string   `json:"instanceId,omitempty" jsonschema:"the node's EC2 instance id; its newest stored bundle is read (with neither instanceId nor bundleId: the newest bundle in the store)"`
	BundleID   string   `json:"bundleId,omitempty" jsonschema:"a stored bundle id; overrides the newest-bundle choice"`
	FindingIDs []string `json:"finding_ids,omitempty" jsonschema:"finding ids from errors (F-001, …); empty explains every finding at medium or above"`
}

// SummarizeOut is the summarize tool's answer.
type SummarizeOut struct {
	Bundle BundleRef `json:"bundle"`
	diagnose.Summary
	Hint string `json:"hint"`
}

func (s *server) summarize(ctx context.Context, _ *mcp.CallToolRequest, in SummarizeIn) (*mcp.CallToolResult, SummarizeOut, error) {
	_, idx, ref, err := s.open(ctx, in.InstanceID, in.BundleID)
	if err != nil {
		return nil, SummarizeOut{}, err
	}
	sum, err := diagnose.Summarize(ctx, idx, in.FindingIDs)
	if err != nil {
		return nil, SummarizeOut{}, fmt.Errorf("summarize: %w (list the bundle's findings with errors)", err)
	}
	return nil, SummarizeOut{Bundle: ref, Summary: *sum, Hint: "next: diagnose_crashloop(namespace, pod) for the K3 Output Format, or get_sop(sopId) for a runbook listed in sops"}, nil
}

// TriageOut is the quick_triage tool's answer.
type TriageOut struct {
	Bundle BundleRef `json:"bundle"`
	diagnose.Triage
	Hint string `json:"hint"`
}

func (s *server) quickTriage(ctx context.Context, _ *mcp.CallToolRequest, in BundleIn) (*mcp.CallToolResult, TriageOut, error) {
	e, idx, ref, err := s.open(ctx, in.InstanceID, in.BundleID)
	if err != nil {
		return nil, TriageOut{}, err
	}
	// Other nodes' signatures for the multi-node guardrail; without them the triage stands
	// and its diagnosis says what it could not check.
	dIn := diagnose.Input{Entry: e}
	gaps, _ := app.WithPeers(ctx, s.store, &dIn)
	tr, err := diagnose.QuickTriageAcross(ctx, idx, dIn.Peers)
	if err != nil {
		return nil, TriageOut{}, fmt.Errorf("quick_triage: %w", err)
	}
	if tr.Diagnosis != nil {
		tr.Diagnosis.Gaps = append(tr.Diagnosis.Gaps, gaps...)
	}
	return nil, TriageOut{Bundle: ref, Triage: *tr, Hint: "next: errors for every finding, or get_sop(sopId) for the runbooks listed in sops"}, nil
}

// ListSOPsIn is the list_sops tool's input.
type ListSOPsIn struct {
	Query string `json:"query,omitempty" jsonschema:"keep runbooks whose id, title, description or triggers contain this (case-insensitive)"`
}

// SOPRef is one runbook as list_sops lists it.
type SOPRef struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Status      string `json:"status"`
	Description string `json:"description"`
}

// ListSOPsOut is the list_sops tool's answer.
type ListSOPsOut struct {
	SOPs []SOPRef `json:"sops"`
	Hint string   `json:"hint"`
}

func (s *server) listSOPs(_ context.Context, _ *mcp.CallToolRequest, in ListSOPsIn) (*mcp.CallToolResult, ListSOPsOut, error) {
	if s.runbookErr != nil {
		return nil, ListSOPsOut{}, fmt.Errorf("the runbook catalog did not load: %w", s.runbookErr)
	}
	q := strings.ToLower(in.Query)
	out := ListSOPsOut{SOPs: []SOPRef{}, Hint: "next: get_sop(sopId=<id>) for a runbook's phases and Output Format"}
	for _, rb := range s.runbooks.List() {
		hay := strings.ToLower(strings.Join(append([]string{rb.ID, rb.Title, rb.Description}, rb.Triggers...), "\n"))
		if q != "" && !strings.Contains(hay, q) {
			continue
		}
		out.SOPs = append(out.SOPs, SOPRef{ID: rb.ID, Title: rb.Title, Severity: rb.Severity, Status: rb.Status, Description: rb.Description})
	}
	return nil, out, nil
}

// GetSOPIn is the get_sop tool's input.
type GetSOPIn struct {
	SOPID string `json:"sopId" jsonschema:"runbook id, case-insensitive (K3)"`
	Body  bool   `json:"body,omitempty" jsonschema:"also send the runbook's Markdown as written; by default its phases, steps and example calls come parsed, which is the same text once"`
}

func (s *server) getSOP(_ context.Context, _ *mcp.CallToolRequest, in GetSOPIn) (*mcp.CallToolResult, *runbook.Runbook, error) {
	if s.runbookErr != nil {
		return nil, nil, fmt.Errorf("the runbook catalog did not load: %w", s.runbookErr)
	}
	rb, ok := s.runbooks.Get(in.SOPID)
	if !ok {
		return nil, nil, fmt.Errorf("no runbook %q: the catalog has %s (list_sops lists them)", in.SOPID, strings.Join(s.runbooks.IDs(), ", "))
	}
	if !in.Body {
		// The parsed phases hold the Markdown's steps: sending both sent K3 twice (50 KB).
		parsed := *rb
		parsed.Body = ""
		return nil, &parsed, nil
	}
	return nil, rb, nil
}

// mcpNarrowWords spells search's narrowing hints as the tool's parameters.
var mcpNarrowWords = strings.NewReplacer("from=", "start_time=", " to=", " end_time=")

// mcpGapWords turns the diagnosis's gaps from the CLI's flags into what an MCP client can do:
// it has no --pod-json to pass, but this server reads the cluster when it has access to it.
var mcpGapWords = strings.NewReplacer(
	"(pass --pod-json or cluster access)", "(this server reads it from the cluster when started with cluster access; give clusterName)",
	"(pass --events-json)", "(get_k8s_events, or this server with cluster access)",
	"(pass --previous-log)", "(get_pod_logs with previous=true, or this server with cluster access)",
)

// DiagnoseIn is the diagnose_crashloop tool's input.
type DiagnoseIn struct {
	Namespace     string `json:"namespace,omitempty" jsonschema:"the pod's namespace (default \"default\")"`
	Pod           string `json:"pod,omitempty" jsonschema:"the crash-looping pod's name"`
	PodName       string `json:"pod_name,omitempty" jsonschema:"the EKS MCP server's spelling of pod"`
	Container     string `json:"container,omitempty" jsonschema:"the container; default the pod's crash-looping one"`
	ContainerName string `json:"container_name,omitempty" jsonschema:"the EKS MCP server's spelling of container"`
	InstanceID    string `json:"instanceId,omitempty" jsonschema:"the EC2 instance id of the pod's node; its newest stored bundle is read (default: found from the pod's node when the server has cluster access)"`
	BundleID      string `json:"bundleId,omitempty" jsonschema:"a stored bundle id; overrides the newest-bundle choice"`
	ClusterIn
}

// DiagnoseOut is the diagnose_crashloop tool's answer: the K3 Output Format.
type DiagnoseOut struct {
	Bundle BundleRef `json:"bundle"`
	diagnose.Diagnosis
	Hint string `json:"hint"`
}

func (s *server) diagnoseCrashloop(ctx context.Context, _ *mcp.CallToolRequest, in DiagnoseIn) (*mcp.CallToolResult, DiagnoseOut, error) {
	var out DiagnoseOut
	pod, container, err := pickWorkload(in.Pod, in.PodName, in.Container, in.ContainerName)
	if err != nil {
		return nil, out, err
	}
	cluster, err := in.name()
	if err != nil {
		return nil, out, err
	}
	if s.clusters != nil { // the call reads the pod from the cluster
		if cluster, err = s.allowCluster("clusterName", cluster); err != nil {
			return nil, out, err
		}
	}
	if pod == "" {
		return nil, out, fmt.Errorf("pod is required: give namespace and pod (or pod_name) of the crash-looping pod")
	}
	namespace := in.Namespace
	if namespace == "" {
		namespace = "default"
	}
	dIn := diagnose.Input{Namespace: namespace, Pod: pod, Container: container}
	instance, bundleID := in.InstanceID, in.BundleID
	switch {
	case s.clusters == nil && instance == "" && in.BundleID == "":
		return nil, out, fmt.Errorf("instanceId is required here: finding the node of pod %s/%s needs cluster access, which this server "+
			"was not given (serve --kubeconfig/--context, or run it in-cluster); give instanceId (the node's EC2 instance id, the "+
			"last part of the node's spec.providerID) to select its newest stored bundle", namespace, pod)
	case s.clusters != nil:
		info, err := s.podInfo(ctx, cluster, namespace, pod, container)
		if err != nil {
			if instance == "" && in.BundleID == "" {
				return nil, out, fmt.Errorf("finding the node of pod %s/%s: %w; give instanceId to diagnose from the node's logs alone", namespace, pod, err)
			}
			dIn.Gaps = append(dIn.Gaps, fmt.Sprintf("pod state, events and previous log not read from the cluster: %v", err))
			break
		}
		dIn.PodStatus, dIn.Events, dIn.PreviousLog, dIn.Gaps = info.Pod, info.Events, info.PreviousLog, info.Gaps
		dIn.ClusterCrashLoops = info.ClusterCrashLoops
		dIn.Container = info.Container
		if instance == "" && in.BundleID == "" {
			instance = info.InstanceID
			if e, ok := app.BundleOfNode(s.store, info.InstanceID, info.NodeName); ok {
				bundleID, instance = e.Manifest.ID, e.Manifest.InstanceID
			} else if instance == "" {
				return nil, out, fmt.Errorf("pod %s/%s runs on node %q, whose providerID %q names no EC2 instance, and no stored bundle is "+
					"from that node; import its bundle (`nodediag import`, or `nodediag collect --method kube --node %s --allow-node-proxy`) "+
					"or give bundleId", namespace, pod, info.NodeName, info.ProviderID, info.NodeName)
			}
		} else if instance != "" && info.InstanceID != "" && instance != info.InstanceID {
			dIn.Gaps = append(dIn.Gaps, fmt.Sprintf("pod %s/%s now runs on %s (node %s), not on the given instanceId %s: the pod state is "+
				"today's, the logs are that instance's", namespace, pod, info.InstanceID, info.NodeName, instance))
		}
	}
	e, idx, ref, err := s.open(ctx, instance, bundleID)
	if err != nil {
		return nil, out, err
	}
	dIn.Entry = e
	dIn.Gaps = append(dIn.Gaps, app.SnapshotInput(e, &dIn)...)
	// The other nodes' signatures in the store: the runbook's multi-node guardrail. Without
	// them the diagnosis still stands; it says what it could not check.
	gaps, _ := app.WithPeers(ctx, s.store, &dIn)
	dIn.Gaps = append(dIn.Gaps, gaps...)
	d, err := diagnose.Diagnose(ctx, idx, dIn)
	if err != nil {
		return nil, out, fmt.Errorf("diagnose_crashloop: %w", err)
	}
	for i, g := range d.Gaps {
		d.Gaps[i] = mcpGapWords.Replace(g)
	}
	return nil, DiagnoseOut{Bundle: ref, Diagnosis: *d,
		Hint: "evidence refs are file:line: read(logKey=<file>, startLine=<line-20>) to see them in context; get_sop(sopId) for the runbooks in sops"}, nil
}

// podInfo reads the pod, its events, previous log and node from the cluster.
func (s *server) podInfo(ctx context.Context, cluster, namespace, pod, container string) (*kube.PodInfo, error) {
	c, err := s.clusters.Client(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return c.Fetch(ctx, namespace, pod, container)
}
