package eks

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// fakeAWS is one loopback server speaking the four wire protocols the package uses — EKS REST-JSON,
// EC2 Query/XML, SSM and CloudWatch Logs JSON 1.1 — over a small model of one region: clusters,
// instances, SSM registrations and log events. It implements the filtering and paging the real
// services do, so a test states the world and derives what it expects from that, and it records
// every request so a test can check what was asked. Faults queued per operation answer instead of
// the model, in order.
type fakeAWS struct {
	t        *testing.T
	srv      *httptest.Server
	pageSize int

	mu        sync.Mutex
	clusters  map[string]*fakeCluster
	instances []fakeInstance
	ssm       map[string]fakeSSM
	events    map[string][]fakeEvent // log group → events in time order
	faults    map[string][]fault
	calls     []fakeCall
}

type fakeCluster struct {
	name, status, version string
	enabledLogs           []string
	issues                []Issue
	nodeGroups            []NodeGroup
}

type fakeInstance struct {
	id, dns, state, az, typ string
	launch                  time.Time
	tags                    map[string]string
}

type fakeSSM struct {
	ping     string
	lastPing time.Time
}

type fakeEvent struct {
	stream, message string
	at              time.Time
}

// fault is an error answer: status, AWS error code and message. times < 0 means every call.
type fault struct {
	status      int
	code, msg   string
	times       int
	onlyIfMatch string // when set, only requests whose recorded detail contains it get the fault
}

// fakeCall is one request as the fake understood it: op is "service:Action", detail the request's
// parameters in a readable form (EC2 form values, the JSON body, the query string).
type fakeCall struct {
	op     string
	detail string
	auth   string // the Authorization header, whose credential scope names region and service
	form   url.Values
	body   map[string]any
}

func newFakeAWS(t *testing.T) *fakeAWS {
	t.Helper()
	f := &fakeAWS{t: t, pageSize: 2, clusters: map[string]*fakeCluster{}, ssm: map[string]fakeSSM{},
		events: map[string][]fakeEvent{}, faults: map[string][]fault{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// config is an aws.Config aimed at the fake with static credentials and a retryer whose back-off
// is a millisecond, so a throttling test retries for real without waiting.
func (f *fakeAWS) config() aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   f.srv.Client(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
		}),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.RateLimiter = ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		},
	}
}

func (f *fakeAWS) client() *Client { return New(f.config()) }

func (f *fakeAWS) addFault(op string, fl fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], fl)
}

// callsTo returns the recorded requests of one operation.
func (f *fakeAWS) callsTo(op string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake AWS: read body: %v", err)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.t.Errorf("fake AWS: %s %s is not SigV4-signed", r.Method, r.URL)
	}
	call := fakeCall{auth: r.Header.Get("Authorization")}
	switch target := r.Header.Get("X-Amz-Target"); {
	case strings.HasPrefix(target, "AmazonSSM."):
		call.op = "ssm:" + strings.TrimPrefix(target, "AmazonSSM.")
	case strings.HasPrefix(target, "Logs_20140328."):
		call.op = "logs:" + strings.TrimPrefix(target, "Logs_20140328.")
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		call.form, err = url.ParseQuery(string(raw))
		if err != nil {
			f.t.Errorf("fake AWS: EC2 form: %v", err)
		}
		call.op = "ec2:" + call.form.Get("Action")
		call.detail = call.form.Encode()
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/clusters"):
		call.op = eksOp(r.URL.Path)
		call.detail = r.URL.RequestURI()
	default:
		f.t.Errorf("fake AWS: unexpected request %s %s target %q", r.Method, r.URL, target)
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	if call.form == nil && r.Method == http.MethodPost {
		if err := json.Unmarshal(raw, &call.body); err != nil {
			f.t.Errorf("fake AWS: %s body %q: %v", call.op, raw, err)
		}
		call.detail = string(raw)
	}

	f.mu.Lock()
	f.calls = append(f.calls, call)
	fl, faulted := f.popFault(call)
	f.mu.Unlock()
	if faulted {
		f.writeError(w, call.op, fl)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case call.op == "ec2:DescribeInstances":
		f.describeInstances(w, call.form)
	case call.op == "ssm:DescribeInstanceInformation":
		f.describeInstanceInformation(w, call.body)
	case call.op == "logs:FilterLogEvents":
		f.filterLogEvents(w, call.body)
	case strings.HasPrefix(call.op, "eks:"):
		f.eks(w, call.op, r)
	default:
		f.t.Errorf("fake AWS: operation %s is not modelled", call.op)
		http.Error(w, "not modelled", http.StatusBadRequest)
	}
}

func eksOp(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch len(parts) {
	case 1:
		return "eks:ListClusters"
	case 2:
		return "eks:DescribeCluster"
	case 3:
		return "eks:ListNodegroups"
	default:
		return "eks:DescribeNodegroup"
	}
}

func (f *fakeAWS) popFault(c fakeCall) (fault, bool) {
	q := f.faults[c.op]
	for i, fl := range q {
		if fl.onlyIfMatch != "" && !strings.Contains(c.detail, fl.onlyIfMatch) {
			continue
		}
		if fl.times > 0 {
			fl.times--
			q[i].times = fl.times
			if fl.times == 0 {
				f.faults[c.op] = append(q[:i:i], q[i+1:]...)
			}
		}
		return fl, true
	}
	return fault{}, false
}

func (f *fakeAWS) writeError(w http.ResponseWriter, op string, fl fault) {
	if strings.HasPrefix(op, "ec2:") {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(fl.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-1</RequestID></Response>`, fl.code, fl.msg)
		return
	}
	w.Header().Set("X-Amzn-Errortype", fl.code)
	if strings.HasPrefix(op, "eks:") {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	}
	w.WriteHeader(fl.status)
	writeJSON(w, map[string]any{"__type": fl.code, "message": fl.msg})
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Write(b)
}

func (f *fakeAWS) eks(w http.ResponseWriter, op string, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if op == "eks:ListClusters" {
		names := []string{}
		for n := range f.clusters {
			names = append(names, n)
		}
		sort.Strings(names)
		writeJSON(w, map[string]any{"clusters": names})
		return
	}
	cl := f.clusters[parts[1]]
	if cl == nil {
		f.writeError(w, op, fault{status: 404, code: "ResourceNotFoundException", msg: "No cluster found for name: " + parts[1] + "."})
		return
	}
	switch op {
	case "eks:DescribeCluster":
		var logging []map[string]any
		if len(cl.enabledLogs) > 0 {
			logging = append(logging, map[string]any{"types": cl.enabledLogs, "enabled": true})
		}
		var disabled []string
		for _, t := range []string{"api", "audit", "authenticator", "controllerManager", "scheduler"} {
			if !contains(cl.enabledLogs, t) {
				disabled = append(disabled, t)
			}
		}
		if len(disabled) > 0 {
			logging = append(logging, map[string]any{"types": disabled, "enabled": false})
		}
		writeJSON(w, map[string]any{"cluster": map[string]any{
			"name": cl.name, "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/" + cl.name, "status": cl.status,
			"version": cl.version, "platformVersion": "eks.9", "endpoint": "https://" + strings.ToUpper(cl.name) + ".gr7.eu-west-1.eks.amazonaws.com",
			"createdAt": 1.7e9, "health": map[string]any{"issues": jsonIssues(cl.issues)},
			"logging": map[string]any{"clusterLogging": logging},
		}})
	case "eks:ListNodegroups":
		names := []string{}
		for _, g := range cl.nodeGroups {
			names = append(names, g.Name)
		}
		page, next := pageOf(names, r.URL.Query().Get("nextToken"), f.pageSize)
		out := map[string]any{"nodegroups": page}
		if next != "" {
			out["nextToken"] = next
		}
		writeJSON(w, out)
	case "eks:DescribeNodegroup":
		for _, g := range cl.nodeGroups {
			if g.Name == parts[3] {
				writeJSON(w, map[string]any{"nodegroup": map[string]any{
					"nodegroupName": g.Name, "clusterName": cl.name, "status": g.Status, "capacityType": g.CapacityType,
					"instanceTypes": g.InstanceTypes, "health": map[string]any{"issues": jsonIssues(g.HealthIssues)},
					"scalingConfig": map[string]any{"desiredSize": g.DesiredSize, "minSize": g.MinSize, "maxSize": g.MaxSize},
				}})
				return
			}
		}
		f.writeError(w, op, fault{status: 404, code: "ResourceNotFoundException", msg: "No node group found for name: " + parts[3] + "."})
	}
}

func jsonIssues(issues []Issue) []map[string]any {
	out := []map[string]any{}
	for _, is := range issues {
		out = append(out, map[string]any{"code": is.Code, "message": is.Message, "resourceIds": is.ResourceIDs})
	}
	return out
}

// pageOf cuts items into pages of size; the token is the index of the next page's first item.
func pageOf[T any](items []T, token string, size int) ([]T, string) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil {
			panic("fake AWS: bad page token " + token)
		}
		start = n
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next
}

// describeInstances applies the EC2 filters the package sends (tag-key, tag:KEY,
// instance-state-name): values of one filter OR, filters AND, as EC2 documents.
func (f *fakeAWS) describeInstances(w http.ResponseWriter, form url.Values) {
	filters := map[string][]string{}
	for i := 1; form.Get(fmt.Sprintf("Filter.%d.Name", i)) != ""; i++ {
		name := form.Get(fmt.Sprintf("Filter.%d.Name", i))
		for j := 1; form.Get(fmt.Sprintf("Filter.%d.Value.%d", i, j)) != ""; j++ {
			filters[name] = append(filters[name], form.Get(fmt.Sprintf("Filter.%d.Value.%d", i, j)))
		}
	}
	var match []fakeInstance
	for _, in := range f.instances {
		ok := true
		for name, values := range filters {
			switch {
			case name == "tag-key":
				hit := false
				for _, v := range values {
					_, has := in.tags[v]
					hit = hit || has
				}
				ok = ok && hit
			case strings.HasPrefix(name, "tag:"):
				ok = ok && contains(values, in.tags[strings.TrimPrefix(name, "tag:")])
			case name == "instance-state-name":
				ok = ok && contains(values, in.state)
			default:
				f.t.Errorf("fake EC2: filter %s not modelled", name)
			}
		}
		if ok {
			match = append(match, in)
		}
	}
	page, next := pageOf(match, form.Get("NextToken"), f.pageSize)
	type tag struct {
		Key   string `xml:"key"`
		Value string `xml:"value"`
	}
	type inst struct {
		InstanceID     string `xml:"instanceId"`
		InstanceType   string `xml:"instanceType"`
		PrivateDNSName string `xml:"privateDnsName"`
		State          struct {
			Code int    `xml:"code"`
			Name string `xml:"name"`
		} `xml:"instanceState"`
		AZ         string `xml:"placement>availabilityZone"`
		LaunchTime string `xml:"launchTime"`
		Tags       []tag  `xml:"tagSet>item"`
	}
	type reservation struct {
		ID        string `xml:"reservationId"`
		Instances []inst `xml:"instancesSet>item"`
	}
	type response struct {
		XMLName      xml.Name      `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeInstancesResponse"`
		RequestID    string        `xml:"requestId"`
		Reservations []reservation `xml:"reservationSet>item"`
		NextToken    string        `xml:"nextToken,omitempty"`
	}
	resp := response{RequestID: "req-1", NextToken: next}
	for _, in := range page {
		x := inst{InstanceID: in.id, InstanceType: in.typ, PrivateDNSName: in.dns, AZ: in.az, LaunchTime: in.launch.UTC().Format("2006-01-02T15:04:05.000Z")}
		x.State.Name = in.state
		keys := make([]string, 0, len(in.tags))
		for k := range in.tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			x.Tags = append(x.Tags, tag{k, in.tags[k]})
		}
		resp.Reservations = append(resp.Reservations, reservation{ID: "r-" + in.id, Instances: []inst{x}})
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	b, err := xml.Marshal(resp)
	if err != nil {
		f.t.Errorf("fake EC2: %v", err)
	}
	w.Write(append([]byte(xml.Header), b...))
}

func (f *fakeAWS) describeInstanceInformation(w http.ResponseWriter, body map[string]any) {
	var ids []string
	filters, _ := body["Filters"].([]any)
	for _, fl := range filters {
		m := fl.(map[string]any)
		if m["Key"] != "InstanceIds" {
			f.t.Errorf("fake SSM: filter %v not modelled", m["Key"])
		}
		for _, v := range m["Values"].([]any) {
			ids = append(ids, v.(string))
		}
	}
	if len(ids) > 50 {
		f.writeError(w, "ssm:DescribeInstanceInformation", fault{status: 400, code: "InvalidInstanceInformationFilterValue", msg: "too many instance ids"})
		return
	}
	var known []string
	for _, id := range ids {
		if _, ok := f.ssm[id]; ok {
			known = append(known, id)
		}
	}
	token, _ := body["NextToken"].(string)
	page, next := pageOf(known, token, f.pageSize)
	list := []map[string]any{}
	for _, id := range page {
		s := f.ssm[id]
		list = append(list, map[string]any{"InstanceId": id, "PingStatus": s.ping, "LastPingDateTime": float64(s.lastPing.UnixMilli()) / 1000, "ResourceType": "EC2Instance"})
	}
	out := map[string]any{"InstanceInformationList": list}
	if next != "" {
		out["NextToken"] = next
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	writeJSON(w, out)
}

// filterLogEvents models FilterLogEvents: stream prefix, inclusive time bounds in milliseconds, a
// filter pattern of plain terms that must all occur, the limit, and ascending order.
func (f *fakeAWS) filterLogEvents(w http.ResponseWriter, body map[string]any) {
	group, _ := body["logGroupName"].(string)
	events, ok := f.events[group]
	if !ok {
		f.writeError(w, "logs:FilterLogEvents", fault{status: 400, code: "ResourceNotFoundException", msg: "The specified log group does not exist."})
		return
	}
	prefix, _ := body["logStreamNamePrefix"].(string)
	pattern, _ := body["filterPattern"].(string)
	startMS, _ := body["startTime"].(float64)
	endMS, _ := body["endTime"].(float64)
	var match []fakeEvent
	for _, e := range events {
		ms := float64(e.at.UnixMilli())
		if !strings.HasPrefix(e.stream, prefix) || ms < startMS || ms > endMS {
			continue
		}
		hit := true
		for _, term := range strings.Fields(pattern) {
			hit = hit && strings.Contains(e.message, term)
		}
		if hit {
			match = append(match, e)
		}
	}
	size := f.pageSize
	if l, ok := body["limit"].(float64); ok && int(l) < size {
		size = int(l)
	}
	token, _ := body["nextToken"].(string)
	page, next := pageOf(match, token, size)
	list := []map[string]any{}
	for i, e := range page {
		list = append(list, map[string]any{"logStreamName": e.stream, "timestamp": e.at.UnixMilli(), "message": e.message,
			"ingestionTime": e.at.UnixMilli() + 500, "eventId": fmt.Sprintf("%s-%d", token, i)})
	}
	out := map[string]any{"events": list}
	if next != "" {
		out["nextToken"] = next
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	writeJSON(w, out)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
