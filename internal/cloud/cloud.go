// Package cloud is nodediag's AWS side of collection: it finds an EKS worker node's EC2 instance,
// starts the SSM automation AWSSupport-CollectEKSInstanceLogs that uploads the node's log bundle to
// an S3 bucket, follows the execution, finds the uploaded archive and streams it to disk with resume.
//
// Configuration is the SDK's own: the standard credential chain and the standard endpoint overrides
// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EC2, _SSM, _S3, shared-config services sections), so nodediag
// works through VPC endpoints and against local emulators without flags of its own. Every SDK error
// the caller can act on is mapped to one of the sentinel errors in errors.go, wrapped with a message
// that says what to fix.
package cloud

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// LoadConfig loads the SDK's standard configuration chain (AWS_REGION, AWS_PROFILE, the shared config
// and credentials files, IRSA and Pod Identity, IMDS). region, when not empty, overrides the configured
// region. Credentials are resolved lazily by the SDK, so a missing or expired credential surfaces on
// the first call as ErrNoCredentials or ErrExpiredCredentials, not here.
func LoadConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration (AWS_PROFILE, AWS_REGION, ~/.aws/config): %w", err)
	}
	return cfg, nil
}

// Options are the collection settings that come from nodediag's flags or config file.
type Options struct {
	// Bucket is the S3 bucket the automation uploads bundles to (--bucket); StartCollection needs it.
	Bucket string
	// RoleARN is the automation's AutomationAssumeRole (--role-arn); empty runs the automation with
	// the caller's own permissions.
	RoleARN string
	// Regions is the search order for an instance whose region is not given and not in the
	// configured region.
	Regions []string
}

// AWS holds one set of service clients per region, created on first use. It is safe for
// concurrent use.
type AWS struct {
	cfg  aws.Config
	opts Options

	mu      sync.Mutex
	clients map[string]*regionClients
}

// regionClients are the service clients of one region.
type regionClients struct {
	ec2 *ec2.Client
	ssm *ssm.Client
	s3  *s3.Client
}

// New returns an AWS that makes its calls with cfg. Clients are created per region lazily because an
// instance search may touch several regions and a status call only one.
func New(cfg aws.Config, opts Options) *AWS {
	return &AWS{cfg: cfg, opts: opts, clients: map[string]*regionClients{}}
}

// Options returns the options a was created with.
func (a *AWS) Options() Options { return a.opts }

// region returns the clients of region, creating them on first use.
func (a *AWS) region(ctx context.Context, region string) (*regionClients, error) {
	if region == "" {
		region = a.cfg.Region
	}
	if region == "" {
		return nil, fmt.Errorf("%w: no AWS region: set AWS_REGION, a region in the AWS profile, or pass --region", ErrNoRegion)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[region]; ok {
		return c, nil
	}
	pathStyle := hasEndpointOverride(ctx, a.cfg, "S3")
	c := &regionClients{
		ec2: ec2.NewFromConfig(a.cfg, func(o *ec2.Options) { o.Region = region }),
		ssm: ssm.NewFromConfig(a.cfg, func(o *ssm.Options) { o.Region = region }),
		s3: s3.NewFromConfig(a.cfg, func(o *s3.Options) {
			o.Region = region
			// An emulator or VPC endpoint override has no per-bucket DNS names, so virtual-hosted
			// addressing (bucket.host) would not resolve.
			o.UsePathStyle = o.UsePathStyle || pathStyle
			// The bundle object is uploaded by the automation without a checksum; the SDK would
			// log that on every download, on stderr, where it reads as a fault.
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
	}
	a.clients[region] = c
	return c, nil
}

// serviceEndpointSource is what the SDK's environment and shared-config sources implement for
// AWS_ENDPOINT_URL_<SERVICE> and the shared config's services sections.
type serviceEndpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

// hasEndpointOverride reports whether the SDK will send sdkID's calls to a configured endpoint rather
// than AWS's own: the global BaseEndpoint (AWS_ENDPOINT_URL) or a service-specific one.
func hasEndpointOverride(ctx context.Context, cfg aws.Config, sdkID string) bool {
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return true
	}
	for _, src := range cfg.ConfigSources {
		if s, ok := src.(serviceEndpointSource); ok {
			if v, found, err := s.GetServiceBaseEndpoint(ctx, sdkID); err == nil && found && v != "" {
				return true
			}
		}
	}
	return false
}
