// Package agentcmd is the capture agent's command line, one cobra command shared by `nodediag
// agent` and the agent's own binary, cmd/nodediag-agent. It lives outside internal/cli so that
// the agent's binary links the agent and its store, not every other command's packages (cloud
// SDKs, the full Kubernetes clientset): those cost their package initialisation in RSS on every
// node (docs/performance.md, the capture agent).
package agentcmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gocloud.dev/blob"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/nodediag/nodediag/internal/agent"
	_ "github.com/nodediag/nodediag/internal/blobdrivers/s3file" // --store s3://… and file://…: what a node publishes to
	"github.com/nodediag/nodediag/internal/kubeconfig"
	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/store"
)

// Globals are what the agent takes from the flags of the command above it: nodediag's root
// gives every command --store, --cache and --log-level, and nodediag-agent's root (Root) gives
// the same three. They are read when the command runs, after the flags are parsed.
type Globals struct {
	Store *string             // --store: a folder or a bucket URL
	Cache *string             // --cache: with a bucket --store, the local folder that mirrors it
	Log   func() *slog.Logger // the run's logger, set by the root before the command runs
}

// UsageError marks a command line the agent cannot run with (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageError(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// New returns the agent command; name is how it is typed, "nodediag agent" or "nodediag-agent",
// whose last word is the command's own name.
func New(name string, g Globals) *cobra.Command {
	use := name[strings.LastIndex(name, " ")+1:]
	opt := agent.Options{Limits: agent.DefaultLimits}
	var listen, kubeconfigPath, kubeContext string
	cmd := &cobra.Command{
		Use:   use + " --node NAME --store DIR|URL [--host-root /host]",
		Short: "Capture agent (a DaemonSet): snapshot a node's evidence into the store when a container starts crash-looping",
		Long: `The capture agent runs on each node (charts/nodediag: agent.enabled, which runs the nodediag-agent
binary; ` + "`nodediag agent`" + ` is the same command) and watches the pods of its own node (the API
server, field selector spec.nodeName). When a container restarts after a non-zero exit or an OOM kill, or
waits in CrashLoopBackOff, it snapshots what the K3 runbook needs — the kubelet and containerd
journals and kernel messages from --window before the crash, the container's previous and current
log from /var/log/pods, its pod status and events — as a small bundle in the EKS log collector's
layout, imported into --store and, for a bucket, published. diagnose and diagnose_crashloop use
the snapshot of a pod's node when it is the newest bundle of that node, and say so.

Bounded: one snapshot per pod per --pod-every, none for a container snapshotted within --dedup,
a node-wide token bucket (--per-hour, --burst), and --max-file-bytes/--max-bytes per snapshot.
The limits are saved in the store after each snapshot and read back when the agent restarts.
Read-only: pods get/list/watch, events list, its own node get; the journal files under
--host-root, read by nodediag's own reader (journalctl --root only when there are none).
On SIGTERM, when the node is cordoned (drain) or a spot interruption notice appears (IMDSv2,
--imds), it takes one last snapshot of each pod that crash-looped within --final-within and has
none since, within --final-deadline. /metrics and /healthz are served on --listen.`,
		Example: "  " + name + ` --node "$NODE_NAME" --store s3://nodediag-store --host-root /host --listen :9464`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.Node == "" {
				return usageError("--node: give the node's name (in a DaemonSet: NODE_NAME from spec.nodeName)")
			}
			if opt.Limits.Burst < 1 || opt.Limits.PerHour < 0 {
				return usageError("--burst must be at least 1 and --per-hour not negative")
			}
			if err := checkDriver(*g.Store); err != nil {
				return err
			}
			ctx, log := cmd.Context(), g.Log()
			client, err := coreClient(kubeconfigPath, kubeContext)
			if err != nil {
				return err
			}
			opt.Client = client
			sink, closeSink, err := openSink(ctx, *g.Store, *g.Cache, log)
			if err != nil {
				return err
			}
			opt.Sink = sink
			if ss, ok := sink.(agent.StoreSink); ok {
				opt.State = ss.State()
			}
			opt.Log = log
			opt.Metrics = agent.NewMetrics()
			a, err := agent.New(opt)
			if err != nil {
				return errors.Join(err, closeSink())
			}
			if listen != "" {
				stop, err := serveMetrics(ctx, listen, a.Metrics().Handler(), log)
				if err != nil {
					return errors.Join(err, closeSink())
				}
				defer stop()
			}
			return errors.Join(a.Run(ctx), closeSink())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Node, "node", os.Getenv("NODE_NAME"), "the node whose pods are watched (default $NODE_NAME)")
	f.StringVar(&opt.HostRoot, "host-root", "/", "where the node's filesystem is mounted: /var/log/pods and the journals are read under it")
	f.StringVar(&opt.WorkDir, "work-dir", "", "folder to build snapshots in before they are imported (default the temp folder)")
	f.DurationVar(&opt.Window, "window", agent.DefaultWindow, "how far before the crash the journals are read")
	f.DurationVar(&opt.Settle, "settle", agent.DefaultSettle, "wait this long after a crash before the snapshot, so the kubelet's lines about it are written")
	f.DurationVar(&opt.Limits.PodEvery, "pod-every", agent.DefaultLimits.PodEvery, "at most one snapshot per pod this often")
	f.DurationVar(&opt.Limits.Dedup, "dedup", agent.DefaultLimits.Dedup, "no second snapshot of a container within this window")
	f.Float64Var(&opt.Limits.PerHour, "per-hour", agent.DefaultLimits.PerHour, "node-wide snapshots per hour (token bucket rate)")
	f.IntVar(&opt.Limits.Burst, "burst", agent.DefaultLimits.Burst, "node-wide burst of snapshots (token bucket size)")
	f.Int64Var(&opt.MaxFileBytes, "max-file-bytes", agent.DefaultMaxFileBytes, "cap on each file of a snapshot")
	f.Int64Var(&opt.MaxBytes, "max-bytes", agent.DefaultMaxBytes, "cap on a whole snapshot")
	f.DurationVar(&opt.CommandTimeout, "command-timeout", agent.DefaultCommandTimeout, "bound on reading each journal (or running journalctl or dmesg)")
	f.DurationVar(&opt.FinalWithin, "final-within", agent.DefaultFinalWithin, "the last snapshot covers pods that crash-looped this recently")
	f.DurationVar(&opt.FinalDeadline, "final-deadline", agent.DefaultFinalDeadline, "bound on the last snapshot after SIGTERM (keep it under terminationGracePeriodSeconds)")
	f.DurationVar(&opt.NodePoll, "node-poll", agent.DefaultNodePoll, "read the node this often to see it cordoned for a drain (negative: never)")
	f.StringVar(&opt.IMDS, "imds", "http://169.254.169.254", "instance metadata service polled for a spot interruption notice (\"\": not polled)")
	f.DurationVar(&opt.SpotPoll, "spot-poll", agent.DefaultSpotPoll, "how often the spot interruption notice is polled")
	f.StringVar(&listen, "listen", "", "serve /metrics and /healthz on this address, e.g. :9464 (\"\": not served)")
	f.StringVar(&kubeconfigPath, "kubeconfig", "", "kubeconfig (default: $KUBECONFIG, else the pod's service account)")
	f.StringVar(&kubeContext, "context", "", "the kubeconfig context to use")
	return cmd
}

// coreClient builds the core API group's client from a kubeconfig (in a pod with none: the pod's
// service account). The pod watch is long-lived, so no client-wide request timeout is set; the
// agent bounds its own gets and lists.
func coreClient(path, context string) (agent.Client, error) {
	cfg, _, err := kubeconfig.Load(path, context)
	if err != nil {
		return nil, err
	}
	c, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	return agent.CoreClient{CoreV1Interface: c}, nil
}

// checkDriver refuses a bucket URL whose driver this binary does not link: nodediag-agent
// registers s3:// and file:// only, and gocloud's own "no driver" would come after the API
// server is reached and say nothing of `nodediag agent`.
func checkDriver(url string) error {
	if !remote.IsURL(url) {
		return nil
	}
	if scheme, _, ok := strings.Cut(url, "://"); ok && !blob.DefaultURLMux().ValidBucketScheme(scheme) {
		return usageError("--store %s: this binary has no %s:// driver (nodediag-agent writes to s3:// and file:// buckets; `nodediag agent` to every bucket nodediag knows)", url, scheme)
	}
	return nil
}

// openSink opens the store snapshots go to: a folder, or a bucket with its local cache. close
// publishes what a failed publish left in the cache, as every nodediag command does with a
// bucket store at its end, then closes the bucket.
func openSink(ctx context.Context, url, cache string, log *slog.Logger) (sink agent.Sink, close func() error, err error) {
	if !remote.IsURL(url) {
		st, err := store.Open(url, log)
		if err != nil {
			return nil, nil, err
		}
		return agent.StoreSink{Store: st}, func() error { return nil }, nil
	}
	r, err := remote.Open(ctx, url, cache, log)
	if err != nil {
		return nil, nil, err
	}
	return agent.StoreSink{Store: r.Cache, Remote: r}, func() error {
		defer r.Close()
		done, err := r.PublishAll(ctx)
		if len(done) > 0 {
			log.Info("published", "bucket", r.URL, "bundles", done)
		}
		if err != nil {
			return fmt.Errorf("the store's bucket: %w (what was imported here stays in %s; the next run with this --store publishes it)", err, r.Cache.Root)
		}
		return nil
	}, nil
}

// serveMetrics serves h on addr until stop is called or ctx ends.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "addr", addr, "err", err)
		}
	}()
	log.Info("serving /metrics and /healthz", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
