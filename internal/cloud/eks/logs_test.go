package eks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var logT0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// logWorld gives cluster prod (api and audit enabled) a log group with events every 10 seconds
// from logT0, rotating over the audit, api, authenticator and scheduler streams; every third
// message mentions CrashLoopBackOff, and a few carry a millisecond part so times are checked to
// the millisecond.
func logWorld(f *fakeAWS, n int) {
	world(f)
	streams := []string{"kube-apiserver-audit-0a1b", "kube-apiserver-0a1b", "authenticator-0a1b", "kube-scheduler-0a1b"}
	group := "/aws/eks/prod/cluster"
	for i := range n {
		msg := fmt.Sprintf("event %d", i)
		if i%3 == 0 {
			msg += ` pod payments/ledger-0 reason CrashLoopBackOff`
		}
		f.events[group] = append(f.events[group], fakeEvent{stream: streams[i%len(streams)], message: msg,
			at: logT0.Add(time.Duration(i)*10*time.Second + time.Duration(i%5)*time.Millisecond)})
	}
}

// wantEvents derives from the world the events a request must match, in time order.
func wantEvents(f *fakeAWS, prefix, notPrefix, term string, start, end time.Time) []LogEvent {
	var out []LogEvent
	for _, e := range f.events["/aws/eks/prod/cluster"] {
		if !strings.HasPrefix(e.stream, prefix) || (notPrefix != "" && strings.HasPrefix(e.stream, notPrefix)) ||
			!strings.Contains(e.message, term) || e.at.Before(start) || e.at.After(end) {
			continue
		}
		out = append(out, LogEvent{Time: e.at, Stream: e.stream, Message: e.message})
	}
	return out
}

func TestLogs(t *testing.T) {
	start, end := logT0.Add(30*time.Second), logT0.Add(20*time.Minute)
	tests := []struct {
		name      string
		req       LogsRequest
		setup     func(*fakeAWS)
		prefix    string // the stream prefix the request must carry
		notPrefix string // streams the result must leave out
		// keep picks the expected events out of all matching ones.
		keep          func([]LogEvent) []LogEvent
		wantTruncated bool
		wantHint      string
		wantNotes     []string
	}{
		{name: "audit, paged across nextToken", prefix: "kube-apiserver-audit-",
			req: LogsRequest{ClusterName: "prod", LogType: "audit", FilterPattern: "CrashLoopBackOff", Start: start, End: end}},
		{name: "audit by its stream name", prefix: "kube-apiserver-audit-",
			req: LogsRequest{ClusterName: "prod", LogType: "kube-apiserver-audit", FilterPattern: "CrashLoopBackOff", Start: start, End: end}},
		{name: "api leaves the audit streams out", prefix: "kube-apiserver-", notPrefix: "kube-apiserver-audit-",
			req: LogsRequest{ClusterName: "prod", LogType: "kube-apiserver", Start: start, End: end}},
		{name: "control-plane reads every stream", prefix: "",
			req: LogsRequest{ClusterName: "prod", LogType: "control-plane", FilterPattern: "CrashLoopBackOff", Start: start, End: end}},
		{name: "newest by default", prefix: "kube-apiserver-audit-",
			req:  LogsRequest{ClusterName: "prod", LogType: "audit", Start: start, End: end, Limit: 4},
			keep: func(ev []LogEvent) []LogEvent { return ev[len(ev)-4:] }, wantTruncated: true, wantHint: "older events in the window were left out"},
		{name: "oldest first on request", prefix: "kube-apiserver-audit-",
			req:  LogsRequest{ClusterName: "prod", LogType: "audit", Start: start, End: end, Limit: 3, Oldest: true},
			keep: func(ev []LogEvent) []LogEvent { return ev[:3] }, wantTruncated: true, wantHint: "pass nextToken"},
		{name: "limit above the cap is cut", prefix: "kube-apiserver-audit-",
			req: LogsRequest{ClusterName: "prod", LogType: "audit", Start: start, End: end, Limit: 5000}, wantNotes: []string{"cut to the maximum of 1000"}},
		{name: "throttled once, then read", prefix: "kube-apiserver-audit-",
			req: LogsRequest{ClusterName: "prod", LogType: "audit", Start: start, End: end},
			setup: func(f *fakeAWS) {
				f.addFault("logs:FilterLogEvents", fault{status: 400, code: "ThrottlingException", msg: "Rate exceeded", times: 1})
			}},
		{name: "no DescribeCluster permission is a note", prefix: "kube-apiserver-audit-",
			req: LogsRequest{ClusterName: "prod", LogType: "audit", Start: start, End: end},
			setup: func(f *fakeAWS) {
				f.addFault("eks:DescribeCluster", fault{status: 403, code: "AccessDeniedException", msg: "no", times: -1})
			},
			wantNotes: []string{"could not check which log types are enabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAWS(t)
			logWorld(f, 150)
			if tt.setup != nil {
				tt.setup(f)
			}
			res, err := f.client().Logs(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			term := strings.Fields(tt.req.FilterPattern + " event")[0]
			want := wantEvents(f, tt.prefix, tt.notPrefix, term, tt.req.Start, tt.req.End)
			if len(want) < 3 {
				t.Fatalf("the world gives only %d matching events; the case proves nothing", len(want))
			}
			if tt.keep != nil {
				want = tt.keep(want)
			}
			if !slices.Equal(res.Events, want) {
				t.Errorf("events %d:\n%v\nwant %d:\n%v", len(res.Events), res.Events, len(want), want)
			}
			if res.Truncated != tt.wantTruncated || !strings.Contains(res.Hint, tt.wantHint) {
				t.Errorf("truncated %v hint %q, want %v and %q", res.Truncated, res.Hint, tt.wantTruncated, tt.wantHint)
			}
			if tt.wantTruncated && tt.req.Oldest == (res.NextToken == "") {
				t.Errorf("nextToken %q: an oldest-first read that stops early must return one, a newest read none", res.NextToken)
			}
			for _, n := range tt.wantNotes {
				if !slices.ContainsFunc(res.Notes, func(s string) bool { return strings.Contains(s, n) }) {
					t.Errorf("notes %q do not say %q", res.Notes, n)
				}
			}
			calls := f.callsTo("logs:FilterLogEvents")
			if len(calls) < 2 {
				t.Errorf("%d FilterLogEvents calls; the world needs paging across nextToken", len(calls))
			}
			for i, c := range calls {
				b := c.body
				if b["logGroupName"] != "/aws/eks/prod/cluster" || b["startTime"] != float64(tt.req.Start.UnixMilli()) || b["endTime"] != float64(tt.req.End.UnixMilli()) {
					t.Errorf("call %d: group %v start %v end %v, want /aws/eks/prod/cluster %d %d", i, b["logGroupName"], b["startTime"], b["endTime"], tt.req.Start.UnixMilli(), tt.req.End.UnixMilli())
				}
				if got, _ := b["logStreamNamePrefix"].(string); got != tt.prefix {
					t.Errorf("call %d: stream prefix %q, want %q", i, got, tt.prefix)
				}
				if got, _ := b["filterPattern"].(string); got != tt.req.FilterPattern {
					t.Errorf("call %d: filter pattern %q, want %q", i, got, tt.req.FilterPattern)
				}
				// Every call after the first goes on with a nextToken, unless it is the SDK's retry
				// of the call before, which repeats it byte for byte.
				if _, has := b["nextToken"]; has != (i > 0) && !(i > 0 && c.detail == calls[i-1].detail) {
					t.Errorf("call %d: nextToken present %v", i, has)
				}
			}
		})
	}
}

// TestLogsOldestContinues reads a window oldest-first in pieces with the returned NextToken and
// checks the pieces join into exactly the window's events, none skipped or repeated.
func TestLogsOldestContinues(t *testing.T) {
	f := newFakeAWS(t)
	f.pageSize = 4
	logWorld(f, 60)
	c := f.client()
	req := LogsRequest{ClusterName: "prod", LogType: "audit", Start: logT0, End: logT0.Add(time.Hour), Limit: 5, Oldest: true}
	var got []LogEvent
	for range 20 {
		res, err := c.Logs(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Events...)
		if res.NextToken == "" {
			break
		}
		req.NextToken = res.NextToken
	}
	want := wantEvents(f, "kube-apiserver-audit-", "", "", req.Start, req.End)
	if !slices.Equal(got, want) {
		t.Errorf("pieces join into %d events, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
}

// TestLogsPageBudget: a window longer than the page budget stops, keeps the newest events read, and
// says from when to go on.
func TestLogsPageBudget(t *testing.T) {
	f := newFakeAWS(t)
	f.pageSize = 1
	logWorld(f, 4*(maxLogPages+10))
	res, err := f.client().Logs(context.Background(), LogsRequest{ClusterName: "prod", LogType: "audit", Start: logT0, End: logT0.Add(24 * time.Hour), Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.callsTo("logs:FilterLogEvents")); n != maxLogPages {
		t.Errorf("%d pages read, want the budget of %d", n, maxLogPages)
	}
	all := wantEvents(f, "kube-apiserver-audit-", "", "", logT0, logT0.Add(24*time.Hour))
	read := all[:maxLogPages]
	if !slices.Equal(res.Events, read[len(read)-5:]) {
		t.Errorf("events %v, want the newest 5 of the %d read", res.Events, maxLogPages)
	}
	last := read[len(read)-1].Time.Format(time.RFC3339Nano)
	if !res.Truncated || !strings.Contains(res.Hint, "set start to "+last) {
		t.Errorf("truncated %v hint %q, want a hint to set start to %s", res.Truncated, res.Hint, last)
	}
}

func TestLogsDefaultWindow(t *testing.T) {
	f := newFakeAWS(t)
	logWorld(f, 10)
	c := f.client()
	now := logT0.Add(90 * time.Second)
	c.now = func() time.Time { return now }
	res, err := c.Logs(context.Background(), LogsRequest{ClusterName: "prod", LogType: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	b := f.callsTo("logs:FilterLogEvents")[0].body
	if b["startTime"] != float64(now.Add(-DefaultLogWindow).UnixMilli()) || b["endTime"] != float64(now.UnixMilli()) {
		t.Errorf("window %v–%v, want the hour before %s", b["startTime"], b["endTime"], now)
	}
	if want := wantEvents(f, "kube-apiserver-audit-", "", "", now.Add(-time.Hour), now); !slices.Equal(res.Events, want) {
		t.Errorf("events %v, want %v", res.Events, want)
	}
}

func TestLogsErrors(t *testing.T) {
	tests := []struct {
		name       string
		req        LogsRequest
		setup      func(*fakeAWS)
		wantErr    error
		wantText   []string
		wantFilter bool // whether FilterLogEvents may be called
	}{
		{name: "log type not enabled", req: LogsRequest{ClusterName: "prod", LogType: "scheduler"},
			wantErr: ErrLogTypeNotEnabled, wantText: []string{"log type scheduler is not enabled", "enabled: api, audit", "aws eks update-cluster-config --region eu-west-1 --name prod", `"types":["scheduler"]`}},
		{name: "nothing enabled for all types", req: LogsRequest{ClusterName: "staging", LogType: "control-plane"},
			wantErr: ErrLogTypeNotEnabled, wantText: []string{"no control-plane log type enabled", "update-cluster-config"}},
		{name: "log group missing", req: LogsRequest{ClusterName: "staging", LogType: "audit"},
			setup:   func(f *fakeAWS) { f.clusters["staging"].enabledLogs = []string{"audit"} },
			wantErr: ErrLogGroupNotFound, wantText: []string{"/aws/eks/staging/cluster does not exist in region eu-west-1", "update-cluster-config"}, wantFilter: true},
		{name: "cluster not found", req: LogsRequest{ClusterName: "prd", LogType: "audit"},
			wantErr: ErrClusterNotFound, wantText: []string{"eu-west-1"}},
		{name: "access denied on FilterLogEvents", req: LogsRequest{ClusterName: "prod", LogType: "audit"},
			setup: func(f *fakeAWS) {
				f.addFault("logs:FilterLogEvents", fault{status: 400, code: "AccessDeniedException", msg: "no", times: -1})
			},
			wantErr: ErrAccessDenied, wantText: []string{"logs:FilterLogEvents"}, wantFilter: true},
		{name: "unknown log type", req: LogsRequest{ClusterName: "prod", LogType: "kubelet"}, wantText: []string{`"kubelet"`, "accepted are api, audit"}},
		{name: "negative limit", req: LogsRequest{ClusterName: "prod", LogType: "audit", Limit: -1}, wantText: []string{"limit -1 is negative"}},
		{name: "start after end", req: LogsRequest{ClusterName: "prod", LogType: "audit", Start: logT0.Add(time.Hour), End: logT0},
			wantText: []string{"is not before end"}},
		{name: "empty cluster", req: LogsRequest{LogType: "audit"}, wantText: []string{"empty cluster name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAWS(t)
			logWorld(f, 10)
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := f.client().Logs(context.Background(), tt.req)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if n := len(f.callsTo("logs:FilterLogEvents")); (n > 0) != tt.wantFilter {
				t.Errorf("%d FilterLogEvents calls, want some: %v", n, tt.wantFilter)
			}
		})
	}
}

func TestNormalizeLogType(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"api", "api"}, {"kube-apiserver", "api"}, {"audit", "audit"}, {"kube-apiserver-audit", "audit"}, {"AUDIT", "audit"},
		{"authenticator", "authenticator"}, {"aws-iam-authenticator", "authenticator"},
		{"controllerManager", "controllerManager"}, {"controller-manager", "controllerManager"}, {"kube_controller_manager", "controllerManager"},
		{"scheduler", "scheduler"}, {"kube-scheduler", "scheduler"}, {"cloud-controller-manager", "cloudControllerManager"},
		{"", LogTypeAll}, {"control-plane", LogTypeAll}, {"all", LogTypeAll},
		{"kubelet", ""}, {"audits", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeLogType(tt.in)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("NormalizeLogType(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if tt.want != "" {
			if _, ok := logTypes[got]; !ok {
				t.Errorf("NormalizeLogType(%q) = %q has no stream prefix", tt.in, got)
			}
		}
	}
}
