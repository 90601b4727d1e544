package collect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/store"
)

// TestStatusAdoptsOutsideExecution: an execution of the log-collection runbook started outside
// this store (the console, another nodediag) is followed by status all the same, through the real
// SDK against the fake account; one of another document, or uploading to another bucket, is not.
func TestStatusAdoptsOutsideExecution(t *testing.T) {
	ctx := context.Background()
	acct := awsfake.New()
	t.Cleanup(acct.Close)
	acct.AddInstance(awsfake.Instance{ID: exampleInstance, Region: "us-west-2", State: "running", Tags: map[string]string{"eks:cluster-name": "prod"}})
	acct.AddBucket("node-logs")
	data, err := os.ReadFile(exampleArchive)
	if err != nil {
		t.Fatal(err)
	}
	acct.SetBundle(exampleInstance, data)

	console := cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "node-logs"})
	inst, err := console.FindInstance(ctx, exampleInstance, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := console.StartCollection(ctx, inst, "")
	if err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(st, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "team-logs"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Status(ctx, id, nil); err == nil || !strings.Contains(err.Error(), "--bucket node-logs") {
		t.Errorf("following an execution that uploads elsewhere: %v, want it to name --bucket node-logs", err)
	}
	if _, err := other.Status(ctx, "0b1c2d3e-0000-4000-8000-000000000999", nil); !errors.Is(err, ErrUnknownExecution) {
		t.Errorf("an id SSM does not know either: %v, want ErrUnknownExecution", err)
	}

	c, err := New(st, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "node-logs"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	var r *Record
	for poll := 0; r == nil || !r.Terminal(); poll++ {
		if poll == 10 {
			t.Fatalf("not done after %d polls: %+v", poll, r)
		}
		if r, err = c.Status(ctx, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	if r.State != StateCompleted || r.InstanceID != exampleInstance || r.BundleID == "" || r.Region != "us-west-2" {
		t.Errorf("adopted execution ended %+v, want completed for %s with a bundle", r, exampleInstance)
	}
}
