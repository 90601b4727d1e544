package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
)

// Instance ids used across the tests.
const (
	nodeID    = "i-0a1b2c3d4e5f60718"
	otherID   = "i-0123456789abcdef0"
	stoppedID = "i-0fedcba9876543210"
	plainID   = "i-00000000000000001"
	bucket    = "diag-bundles"
	principal = "arn:aws:sts::111122223333:assumed-role/oncall/alice"
)

var launch = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// newAccount is a fake account with an EKS node in us-east-1, another in eu-west-1 (tagged the
// Karpenter way), a stopped EKS node, a non-EKS instance and the bundle bucket.
func newAccount(t *testing.T) *awsfake.Account { return newAccountB(t) }

// newAccountB is newAccount for tests and benchmarks.
func newAccountB(t testing.TB) *awsfake.Account {
	t.Helper()
	f := awsfake.New()
	t.Cleanup(f.Close)
	f.AddInstance(awsfake.Instance{ID: nodeID, Region: "us-east-1", State: "running", AZ: "us-east-1a",
		PrivateDNSName: "ip-10-0-1-23.ec2.internal", LaunchTime: launch,
		Tags: map[string]string{"eks:cluster-name": "prod", "Name": "prod-ng-1"}})
	f.AddInstance(awsfake.Instance{ID: otherID, Region: "eu-west-1", State: "running", AZ: "eu-west-1b",
		Tags: map[string]string{"kubernetes.io/cluster/analytics": "owned"}})
	f.AddInstance(awsfake.Instance{ID: stoppedID, Region: "us-east-1", State: "stopped",
		Tags: map[string]string{"aws:eks:cluster-name": "prod"}})
	f.AddInstance(awsfake.Instance{ID: plainID, Region: "us-east-1", State: "running", Tags: map[string]string{"Name": "bastion"}})
	f.AddBucket(bucket)
	return f
}

func newAWS(f *awsfake.Account, opts Options) *AWS { return New(f.Config("us-east-1"), opts) }

func TestValidInstanceID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"i-0a1b2c3d4e5f60718", true},
		{"i-0a1b2c3d", true},
		{"i-0A1B2C3D4E5F60718", false},
		{"i-0a1b2c3d4e5f6071", false},
		{"i-0a1b2c3d4e5f607189", false},
		{"0a1b2c3d4e5f60718", false},
		{"i-0a1b2c3g", false},
		{"", false},
	} {
		err := ValidInstanceID(tc.id)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidInstanceID)) {
			t.Errorf("ValidInstanceID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
	// The runbook's placeholder is named as such, and every refusal says where the real id is.
	err := ValidInstanceID("i-0abc123def456")
	for _, s := range []string{"runbook's example", "providerID"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("ValidInstanceID(the runbook's example) = %v, want it to say %q", err, s)
		}
	}
}

func TestFindInstance(t *testing.T) {
	for _, tc := range []struct {
		name        string
		id, region  string
		regions     []string
		faults      []awsfake.Fault
		want        Instance
		wantErr     error
		errContains []string
		searched    []string // regions DescribeInstances was sent to, in order
	}{
		{name: "configured region", id: nodeID,
			want:     Instance{ID: nodeID, Region: "us-east-1", State: "running", Cluster: "prod", PrivateDNSName: "ip-10-0-1-23.ec2.internal", AZ: "us-east-1a", LaunchTime: launch},
			searched: []string{"us-east-1"}},
		{name: "found in the second listed region", id: otherID, regions: []string{"us-east-1", "us-west-2", "eu-west-1"},
			want:     Instance{ID: otherID, Region: "eu-west-1", State: "running", Cluster: "analytics", AZ: "eu-west-1b"},
			searched: []string{"us-east-1", "us-west-2", "eu-west-1"}},
		{name: "explicit region only", id: otherID, region: "us-west-2", regions: []string{"eu-west-1"},
			wantErr: ErrInstanceNotFound, errContains: []string{"us-west-2", "--region"}, searched: []string{"us-west-2"}},
		{name: "not found names the regions", id: "i-0badbadbadbadbad0", regions: []string{"eu-west-1"},
			wantErr: ErrInstanceNotFound, errContains: []string{"us-east-1, eu-west-1"}, searched: []string{"us-east-1", "eu-west-1"}},
		{name: "stopped instance is found with its state", id: stoppedID,
			want: Instance{ID: stoppedID, Region: "us-east-1", State: "stopped", Cluster: "prod"}, searched: []string{"us-east-1"}},
		{name: "invalid id asks nothing", id: "i-xyz", wantErr: ErrInvalidInstanceID},
		{name: "access denied names action and principal", id: nodeID,
			faults: []awsfake.Fault{{Action: "DescribeInstances", Status: 403, Code: "UnauthorizedOperation",
				Message: "You are not authorized to perform this operation. User: " + principal + " is not authorized to perform: ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action"}},
			wantErr: ErrAccessDenied, errContains: []string{principal, "ec2:DescribeInstances"}, searched: []string{"us-east-1"}},
		{name: "throttled twice then answered", id: nodeID,
			faults:   []awsfake.Fault{{Action: "DescribeInstances", Times: 2, Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}},
			want:     Instance{ID: nodeID, Region: "us-east-1", State: "running", Cluster: "prod", PrivateDNSName: "ip-10-0-1-23.ec2.internal", AZ: "us-east-1a", LaunchTime: launch},
			searched: []string{"us-east-1", "us-east-1", "us-east-1"}},
		{name: "expired token", id: nodeID,
			faults:  []awsfake.Fault{{Action: "DescribeInstances", Code: "RequestExpired", Message: "Request has expired."}},
			wantErr: ErrExpiredCredentials, errContains: []string{"AWS_PROFILE", "aws sso login"}, searched: []string{"us-east-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccount(t)
			for _, fl := range tc.faults {
				f.Inject(fl)
			}
			got, err := newAWS(f, Options{Regions: tc.regions}).FindInstance(context.Background(), tc.id, tc.region)
			checkErr(t, err, tc.wantErr, tc.errContains)
			if tc.wantErr == nil && got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			var searched []string
			for _, r := range f.RequestsFor("DescribeInstances") {
				searched = append(searched, r.Region)
				if ids := r.Body; !strings.Contains(string(ids), "InstanceId.1="+tc.id) {
					t.Errorf("DescribeInstances body %q does not ask for %s", ids, tc.id)
				}
			}
			if strings.Join(searched, " ") != strings.Join(tc.searched, " ") {
				t.Errorf("DescribeInstances sent to %v, want %v", searched, tc.searched)
			}
		})
	}
}

// checkErr checks err wraps want (nil: no error) and mentions every string of contains.
func checkErr(t *testing.T, err, want error, contains []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

// ssmStart is the body of a StartAutomationExecution request.
type ssmStart struct {
	DocumentName string
	Parameters   map[string][]string
	ClientToken  string
}

func TestStartCollection(t *testing.T) {
	ctx := context.Background()
	f := newAccount(t)
	a := newAWS(f, Options{Bucket: bucket, RoleARN: "arn:aws:iam::111122223333:role/eks-log-collector"})
	inst, err := a.FindInstance(ctx, nodeID, "")
	if err != nil {
		t.Fatal(err)
	}
	id1, err := a.StartCollection(ctx, inst, "incident-42")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := a.StartCollection(ctx, inst, "incident-42")
	if err != nil {
		t.Fatal(err)
	}
	id3, err := a.StartCollection(ctx, inst, "incident-43")
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 || id1 == id3 {
		t.Errorf("executions %s, %s, %s: the same token must give the same execution and another token another one", id1, id2, id3)
	}
	reqs := f.RequestsFor("StartAutomationExecution")
	if len(reqs) != 3 {
		t.Fatalf("%d StartAutomationExecution requests, want 3", len(reqs))
	}
	var bodies []ssmStart
	for _, r := range reqs {
		var b ssmStart
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
		if r.Region != "us-east-1" {
			t.Errorf("started in %s, want the instance's region us-east-1", r.Region)
		}
	}
	want := map[string][]string{"EKSInstanceId": {nodeID}, "LogDestination": {bucket}, "AutomationAssumeRole": {"arn:aws:iam::111122223333:role/eks-log-collector"}}
	if bodies[0].DocumentName != "AWSSupport-CollectEKSInstanceLogs" {
		t.Errorf("document %q", bodies[0].DocumentName)
	}
	if g, _ := json.Marshal(bodies[0].Parameters); string(g) != mustJSON(want) {
		t.Errorf("parameters %s, want %s", g, mustJSON(want))
	}
	if bodies[0].ClientToken != bodies[1].ClientToken || bodies[0].ClientToken == bodies[2].ClientToken {
		t.Errorf("client tokens %q %q %q: want stable per token and distinct across tokens", bodies[0].ClientToken, bodies[1].ClientToken, bodies[2].ClientToken)
	}
	if !uuidRE.MatchString(bodies[0].ClientToken) {
		t.Errorf("client token %q is not a version-5 UUID", bodies[0].ClientToken)
	}
}

func TestStartCollectionRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		id          string
		opts        Options
		token       string
		faults      []awsfake.Fault
		wantErr     error
		errContains []string
		started     int // StartAutomationExecution requests expected
	}{
		{name: "not an EKS node", id: plainID, opts: Options{Bucket: bucket}, wantErr: ErrNotEKSNode, errContains: []string{plainID, "eks:cluster-name"}},
		{name: "stopped", id: stoppedID, opts: Options{Bucket: bucket}, wantErr: ErrNotRunning, errContains: []string{"stopped"}},
		{name: "no bucket", id: nodeID, wantErr: ErrNoBucket, errContains: []string{"--bucket"}},
		{name: "SSM access denied", id: nodeID, opts: Options{Bucket: bucket}, started: 1,
			faults: []awsfake.Fault{{Action: "StartAutomationExecution", Code: "AccessDeniedException",
				Message: "User: " + principal + " is not authorized to perform: ssm:StartAutomationExecution on resource: arn:aws:ssm:us-east-1::automation-definition/AWSSupport-CollectEKSInstanceLogs:$DEFAULT"}},
			wantErr: ErrAccessDenied, errContains: []string{principal, "ssm:StartAutomationExecution"}},
		{name: "SSM throttled then started", id: nodeID, opts: Options{Bucket: bucket}, started: 3,
			faults: []awsfake.Fault{{Action: "StartAutomationExecution", Times: 2, Code: "ThrottlingException", Message: "Rate exceeded"}}},
		{name: "invalid credentials", id: nodeID, opts: Options{Bucket: bucket}, started: 1,
			faults:  []awsfake.Fault{{Action: "StartAutomationExecution", Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}},
			wantErr: ErrInvalidCredentials, errContains: []string{"AWS_PROFILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccount(t)
			a := newAWS(f, tc.opts)
			inst, err := a.FindInstance(ctx, tc.id, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, fl := range tc.faults {
				f.Inject(fl)
			}
			id, err := a.StartCollection(ctx, inst, tc.token)
			checkErr(t, err, tc.wantErr, tc.errContains)
			if tc.wantErr == nil && id == "" {
				t.Error("no execution id")
			}
			if n := len(f.RequestsFor("StartAutomationExecution")); n != tc.started {
				t.Errorf("%d StartAutomationExecution requests, want %d", n, tc.started)
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestExecutionLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newAccount(t)
	start := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	now := start
	f.Now = func() time.Time { return now }
	a := newAWS(f, Options{Bucket: bucket})
	inst, err := a.FindInstance(ctx, nodeID, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.StartCollection(ctx, inst, "")
	if err != nil {
		t.Fatal(err)
	}
	// The fake advances one stage per poll: Pending, InProgress (first of 4 steps done), Success.
	for _, want := range []struct {
		status, raw string
		done        int
	}{
		{StatusRunning, "Pending", 0},
		{StatusRunning, "InProgress", 1},
		{StatusCompleted, "Success", 4},
	} {
		now = now.Add(time.Minute)
		e, err := a.Execution(ctx, "us-east-1", id)
		if err != nil {
			t.Fatal(err)
		}
		if e.ID != id || e.Region != "us-east-1" || e.Status != want.status || e.RawStatus != want.raw ||
			e.StepsDone != want.done || e.StepsTotal != 4 || !e.Start.Equal(start) || e.FailureReason != "" {
			t.Errorf("execution %+v, want status %s/%s with %d of 4 steps done, started %s", e, want.status, want.raw, want.done, start)
		}
		if want.status == StatusCompleted && !e.End.Equal(now) {
			t.Errorf("end %s, want %s", e.End, now)
		}
	}
	if _, err := a.Execution(ctx, "us-east-1", "00000000-dead-4000-8000-000000000000"); !errors.Is(err, ErrExecutionNotFound) {
		t.Errorf("unknown execution: %v, want ErrExecutionNotFound", err)
	}
	if _, err := a.Execution(ctx, "eu-west-1", id); !errors.Is(err, ErrExecutionNotFound) || !strings.Contains(err.Error(), "eu-west-1") {
		t.Errorf("execution asked in the wrong region: %v, want ErrExecutionNotFound naming eu-west-1", err)
	}
}

func TestExecutionFailures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		outcome    awsfake.Outcome
		noBucket   bool
		wantStatus string
		wantRaw    string
		reason     []string // the reason must contain each
	}{
		{name: "step failure message", outcome: awsfake.Outcome{Status: "Failed", FailedStep: "runLogCollector",
			StepFailureMessage: "Step fails when it is Poll action status for runCommand. Root volume has less than 10% free space."},
			wantStatus: StatusFailed, wantRaw: "Failed", reason: []string{"runLogCollector", "less than 10% free space"}},
		{name: "step failure details", outcome: awsfake.Outcome{Status: "Failed", FailedStep: "assertInstanceIsLinux",
			StepFailureDetails: map[string][]string{"VerificationErrorMessage": {"platform is Windows"}}},
			wantStatus: StatusFailed, wantRaw: "Failed", reason: []string{"assertInstanceIsLinux", "Verification", "platform is Windows"}},
		{name: "execution failure message wins", outcome: awsfake.Outcome{Status: "Failed", FailureMessage: "Bucket policy status is public",
			StepFailureMessage: "step text"},
			wantStatus: StatusFailed, wantRaw: "Failed", reason: []string{"Bucket policy status is public"}},
		{name: "outputs when nothing else", outcome: awsfake.Outcome{Status: "CompletedWithFailure", Outputs: map[string][]string{"uploadLogsToS3.Output": {"upload refused"}}},
			wantStatus: StatusFailed, wantRaw: "CompletedWithFailure", reason: []string{"upload refused"}},
		{name: "timed out", outcome: awsfake.Outcome{Status: "TimedOut", FailedStep: "uploadLogsToS3", StepFailureMessage: "Step timed out while step is verifying the SSM Agent availability on the target instance(s)."},
			wantStatus: StatusFailed, wantRaw: "TimedOut", reason: []string{"timed out", "uploadLogsToS3"}},
		{name: "timed out without messages", outcome: awsfake.Outcome{Status: "TimedOut"},
			wantStatus: StatusFailed, wantRaw: "TimedOut", reason: []string{"timed out"}},
		{name: "cancelled", outcome: awsfake.Outcome{Status: "Cancelled"}, wantStatus: StatusCancelled, wantRaw: "Cancelled", reason: []string{"cancelled"}},
		{name: "upload to a missing bucket", noBucket: true, wantStatus: StatusFailed, wantRaw: "Failed", reason: []string{"uploadLogsToS3", "NoSuchBucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccount(t)
			f.SetOutcome(nodeID, tc.outcome)
			b := bucket
			if tc.noBucket {
				b = "no-such-bucket"
			}
			a := newAWS(f, Options{Bucket: b})
			inst, err := a.FindInstance(ctx, nodeID, "")
			if err != nil {
				t.Fatal(err)
			}
			id, err := a.StartCollection(ctx, inst, "")
			if err != nil {
				t.Fatal(err)
			}
			var e Execution
			for range 3 {
				if e, err = a.Execution(ctx, "us-east-1", id); err != nil {
					t.Fatal(err)
				}
			}
			if e.Status != tc.wantStatus || e.RawStatus != tc.wantRaw {
				t.Errorf("status %s/%s, want %s/%s", e.Status, e.RawStatus, tc.wantStatus, tc.wantRaw)
			}
			for _, s := range tc.reason {
				if !strings.Contains(e.FailureReason, s) {
					t.Errorf("failure reason %q does not mention %q", e.FailureReason, s)
				}
			}
		})
	}
}

func TestStatusOfEverySSMStatus(t *testing.T) {
	for want, raws := range map[string][]string{
		StatusRunning: {"Pending", "InProgress", "Waiting", "Scheduled", "RunbookInProgress", "PendingApproval", "Approved",
			"PendingChangeCalendarOverride", "ChangeCalendarOverrideApproved", "SomeFutureStatus"},
		StatusCompleted: {"Success", "CompletedWithSuccess"},
		StatusFailed:    {"Failed", "TimedOut", "Rejected", "CompletedWithFailure", "Exited", "ChangeCalendarOverrideRejected"},
		StatusCancelled: {"Cancelling", "Cancelled"},
	} {
		for _, raw := range raws {
			if got := statusOf(ssmStatus(raw)); got != want {
				t.Errorf("statusOf(%s) = %s, want %s", raw, got, want)
			}
		}
	}
}

func TestClientTokenIsStableUUIDv5(t *testing.T) {
	seen := map[string]string{}
	for _, tok := range []string{"", "a", "b", "incident-42", "INCIDENT-42", strings.Repeat("x", 500)} {
		got := ClientToken(tok)
		if !uuidRE.MatchString(got) {
			t.Errorf("ClientToken(%q) = %q, not a version-5 UUID", tok, got)
		}
		if got != ClientToken(tok) {
			t.Errorf("ClientToken(%q) differs between calls", tok)
		}
		if prev, ok := seen[got]; ok {
			t.Errorf("ClientToken(%q) = ClientToken(%q)", tok, prev)
		}
		seen[got] = tok
	}
}

func TestClientsCachedPerRegion(t *testing.T) {
	f := newAccount(t)
	a := newAWS(f, Options{Regions: []string{"eu-west-1"}})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.FindInstance(context.Background(), otherID, ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(a.clients) != 2 {
		t.Errorf("%d region client sets, want 2 (us-east-1 and eu-west-1)", len(a.clients))
	}
}

// uuidRE is a version-5, RFC 4122-variant UUID.
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// ssmStatus converts a status name to the SDK's type.
func ssmStatus(s string) types.AutomationExecutionStatus { return types.AutomationExecutionStatus(s) }
