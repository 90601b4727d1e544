package blobdrivers

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"golang.org/x/oauth2/google"

	"github.com/nodediag/nodediag/internal/blobopen"
)

func init() { blobopen.RegisterCheck("gs", gcsCredentials) }

// gcsCredentials looks for Google's application default credentials before gocloud's gs://
// opener does: that opener, finding none, prints a warning on stdout — where nodediag's data
// goes — and goes on with an empty key, so that the user sees a PEM parse error from the first
// request rather than what is missing. An emulator (STORAGE_EMULATOR_HOST) needs none.
func gcsCredentials(ctx context.Context, u *url.URL) error {
	if os.Getenv("STORAGE_EMULATOR_HOST") != "" || os.Getenv("STORAGE_EMULATOR_HOST_GRPC") != "" {
		return nil
	}
	_, err := google.FindDefaultCredentialsWithParams(ctx, google.CredentialsParams{
		Scopes:         []string{"https://www.googleapis.com/auth/cloud-platform"},
		UniverseDomain: u.Query().Get("universe_domain"),
	})
	if err != nil {
		return fmt.Errorf("no Google credentials: %w (set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth application-default login`, or run with a workload identity)", err)
	}
	return nil
}
