package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/store"
)

// AWS is what a collection needs from AWS; *cloud.AWS is the real one.
type AWS interface {
	FindInstance(ctx context.Context, id, region string) (cloud.Instance, error)
	StartCollection(ctx context.Context, inst cloud.Instance, idempotencyToken string) (string, error)
	Execution(ctx context.Context, region, executionID string) (cloud.Execution, error)
	FindBundle(ctx context.Context, region, instanceID, executionID string, notBefore time.Time) (cloud.Object, error)
	Download(ctx context.Context, region string, obj cloud.Object, path string, progress func(done, total int64)) error
}

// ErrNotConfigured reports a collection method the process was not set up for.
var ErrNotConfigured = errors.New("collection is not configured")

// objectGrace is how long after the automation ends its bundle may take to appear in the bucket
// before status calls it missing: the upload step's object can lag the execution's end.
const objectGrace = 5 * time.Minute

// Collector starts collections and carries them to an indexed bundle.
type Collector struct {
	store *store.Store
	aws   AWS
	recs  records
	log   *slog.Logger
	now   func() time.Time

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// New returns a collector over the store. aws may be nil: SSM collections then fail with
// ErrNotConfigured, and direct gatherings still work.
func New(st *store.Store, aws AWS, log *slog.Logger) (*Collector, error) {
	dir := filepath.Join(st.Root, "executions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening the executions folder: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{store: st, aws: aws, recs: records{dir: dir}, log: log, now: time.Now, locks: map[string]*sync.Mutex{}}, nil
}

// Request asks for an SSM collection.
type Request struct {
	InstanceID       string
	Region           string
	IdempotencyToken string
	// Confirm, when set, is asked once the instance is found and can be collected from, just
	// before the automation starts (not when the idempotency token names an execution already
	// started): bucket is where the bundle will be uploaded ("" if not known). An error stops the
	// collection and is returned as it is.
	Confirm func(ctx context.Context, inst cloud.Instance, bucket string) error
	// Instance, when set, is InstanceID as a listing already described it (a node group's
	// instances come with their state and tags), so it is not looked up again.
	Instance *cloud.Instance
}

// Collect starts the SSM automation that collects the instance's logs into the bucket. The same
// idempotency token for the same instance returns the execution it started before (existing=true)
// rather than starting another.
func (c *Collector) Collect(ctx context.Context, req Request) (rec *Record, existing bool, err error) {
	if err := cloud.ValidInstanceID(req.InstanceID); err != nil {
		return nil, false, err
	}
	if c.aws == nil {
		return nil, false, fmt.Errorf("%w: collecting through AWS SSM needs AWS credentials and region (AWS_PROFILE/AWS_REGION or an "+
			"instance role) and the S3 bucket the automation uploads to (serve/collect --bucket); without AWS use "+
			"`nodediag collect --method kube --node NODE --allow-node-proxy` or `nodediag collect --local` on the node", ErrNotConfigured)
	}
	if bucket, ok := c.configuredBucket(); ok && bucket == "" {
		// Say it before any AWS call: the credentials may be fine, and a credentials error
		// would hide the one thing the user must add.
		return nil, false, fmt.Errorf("%w: the SSM automation uploads the node's bundle to an S3 bucket the collector reads back: "+
			"start nodediag with --bucket NAME (or set NODEDIAG_BUCKET)", cloud.ErrNoBucket)
	}
	if req.IdempotencyToken != "" {
		all, err := c.recs.list()
		if err != nil {
			return nil, false, err
		}
		for _, r := range all {
			if r.IdempotencyToken == req.IdempotencyToken && r.InstanceID == req.InstanceID {
				return r, true, nil
			}
		}
	}
	var inst cloud.Instance
	if req.Instance != nil && req.Instance.ID == req.InstanceID {
		inst = *req.Instance
	} else if inst, err = c.aws.FindInstance(ctx, req.InstanceID, req.Region); err != nil {
		return nil, false, err
	}
	if req.Confirm != nil {
		// What StartCollection would refuse is refused first: no one should be asked to
		// approve a collection that cannot run.
		if err := inst.Collectable(); err != nil {
			return nil, false, err
		}
		bucket, _ := c.configuredBucket()
		if err := req.Confirm(ctx, inst, bucket); err != nil {
			return nil, false, err
		}
	}
	id, err := c.aws.StartCollection(ctx, inst, req.IdempotencyToken)
	if err != nil {
		return nil, false, err
	}
	// SSM itself dedupes a repeated client token; a record already written for the id means this
	// is that same execution again.
	if r, err := c.recs.load(id); err == nil {
		return r, true, nil
	}
	now := c.now().UTC()
	rec = &Record{ExecutionID: id, Method: MethodSSM, InstanceID: inst.ID, Region: inst.Region, Cluster: inst.Cluster,
		NodeName: inst.PrivateDNSName, IdempotencyToken: req.IdempotencyToken, Started: now, Updated: now,
		State: StateRunning, Phase: "automation"}
	// The bucket is remembered so that a later status, in a process started without --bucket,
	// still knows where the bundle goes.
	rec.Bucket, _ = c.configuredBucket()
	if err := c.recs.save(rec); err != nil {
		return nil, false, err
	}
	c.log.Info("collection started", "executionId", id, "instance", inst.ID, "region", inst.Region)
	return rec, false, nil
}

// configuredBucket is the bucket the AWS side uploads to and reads from, when it says (the real
// one does; a test fake may not).
func (c *Collector) configuredBucket() (string, bool) {
	o, ok := c.aws.(interface{ Options() cloud.Options })
	if !ok {
		return "", false
	}
	return o.Options().Bucket, true
}

// Progress reports a long phase of status (the download) as it goes; nil is fine.
type Progress func(phase string, done, total int64)

// Status advances the collection as far as it can go now and returns where it stands: it polls
// the automation, and once that succeeded finds the bundle in the bucket, downloads it (resuming a
// download an earlier call or process left behind) and imports it. A record whose process crashed
// in any phase is picked up from that phase.
func (c *Collector) Status(ctx context.Context, executionID string, progress Progress) (*Record, error) {
	unlock, err := c.lock(executionID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := c.recs.load(executionID)
	if errors.Is(err, ErrUnknownExecution) && c.aws != nil && executionIDPattern.MatchString(executionID) {
		// Started elsewhere (the console, the AWS CLI, another store): take it over when it is
		// the log-collection runbook, so the bundle it uploads still comes in.
		r, err = c.adopt(ctx, executionID, err)
	}
	if err != nil {
		return nil, err
	}
	if r.Terminal() {
		return r, nil
	}
	if r.Method != MethodSSM {
		// Direct gatherings are recorded only once finished; a running one means the process
		// that gathered died before the import.
		r.State, r.FailureReason = StateFailed, "the process gathering these logs stopped before the bundle was imported; collect again"
		return r, c.recs.save(r)
	}
	if c.aws == nil {
		return nil, fmt.Errorf("%w: execution %s is an SSM collection, and this process has no AWS configuration to follow it "+
			"(AWS credentials, region and --bucket)", ErrNotConfigured, executionID)
	}
	if r.Phase == "" || r.Phase == "automation" {
		done, err := c.poll(ctx, r)
		if err != nil || !done {
			return r, err
		}
	}
	if r.Phase == "download" {
		done, err := c.download(ctx, r, progress)
		if err != nil || !done {
			return r, err
		}
	}
	if r.Phase == "import" {
		if err := c.importBundle(ctx, r, progress); err != nil {
			return r, err
		}
	}
	return r, nil
}

// adopt records an execution of the log-collection runbook that this store did not start. unknown
// is returned as it is when SSM has no such execution either.
func (c *Collector) adopt(ctx context.Context, id string, unknown error) (*Record, error) {
	ex, err := c.aws.Execution(ctx, "", id)
	if errors.Is(err, cloud.ErrExecutionNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	if ex.Document != cloud.Document {
		return nil, fmt.Errorf("%w %q: it is an execution of %s, not of the log-collection runbook %s", ErrUnknownExecution, id, ex.Document, cloud.Document)
	}
	instance := firstOf(ex.Parameters["EKSInstanceId"])
	bucket := firstOf(ex.Parameters["LogDestination"])
	if ours, ok := c.configuredBucket(); ok && bucket != ours {
		where := "no bucket (the bundle stayed on the node's /var/log)"
		if bucket != "" {
			where = "s3://" + bucket
		}
		return nil, fmt.Errorf("execution %s uploads to %s, not to this nodediag's bucket %q: start nodediag with --bucket %s to follow it",
			id, where, ours, bucket)
	}
	start := ex.Start
	if start.IsZero() {
		start = c.now().UTC()
	}
	r := &Record{ExecutionID: id, Method: MethodSSM, InstanceID: instance, Region: ex.Region, Bucket: bucket,
		Started: start, Updated: c.now().UTC(), State: StateRunning, Phase: "automation"}
	if err := c.recs.save(r); err != nil {
		return nil, err
	}
	c.log.Info("following a collection started outside this store", "executionId", id, "instance", instance)
	return r, nil
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// poll reads the automation's state into r; done means it succeeded and the download can start.
func (c *Collector) poll(ctx context.Context, r *Record) (bool, error) {
	ex, err := c.aws.Execution(ctx, r.Region, r.ExecutionID)
	if err != nil {
		return false, err
	}
	r.CurrentStep, r.StepsDone, r.StepsTotal = ex.CurrentStep, ex.StepsDone, ex.StepsTotal
	r.Updated = c.now().UTC()
	switch ex.Status {
	case StateRunning:
		return false, c.recs.save(r)
	case StateFailed, StateCancelled:
		r.State, r.Phase, r.FailureReason = ex.Status, "", ex.FailureReason
		if r.FailureReason == "" {
			r.FailureReason = "the automation ended with status " + ex.RawStatus + " and gave no reason"
		}
		return false, c.recs.save(r)
	case StateCompleted:
		r.Phase = "download"
		return true, c.recs.save(r)
	default:
		return false, fmt.Errorf("execution %s has status %q (%s), which nodediag does not know", r.ExecutionID, ex.Status, ex.RawStatus)
	}
}

// download finds the bundle object (once) and streams it into the store's downloads folder; done
// means the archive is whole on disk.
func (c *Collector) download(ctx context.Context, r *Record, progress Progress) (bool, error) {
	if r.Key == "" {
		obj, err := c.aws.FindBundle(ctx, r.Region, r.InstanceID, r.ExecutionID, r.Started.Add(-time.Minute))
		if errors.Is(err, cloud.ErrBundleMissing) && c.now().Sub(r.Updated) < objectGrace {
			// The automation finished moments ago; S3 listings can lag the upload.
			return false, nil
		}
		if errors.Is(err, cloud.ErrBundleMissing) {
			r.State, r.Phase, r.FailureReason = StateFailed, "", err.Error()
			r.Updated = c.now().UTC()
			return false, c.recs.save(r)
		}
		if err != nil {
			return false, err
		}
		r.Bucket, r.Key, r.Size, r.BucketRegion, r.ETag = obj.Bucket, obj.Key, obj.Size, obj.Region, obj.ETag
		if err := c.recs.save(r); err != nil {
			return false, err
		}
	}
	dst := c.archivePath(r)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, fmt.Errorf("download folder: %w", err)
	}
	if _, err := os.Stat(dst); err != nil {
		// The recorded ETag lets a resumed download check (If-Match) that the object is the
		// one whose first bytes are on disk.
		obj := cloud.Object{Region: r.BucketRegion, Bucket: r.Bucket, Key: r.Key, Size: r.Size, ETag: r.ETag}
		var report func(done, total int64)
		if progress != nil {
			report = func(done, total int64) { progress("download", done, total) }
		}
		if err := c.aws.Download(ctx, r.Region, obj, dst, report); err != nil {
			if st, serr := os.Stat(dst + ".part"); serr == nil {
				r.Downloaded = st.Size()
				r.Updated = c.now().UTC()
				_ = c.recs.save(r)
			}
			return false, fmt.Errorf("downloading s3://%s/%s (call status again to resume): %w", r.Bucket, r.Key, err)
		}
	}
	r.Downloaded, r.Phase, r.Updated = r.Size, "import", c.now().UTC()
	return true, c.recs.save(r)
}

// archivePath keeps the object's own name, since the importer reads the instance id (and, for
// collector-script names, the capture time) from it.
func (c *Collector) archivePath(r *Record) string {
	name := path.Base(r.Key)
	if name == "." || name == "/" || name == "" || strings.ContainsAny(name, `\`) {
		name = "eks_" + r.InstanceID + "_" + r.ExecutionID + ".tar.gz"
	}
	return filepath.Join(c.store.Root, "downloads", r.ExecutionID, name)
}

func (c *Collector) importBundle(ctx context.Context, r *Record, progress Progress) error {
	src := c.archivePath(r)
	if progress != nil {
		progress("import", 0, r.Size)
	}
	res, err := c.store.Import(ctx, src, store.ImportOptions{InstanceID: r.InstanceID})
	if err != nil {
		return fmt.Errorf("importing the bundle of execution %s from %s: %w", r.ExecutionID, src, err)
	}
	if res.Partial != nil {
		r.Missing = append(r.Missing, res.Partial.Error())
	}
	r.BundleID, r.State, r.Phase, r.Updated = res.Entry.Manifest.ID, StateCompleted, "", c.now().UTC()
	if err := c.recs.save(r); err != nil {
		return err
	}
	if progress != nil {
		progress("import", r.Size, r.Size)
	}
	if err := os.RemoveAll(filepath.Dir(src)); err != nil {
		c.log.Warn("could not remove the downloaded archive", "path", src, "err", err)
	}
	return nil
}

// Gathered imports a folder a direct gathering wrote (kube node log API or the local node) and
// records it as a completed collection.
func (c *Collector) Gathered(ctx context.Context, method, instanceID, nodeName, cluster, dir string, missing []string) (*Record, error) {
	now := c.now().UTC()
	res, err := c.store.Import(ctx, dir, store.ImportOptions{InstanceID: instanceID})
	if err != nil {
		return nil, fmt.Errorf("importing the gathered logs in %s: %w", dir, err)
	}
	who := instanceID
	if who == "" {
		who = nodeName
	}
	id := fmt.Sprintf("%s-%s-%s", method, safeID(who), now.Format("20060102T150405Z"))
	rec := &Record{ExecutionID: id, Method: method, InstanceID: res.Entry.Manifest.InstanceID, NodeName: nodeName, Cluster: cluster,
		Started: now, Updated: now, State: StateCompleted, BundleID: res.Entry.Manifest.ID, Missing: missing}
	if res.Partial != nil {
		rec.Missing = append(rec.Missing, res.Partial.Error())
	}
	return rec, c.recs.save(rec)
}

// Gather runs a direct gathering — run writes a bundle folder under the staging folder it is
// given (gather.FromNode, gather.Local) — then imports and records it. The staging copy is removed
// whatever happens: the store keeps its own.
func (c *Collector) Gather(ctx context.Context, method, cluster string, run func(dst string) (*gather.Result, error)) (*Record, error) {
	// A locked work folder of the store: if this process is killed mid-gathering, the next
	// start removes it; while it runs, no other nodediag's cleanup does.
	tmp, release, err := c.store.WorkDir("gather-")
	if err != nil {
		return nil, fmt.Errorf("making a folder to gather into under %s: %w", c.store.Root, err)
	}
	defer func() {
		if err := release(); err != nil {
			c.log.Warn("could not remove the gathering folder; the next start removes it", "err", err)
		}
	}()
	res, err := run(tmp)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, m := range res.Missing {
		missing = append(missing, m.What+": "+m.Why)
	}
	return c.Gathered(ctx, method, res.InstanceID, res.NodeName, cluster, res.Dir, missing)
}

// List returns every recorded collection, newest first.
func (c *Collector) List() ([]*Record, error) { return c.recs.list() }

func safeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "node"
	}
	return strings.TrimPrefix(b.String(), ".")
}

// lock serialises work on one execution: in this process with a mutex, across processes with a
// lock file holding the owner's pid, taken over when that process is gone.
func (c *Collector) lock(id string) (func(), error) {
	p, err := c.recs.path(id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	m := c.locks[id]
	if m == nil {
		m = &sync.Mutex{}
		c.locks[id] = m
	}
	c.mu.Unlock()
	m.Lock()
	lockPath := p + ".lock"
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(lockPath); m.Unlock() }, nil
		}
		if !errors.Is(err, os.ErrExist) || attempt > 0 {
			m.Unlock()
			return nil, fmt.Errorf("execution %s is being advanced by another nodediag process (lock %s); retry shortly: %w", id, lockPath, err)
		}
		if !staleLock(lockPath) {
			m.Unlock()
			return nil, fmt.Errorf("execution %s is being advanced by another nodediag process (lock %s); retry shortly", id, lockPath)
		}
		os.Remove(lockPath)
	}
}

// staleLock reports a lock file whose process no longer runs (or that holds no pid at all).
func staleLock(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return true
	}
	if pid == os.Getpid() {
		return true // our own, left by a call whose unlock never ran
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return errors.Is(proc.Signal(syscall.Signal(0)), os.ErrProcessDone)
}
