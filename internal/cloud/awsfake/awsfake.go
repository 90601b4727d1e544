// Package awsfake is a fake AWS account for tests: one loopback HTTP server that speaks the wire
// protocols of the three services nodediag's collection uses — EC2 Query (DescribeInstances), SSM
// JSON 1.1 (StartAutomationExecution, GetAutomationExecution) and S3 REST/XML with path-style
// addressing (ListObjectsV2, GetObject with Range and If-Match) — so that the real SDK clients can be
// tested end to end without reaching AWS.
//
// The account holds instances (per region, read from each request's SigV4 credential scope),
// buckets with objects, and automation executions that advance Pending → InProgress → final state
// one step per GetAutomationExecution call, putting the instance's bundle into the bucket when they
// succeed. Faults (AWS error codes, throttling, a body cut off mid-transfer, a server ignoring Range)
// are injected per action. Every request is recorded for assertions.
package awsfake

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Document is the only SSM automation document the fake runs.
const Document = "AWSSupport-CollectEKSInstanceLogs"

// Instance is an EC2 instance in the fake account.
type Instance struct {
	ID, Region, State, PrivateDNSName, AZ string
	Tags                                  map[string]string
	LaunchTime                            time.Time
}

// Outcome is how an automation execution on an instance ends. The zero Outcome succeeds and
// uploads the instance's bundle.
type Outcome struct {
	// Status is SSM's final status: Success (default), Failed, TimedOut, Cancelled, CompletedWithFailure….
	Status string
	// FailureMessage is the execution's own FailureMessage.
	FailureMessage string
	// FailedStep and StepFailureMessage describe the step that failed (Status Failed or TimedOut).
	FailedStep, StepFailureMessage string
	// StepFailureDetails becomes the failed step's FailureDetails.Details.
	StepFailureDetails map[string][]string
	// Outputs are the execution's outputs.
	Outputs map[string][]string
	// NoUpload makes a successful execution upload nothing (the "bundle missing" case).
	NoUpload bool
	// Key is the uploaded object's key; default eks_<instance>_<execution>.tar.gz.
	Key string
}

// Fault makes requests of one action fail.
type Fault struct {
	// Action is the API operation: DescribeInstances, StartAutomationExecution, GetAutomationExecution,
	// ListObjectsV2 or GetObject.
	Action string
	// Times is how many matching requests the fault hits; 0 means all of them.
	Times int
	// Status, Code and Message make the request fail with that AWS error (Status defaults to 400).
	Status        int
	Code, Message string
	// CutAfter (GetObject, no Code) sends the headers and this many body bytes, then drops the connection.
	CutAfter int64
	// IgnoreRange (GetObject, no Code) answers 200 with the whole object even when a Range was asked.
	IgnoreRange bool
	// BucketRegion (S3, with Code) sends the x-amz-bucket-region header S3 puts on a redirect to
	// the bucket's region.
	BucketRegion string
	// Instance, when set, limits the fault to requests that name this instance: DescribeInstances
	// by id and StartAutomationExecution's EKSInstanceId (one node of many denied).
	Instance string
}

// Request is one request the fake received.
type Request struct {
	Service, Action, Region string
	Method, Path            string
	Query                   url.Values
	Header                  http.Header
	Body                    []byte
}

// Object is an object in a fake bucket.
type Object struct {
	Key          string
	Data         []byte
	ETag         string // quoted, as S3 sends it
	LastModified time.Time
}

// execution is an automation execution and how far it has got.
type execution struct {
	id, instance, bucket, region string
	params                       map[string][]string
	start, end                   time.Time
	polls                        int
	outcome                      Outcome
	status                       string
}

// Account is the fake AWS account and its HTTP server.
type Account struct {
	// Server is the loopback server; point the SDK's BaseEndpoint (or AWS_ENDPOINT_URL) at Server.URL.
	Server *httptest.Server
	// Now is the account's clock, for execution times and LastModified; default time.Now.
	Now func() time.Time
	// PageSize is the largest ListObjectsV2 page; default 1000, smaller to test pagination.
	PageSize int
	// Latency delays every answer, so that the requests of concurrent callers overlap and
	// MaxInFlight sees how many a caller lets run at once.
	Latency time.Duration

	mu         sync.Mutex
	instances  map[string]Instance
	buckets    map[string]map[string]*Object
	outcomes   map[string]Outcome
	bundles    map[string][]byte
	executions map[string]*execution
	tokens     map[string]string
	faults     []*Fault
	requests   []Request
	nextExec   int
	inFlight   int
	maxFlight  int
}

// New starts a fake account with nothing in it. Close it when done.
func New() *Account {
	a := &Account{
		Now:        time.Now,
		PageSize:   1000,
		instances:  map[string]Instance{},
		buckets:    map[string]map[string]*Object{},
		outcomes:   map[string]Outcome{},
		bundles:    map[string][]byte{},
		executions: map[string]*execution{},
		tokens:     map[string]string{},
	}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// Close stops the server.
func (a *Account) Close() { a.Server.Close() }

// Config returns an SDK configuration for region that sends every service's calls to the fake, with
// static credentials and a retryer whose backoff is a millisecond, so throttling tests stay fast.
func (a *Account) Config(region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAFAKEFAKEFAKEFAKE", "fake-secret", ""),
		BaseEndpoint: aws.String(a.Server.URL),
		HTTPClient:   a.Server.Client(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 4
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// AddInstance adds or replaces an instance.
func (a *Account) AddInstance(in Instance) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.instances[in.ID] = in
}

// AddBucket creates an empty bucket.
func (a *Account) AddBucket(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.buckets[name] == nil {
		a.buckets[name] = map[string]*Object{}
	}
}

// PutObject stores data under key in bucket (creating the bucket) and returns its quoted ETag.
func (a *Account) PutObject(bucket, key string, data []byte, modified time.Time) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.putLocked(bucket, key, data, modified)
}

func (a *Account) putLocked(bucket, key string, data []byte, modified time.Time) string {
	if a.buckets[bucket] == nil {
		a.buckets[bucket] = map[string]*Object{}
	}
	sum := md5.Sum(data)
	o := &Object{Key: key, Data: append([]byte(nil), data...), ETag: `"` + hex.EncodeToString(sum[:]) + `"`, LastModified: modified.UTC().Truncate(time.Second)}
	a.buckets[bucket][key] = o
	return o.ETag
}

// GetObject returns a copy of an object, or false.
func (a *Account) GetObject(bucket, key string) (Object, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.buckets[bucket][key]
	if !ok {
		return Object{}, false
	}
	return *o, true
}

// SetBundle sets the archive a successful execution on instanceID uploads.
func (a *Account) SetBundle(instanceID string, data []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bundles[instanceID] = append([]byte(nil), data...)
}

// SetOutcome sets how executions started on instanceID end.
func (a *Account) SetOutcome(instanceID string, o Outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.outcomes[instanceID] = o
}

// Inject adds a fault; faults are tried in the order they were added.
func (a *Account) Inject(f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = append(a.faults, &f)
}

// Requests returns the requests received so far, oldest first.
func (a *Account) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Request(nil), a.requests...)
}

// RequestsFor returns the requests of one action, oldest first.
func (a *Account) RequestsFor(action string) []Request {
	var out []Request
	for _, r := range a.Requests() {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// Executions returns the ids of the executions started, in order.
func (a *Account) Executions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, 0, len(a.executions))
	for i := 1; i <= a.nextExec; i++ {
		ids = append(ids, execID(i))
	}
	return ids
}

// execID is the n-th execution's id, in SSM's UUID form.
func execID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// MaxInFlight is the most requests the fake was answering at one time.
func (a *Account) MaxInFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.maxFlight
}

// fault returns the first live fault for action and uses one of its hits; nil when none applies.
func (a *Account) fault(action string) *Fault { return a.faultFor(action, "") }

// faultFor is fault for a request naming instance ("" when it names none): a fault limited to
// an instance hits only the requests naming it.
func (a *Account) faultFor(action, instance string) *Fault {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.faults {
		if f.Action != action || f.Times < 0 || f.Instance != "" && f.Instance != instance {
			continue
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				f.Times = -1 // spent
			}
		}
		return &hit
	}
	return nil
}

// regionOf reads the region from the SigV4 credential scope: Credential=AKID/date/REGION/service/aws4_request.
func regionOf(r *http.Request) (region, service string) {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return "", ""
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return "", ""
	}
	return parts[2], parts[3]
}

// serve dispatches on the protocol: SSM by its X-Amz-Target, EC2 by its form Action, S3 otherwise.
func (a *Account) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.inFlight++
	a.maxFlight = max(a.maxFlight, a.inFlight)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.inFlight--
		a.mu.Unlock()
	}()
	if a.Latency > 0 {
		time.Sleep(a.Latency)
	}
	ctx := r.Context()
	region, service := regionOf(r)
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM."):
		a.serveSSM(ctx, w, r, region)
	case service == "ec2" || (r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")):
		a.serveEC2(w, r, region)
	default:
		a.serveS3(w, r, region)
	}
}

// record stores a request for Requests.
func (a *Account) record(service, action, region string, r *http.Request, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, Request{
		Service: service, Action: action, Region: region, Method: r.Method, Path: r.URL.Path,
		Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
	})
}
