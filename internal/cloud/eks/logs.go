package eks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// Limits of one Logs call.
const (
	DefaultLogLimit = 100
	MaxLogLimit     = 1000
	// DefaultLogWindow is how far back a request without Start reads.
	DefaultLogWindow = time.Hour
	// maxLogPages bounds how many FilterLogEvents pages one call reads so that a wide window over a
	// busy audit log costs a bounded number of API calls; the result says when it stopped early.
	maxLogPages = 50
)

// LogTypeAll reads every control-plane stream of the cluster's log group, whatever its type.
const LogTypeAll = "all"

// logTypes maps each control-plane log type to the prefix of its streams in /aws/eks/NAME/cluster.
var logTypes = map[string]string{
	"api":                    "kube-apiserver-",
	"audit":                  "kube-apiserver-audit-",
	"authenticator":          "authenticator-",
	"controllerManager":      "kube-controller-manager-",
	"scheduler":              "kube-scheduler-",
	"cloudControllerManager": "cloud-controller-manager-",
	LogTypeAll:               "",
}

// logTypeSpellings maps the spellings people and agents use, lower-cased without '-' and '_', to
// the EKS log type: the EKS enum names, the stream names, and the SOP's "control-plane".
var logTypeSpellings = map[string]string{
	"api": "api", "kubeapiserver": "api", "apiserver": "api",
	"audit": "audit", "kubeapiserveraudit": "audit", "apiserveraudit": "audit",
	"authenticator": "authenticator", "awsiamauthenticator": "authenticator", "iamauthenticator": "authenticator",
	"controllermanager": "controllerManager", "kubecontrollermanager": "controllerManager",
	"scheduler": "scheduler", "kubescheduler": "scheduler",
	"cloudcontrollermanager": "cloudControllerManager",
	"":                       LogTypeAll, "all": LogTypeAll, "controlplane": LogTypeAll, "cluster": LogTypeAll,
}

// NormalizeLogType returns the EKS log type for a spelling such as "kube-apiserver-audit" or
// "controller-manager", or an error listing the accepted ones.
func NormalizeLogType(s string) (string, error) {
	key := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	if t, ok := logTypeSpellings[key]; ok {
		return t, nil
	}
	return "", fmt.Errorf("unknown control-plane log type %q: accepted are api, audit, authenticator, controllerManager, scheduler, cloudControllerManager, or all (also spelled control-plane), and their stream names such as kube-apiserver-audit", s)
}

// LogsRequest selects control-plane log events of one cluster.
type LogsRequest struct {
	ClusterName string
	// LogType is a control-plane log type in any spelling NormalizeLogType accepts; empty means all.
	LogType string
	// FilterPattern is a CloudWatch Logs filter pattern ("OOMKilled", "{ $.verb = \"delete\" }").
	FilterPattern string
	// Start and End bound the window (End exclusive to the millisecond). A zero End is now; a zero
	// Start is Last before End.
	Start, End time.Time
	// Last is the window's length when Start is zero: 0 means DefaultLogWindow.
	Last time.Duration
	// Limit is how many events to return: 0 means DefaultLogLimit, more than MaxLogLimit is cut to it.
	Limit int
	// Oldest returns the first Limit events of the window instead of the newest Limit.
	Oldest bool
	// NextToken continues an Oldest read where the previous result's NextToken left off.
	NextToken string
}

// Window is the time range the request reads: End (now when zero) and Start (Last before End
// when zero, DefaultLogWindow when Last is zero too).
func (req LogsRequest) Window(now time.Time) (start, end time.Time) {
	end = req.End
	if end.IsZero() {
		end = now
	}
	start = req.Start
	if start.IsZero() {
		last := req.Last
		if last <= 0 {
			last = DefaultLogWindow
		}
		start = end.Add(-last)
	}
	return start, end
}

// LogEvent is one control-plane log line.
type LogEvent struct {
	Time    time.Time `json:"time"`
	Stream  string    `json:"stream"`
	Message string    `json:"message"`
}

// LogsResult holds the events in ascending time order and says whether more matched.
type LogsResult struct {
	LogGroup     string     `json:"logGroup"`
	StreamPrefix string     `json:"streamPrefix,omitempty"`
	LogType      string     `json:"logType"`
	Start        time.Time  `json:"start"`
	End          time.Time  `json:"end"`
	Events       []LogEvent `json:"events"`
	// Truncated is true when more events matched the request than Events holds.
	Truncated bool `json:"truncated"`
	// NextToken continues an Oldest read (pass it back as LogsRequest.NextToken).
	NextToken string `json:"nextToken,omitempty"`
	// Hint says how to read what Truncated left out.
	Hint string `json:"hint,omitempty"`
	// Notes are caveats, such as not having been able to check which log types are enabled.
	Notes []string `json:"notes,omitempty"`
}

// Logs reads control-plane log events of the cluster's log group /aws/eks/NAME/cluster with
// FilterLogEvents, restricted to the log type's stream prefix.
//
// Ordering: FilterLogEvents returns events in ascending time order, and there is no descending
// option. By default Logs wants the newest events, because an on-call question is about what just
// happened: it reads the window page by page (at most 50 pages) and keeps the last Limit events, so
// the result is the newest Limit events, oldest first. When older events were dropped, Truncated is
// set and Hint says to set End to the first returned event's time to read the events before them.
// If the page budget runs out before the end of the window, the events kept are the newest of what
// was read, and Hint says from when to continue. With Oldest, Logs stops after the first Limit events
// and returns NextToken to continue forward.
//
// The api type's prefix kube-apiserver- also matches the audit streams (kube-apiserver-audit-), so
// for api those streams are dropped client-side.
func (c *Client) Logs(ctx context.Context, req LogsRequest) (*LogsResult, error) {
	if req.ClusterName == "" {
		return nil, errors.New("control-plane logs: empty cluster name: pass the EKS cluster's name")
	}
	if err := c.checkCredentials("logs:FilterLogEvents"); err != nil {
		return nil, err
	}
	logType, err := NormalizeLogType(req.LogType)
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	switch {
	case limit < 0:
		return nil, fmt.Errorf("control-plane logs: limit %d is negative: pass 1 to %d, or 0 for %d", limit, MaxLogLimit, DefaultLogLimit)
	case limit == 0:
		limit = DefaultLogLimit
	case limit > MaxLogLimit:
		limit = MaxLogLimit
	}
	start, end := req.Window(c.now())
	if !start.Before(end) {
		return nil, fmt.Errorf("control-plane logs: start %s is not before end %s: pass a start earlier than the end", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	res := &LogsResult{
		LogGroup:     "/aws/eks/" + req.ClusterName + "/cluster",
		StreamPrefix: logTypes[logType],
		LogType:      logType,
		Start:        start.UTC(),
		End:          end.UTC(),
		Events:       []LogEvent{},
	}
	if note, err := c.checkLogType(ctx, req.ClusterName, logType); err != nil {
		return nil, err
	} else if note != "" {
		res.Notes = append(res.Notes, note)
	}
	if limit != req.Limit && req.Limit > MaxLogLimit {
		res.Notes = append(res.Notes, fmt.Sprintf("limit %d cut to the maximum of %d", req.Limit, MaxLogLimit))
	}
	if err := c.filterEvents(ctx, req, res, limit); err != nil {
		return nil, err
	}
	return res, nil
}

// checkLogType fails when DescribeCluster says the log type is not enabled, since the API would
// otherwise answer with silence that looks like "nothing happened". A caller that may read logs but
// not describe the cluster gets a note instead: the log group's own answer still tells.
func (c *Client) checkLogType(ctx context.Context, cluster, logType string) (string, error) {
	cl, err := c.describeCluster(ctx, cluster)
	if err != nil {
		if errors.Is(err, ErrClusterNotFound) || errors.Is(err, ErrNoCredentials) || ctx.Err() != nil {
			return "", err
		}
		return fmt.Sprintf("could not check which log types are enabled: %v", err), nil
	}
	enabled := enabledLogTypes(cl)
	if logType == LogTypeAll {
		if len(enabled) == 0 {
			return "", fmt.Errorf("%w: cluster %s in region %s has no control-plane log type enabled: %s",
				ErrLogTypeNotEnabled, cluster, c.region, enableHint(cluster, c.region, "api", "audit", "authenticator", "controllerManager", "scheduler"))
		}
		return "", nil
	}
	if logType == "cloudControllerManager" {
		// Not an EKS logging type one can enable; its streams appear when the cluster writes them.
		return "", nil
	}
	for _, t := range enabled {
		if t == logType {
			return "", nil
		}
	}
	return "", fmt.Errorf("%w: log type %s is not enabled on cluster %s in region %s (enabled: %s): %s",
		ErrLogTypeNotEnabled, logType, cluster, c.region, listOrNone(enabled), enableHint(cluster, c.region, logType))
}

func enableHint(cluster, region string, types ...string) string {
	return fmt.Sprintf(`enable it with aws eks update-cluster-config --region %s --name %s --logging '{"clusterLogging":[{"types":["%s"],"enabled":true}]}' (events are logged from then on, not before)`,
		region, cluster, strings.Join(types, `","`))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// filterEvents pages through FilterLogEvents into res.
func (c *Client) filterEvents(ctx context.Context, req LogsRequest, res *LogsResult, limit int) error {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(res.LogGroup),
		StartTime:    aws.Int64(res.Start.UnixMilli()),
		EndTime:      aws.Int64(res.End.UnixMilli()),
	}
	if res.StreamPrefix != "" {
		in.LogStreamNamePrefix = aws.String(res.StreamPrefix)
	}
	if req.FilterPattern != "" {
		in.FilterPattern = aws.String(req.FilterPattern)
	}
	if req.NextToken != "" {
		in.NextToken = aws.String(req.NextToken)
	}
	// ring keeps the newest limit events as a circular buffer; head is its oldest slot once full,
	// and dropped counts the older events pushed out.
	ring := make([]LogEvent, 0, limit)
	head, dropped := 0, 0
	pages := 0
	for {
		if req.Oldest {
			// Asking for exactly what is missing keeps the returned NextToken exact: no event of a
			// page is skipped between this call and the next.
			in.Limit = aws.Int32(int32(limit - len(ring)))
		}
		out, err := c.logs.FilterLogEvents(ctx, in)
		if err != nil {
			if apiCode(err) == "ResourceNotFoundException" {
				return fmt.Errorf("%w: log group %s does not exist in region %s: control-plane logging was never enabled for cluster %s: %s: %w",
					ErrLogGroupNotFound, res.LogGroup, c.region, req.ClusterName, enableHint(req.ClusterName, c.region, typeOrAudit(res.LogType)), err)
			}
			return c.explain("logs:FilterLogEvents", err)
		}
		pages++
		for _, e := range out.Events {
			stream := aws.ToString(e.LogStreamName)
			if res.LogType == "api" && strings.HasPrefix(stream, logTypes["audit"]) {
				continue
			}
			ev := LogEvent{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), Stream: stream, Message: aws.ToString(e.Message)}
			if len(ring) == limit {
				// Overwrite the oldest slot; head then points at the oldest event kept.
				ring[head] = ev
				head = (head + 1) % limit
				dropped++
				continue
			}
			ring = append(ring, ev)
		}
		next := aws.ToString(out.NextToken)
		if next == "" {
			break
		}
		if req.Oldest && len(ring) >= limit {
			res.Truncated, res.NextToken = true, next
			res.Hint = "more events match: pass nextToken to read the next ones"
			break
		}
		if pages >= maxLogPages {
			res.Truncated = true
			if req.Oldest {
				res.NextToken = next
				res.Hint = fmt.Sprintf("stopped after %d pages: pass nextToken to read on", pages)
			} else {
				last := res.Start
				if len(ring) > 0 {
					last = ring[(head+len(ring)-1)%len(ring)].Time
				}
				res.Hint = fmt.Sprintf("stopped after %d pages before the end of the window: events after %s were not read; set start to %s or narrow filter_pattern",
					pages, last.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
			}
			break
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("control-plane logs of %s: %w", req.ClusterName, err)
		}
		in.NextToken = out.NextToken
	}
	res.Events = append(ring[head:], ring[:head]...)
	if dropped > 0 && !res.Truncated {
		res.Truncated = true
		res.Hint = fmt.Sprintf("%d older events in the window were left out to keep the newest %d: set end to %s to read the ones before",
			dropped, limit, ring[0].Time.Format(time.RFC3339Nano))
	}
	return nil
}

func typeOrAudit(t string) string {
	if t == LogTypeAll {
		return "audit"
	}
	return t
}
