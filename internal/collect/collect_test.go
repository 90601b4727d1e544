package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/store"
)

const (
	exampleArchive  = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"
	exampleInstance = "i-0a1b2c3d4e5f60718"
)

// fakeAWS is an account with one EKS node whose automation reports the statuses queued in
// statuses, one per poll, and whose bucket holds the example bundle once the automation succeeded.
type fakeAWS struct {
	mu          sync.Mutex
	statuses    []cloud.Execution
	polls       int
	started     map[string]string // client token → execution id
	starts      int
	objectReady bool
	// noObject keeps the bucket empty even after success: the upload went missing.
	noObject bool
	// failDownloads makes the next n downloads stop after half the archive.
	failDownloads int
	downloads     int
}

func (f *fakeAWS) FindInstance(_ context.Context, id, region string) (cloud.Instance, error) {
	if id != exampleInstance {
		return cloud.Instance{}, fmt.Errorf("%w: %s in us-west-2", cloud.ErrInstanceNotFound, id)
	}
	return cloud.Instance{ID: id, Region: "us-west-2", State: "running", Cluster: "prod"}, nil
}

func (f *fakeAWS) StartCollection(_ context.Context, inst cloud.Instance, token string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.started[token]; ok && token != "" {
		return id, nil
	}
	f.starts++
	id := fmt.Sprintf("0b1c2d3e-0000-4000-8000-%012d", f.starts)
	if f.started == nil {
		f.started = map[string]string{}
	}
	f.started[token] = id
	return id, nil
}

func (f *fakeAWS) Execution(_ context.Context, region, id string) (cloud.Execution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if region != "us-west-2" {
		return cloud.Execution{}, fmt.Errorf("%w: %s in %s", cloud.ErrExecutionNotFound, id, region)
	}
	ex := f.statuses[min(f.polls, len(f.statuses)-1)]
	f.polls++
	ex.ID = id
	if ex.Status == "completed" {
		f.objectReady = true
	}
	return ex, nil
}

func (f *fakeAWS) FindBundle(_ context.Context, region, instanceID, executionID string, _ time.Time) (cloud.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.objectReady || f.noObject {
		return cloud.Object{}, fmt.Errorf("%w: nothing under s3://logs/ for %s", cloud.ErrBundleMissing, executionID)
	}
	st, err := os.Stat(exampleArchive)
	if err != nil {
		return cloud.Object{}, err
	}
	return cloud.Object{Bucket: "logs", Key: filepath.Base(exampleArchive), Size: st.Size(), ETag: `"e1"`}, nil
}

// Download copies the example archive through path.part, stopping half way when told to fail,
// and resuming from what the .part holds — the contract of cloud.AWS.Download.
func (f *fakeAWS) Download(ctx context.Context, _ string, obj cloud.Object, path string, progress func(done, total int64)) error {
	f.mu.Lock()
	f.downloads++
	fail := f.failDownloads > 0
	if fail {
		f.failDownloads--
	}
	f.mu.Unlock()
	src, err := os.ReadFile(exampleArchive)
	if err != nil {
		return err
	}
	part := path + ".part"
	have, _ := os.ReadFile(part)
	end := len(src)
	if fail {
		end = len(src) / 2
	}
	if len(have) > end {
		have = nil
	}
	out, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := out.Write(src[len(have):end]); err != nil {
		out.Close()
		return err
	}
	out.Close()
	if progress != nil {
		progress(int64(end), obj.Size)
	}
	if fail {
		return io.ErrUnexpectedEOF
	}
	return os.Rename(part, path)
}

func running(step string, done int) cloud.Execution {
	return cloud.Execution{Status: "running", RawStatus: "InProgress", CurrentStep: step, StepsDone: done, StepsTotal: 4}
}

func newCollector(t *testing.T, aws AWS) (*Collector, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(st, aws, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

// TestCollectToBundle follows one collection from start to an indexed bundle: running while the
// automation runs, then download and import in the status call that sees it succeed.
func TestCollectToBundle(t *testing.T) {
	ctx := context.Background()
	aws := &fakeAWS{statuses: []cloud.Execution{running("collectLogs", 1), running("uploadLogs", 3), {Status: "completed", RawStatus: "Success", StepsDone: 4, StepsTotal: 4}}}
	c, st := newCollector(t, aws)
	rec, existing, err := c.Collect(ctx, Request{InstanceID: exampleInstance, IdempotencyToken: "t-1"})
	if err != nil || existing {
		t.Fatalf("Collect: %v existing=%v", err, existing)
	}
	if rec.State != StateRunning || rec.Region != "us-west-2" || rec.Cluster != "prod" {
		t.Errorf("started record %+v: want running in us-west-2 for cluster prod", rec)
	}
	again, existing, err := c.Collect(ctx, Request{InstanceID: exampleInstance, IdempotencyToken: "t-1"})
	if err != nil || !existing || again.ExecutionID != rec.ExecutionID || aws.starts != 1 {
		t.Fatalf("same token: %v existing=%v id %s (first %s), %d automations started", err, existing, again.ExecutionID, rec.ExecutionID, aws.starts)
	}
	for i, wantStep := range []string{"collectLogs", "uploadLogs"} {
		r, err := c.Status(ctx, rec.ExecutionID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StateRunning || r.CurrentStep != wantStep || r.StepsTotal != 4 {
			t.Errorf("poll %d: %s step %q of %d, want running at %s", i, r.State, r.CurrentStep, r.StepsTotal, wantStep)
		}
	}
	var phases []string
	r, err := c.Status(ctx, rec.ExecutionID, func(phase string, done, total int64) { phases = append(phases, phase) })
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateCompleted || r.BundleID == "" || r.Key != filepath.Base(exampleArchive) {
		t.Fatalf("after success: %+v, want completed with a bundle from %s", r, filepath.Base(exampleArchive))
	}
	if !strings.Contains(strings.Join(phases, ","), "download") || !strings.Contains(strings.Join(phases, ","), "import") {
		t.Errorf("progress phases %v: want download and import", phases)
	}
	e, err := st.Resolve(exampleInstance, "")
	if err != nil || e.Manifest.ID != r.BundleID {
		t.Fatalf("store's newest bundle of %s: %v %v, want %s", exampleInstance, e, err, r.BundleID)
	}
	if _, err := os.Stat(filepath.Join(st.Root, "downloads", rec.ExecutionID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the downloaded archive was left behind: %v", err)
	}
	polls := aws.polls
	if r2, err := c.Status(ctx, rec.ExecutionID, nil); err != nil || r2.BundleID != r.BundleID || aws.polls != polls {
		t.Errorf("status of a completed collection: %v bundle %s, %d more polls: want the same answer without asking AWS", err, r2.BundleID, aws.polls-polls)
	}
}

// TestStatusResumesAfterCrash: a download cut off (a network failure, or the process dying) is
// resumed by the next status call — from another Collector over the same store, as a restarted
// process would — and the store never holds half a bundle.
func TestStatusResumesAfterCrash(t *testing.T) {
	ctx := context.Background()
	aws := &fakeAWS{statuses: []cloud.Execution{{Status: "completed", RawStatus: "Success"}}, failDownloads: 1}
	c, st := newCollector(t, aws)
	rec, _, err := c.Collect(ctx, Request{InstanceID: exampleInstance})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Status(ctx, rec.ExecutionID, nil)
	if err == nil || !strings.Contains(err.Error(), "status again") {
		t.Fatalf("interrupted download: err %v, want one that says to call status again", err)
	}
	if r.Phase != "download" || r.Downloaded == 0 {
		t.Errorf("after the interruption: phase %q downloaded %d, want download with the bytes kept", r.Phase, r.Downloaded)
	}
	if entries, _ := st.List(); len(entries) != 0 {
		t.Fatalf("store holds %d bundles after a failed download, want none", len(entries))
	}
	restarted, err := New(st, aws, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err = restarted.Status(ctx, rec.ExecutionID, nil)
	if err != nil || r.State != StateCompleted || r.BundleID == "" {
		t.Fatalf("resumed status: %v %+v, want completed with a bundle", err, r)
	}
	if aws.downloads != 2 {
		t.Errorf("%d downloads, want 2 (the cut one and its resumption)", aws.downloads)
	}
}

// TestStatusOutcomes covers the ways an automation ends other than success.
func TestStatusOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		ex        cloud.Execution
		wantState string
		wantWhy   string
	}{
		{"failed step", cloud.Execution{Status: "failed", RawStatus: "Failed", FailureReason: "Step collectLogs failed: not enough free space on /"}, StateFailed, "free space"},
		{"timed out", cloud.Execution{Status: "failed", RawStatus: "TimedOut", FailureReason: "timed out"}, StateFailed, "timed out"},
		{"cancelled", cloud.Execution{Status: "cancelled", RawStatus: "Cancelled"}, StateCancelled, "Cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newCollector(t, &fakeAWS{statuses: []cloud.Execution{tc.ex}})
			rec, _, err := c.Collect(ctx, Request{InstanceID: exampleInstance})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Status(ctx, rec.ExecutionID, nil)
			if err != nil || r.State != tc.wantState || !strings.Contains(r.FailureReason, tc.wantWhy) {
				t.Errorf("status: %v state %q reason %q, want %s with %q", err, r.State, r.FailureReason, tc.wantState, tc.wantWhy)
			}
		})
	}

	t.Run("bundle missing", func(t *testing.T) {
		aws := &fakeAWS{statuses: []cloud.Execution{{Status: "completed", RawStatus: "Success"}}}
		c, _ := newCollector(t, aws)
		clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		c.now = func() time.Time { return clock }
		rec, _, err := c.Collect(ctx, Request{InstanceID: exampleInstance})
		if err != nil {
			t.Fatal(err)
		}
		aws.noObject = true
		r, err := c.Status(ctx, rec.ExecutionID, nil)
		if err != nil || r.State != StateRunning || r.Phase != "download" {
			t.Fatalf("object not there yet, right after success: %v state %q phase %q, want running in download", err, r.State, r.Phase)
		}
		clock = clock.Add(objectGrace + time.Minute)
		r, err = c.Status(ctx, rec.ExecutionID, nil)
		if err != nil || r.State != StateFailed || !strings.Contains(r.FailureReason, "s3://logs") {
			t.Errorf("object still missing after the grace period: %v state %q reason %q, want failed naming the bucket", err, r.State, r.FailureReason)
		}
	})
}

func TestBadRequests(t *testing.T) {
	ctx := context.Background()
	c, _ := newCollector(t, nil)
	if _, _, err := c.Collect(ctx, Request{InstanceID: exampleInstance}); !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "--bucket") {
		t.Errorf("collect without AWS: %v, want ErrNotConfigured naming --bucket", err)
	}
	if _, _, err := c.Collect(ctx, Request{InstanceID: "i-xyz"}); !errors.Is(err, cloud.ErrInvalidInstanceID) {
		t.Errorf("collect i-xyz: %v, want ErrInvalidInstanceID", err)
	}
	for _, id := range []string{"../../etc/passwd", "nope", ""} {
		if _, err := c.Status(ctx, id, nil); !errors.Is(err, ErrUnknownExecution) {
			t.Errorf("status %q: %v, want ErrUnknownExecution", id, err)
		}
	}
	c2, _ := newCollector(t, &fakeAWS{statuses: []cloud.Execution{running("a", 0)}})
	if _, _, err := c2.Collect(ctx, Request{InstanceID: "i-0123456789abcdef0"}); !errors.Is(err, cloud.ErrInstanceNotFound) {
		t.Errorf("collect unknown instance: %v, want ErrInstanceNotFound", err)
	}
}

// TestGathered records a folder gathered directly and imports it.
func TestGathered(t *testing.T) {
	ctx := context.Background()
	c, st := newCollector(t, nil)
	rec, err := c.Gathered(ctx, MethodLocal, exampleInstance, "ip-10-0-37-142", "", exampleArchive, []string{"kernel ring buffer: permission denied"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != StateCompleted || rec.Method != MethodLocal || rec.InstanceID != exampleInstance || len(rec.Missing) != 1 {
		t.Errorf("gathered record %+v", rec)
	}
	got, err := c.Status(ctx, rec.ExecutionID, nil)
	if err != nil || got.BundleID != rec.BundleID {
		t.Errorf("status of a gathering: %v %+v", err, got)
	}
	if _, err := st.Resolve(exampleInstance, rec.BundleID); err != nil {
		t.Errorf("the gathered bundle is not in the store: %v", err)
	}
	all, err := c.List()
	if err != nil || len(all) != 1 {
		t.Errorf("List: %v, %d records", err, len(all))
	}
}

// TestConfirm: the Confirm hook is asked once the instance is found, with the instance and the
// bucket, before anything starts; its error stops the collection; a token naming an execution
// already started asks nothing.
func TestConfirm(t *testing.T) {
	ctx := context.Background()
	aws := &fakeAWS{statuses: []cloud.Execution{running("collectLogs", 1)}}
	c, _ := newCollector(t, aws)
	var asked []cloud.Instance
	refuse := errors.New("not approved")
	confirm := func(answer error) func(context.Context, cloud.Instance, string) error {
		return func(_ context.Context, inst cloud.Instance, _ string) error {
			asked = append(asked, inst)
			return answer
		}
	}
	if _, _, err := c.Collect(ctx, Request{InstanceID: exampleInstance, IdempotencyToken: "t", Confirm: confirm(refuse)}); !errors.Is(err, refuse) {
		t.Fatalf("refused: %v, want the hook's error", err)
	}
	if aws.starts != 0 || len(asked) != 1 || asked[0].Cluster != "prod" {
		t.Fatalf("refused: %d started, asked %v; want nothing started, asked once with the instance", aws.starts, asked)
	}
	if _, existing, err := c.Collect(ctx, Request{InstanceID: exampleInstance, IdempotencyToken: "t", Confirm: confirm(nil)}); err != nil || existing || aws.starts != 1 {
		t.Fatalf("approved: %v existing=%v, %d started", err, existing, aws.starts)
	}
	if _, existing, err := c.Collect(ctx, Request{InstanceID: exampleInstance, IdempotencyToken: "t", Confirm: confirm(refuse)}); err != nil || !existing || len(asked) != 2 {
		t.Errorf("same token again: %v existing=%v, asked %d times; want the execution, not asked again", err, existing, len(asked))
	}
}
