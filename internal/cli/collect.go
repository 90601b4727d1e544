package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/progress"
	"github.com/nodediag/nodediag/internal/store"
)

// bucketEnv names the S3 bucket when --bucket is not given, so that a shell profile or a CI
// job sets it once.
const bucketEnv = "NODEDIAG_BUCKET"

// newAWS builds the AWS side of an SSM collection from the SDK's standard configuration chain.
// Tests replace it with a fake account.
var newAWS = func(ctx context.Context, region string, opts cloud.Options) (collect.AWS, error) {
	cfg, err := cloud.LoadConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	return cloud.New(cfg, opts), nil
}

// localHook adjusts the options of `collect --local`; tests point it at a fake node root and
// command runner, since the real ones read this machine.
var localHook = func(*gather.LocalOptions) {}

// newRenderer returns the progress renderer of a command: drawn on stderr when it is a terminal,
// never under -o json or -o yaml. Tests force it on to see the frames.
// importProgress draws an archive's import on the renderer: the bytes of the archive read.
func importProgress(bar *progress.Renderer) func(read, total int64) {
	if !bar.Enabled() {
		return nil
	}
	return func(read, total int64) { bar.Bytes("import", read, total) }
}

var newRenderer = func(g *globals) *progress.Renderer {
	return progress.ForStderr(g.stderr, g.output != "table")
}

// collectFlags are the flags of `nodediag collect`.
type collectFlags struct {
	method, instanceID, region, bucket, roleARN, token string
	regions                                            []string
	local, wait                                        bool
	pollInterval, timeout                              time.Duration
	node, kubeconfig, kubeContext                      string
	allowNodeProxy                                     bool
	since                                              time.Duration
	// Many nodes (ssm): instance ids from the arguments and every --instance-id, a node group,
	// or a label selector; concurrency bounds the starts.
	instanceIDs                  []string
	nodegroup, cluster, selector string
	concurrency                  int
}

// batch reports whether the flags ask for more than one node.
func (f *collectFlags) batch() bool {
	return len(f.instanceIDs) > 1 || f.nodegroup != "" || f.selector != ""
}

// methodFlags says which methods each method-specific flag belongs to, so that a flag given to
// a method that would ignore it is an error naming the method it is for.
var methodFlags = map[string][]string{
	"instance-id":       {collect.MethodSSM, collect.MethodKube},
	"region":            {collect.MethodSSM},
	"search-regions":    {collect.MethodSSM},
	"bucket":            {collect.MethodSSM},
	"role-arn":          {collect.MethodSSM},
	"idempotency-token": {collect.MethodSSM},
	"wait":              {collect.MethodSSM},
	"poll-interval":     {collect.MethodSSM},
	"timeout":           {collect.MethodSSM},
	"node":              {collect.MethodKube},
	"kubeconfig":        {collect.MethodKube, collect.MethodSSM},
	"context":           {collect.MethodKube, collect.MethodSSM},
	"nodegroup":         {collect.MethodSSM},
	"cluster":           {collect.MethodSSM},
	"selector":          {collect.MethodSSM},
	"concurrency":       {collect.MethodSSM},
	"allow-node-proxy":  {collect.MethodKube},
	"since":             {collect.MethodKube, collect.MethodLocal},
}

func newCollectCmd(g *globals) *cobra.Command {
	var f collectFlags
	cmd := &cobra.Command{
		Use:   "collect [INSTANCE_ID...]",
		Short: "Collect a node's logs into the store: AWS SSM (default), the Kubernetes node log API, or on the node itself",
		Long: `collect gets a worker node's logs into the store as an indexed bundle, three ways:

  ssm (default)  starts the SSM automation AWSSupport-CollectEKSInstanceLogs on the instance; it
                 uploads the bundle to the S3 bucket --bucket (or $NODEDIAG_BUCKET). The instance's
                 region is --region, else the configured one. Without --wait it prints the execution
                 and returns; ` + "`nodediag status ID`" + ` downloads and imports the bundle once it is ready.
                 AWS configuration is the SDK's own: AWS_PROFILE, AWS_REGION, instance roles, IRSA,
                 Pod Identity, and AWS_ENDPOINT_URL* for VPC endpoints and emulators.
  kube           --method kube --node NODE (or --instance-id ID: the node whose providerID names
                 it) --allow-node-proxy: the kubelet and containerd journals
                 through the API server's node log query, /var/log/messages or syslog, and the logs
                 of the node's pods. Needs RBAC "get" on nodes/proxy, hence the explicit opt-in.
  local          --local, on the node itself: journalctl (kubelet, containerd, kernel), dmesg,
                 /var/log/messages or syslog and /var/log/pods; without root it takes what it can
                 read and lists the rest under missing.

Many nodes (ssm): several instance ids (arguments, or --instance-id repeated or comma-separated),
--nodegroup NAME --cluster C (the instances EKS tagged as that managed node group's), or
--selector LABELS (the nodes kubectl get nodes -l LABELS lists, by their providerID; --kubeconfig
and --context pick the cluster). --concurrency nodes are started at once, without a cap on their
number; each node gets a row with its execution or the error that stopped it, and the batch is
recorded in the store: ` + "`nodediag status --batch ID`" + ` follows every node of it.

Progress is drawn on stderr when it is a terminal, and never under -o json or -o yaml.`,
		Example: `  nodediag collect i-0a1b2c3d4e5f60718 --bucket my-eks-logs --wait
  nodediag collect --nodegroup ng-web --cluster prod --bucket my-eks-logs --concurrency 20
  nodediag collect --selector 'eks.amazonaws.com/nodegroup=ng-web' --bucket my-eks-logs
  nodediag collect --method kube --node ip-10-0-37-142.ec2.internal --allow-node-proxy --since 24h
  sudo nodediag collect --local`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			method, err := f.resolve(cmd, args)
			if err != nil {
				return err
			}
			st, err := g.openStore()
			if err != nil {
				return err
			}
			bar := newRenderer(g)
			defer bar.Done()
			if f.batch() {
				return g.collectMany(cmd.Context(), st, &f, bar)
			}
			switch method {
			case collect.MethodKube:
				return g.collectKube(cmd.Context(), st, &f, bar)
			case collect.MethodLocal:
				return g.collectLocal(cmd.Context(), st, &f, bar)
			}
			return g.collectSSM(cmd.Context(), st, &f, bar)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.method, "method", collect.MethodSSM, "how to collect: ssm, kube or local")
	fl.BoolVar(&f.local, "local", false, "collect on this node (same as --method local)")
	fl.StringSliceVar(&f.instanceIDs, "instance-id", nil, "ssm: the nodes' EC2 instance ids, repeated or comma-separated (or give them as arguments); kube: find the node whose providerID names it")
	fl.StringVar(&f.nodegroup, "nodegroup", "", "ssm: collect from every instance of this EKS managed node group (with --cluster)")
	fl.StringVar(&f.cluster, "cluster", "", "ssm: the EKS cluster of --nodegroup")
	fl.StringVar(&f.selector, "selector", "", "ssm: collect from the nodes this Kubernetes label selector picks (kubectl get nodes -l)")
	fl.IntVar(&f.concurrency, "concurrency", app.DefaultCollectConcurrency, "ssm, many nodes: how many collections are started at once")
	fl.StringVar(&f.region, "region", "", "ssm: the instance's AWS region (default: the configured region)")
	fl.StringSliceVar(&f.regions, "search-regions", nil, "ssm: regions to search, in order, for an instance not in --region or the configured one")
	fl.StringVar(&f.bucket, "bucket", "", "ssm: S3 bucket the automation uploads the bundle to (default $"+bucketEnv+")")
	fl.StringVar(&f.roleARN, "role-arn", "", "ssm: IAM role the automation assumes (AutomationAssumeRole); default: the caller's permissions")
	fl.StringVar(&f.token, "idempotency-token", "", "ssm: a repeated collect with the same token returns the first execution instead of starting another")
	fl.BoolVar(&f.wait, "wait", false, "ssm: wait for the automation, then download, import and index the bundle")
	fl.DurationVar(&f.pollInterval, "poll-interval", 15*time.Second, "ssm: how often --wait asks SSM for the execution's state")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Minute, "ssm: how long --wait waits before leaving the collection to nodediag status (many nodes: 1h unless given)")
	fl.StringVar(&f.node, "node", "", "kube: the node's name (kubectl get nodes)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kube: kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.kubeContext, "context", "", "kube: kubeconfig context (default the current one)")
	fl.BoolVar(&f.allowNodeProxy, "allow-node-proxy", false, "kube: allow nodediag to use the nodes/proxy permission (it reaches the whole kubelet API)")
	fl.DurationVar(&f.since, "since", 0, "kube, local: how far back to read the journals, e.g. 24h (default 10 days, like the EKS log collector)")
	return cmd
}

// resolve picks the method and rejects flags and arguments the method would ignore.
func (f *collectFlags) resolve(cmd *cobra.Command, args []string) (string, error) {
	method := strings.ToLower(f.method)
	if f.local {
		if cmd.Flags().Changed("method") && method != collect.MethodLocal {
			return "", usageError("--local and --method %s ask for two methods: --local is --method local; give one", f.method)
		}
		method = collect.MethodLocal
	}
	switch method {
	case collect.MethodSSM, collect.MethodKube, collect.MethodLocal:
	default:
		return "", usageError("--method %q: want ssm (the default), kube or local", f.method)
	}
	var wrong error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		owners, ok := methodFlags[fl.Name]
		if !ok || wrong != nil {
			return
		}
		for _, m := range owners {
			if m == method {
				return
			}
		}
		wrong = usageError("--%s applies to --method %s, not to %s", fl.Name, strings.Join(owners, " and "), method)
	})
	if wrong != nil {
		return "", wrong
	}
	if len(args) > 0 && method != collect.MethodSSM {
		return "", usageError("the argument %q is an instance id for the ssm method; --method %s takes none", args[0], method)
	}
	ids := append(slices.Clone(args), f.instanceIDs...)
	f.instanceIDs = nil
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(f.instanceIDs, id) {
			f.instanceIDs = append(f.instanceIDs, id)
		}
	}
	if len(f.instanceIDs) == 1 {
		f.instanceID = f.instanceIDs[0]
	}
	if method == collect.MethodKube && len(f.instanceIDs) > 1 {
		return "", usageError("--method kube collects one node (--node or one --instance-id); collect many nodes with the ssm method")
	}
	if (f.nodegroup == "") != (f.cluster == "") {
		return "", usageError("--nodegroup and --cluster go together: a node group is named within its cluster")
	}
	if n := len(f.instanceIDs); (n > 0 && (f.nodegroup != "" || f.selector != "")) || (f.nodegroup != "" && f.selector != "") {
		return "", usageError("choose the nodes one way: instance ids, --nodegroup with --cluster, or --selector")
	}
	if method == collect.MethodSSM && f.selector == "" && (cmd.Flags().Changed("kubeconfig") || cmd.Flags().Changed("context")) {
		return "", usageError("--kubeconfig and --context pick the cluster of --selector for the ssm method; without --selector it reads no cluster")
	}
	if f.concurrency < 1 {
		return "", usageError("--concurrency %d: want 1 or more", f.concurrency)
	}
	if f.batch() && f.wait && !cmd.Flags().Changed("timeout") {
		f.timeout = time.Hour // many nodes' automations queue in SSM: the single collection's 30m is short
	}
	if f.since < 0 {
		return "", usageError("--since %s: want a positive duration such as 24h", f.since)
	}
	if f.pollInterval <= 0 || f.timeout <= 0 {
		return "", usageError("--poll-interval %s and --timeout %s: want positive durations such as 15s and 30m", f.pollInterval, f.timeout)
	}
	return method, nil
}

func (g *globals) collectSSM(ctx context.Context, st *store.Store, f *collectFlags, bar *progress.Renderer) error {
	if f.instanceID == "" {
		return usageError("collect needs the node's EC2 instance id: `nodediag collect i-0123456789abcdef0` (or --instance-id); " +
			"without AWS use --method kube --node NODE --allow-node-proxy, or --local on the node")
	}
	if err := cloud.ValidInstanceID(f.instanceID); err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	// Asked before AWS is contacted: the instance lookup would succeed and the start fail.
	aws, err := f.collectAWS(ctx, "the node's bundle")
	if err != nil {
		return err
	}
	c, err := collect.New(st, aws, g.log)
	if err != nil {
		return err
	}
	rec, existing, err := c.Collect(ctx, collect.Request{InstanceID: f.instanceID, Region: f.region, IdempotencyToken: f.token})
	if err != nil {
		return err
	}
	if !f.wait {
		return g.finishCollection(rec, existing)
	}
	if g.output == "table" {
		// The record is printed once, when it is final; meanwhile say what is being waited on.
		fmt.Fprintf(g.stderr, "collection %s started on %s in %s; waiting up to %s (Ctrl-C leaves it running: `nodediag status %s`)\n",
			rec.ExecutionID, rec.InstanceID, rec.Region, f.timeout, rec.ExecutionID)
	}
	rec, err = waitCollection(ctx, c, rec.ExecutionID, f.pollInterval, f.timeout, bar, g.log)
	if err != nil {
		return err
	}
	return g.finishCollection(rec, existing)
}

// maxDownloadRetries is how many interrupted downloads --wait resumes by itself.
const maxDownloadRetries = 3

// waitCollection advances the collection until it is terminal, drawing its progress.
func waitCollection(ctx context.Context, c *collect.Collector, id string, every, timeout time.Duration, bar *progress.Renderer, log *slog.Logger) (*collect.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	report := func(phase string, done, total int64) {
		if phase == "download" {
			bar.Bytes("download", done, total)
		} else {
			bar.Status(phase, "indexing the bundle")
		}
	}
	downloadRetries := 0
	for {
		rec, err := c.Status(ctx, id, report)
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, stillRunning(id, rec, timeout)
			}
			// A download cut off keeps its bytes and resumes on the next call: a flaky network
			// is worth a few more polls before giving the user the command to resume by hand.
			if rec == nil || rec.Phase != "download" || ctx.Err() != nil || downloadRetries == maxDownloadRetries {
				return nil, err
			}
			downloadRetries++
			log.Warn("download interrupted; resuming", "execution", id, "attempt", downloadRetries, "of", maxDownloadRetries, "err", err)
		}
		if rec.Terminal() {
			bar.Done()
			return rec, nil
		}
		if rec.Phase == "" || rec.Phase == "automation" {
			bar.Steps("automation", rec.StepsDone, rec.StepsTotal, rec.CurrentStep)
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, stillRunning(id, rec, timeout)
			}
			return nil, fmt.Errorf("stopped waiting for collection %s (it goes on; follow it with `nodediag status %s`): %w", id, id, ctx.Err())
		case <-t.C:
		}
	}
}

func stillRunning(id string, rec *collect.Record, timeout time.Duration) error {
	where := "running"
	if rec != nil && rec.Phase != "" {
		where += " (" + rec.Phase + ")"
	}
	return fmt.Errorf("collection %s is still %s after --timeout %s; it goes on without nodediag: follow it with `nodediag status %s --wait`",
		id, where, timeout, id)
}

func (g *globals) collectKube(ctx context.Context, st *store.Store, f *collectFlags, bar *progress.Renderer) error {
	if !f.allowNodeProxy {
		return usageError("collect --method kube reads the node's journals through the API server's node log query, which needs " +
			"RBAC verb \"get\" on \"nodes/proxy\"; that permission reaches the whole kubelet API (exec into any pod on the node, " +
			"among others), so nodediag uses it only when asked: add --allow-node-proxy")
	}
	req := app.KubeCollect{Node: f.node, InstanceID: f.instanceID, Since: f.since, Progress: gatherProgress(bar), Names: app.CLICollectNames,
		BeforeImport: func(res *gather.Result) { bar.Status("import", "indexing "+filepath.Base(res.Dir)) }}
	if err := req.Check(); err != nil {
		return err
	}
	cfg, cluster, err := kube.LoadConfig(f.kubeconfig, f.kubeContext)
	if err != nil {
		return fmt.Errorf("want a kubeconfig that reaches the cluster (--kubeconfig, $KUBECONFIG or ~/.kube/config, and --context): %w", err)
	}
	req.Cluster = cluster
	c, err := kube.NewClientForConfig(cfg)
	if err != nil {
		return err
	}
	col, err := collect.New(st, nil, g.log)
	if err != nil {
		return err
	}
	rec, err := app.CollectKube(ctx, col, c, req)
	if err != nil {
		return err
	}
	bar.Done()
	return g.finishCollection(rec, false)
}

func (g *globals) collectLocal(ctx context.Context, st *store.Store, f *collectFlags, bar *progress.Renderer) error {
	opt := gather.LocalOptions{Progress: gatherProgress(bar)}
	if f.since > 0 {
		// journalctl's own relative syntax (systemd.time(7)); seconds keep any duration exact.
		opt.Since = fmt.Sprintf("%d seconds ago", int64(f.since.Seconds()))
	}
	localHook(&opt)
	return g.gathered(ctx, st, collect.MethodLocal, "", bar, func(dst string) (*gather.Result, error) {
		return gather.Local(ctx, dst, opt)
	})
}

func gatherProgress(bar *progress.Renderer) gather.Progress {
	return func(step string, done, total int) { bar.Steps("gathering", done, total, step) }
}

// gathered runs a direct gathering into the store's tmp area, imports it and prints the record.
func (g *globals) gathered(ctx context.Context, st *store.Store, method, cluster string, bar *progress.Renderer,
	run func(dst string) (*gather.Result, error)) error {
	c, err := collect.New(st, nil, g.log)
	if err != nil {
		return err
	}
	rec, err := c.Gather(ctx, method, cluster, func(dst string) (*gather.Result, error) {
		res, err := run(dst)
		if err == nil {
			bar.Status("import", "indexing "+filepath.Base(res.Dir))
		}
		return res, err
	})
	if err != nil {
		return err
	}
	bar.Done()
	return g.finishCollection(rec, false)
}

// finishCollection prints the record and turns a failed or cancelled collection into exit 1
// with its reason.
func (g *globals) finishCollection(rec *collect.Record, existing bool) error {
	if err := g.printCollection(viewOf(rec, existing)); err != nil {
		return err
	}
	switch rec.State {
	case collect.StateFailed, collect.StateCancelled:
		return fmt.Errorf("collection %s %s: %s", rec.ExecutionID, rec.State, rec.FailureReason)
	}
	return nil
}

// collectionView is how collect and status print a collection record.
type collectionView struct {
	ExecutionID   string    `json:"executionId" yaml:"executionId"`
	Method        string    `json:"method" yaml:"method"`
	InstanceID    string    `json:"instanceId,omitempty" yaml:"instanceId,omitempty"`
	NodeName      string    `json:"nodeName,omitempty" yaml:"nodeName,omitempty"`
	Region        string    `json:"region,omitempty" yaml:"region,omitempty"`
	Cluster       string    `json:"cluster,omitempty" yaml:"cluster,omitempty"`
	State         string    `json:"state" yaml:"state"`
	Phase         string    `json:"phase,omitempty" yaml:"phase,omitempty"`
	CurrentStep   string    `json:"currentStep,omitempty" yaml:"currentStep,omitempty"`
	StepsDone     int       `json:"stepsDone,omitempty" yaml:"stepsDone,omitempty"`
	StepsTotal    int       `json:"stepsTotal,omitempty" yaml:"stepsTotal,omitempty"`
	FailureReason string    `json:"failureReason,omitempty" yaml:"failureReason,omitempty"`
	Object        string    `json:"object,omitempty" yaml:"object,omitempty"`
	Size          int64     `json:"size,omitempty" yaml:"size,omitempty"`
	Downloaded    int64     `json:"downloaded,omitempty" yaml:"downloaded,omitempty"`
	BundleID      string    `json:"bundleId,omitempty" yaml:"bundleId,omitempty"`
	Missing       []string  `json:"missing,omitempty" yaml:"missing,omitempty"`
	Started       time.Time `json:"started" yaml:"started"`
	Updated       time.Time `json:"updated" yaml:"updated"`
	Existing      bool      `json:"alreadyStarted,omitempty" yaml:"alreadyStarted,omitempty"`
	Next          string    `json:"nextStep" yaml:"nextStep"`
}

func viewOf(r *collect.Record, existing bool) collectionView {
	v := collectionView{ExecutionID: r.ExecutionID, Method: r.Method, InstanceID: r.InstanceID, NodeName: r.NodeName,
		Region: r.Region, Cluster: r.Cluster, State: r.State, Phase: r.Phase, CurrentStep: r.CurrentStep,
		StepsDone: r.StepsDone, StepsTotal: r.StepsTotal, FailureReason: r.FailureReason, Size: r.Size,
		Downloaded: r.Downloaded, BundleID: r.BundleID, Missing: r.Missing, Started: r.Started, Updated: r.Updated,
		Existing: existing, Next: nextStep(r)}
	if r.Key != "" {
		v.Object = "s3://" + r.Bucket + "/" + r.Key
	}
	return v
}

// nextStep is the command to run next, so a user (or an agent) never has to guess it.
func nextStep(r *collect.Record) string {
	switch r.State {
	case collect.StateCompleted:
		return fmt.Sprintf("nodediag errors --bundle %s   # then: nodediag quick-triage --bundle %s, nodediag diagnose --bundle %s --pod NS/NAME",
			r.BundleID, r.BundleID, r.BundleID)
	case collect.StateRunning:
		return fmt.Sprintf("nodediag status %s --wait", r.ExecutionID)
	}
	switch r.Method {
	case collect.MethodSSM:
		return fmt.Sprintf("fix what the failure says, then `nodediag collect %s`; without SSM: `nodediag collect --method kube --node NODE --allow-node-proxy`",
			r.InstanceID)
	case collect.MethodKube:
		return "fix what the failure says, then `nodediag collect --method kube --node " + r.NodeName + " --allow-node-proxy`"
	}
	return "fix what the failure says, then `nodediag collect --local`"
}

func (g *globals) printCollection(v collectionView) error {
	return emit(g, &v, func(w io.Writer) {
		fprintf(w, "execution\t%s\n", v.ExecutionID)
		fprintf(w, "method\t%s\n", v.Method)
		if v.InstanceID != "" {
			fprintf(w, "instance\t%s\n", v.InstanceID)
		}
		if v.NodeName != "" {
			fprintf(w, "node\t%s\n", v.NodeName)
		}
		if v.Region != "" {
			fprintf(w, "region\t%s\n", v.Region)
		}
		if v.Cluster != "" {
			fprintf(w, "cluster\t%s\n", v.Cluster)
		}
		state := v.State
		if v.Existing {
			state += " (started earlier with the same idempotency token)"
		}
		fprintf(w, "state\t%s\n", state)
		if p := phaseText(v.Phase, v.CurrentStep, v.StepsDone, v.StepsTotal); p != "" {
			fprintf(w, "phase\t%s\n", p)
		}
		if v.FailureReason != "" {
			fprintf(w, "failure\t%s\n", v.FailureReason)
		}
		if v.Object != "" {
			fprintf(w, "object\t%s (%.1f MiB)\n", v.Object, float64(v.Size)/(1<<20))
		}
		if v.BundleID != "" {
			fprintf(w, "bundle\t%s\n", v.BundleID)
		}
		for _, m := range v.Missing {
			fprintf(w, "missing\t%s\n", m)
		}
		fprintf(w, "started\t%s UTC\n", stamp(v.Started))
		fprintf(w, "next\t%s\n", v.Next)
	})
}

// phaseText says where a running collection is: the automation's step, or download/import.
func phaseText(phase, step string, done, total int) string {
	switch {
	case phase == "automation" && total > 0:
		return fmt.Sprintf("automation step %d/%d %s", done, total, step)
	case phase == "automation" && step != "":
		return "automation " + step
	}
	return phase
}

func newStatusCmd(g *globals) *cobra.Command {
	var (
		wait           bool
		every, timeout time.Duration
		bucket         string
		batchID        string
		jobs           int
		listBatches    bool
	)
	cmd := &cobra.Command{
		Use:   "status [EXECUTION_ID...]",
		Short: "Follow a collection, several, or a batch (download and import their bundles when ready), or list the collections",
		Long: `status EXECUTION_ID asks SSM where the automation is; once it has succeeded, status finds the
bundle in the S3 bucket, downloads it (resuming a download cut off earlier, even by a crash) and
imports and indexes it, and says the next command to run. With --wait it repeats until the
collection has ended. Without an id it lists the collections recorded in the store.

Given several execution ids, or --batch ID (printed by a collect of many nodes), it does the same
for each node, --jobs nodes at a time, and prints a row per node: its state, the automation's step
or the download and import, the bundle indexed, or why it failed or never started.`,
		Example: `  nodediag status
  nodediag status 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0 --wait
  nodediag status --batch batch-20261206T172600Z-3fa2c1 --wait`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listBatches {
				if len(args) > 0 || batchID != "" {
					return usageError("--batches lists the batches: it takes no execution id or --batch")
				}
				st, err := g.openStore()
				if err != nil {
					return err
				}
				c, err := collect.New(st, nil, g.log)
				if err != nil {
					return err
				}
				return g.listBatches(c)
			}
			if len(args) == 0 && batchID == "" {
				for _, name := range []string{"wait", "poll-interval", "timeout", "bucket", "jobs"} {
					if cmd.Flags().Changed(name) {
						return usageError("--%s follows collections: give an EXECUTION_ID or --batch ID (list them with `nodediag status`)", name)
					}
				}
			}
			if len(args) > 0 && batchID != "" {
				return usageError("give execution ids or --batch ID, not both")
			}
			if every <= 0 || timeout <= 0 {
				return usageError("--poll-interval %s and --timeout %s: want positive durations such as 15s and 30m", every, timeout)
			}
			if jobs < 1 {
				return usageError("--jobs %d: want 1 or more", jobs)
			}
			st, err := g.openStore()
			if err != nil {
				return err
			}
			if batchID != "" || len(args) > 1 {
				return g.statusMany(cmd.Context(), st, batchID, args, bucket, jobs, every, timeout, wait)
			}
			if len(args) == 0 {
				c, err := collect.New(st, nil, g.log)
				if err != nil {
					return err
				}
				return g.listCollections(c)
			}
			c, cfgErr, err := g.statusCollector(cmd.Context(), st, args[0], bucket)
			if err != nil {
				return err
			}
			bar := newRenderer(g)
			defer bar.Done()
			var rec *collect.Record
			if wait {
				rec, err = waitCollection(cmd.Context(), c, args[0], every, timeout, bar, g.log)
			} else {
				rec, err = c.Status(cmd.Context(), args[0], func(phase string, done, total int64) {
					if phase == "download" {
						bar.Bytes("download", done, total)
					} else {
						bar.Status(phase, "indexing the bundle")
					}
				})
				bar.Done()
			}
			if err != nil {
				if cfgErr != nil && errors.Is(err, collect.ErrNotConfigured) {
					return fmt.Errorf("%w (loading the AWS configuration: %w)", err, cfgErr)
				}
				return err
			}
			return g.finishCollection(rec, false)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&wait, "wait", false, "repeat until the collection has ended and its bundle is imported")
	fl.DurationVar(&every, "poll-interval", 15*time.Second, "how often --wait asks SSM for the execution's state")
	fl.DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits")
	fl.StringVar(&bucket, "bucket", "", "S3 bucket the automation uploaded to (default $"+bucketEnv+")")
	fl.StringVar(&batchID, "batch", "", "follow every node of this batch (the id a collect of many nodes printed; --batches lists them)")
	fl.BoolVar(&listBatches, "batches", false, "list the batches recorded in the store, newest first")
	fl.IntVar(&jobs, "jobs", app.DefaultImportJobs(), "nodes followed at once: each downloads and imports its bundle")
	return cmd
}

// statusCollector returns the collector that can advance the execution: with AWS only when the
// execution is an SSM collection still under way, so that status of a finished or direct
// collection never depends on AWS configuration. cfgErr is why AWS could not be configured.
func (g *globals) statusCollector(ctx context.Context, st *store.Store, id, bucket string) (c *collect.Collector, cfgErr, err error) {
	return g.statusCollectorOf(ctx, st, []string{id}, bucket)
}

// statusCollectorOf is statusCollector for several executions: AWS is configured when any of
// them is an SSM collection under way. One configuration serves them all, since every call
// names its record's region.
func (g *globals) statusCollectorOf(ctx context.Context, st *store.Store, ids []string, bucket string) (c *collect.Collector, cfgErr, err error) {
	if c, err = collect.New(st, nil, g.log); err != nil {
		return nil, nil, err
	}
	recs, err := c.List()
	if err != nil {
		return nil, nil, err
	}
	for _, r := range recs {
		if !slices.Contains(ids, r.ExecutionID) || r.Method != collect.MethodSSM || r.Terminal() {
			continue
		}
		if bucket == "" {
			bucket = os.Getenv(bucketEnv)
		}
		if bucket == "" {
			bucket = r.Bucket
		}
		aws, cfgErr := newAWS(ctx, r.Region, cloud.Options{Bucket: bucket})
		if cfgErr != nil {
			return c, cfgErr, nil
		}
		c, err = collect.New(st, aws, g.log)
		return c, nil, err
	}
	return c, nil, nil
}

// listCollections prints the recorded collections, newest first.
func (g *globals) listCollections(c *collect.Collector) error {
	recs, err := c.List()
	if err != nil {
		return err
	}
	views := make([]collectionView, 0, len(recs))
	for _, r := range recs {
		views = append(views, viewOf(r, false))
	}
	return emit(g, &views, func(w io.Writer) {
		if len(views) == 0 {
			fprintf(w, "no collections recorded in this store; start one with `nodediag collect INSTANCE_ID --bucket B`, "+
				"`nodediag collect --method kube --node NODE --allow-node-proxy` or `nodediag collect --local`\n")
			return
		}
		fprintf(w, "ID\tMETHOD\tINSTANCE\tSTATE\tPHASE/STEP\tBUNDLE\tSTARTED (UTC)\n")
		for _, v := range views {
			who := v.InstanceID
			if who == "" {
				who = v.NodeName
			}
			fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ExecutionID, v.Method, orDash(who), v.State,
				orDash(phaseText(v.Phase, v.CurrentStep, v.StepsDone, v.StepsTotal)), orDash(v.BundleID), stamp(v.Started))
		}
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// collectAWS checks that the SSM automation has a bucket to upload to (--bucket, else
// $NODEDIAG_BUCKET) and opens AWS with the flags. what names what gets uploaded, for the error.
func (f *collectFlags) collectAWS(ctx context.Context, what string) (collect.AWS, error) {
	bucket := f.bucket
	if bucket == "" {
		bucket = os.Getenv(bucketEnv)
	}
	if bucket == "" {
		return nil, fmt.Errorf("%w: the SSM automation uploads %s to an S3 bucket: pass --bucket NAME or set %s",
			cloud.ErrNoBucket, what, bucketEnv)
	}
	return newAWS(ctx, f.region, cloud.Options{Bucket: bucket, RoleARN: f.roleARN, Regions: f.regions})
}
