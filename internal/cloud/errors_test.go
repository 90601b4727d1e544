package cloud

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

func TestClassify(t *testing.T) {
	api := func(code, msg string) error {
		return &smithy.OperationError{ServiceID: "SSM", OperationName: "X", Err: &smithy.GenericAPIError{Code: code, Message: msg}}
	}
	for _, tc := range []struct {
		name     string
		err      error
		want     error // nil: no sentinel
		contains []string
	}{
		{"IAM denial", api("AccessDeniedException", "User: "+principal+" is not authorized to perform: ssm:GetAutomationExecution on resource: x"),
			ErrAccessDenied, []string{principal, "ssm:GetAutomationExecution"}},
		{"bare S3 denial names the action called", api("AccessDenied", "Access Denied"), ErrAccessDenied, []string{"the caller", "act:Called"}},
		{"expired session token", api("ExpiredTokenException", "The security token included in the request is expired"), ErrExpiredCredentials, []string{"aws sso login"}},
		{"S3 expired", api("ExpiredToken", "The provided token has expired."), ErrExpiredCredentials, nil},
		{"unknown key", api("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."), ErrInvalidCredentials, []string{"AWS_ACCESS_KEY_ID"}},
		{"SSO session expired", fmt.Errorf("operation error SSM: X, get identity: %w", &ssocreds.InvalidTokenError{Err: errors.New("token expired")}),
			ErrExpiredCredentials, []string{"aws sso login"}},
		{"empty chain", errors.New("operation error EC2: DescribeInstances, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found"),
			ErrNoCredentials, []string{"AWS_PROFILE"}},
		{"other API error keeps the action", api("InternalServerError", "boom"), nil, []string{"act:Called", "boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify("act:Called", tc.err)
			if !errors.Is(got, tc.err) {
				t.Errorf("%v does not keep the SDK error in its chain", got)
			}
			for _, s := range []error{ErrAccessDenied, ErrExpiredCredentials, ErrInvalidCredentials, ErrNoCredentials} {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, !(s == tc.want))
				}
			}
			for _, s := range tc.contains {
				if !strings.Contains(got.Error(), s) {
					t.Errorf("%q does not mention %q", got, s)
				}
			}
		})
	}
}
