package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/agent"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/remote"
)

func newAgentCmd(g *globals) *cobra.Command {
	opt := agent.Options{Limits: agent.DefaultLimits}
	var listen, kubeconfig, kubeContext string
	cmd := &cobra.Command{
		Use:   "agent --node NAME --store DIR|URL [--host-root /host]",
		Short: "Capture agent (a DaemonSet): snapshot a node's evidence into the store when a container starts crash-looping",
		Long: `agent runs on each node (charts/nodediag: agent.enabled) and watches the pods of its own node
(the API server, field selector spec.nodeName). When a container restarts after a non-zero exit, or
waits in CrashLoopBackOff, it snapshots what the K3 runbook needs — the kubelet and containerd
journals and kernel messages from --window before the crash, the container's previous and current
log from /var/log/pods, its pod status and events — as a small bundle in the EKS log collector's
layout, imported into --store and, for a bucket, published. diagnose and diagnose_crashloop use
the snapshot of a pod's node when it is the newest bundle of that node, and say so.

Bounded: one snapshot per pod per --pod-every, none for a container snapshotted within --dedup,
a node-wide token bucket (--per-hour, --burst), and --max-file-bytes/--max-bytes per snapshot.
The limits are saved in the store after each snapshot and read back when the agent restarts.
Read-only: pods get/list/watch, events list, its own node get; journalctl --root --host-root.
On SIGTERM, when the node is cordoned (drain) or a spot interruption notice appears (IMDSv2,
--imds), it takes one last snapshot of each pod that crash-looped within --final-within and has
none since, within --final-deadline. /metrics and /healthz are served on --listen.`,
		Example: `  nodediag agent --node "$NODE_NAME" --store s3://nodediag-store --host-root /host --listen :9464`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.Node == "" {
				return usageError("--node: give the node's name (in a DaemonSet: NODE_NAME from spec.nodeName)")
			}
			if opt.Limits.Burst < 1 || opt.Limits.PerHour < 0 {
				return usageError("--burst must be at least 1 and --per-hour not negative")
			}
			ctx := cmd.Context()
			cs, err := kube.Clientset(kubeconfig, kubeContext)
			if err != nil {
				return err
			}
			opt.Client = cs
			if remote.IsURL(g.storeDir) {
				r, err := g.openRemoteOnly()
				if err != nil {
					return err
				}
				opt.Sink = agent.StoreSink{Store: r.Cache, Remote: r}
				opt.State = agent.RemoteState{Remote: r}
			} else {
				st, err := g.openStore()
				if err != nil {
					return err
				}
				opt.Sink = agent.StoreSink{Store: st}
				opt.State = agent.FileState{Dir: filepath.Join(st.Root, "agent")}
			}
			opt.Log = g.log
			opt.Metrics = agent.NewMetrics()
			a, err := agent.New(opt)
			if err != nil {
				return err
			}
			if listen != "" {
				stop, err := serveMetrics(ctx, listen, a.Metrics().Handler(), g)
				if err != nil {
					return err
				}
				defer stop()
			}
			return a.Run(ctx)
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
	f.DurationVar(&opt.CommandTimeout, "command-timeout", agent.DefaultCommandTimeout, "bound on each journalctl or dmesg")
	f.DurationVar(&opt.FinalWithin, "final-within", agent.DefaultFinalWithin, "the last snapshot covers pods that crash-looped this recently")
	f.DurationVar(&opt.FinalDeadline, "final-deadline", agent.DefaultFinalDeadline, "bound on the last snapshot after SIGTERM (keep it under terminationGracePeriodSeconds)")
	f.DurationVar(&opt.NodePoll, "node-poll", agent.DefaultNodePoll, "read the node this often to see it cordoned for a drain (negative: never)")
	f.StringVar(&opt.IMDS, "imds", "http://169.254.169.254", "instance metadata service polled for a spot interruption notice (\"\": not polled)")
	f.DurationVar(&opt.SpotPoll, "spot-poll", agent.DefaultSpotPoll, "how often the spot interruption notice is polled")
	f.StringVar(&listen, "listen", "", "serve /metrics and /healthz on this address, e.g. :9464 (\"\": not served)")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig (default: $KUBECONFIG, else the pod's service account)")
	f.StringVar(&kubeContext, "context", "", "the kubeconfig context to use")
	return cmd
}

// serveMetrics serves h on addr until stop is called or ctx ends.
func serveMetrics(ctx context.Context, addr string, h http.Handler, g *globals) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("metrics server stopped", "addr", addr, "err", err)
		}
	}()
	g.log.Info("serving /metrics and /healthz", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
