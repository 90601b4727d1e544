package eks

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/nodediag/nodediag/internal/golden"
)

var launched = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// world fills the fake with cluster "prod": three managed node groups (one more than a page, so
// ListNodegroups pages), two managed-node-group instances carrying both cluster tags, one
// self-managed instance carrying only kubernetes.io/cluster/prod, a terminated prod instance EC2
// still lists, and an instance of another cluster. Every live prod instance is Online in SSM.
func world(f *fakeAWS) {
	f.clusters["prod"] = &fakeCluster{name: "prod", status: "ACTIVE", version: "1.33", enabledLogs: []string{"api", "audit"},
		nodeGroups: []NodeGroup{
			{Name: "ng-a", Status: "ACTIVE", CapacityType: "ON_DEMAND", InstanceTypes: []string{"m6i.large"}, DesiredSize: 2, MinSize: 1, MaxSize: 4},
			{Name: "ng-b", Status: "ACTIVE", CapacityType: "SPOT", InstanceTypes: []string{"m6i.large", "m5.large"}, DesiredSize: 0, MinSize: 0, MaxSize: 3},
			{Name: "ng-c", Status: "ACTIVE", CapacityType: "ON_DEMAND", InstanceTypes: []string{"c6i.xlarge"}, DesiredSize: 0, MinSize: 0, MaxSize: 2},
		}}
	f.clusters["staging"] = &fakeCluster{name: "staging", status: "ACTIVE", version: "1.34"}
	managed := func(id, ng string) fakeInstance {
		return fakeInstance{id: id, dns: "ip-10-0-1-" + id[len(id)-2:] + ".eu-west-1.compute.internal", state: "running", az: "eu-west-1a", typ: "m6i.large",
			launch: launched, tags: map[string]string{"kubernetes.io/cluster/prod": "owned", "eks:cluster-name": "prod", "eks:nodegroup-name": ng}}
	}
	f.instances = []fakeInstance{
		managed("i-0a1b2c3d4e5f60711", "ng-a"),
		managed("i-0a1b2c3d4e5f60712", "ng-a"),
		{id: "i-0a1b2c3d4e5f60713", dns: "ip-10-0-2-13.eu-west-1.compute.internal", state: "running", az: "eu-west-1b", typ: "c6i.xlarge",
			launch: launched, tags: map[string]string{"kubernetes.io/cluster/prod": "owned"}},
		{id: "i-0a1b2c3d4e5f60714", state: "terminated", az: "eu-west-1b", typ: "m6i.large", launch: launched,
			tags: map[string]string{"kubernetes.io/cluster/prod": "owned", "eks:cluster-name": "prod"}},
		{id: "i-0b00000000000000f", state: "running", az: "eu-west-1a", typ: "m6i.large", launch: launched,
			tags: map[string]string{"kubernetes.io/cluster/staging": "owned", "eks:cluster-name": "staging"}},
	}
	for _, in := range f.instances {
		f.ssm[in.id] = fakeSSM{ping: "Online", lastPing: launched.Add(time.Hour)}
	}
}

// liveProdIDs derives from the fake's world which instances ClusterHealth must report: tagged with
// either prod tag and not terminated.
func liveProdIDs(f *fakeAWS) []string {
	var ids []string
	for _, in := range f.instances {
		_, k8s := in.tags["kubernetes.io/cluster/prod"]
		if (k8s || in.tags["eks:cluster-name"] == "prod") && in.state != "terminated" {
			ids = append(ids, in.id)
		}
	}
	sort.Strings(ids)
	return ids
}

func TestClusterHealth(t *testing.T) {
	const (
		stoppedID = "i-0a1b2c3d4e5f60712"
		lostID    = "i-0a1b2c3d4e5f60711"
		unregID   = "i-0a1b2c3d4e5f60713"
	)
	tests := []struct {
		name    string
		cluster string
		setup   func(*fakeAWS)
		// wantSubjects are the Unhealthy subjects in order; wantWhy one substring per subject.
		wantSubjects []string
		wantWhy      []string
		wantGaps     []string // substrings, one per gap
		wantErr      error
		wantErrText  []string
		// wantPing maps instance id to the SSM status it must show.
		wantPing map[string]string
		// wantIDs overrides liveProdIDs when a gap hides instances.
		wantIDs []string
		// wantCalls counts requests of an operation.
		wantCalls map[string]int
	}{
		{name: "healthy", cluster: "prod",
			wantPing: map[string]string{lostID: "Online", stoppedID: "Online", unregID: "Online"}},
		{name: "degraded node group with a health issue", cluster: "prod",
			setup: func(f *fakeAWS) {
				ng := &f.clusters["prod"].nodeGroups[1]
				ng.Status = "DEGRADED"
				ng.HealthIssues = []Issue{{Code: "AsgInstanceLaunchFailures", Message: "Could not launch Spot Instances", ResourceIDs: []string{"eks-ng-b-asg"}}}
			},
			wantSubjects: []string{"nodegroup/ng-b", "nodegroup/ng-b"},
			wantWhy:      []string{"DEGRADED", "AsgInstanceLaunchFailures: Could not launch Spot Instances (eks-ng-b-asg)"}},
		{name: "cluster updating with a health issue", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.clusters["prod"].status = "UPDATING"
				f.clusters["prod"].issues = []Issue{{Code: "Ec2SubnetNotFound", Message: "subnet gone", ResourceIDs: []string{"subnet-1"}}}
			},
			wantSubjects: []string{"cluster", "cluster"}, wantWhy: []string{"UPDATING, not ACTIVE", "Ec2SubnetNotFound"}},
		{name: "instance stopped", cluster: "prod",
			setup: func(f *fakeAWS) {
				for i := range f.instances {
					if f.instances[i].id == stoppedID {
						f.instances[i].state = "stopped"
					}
				}
			},
			wantSubjects: []string{"instance/" + stoppedID}, wantWhy: []string{"stopped, not running"}},
		{name: "SSM connection lost and not registered", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.ssm[lostID] = fakeSSM{ping: "ConnectionLost", lastPing: launched.Add(30 * time.Minute)}
				delete(f.ssm, unregID)
			},
			wantSubjects: []string{"instance/" + lostID, "instance/" + unregID},
			wantWhy:      []string{"ConnectionLost since its last ping at 2026-11-20T09:30:00Z", "not registered with SSM: collect cannot work on it"},
			wantPing:     map[string]string{lostID: "ConnectionLost", unregID: SSMNotRegistered, stoppedID: "Online"}},
		{name: "cluster not found names the region and the clusters there", cluster: "prd",
			wantErr: ErrClusterNotFound, wantErrText: []string{`"prd"`, "eu-west-1", "prod, staging"}},
		{name: "access denied on DescribeCluster is an error", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.addFault("eks:DescribeCluster", fault{status: 403, code: "AccessDeniedException", msg: "not authorized", times: -1})
			},
			wantErr: ErrAccessDenied, wantErrText: []string{"eks:DescribeCluster", "eu-west-1"}},
		{name: "access denied on SSM is a gap", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.addFault("ssm:DescribeInstanceInformation", fault{status: 400, code: "AccessDeniedException", msg: "not authorized", times: -1})
			},
			wantGaps: []string{"ssm:DescribeInstanceInformation"},
			wantPing: map[string]string{lostID: "", unregID: ""}},
		{name: "access denied on one EC2 listing is a gap, the other tag still finds managed nodes", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.addFault("ec2:DescribeInstances", fault{status: 403, code: "UnauthorizedOperation", msg: "You are not authorized", times: -1, onlyIfMatch: "tag-key"})
			},
			wantGaps: []string{"tag-key=kubernetes.io/cluster/prod not listed: access denied: ec2:DescribeInstances"},
			wantIDs:  []string{"i-0a1b2c3d4e5f60711", "i-0a1b2c3d4e5f60712"}},
		{name: "access denied on one node group is a gap", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.addFault("eks:DescribeNodegroup", fault{status: 403, code: "AccessDeniedException", msg: "no", times: -1, onlyIfMatch: "/ng-c"})
			},
			wantGaps: []string{"node group ng-c not described: access denied: eks:DescribeNodegroup"}},
		{name: "throttling then success", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.addFault("eks:DescribeCluster", fault{status: 429, code: "TooManyRequestsException", msg: "Rate exceeded", times: 2})
			},
			wantCalls: map[string]int{"eks:DescribeCluster": 3}},
		{name: "throttled past the retries", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.addFault("eks:DescribeCluster", fault{status: 429, code: "TooManyRequestsException", msg: "Rate exceeded", times: -1})
			},
			wantErrText: []string{"still throttled after the SDK's retries"}, wantCalls: map[string]int{"eks:DescribeCluster": 3}},
		{name: "expired credentials", cluster: "prod",
			setup: func(f *fakeAWS) {
				f.addFault("eks:DescribeCluster", fault{status: 403, code: "ExpiredTokenException", msg: "The security token included in the request is expired", times: -1})
			},
			wantErr: ErrNoCredentials, wantErrText: []string{"expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAWS(t)
			world(f)
			if tt.setup != nil {
				tt.setup(f)
			}
			h, err := f.client().ClusterHealth(context.Background(), tt.cluster)
			for op, n := range tt.wantCalls {
				if got := len(f.callsTo(op)); got != n {
					t.Errorf("%s called %d times, want %d", op, got, n)
				}
			}
			if tt.wantErr != nil || tt.wantErrText != nil {
				if err == nil {
					t.Fatalf("no error, want %v", tt.wantErr)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v is not %v", err, tt.wantErr)
				}
				for _, s := range tt.wantErrText {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkHealth(t, f, h, tt.cluster)
			var subjects []string
			for _, p := range h.Unhealthy {
				subjects = append(subjects, p.Subject)
			}
			if !slices.Equal(subjects, tt.wantSubjects) {
				t.Fatalf("unhealthy %v, want subjects %v", h.Unhealthy, tt.wantSubjects)
			}
			for i, why := range tt.wantWhy {
				if !strings.Contains(h.Unhealthy[i].Why, why) {
					t.Errorf("unhealthy[%d] why %q does not say %q", i, h.Unhealthy[i].Why, why)
				}
			}
			if len(h.Gaps) != len(tt.wantGaps) {
				t.Fatalf("gaps %q, want %d", h.Gaps, len(tt.wantGaps))
			}
			for i, g := range tt.wantGaps {
				if !strings.Contains(h.Gaps[i], g) {
					t.Errorf("gap %q does not say %q", h.Gaps[i], g)
				}
			}
			wantIDs := tt.wantIDs
			if wantIDs == nil {
				wantIDs = liveProdIDs(f)
			}
			var ids []string
			ping := map[string]string{}
			for _, in := range h.Instances {
				ids = append(ids, in.ID)
				ping[in.ID] = in.SSMPingStatus
			}
			if !slices.Equal(ids, wantIDs) {
				t.Errorf("instances %v, want %v", ids, wantIDs)
			}
			for id, want := range tt.wantPing {
				if ping[id] != want {
					t.Errorf("%s SSM status %q, want %q", id, ping[id], want)
				}
			}
		})
	}
}

// checkHealth compares what ClusterHealth read against the fake's world and checks the requests.
func checkHealth(t *testing.T, f *fakeAWS, h *ClusterHealth, name string) {
	t.Helper()
	cl := f.clusters[name]
	if h.Cluster.Name != name || h.Cluster.Status != cl.status || h.Cluster.Version != cl.version || h.Region != "eu-west-1" {
		t.Errorf("cluster %+v, want %s %s %s in eu-west-1", h.Cluster, name, cl.status, cl.version)
	}
	if !slices.Equal(h.Cluster.EnabledLogTypes, cl.enabledLogs) {
		t.Errorf("enabled log types %v, want %v", h.Cluster.EnabledLogTypes, cl.enabledLogs)
	}
	described := len(f.callsTo("eks:DescribeNodegroup"))
	if described != len(cl.nodeGroups) {
		t.Errorf("%d node groups described, want all %d (ListNodegroups pages of %d)", described, len(cl.nodeGroups), f.pageSize)
	}
	for _, g := range h.NodeGroups {
		i := slices.IndexFunc(cl.nodeGroups, func(w NodeGroup) bool { return w.Name == g.Name })
		if i < 0 || fmt.Sprint(g) != fmt.Sprint(cl.nodeGroups[i]) {
			t.Errorf("node group %+v does not match the world's", g)
		}
	}
	for _, in := range h.Instances {
		i := slices.IndexFunc(f.instances, func(w fakeInstance) bool { return w.id == in.ID })
		w := f.instances[i]
		if in.PrivateDNSName != w.dns || in.State != w.state || in.AvailabilityZone != w.az || in.InstanceType != w.typ ||
			!in.LaunchTime.Equal(w.launch) || in.NodeGroup != w.tags["eks:nodegroup-name"] {
			t.Errorf("instance %+v does not match the world's %+v", in, w)
		}
	}
	// Both tag listings, each restricted to live states and paged through.
	wantFilters := []string{"tag-key", "tag:eks:cluster-name"}
	wantValues := []string{"kubernetes.io/cluster/" + name, name}
	seen := map[string]bool{}
	for _, c := range f.callsTo("ec2:DescribeInstances") {
		for i, fl := range wantFilters {
			if c.form.Get("Filter.1.Name") == fl && c.form.Get("Filter.1.Value.1") == wantValues[i] {
				seen[fl] = true
			}
		}
		if c.form.Get("Filter.2.Name") != "instance-state-name" || c.form.Get("Filter.2.Value.1") == "" {
			t.Errorf("EC2 call %s lacks the live-state filter", c.detail)
		}
		if strings.Contains(c.detail, "terminated") {
			t.Errorf("EC2 call %s asks for terminated instances", c.detail)
		}
	}
	for _, fl := range wantFilters {
		if !seen[fl] {
			t.Errorf("no DescribeInstances call filtered on %s", fl)
		}
	}
}

// TestClusterHealthSSMBatches builds more instances than one SSM call may name and checks every
// call names at most 50, together all of them, and every instance gets its status.
func TestClusterHealthSSMBatches(t *testing.T) {
	f := newFakeAWS(t)
	f.pageSize = 20
	f.clusters["big"] = &fakeCluster{name: "big", status: "ACTIVE", version: "1.33"}
	const n = 61
	for i := range n {
		id := fmt.Sprintf("i-%017x", i+1)
		f.instances = append(f.instances, fakeInstance{id: id, state: "running", typ: "m6i.large", launch: launched,
			tags: map[string]string{"eks:cluster-name": "big"}})
		if i%3 != 0 {
			f.ssm[id] = fakeSSM{ping: "Online", lastPing: launched}
		}
	}
	h, err := f.client().ClusterHealth(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Instances) != n {
		t.Fatalf("%d instances, want %d", len(h.Instances), n)
	}
	asked := map[string]int{}
	for _, c := range f.callsTo("ssm:DescribeInstanceInformation") {
		vals := c.body["Filters"].([]any)[0].(map[string]any)["Values"].([]any)
		if len(vals) > ssmBatch {
			t.Errorf("SSM call names %d instances, more than %d", len(vals), ssmBatch)
		}
		if c.body["NextToken"] == nil { // count each batch once, on its first page
			for _, v := range vals {
				asked[v.(string)]++
			}
		}
	}
	unregistered := 0
	for _, in := range h.Instances {
		if asked[in.ID] != 1 {
			t.Errorf("%s asked of SSM %d times, want 1", in.ID, asked[in.ID])
		}
		_, registered := f.ssm[in.ID]
		want := "Online"
		if !registered {
			want = SSMNotRegistered
			unregistered++
		}
		if in.SSMPingStatus != want {
			t.Errorf("%s SSM %q, want %q", in.ID, in.SSMPingStatus, want)
		}
	}
	if len(h.Unhealthy) != unregistered {
		t.Errorf("%d unhealthy, want the %d unregistered", len(h.Unhealthy), unregistered)
	}
}

// TestNoCredentials: a configuration without credentials, or whose provider fails (no profile, an
// expired SSO session), says how to provide them instead of an SDK-internal message, and sends nothing.
func TestNoCredentials(t *testing.T) {
	tests := []struct {
		name  string
		creds aws.CredentialsProvider
	}{
		{name: "none configured"},
		{name: "provider fails", creds: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("the SSO session has expired or is invalid")
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAWS(t)
			world(f)
			cfg := f.config()
			cfg.Credentials = tt.creds
			_, err := New(cfg).ClusterHealth(context.Background(), "prod")
			if !errors.Is(err, ErrNoCredentials) {
				t.Fatalf("error %v, want ErrNoCredentials", err)
			}
			if !strings.Contains(err.Error(), "AWS_PROFILE") {
				t.Errorf("error %q does not say how to provide credentials", err)
			}
			if n := len(f.callsTo("eks:DescribeCluster")); n != 0 {
				t.Errorf("%d unsigned requests sent", n)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestClusterHealthGolden pins the JSON an MCP tool returns for a cluster with one of each kind of
// problem, so a renamed field is a reviewed change. Run with -update after a deliberate change.
func TestClusterHealthGolden(t *testing.T) {
	f := newFakeAWS(t)
	world(f)
	cl := f.clusters["prod"]
	cl.nodeGroups[1].Status = "DEGRADED"
	cl.nodeGroups[1].HealthIssues = []Issue{{Code: "AsgInstanceLaunchFailures", Message: "Could not launch Spot Instances", ResourceIDs: []string{"eks-ng-b-asg"}}}
	f.instances[1].state = "stopped"
	f.ssm["i-0a1b2c3d4e5f60711"] = fakeSSM{ping: "ConnectionLost", lastPing: launched.Add(30 * time.Minute)}
	delete(f.ssm, "i-0a1b2c3d4e5f60713")
	h, err := f.client().ClusterHealth(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden.Check(t, filepath.Join("testdata", "cluster_health.golden.json"), got, *update, "go test ./internal/cloud/eks -run ClusterHealthGolden -update")
}

func TestInstanceLookup(t *testing.T) {
	f := newFakeAWS(t)
	world(f)
	h, err := f.client().ClusterHealth(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	w := f.instances[0]
	tests := []struct {
		key    string
		wantID string
	}{
		{w.id, w.id},
		{w.dns, w.id},
		{strings.ToUpper(w.dns), w.id},
		{"i-0b00000000000000f", ""}, // another cluster's instance
		{"", ""},
	}
	for _, tt := range tests {
		in, ok := h.Instance(tt.key)
		if ok != (tt.wantID != "") || in.ID != tt.wantID {
			t.Errorf("Instance(%q) = %q, %v; want %q", tt.key, in.ID, ok, tt.wantID)
		}
	}
}

// TestWithRegion: the option moves every call to another region, which the SigV4 credential scope
// shows, and messages name that region.
func TestWithRegion(t *testing.T) {
	f := newFakeAWS(t)
	world(f)
	c := New(f.config(), WithRegion("ap-southeast-2"))
	if c.Region() != "ap-southeast-2" {
		t.Fatalf("region %s", c.Region())
	}
	if _, err := c.ClusterHealth(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"eks:DescribeCluster", "ec2:DescribeInstances", "ssm:DescribeInstanceInformation"} {
		service := strings.Split(op, ":")[0]
		for _, call := range f.callsTo(op) {
			if !strings.Contains(call.auth, "/ap-southeast-2/"+service+"/aws4_request") {
				t.Errorf("%s signed for %q, want region ap-southeast-2", op, call.auth)
			}
		}
	}
	_, err := c.ClusterHealth(context.Background(), "gone")
	if !errors.Is(err, ErrClusterNotFound) || !strings.Contains(err.Error(), "ap-southeast-2") {
		t.Errorf("error %v, want ErrClusterNotFound naming ap-southeast-2", err)
	}
}

// TestCancelled: a cancelled context ends the call with the context's error, not a gap.
func TestCancelled(t *testing.T) {
	f := newFakeAWS(t)
	world(f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client().ClusterHealth(ctx, "prod")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	_, err = f.client().Logs(ctx, LogsRequest{ClusterName: "prod", LogType: "audit"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("logs error %v, want context.Canceled", err)
	}
}
