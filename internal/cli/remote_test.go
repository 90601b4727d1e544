package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One machine imports into a bucket store; another answers from it, downloading the index
// and only the log files its question reads.
func TestBucketStore(t *testing.T) {
	bucket := "file://" + filepath.ToSlash(t.TempDir())
	cacheA, cacheB := t.TempDir(), t.TempDir()
	if _, e, code := run(t, "--store", bucket, "--cache", cacheA, "import", example); code != 0 {
		t.Fatalf("import into %s: exit %d: %s", bucket, code, e)
	}
	out, e, code := run(t, "--store", bucket, "--cache", cacheB, "errors", "-o", "json")
	if code != 0 {
		t.Fatalf("errors from the bucket: exit %d: %s", code, e)
	}
	local, _, _ := run(t, "--store", cacheA, "errors", "-o", "json")
	var got, want struct{ Findings []struct{ Rule string } }
	json.Unmarshal([]byte(out), &got)
	json.Unmarshal([]byte(local), &want)
	if len(got.Findings) == 0 || len(got.Findings) != len(want.Findings) {
		t.Fatalf("%d findings from the bucket, %d where it was imported", len(got.Findings), len(want.Findings))
	}
	logs := 0
	filepath.WalkDir(filepath.Join(cacheB, "bundles"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.ToSlash(p), "/files/") {
			logs++
		}
		return nil
	})
	if logs != 0 {
		t.Errorf("errors downloaded %d log files; the index answers it", logs)
	}
	// doctor checks the mirror, not a folder named after the URL.
	if out, e, code := run(t, "--store", bucket, "--cache", cacheB, "doctor"); code != 0 || !strings.Contains(out, cacheB) {
		t.Errorf("doctor on a bucket store: exit %d: %s%s", code, out, e)
	}
	if _, err := os.Stat("file:"); err == nil {
		t.Error("doctor made a folder named after the bucket URL")
	}
	out, e, code = run(t, "--store", bucket, "--cache", cacheB, "diagnose", "--pod", "payments/ledger-0", "-o", "json")
	if code != 0 || !strings.Contains(out, `"container_oom"`) {
		t.Errorf("diagnose from the bucket: exit %d: %s\n%.300s", code, e, out)
	}
}

func TestBucketStoreUnreachable(t *testing.T) {
	// Credentials of our own, so that the SDK looks for none elsewhere (the instance metadata
	// service among them): the test reaches loopback only.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	_, e, code := run(t, "--store", "s3://nodediag-test?endpoint=http://127.0.0.1:1&disable_https=true&region=us-east-1&use_path_style=true", "--cache", t.TempDir(), "bundles")
	if code == 0 || !strings.Contains(e, "s3://nodediag-test") || !strings.Contains(e, "cannot be read") {
		t.Errorf("exit %d: %s", code, e)
	}
}
