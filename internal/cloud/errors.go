package cloud

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// The errors the caller maps to messages and exit codes. Every error returned by this package that
// the user can act on wraps one of them (test with errors.Is) and carries a message saying what to fix.
var (
	// ErrInvalidInstanceID: the id is not "i-" followed by 8 or 17 lowercase hex digits.
	ErrInvalidInstanceID = errors.New("invalid EC2 instance id")
	// ErrInstanceNotFound: no region searched has the instance; the message lists the regions.
	ErrInstanceNotFound = errors.New("EC2 instance not found")
	// ErrNotEKSNode: the instance has no EKS cluster tag, so the EKS log automation does not apply.
	ErrNotEKSNode = errors.New("instance is not an EKS node")
	// ErrNotRunning: the instance is not running, so SSM cannot run commands on it; the message says its state.
	ErrNotRunning = errors.New("instance is not running")
	// ErrNoBucket: no S3 bucket was configured for the automation to upload to.
	ErrNoBucket = errors.New("no S3 bucket configured")
	// ErrBucketNotFound: the bucket does not exist (or is in no region the endpoint knows).
	ErrBucketNotFound = errors.New("S3 bucket not found")
	// ErrAccessDenied: IAM denied an API action; the message names the action and the principal when AWS said it.
	ErrAccessDenied = errors.New("access denied")
	// ErrNoCredentials: the SDK's credential chain found no credentials.
	ErrNoCredentials = errors.New("no AWS credentials")
	// ErrExpiredCredentials: the credentials (or the SSO session) have expired.
	ErrExpiredCredentials = errors.New("AWS credentials expired")
	// ErrInvalidCredentials: AWS does not recognise the access key or the signature.
	ErrInvalidCredentials = errors.New("AWS credentials invalid")
	// ErrNoRegion: no region was given, configured or listed to search.
	ErrNoRegion = errors.New("no AWS region")
	// ErrExecutionNotFound: SSM has no automation execution with that id in that region.
	ErrExecutionNotFound = errors.New("SSM automation execution not found")
	// ErrBundleMissing: the automation succeeded but no bundle object is in the bucket.
	ErrBundleMissing = errors.New("log bundle not found in S3")
)

// credentialHelp says how to give nodediag credentials; it ends every credential error message.
const credentialHelp = "configure credentials with AWS_PROFILE (and `aws sso login` for SSO profiles), " +
	"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role, IRSA or EKS Pod Identity provides them"

// principalRE and actionRE pull the denied principal and action out of IAM's standard denial text:
// "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ssm:StartAutomationExecution on resource: …".
var (
	principalRE = regexp.MustCompile(`User: (arn:[^\s]+)`)
	actionRE    = regexp.MustCompile(`not authorized to perform: ([A-Za-z0-9-]+:[A-Za-z0-9]+)`)
)

// Error codes grouped by what the user must do about them.
var (
	accessDeniedCodes = map[string]bool{
		"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
		"UnauthorizedAccess": true, "Forbidden": true,
	}
	expiredCodes = map[string]bool{
		"ExpiredToken": true, "ExpiredTokenException": true, "TokenRefreshRequired": true, "RequestExpired": true,
	}
	invalidCredentialCodes = map[string]bool{
		"InvalidClientTokenId": true, "UnrecognizedClientException": true, "InvalidAccessKeyId": true,
		"SignatureDoesNotMatch": true, "AuthFailure": true, "IncompleteSignature": true,
	}
)

// classify maps an SDK error from the call of action (for example "ssm:StartAutomationExecution") to a
// sentinel error with a message saying what to fix. Errors it cannot classify are wrapped with the
// action so the message still says which call failed. The SDK error stays in the chain.
func classify(action string, err error) error {
	if err == nil {
		return nil
	}
	var sso *ssocreds.InvalidTokenError
	if errors.As(err, &sso) {
		return fmt.Errorf("%w: the SSO session has expired: run `aws sso login` (%s): %w", ErrExpiredCredentials, credentialHelp, err)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		case accessDeniedCodes[code]:
			return accessDenied(action, api.ErrorMessage(), err)
		case expiredCodes[code]:
			return fmt.Errorf("%w: %s answered %s: refresh the credentials (%s): %w", ErrExpiredCredentials, action, code, credentialHelp, err)
		case invalidCredentialCodes[code]:
			return fmt.Errorf("%w: %s answered %s: check the access key and secret (%s): %w", ErrInvalidCredentials, action, code, credentialHelp, err)
		}
		return fmt.Errorf("%s: %w", action, err)
	}
	// The SDK resolves credentials before sending, and reports a failed chain as untyped text.
	msg := err.Error()
	if strings.Contains(msg, "get identity:") || strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "AnonymousCredentials") {
		if strings.Contains(strings.ToLower(msg), "expired") {
			return fmt.Errorf("%w: %s: %s: %w", ErrExpiredCredentials, action, credentialHelp, err)
		}
		return fmt.Errorf("%w: %s: %s: %w", ErrNoCredentials, action, credentialHelp, err)
	}
	return fmt.Errorf("%s: %w", action, err)
}

// accessDenied builds the ErrAccessDenied message: which action was refused, to whom, and what to grant.
func accessDenied(action, message string, err error) error {
	if m := actionRE.FindStringSubmatch(message); m != nil {
		action = m[1]
	}
	who := "the caller"
	if m := principalRE.FindStringSubmatch(message); m != nil {
		who = m[1]
	}
	return fmt.Errorf("%w: %s may not call %s: grant %s in its IAM policy (or use a profile that has it): %w",
		ErrAccessDenied, who, action, action, err)
}

// apiCode returns the AWS error code in err's chain, or "".
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
