// Package eks answers the two AWS-side questions of the K3 CrashLoopBackOff runbook's Phase 1 and 2E:
// cluster_health (is the cluster, its node groups and its EC2 worker instances healthy, and can SSM
// reach each instance so that `collect` can work on it) and get_cloudwatch_logs (control-plane log
// events such as the audit log from the cluster's CloudWatch Logs group).
//
// It talks to EKS, EC2, SSM and CloudWatch Logs through the real aws-sdk-go-v2 clients built from
// one aws.Config, so the SDK's credential chain, endpoint overrides (AWS_ENDPOINT_URL_EKS, …) and
// retries (throttling included) apply unchanged. Nodes are keyed by EC2 instance id and private DNS
// name so that a caller can merge them with the Kubernetes node conditions of the same machines.
package eks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awseks "github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

// Errors a caller can test with errors.Is to decide what to tell the user; every returned error
// also carries the SDK's own error (errors.As reaches smithy.APIError) and says what to fix.
var (
	// ErrClusterNotFound: DescribeCluster answered ResourceNotFoundException in the region used.
	ErrClusterNotFound = errors.New("EKS cluster not found")
	// ErrAccessDenied: the credentials are valid but not allowed the named action.
	ErrAccessDenied = errors.New("access denied")
	// ErrNoCredentials: no credentials could be found, or they are expired or not recognised.
	ErrNoCredentials = errors.New("no valid AWS credentials")
	// ErrLogTypeNotEnabled: the requested control-plane log type is not enabled on the cluster.
	ErrLogTypeNotEnabled = errors.New("control-plane log type not enabled")
	// ErrLogGroupNotFound: the cluster's log group /aws/eks/NAME/cluster does not exist.
	ErrLogGroupNotFound = errors.New("control-plane log group not found")
)

// Client reads one region's EKS, EC2, SSM and CloudWatch Logs APIs. It is safe for concurrent use
// because the SDK clients are.
type Client struct {
	region string
	eks    *awseks.Client
	ec2    *ec2.Client
	ssm    *ssm.Client
	logs   *cloudwatchlogs.Client
	// noCreds is set when the configuration has no credential provider: the SDK would then send
	// unsigned requests, which AWS refuses with a message that does not say what to do.
	noCreds bool
	// now is the clock Logs uses for a window without an end; a field so a test can fix it.
	now func() time.Time
}

// Option changes how New builds the clients.
type Option func(*aws.Config)

// WithRegion makes every client talk to region instead of cfg.Region, so one loaded configuration
// serves a cluster in another region without reloading credentials.
func WithRegion(region string) Option {
	return func(c *aws.Config) {
		if region != "" {
			c.Region = region
		}
	}
}

// New builds the EKS, EC2, SSM and CloudWatch Logs clients from cfg (loaded by the caller, usually
// with config.LoadDefaultConfig). cfg is copied, so options never change the caller's value.
func New(cfg aws.Config, opts ...Option) *Client {
	cfg = cfg.Copy()
	for _, o := range opts {
		o(&cfg)
	}
	return &Client{
		region:  cfg.Region,
		eks:     awseks.NewFromConfig(cfg),
		ec2:     ec2.NewFromConfig(cfg),
		ssm:     ssm.NewFromConfig(cfg),
		logs:    cloudwatchlogs.NewFromConfig(cfg),
		now:     time.Now,
		noCreds: cfg.Credentials == nil,
	}
}

// Region is the region every call goes to.
func (c *Client) Region() string { return c.region }

// checkCredentials refuses to send unsigned requests.
func (c *Client) checkCredentials(action string) error {
	if c.noCreds {
		return fmt.Errorf("%w for %s: the AWS configuration has none: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance or pod role applies", ErrNoCredentials, action)
	}
	return nil
}

// explain turns an SDK error into one that says what to fix. action is the IAM action of the call
// ("eks:DescribeCluster") because an access-denied message is useless without it. Errors it does not
// recognise are only wrapped with the action; throttling never reaches here unless the SDK's retries
// were exhausted, and then the message says so.
func (c *Client) explain(action string, err error) error {
	if err == nil {
		return nil
	}
	// A cancelled or expired context is the caller's doing; it needs no advice.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", action, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch code := apiErr.ErrorCode(); code {
		case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException":
			return fmt.Errorf("%w: %s in region %s: grant the IAM principal %s: %w", ErrAccessDenied, action, c.region, action, err)
		case "ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired":
			return fmt.Errorf("%w: the credentials used for %s have expired: refresh them (aws sso login, or new session credentials): %w", ErrNoCredentials, action, err)
		case "UnrecognizedClientException", "InvalidClientTokenId", "MissingAuthenticationToken", "MissingAuthenticationTokenException", "IncompleteSignature", "AuthFailure", "InvalidSignatureException", "SignatureDoesNotMatch":
			return fmt.Errorf("%w: AWS rejected the credentials used for %s (%s): check AWS_PROFILE or the access key: %w", ErrNoCredentials, action, code, err)
		case "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException":
			return fmt.Errorf("%s in region %s: still throttled after the SDK's retries: try again later or raise AWS_MAX_ATTEMPTS: %w", action, c.region, err)
		}
		return fmt.Errorf("%s in region %s: %w", action, c.region, err)
	}
	// The SDK reports a missing or unloadable credential chain from its identity step, before any
	// request is sent, so only the message tells it apart from a network failure.
	msg := err.Error()
	if strings.Contains(msg, "get identity") || strings.Contains(msg, "no identity resolver") ||
		strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "failed to refresh cached credentials") {
		return fmt.Errorf("%w for %s: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance or pod role applies: %w", ErrNoCredentials, action, err)
	}
	return fmt.Errorf("%s in region %s: %w", action, c.region, err)
}

// apiCode is the AWS error code of err, or "" when err is not an API error.
func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
