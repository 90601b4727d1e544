package cloud

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isolateEnv clears the environment the SDK reads, so a developer's own profile, credentials or
// instance metadata cannot leak into a test.
func isolateEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "3")
	t.Setenv("AWS_RETRY_MODE", "standard")
}

// TestLoadConfigEndpointOverrides checks the SDK itself routes each service to its
// AWS_ENDPOINT_URL_<SERVICE> (nodediag adds no flags for it) and that S3 then goes path-style.
func TestLoadConfigEndpointOverrides(t *testing.T) {
	for _, global := range []bool{false, true} {
		name := "per-service"
		if global {
			name = "AWS_ENDPOINT_URL"
		}
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			f := newAccount(t)
			if global {
				t.Setenv("AWS_ENDPOINT_URL", f.Server.URL)
			} else {
				for _, s := range []string{"EC2", "SSM", "S3"} {
					t.Setenv("AWS_ENDPOINT_URL_"+s, f.Server.URL)
				}
			}
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENVENV0")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
			ctx := context.Background()
			cfg, err := LoadConfig(ctx, "us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			a := New(cfg, Options{Bucket: bucket})
			inst, err := a.FindInstance(ctx, nodeID, "")
			if err != nil {
				t.Fatal(err)
			}
			exec, err := a.StartCollection(ctx, inst, "t")
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := a.Execution(ctx, inst.Region, exec); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := a.FindBundle(ctx, inst.Region, inst.ID, exec, time.Time{}); err != nil {
				t.Fatal(err)
			}
			reqs := f.Requests()
			if len(reqs) != 6 {
				t.Fatalf("%d requests reached the override endpoint, want 6", len(reqs))
			}
			for _, r := range reqs {
				if got := r.Header.Get("Authorization"); !strings.Contains(got, "AKIAENVENVENVENVENV0/") {
					t.Errorf("%s signed with %q, want the environment's access key", r.Action, got)
				}
			}
			if p := f.RequestsFor("ListObjectsV2")[0].Path; p != "/"+bucket {
				t.Errorf("list path %s: want path-style /%s", p, bucket)
			}
		})
	}
}

func TestNoRegion(t *testing.T) {
	isolateEnv(t)
	cfg, err := LoadConfig(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, Options{}).FindInstance(context.Background(), nodeID, "")
	checkErr(t, err, ErrNoRegion, []string{"AWS_REGION", "--region"})
}

// TestNoCredentials runs the SDK's real chain with nothing configured: the first call must say
// there are no credentials and how to provide them, without sending anything.
func TestNoCredentials(t *testing.T) {
	isolateEnv(t)
	f := newAccount(t)
	t.Setenv("AWS_ENDPOINT_URL", f.Server.URL)
	ctx := context.Background()
	cfg, err := LoadConfig(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, Options{}).FindInstance(ctx, nodeID, "")
	checkErr(t, err, ErrNoCredentials, []string{"AWS_PROFILE", "aws sso login", "instance role"})
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
}
