package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/nodediag/nodediag/internal/buildinfo"
	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/mcpserver"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/store"
)

func newServeCmd(g *globals) *cobra.Command {
	var (
		dir       string
		listen    string
		hopts     mcpserver.HTTPOptions
		maxBody   int64
		insecure  bool
		kc        serveClusterFlags
		syncEvery time.Duration
		toolsets  []string
		readOnly  bool
		fullText  bool
		callTime  time.Duration
		rateLim   float64
		clusters  []string
		approve   bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the node-log tools to an AI agent over MCP (stdio, or streamable HTTP with --listen)",
		Long: `serve speaks the Model Context Protocol so that an agent following the K3 runbook can call
its tools by the names and parameters the runbook writes: the node-log tools (errors, search,
read, correlate, validate, summarize, quick_triage, diagnose_crashloop, list_sops, get_sop) on the
bundles in the store; the Kubernetes tools (list_k8s_resources, read_k8s_resource, get_k8s_events,
get_pod_logs; read-only, Secrets refused) through --kubeconfig, the context chosen by each call's
clusterName; and the AWS tools (collect, status, cluster_health, get_cloudwatch_logs) through the
AWS SDK's standard configuration (AWS_PROFILE, AWS_REGION, instance role, IRSA, Pod Identity;
AWS_ENDPOINT_URL* for VPC endpoints). Every tool is read-only except collect, which starts the SSM
automation AWSSupport-CollectEKSInstanceLogs (it reads the node, changes none of its workloads)
and needs --bucket, and status, which downloads and imports what it collected. Before collect
starts an automation, the server asks the client's user to approve it (an MCP elicitation naming
the instance and the bucket); a client that cannot ask gets an error, unless the operator
pre-approves collections with --approve-collect (for unattended use).

--allowed-clusters prod,staging limits the Kubernetes and AWS tools to those names of clusterName
(compared as written, not resolved): a call naming another is refused with the list, and collect
refuses an instance of another cluster; with one allowed cluster, a call naming none means it.

The tools come in toolsets — node-logs, runbooks, kubernetes (cluster_health is here) and aws —
and --toolsets lists only those asked for; a toolset the server is not configured for (--no-kube,
--no-aws, no kubeconfig) is not listed, and the server's instructions say why. --read-only drops
collect and status. Each answer is structured content and a few lines of text naming the next
call; --full-text adds the whole JSON as text for clients that read only text. A call that runs
longer than --call-timeout (2m) is stopped and answers an error saying how to narrow it; over
HTTP a call is stopped too when its client disconnects.

Without --listen it speaks over standard input and output (newline-delimited JSON-RPC): stdout
carries only the protocol, logs go to stderr. A message over --max-body-bytes (1 MiB), or one
that is not JSON-RPC, is dropped with an error answer (when its id can be read) and a log line;
the server goes on with the next.

With --listen ADDR (e.g. 127.0.0.1:8080) it serves the MCP streamable HTTP transport:
  /mcp      the MCP endpoint (sessions, server-sent events)
  /healthz  200 "ok", without authentication, for liveness probes
  /metrics  Prometheus metrics: nodediag_mcp_tool_calls_total{tool,outcome,caller},
            nodediag_mcp_tool_duration_seconds{tool}, Go and process metrics
/mcp and /metrics require "Authorization: Bearer <token>", the token being the contents of
--auth-token-file (at least 16 bytes; e.g. openssl rand -hex 32 > token && chmod 600 token).
To tell callers apart, the file holds one line name:token per caller instead; the name is in the
log line of each call (stderr), in the caller label of the metrics, and a session belongs to the
caller that opened it. A single bare token is the caller "default".
--insecure-no-auth drops the token, and is refused unless ADDR is a loopback address.
Each token may send --rate-limit requests a second to /mcp (bursts of --rate-burst); past that
it gets 429 with Retry-After, other tokens unaffected.
A request from a web page (one with an Origin header) gets 403 unless the origin is a localhost
one or listed in --allowed-origins: a page must not reach the server through the user's browser.
Request bodies over --max-body-bytes are refused with 413; a client whose request headers take
over 10 s to arrive, or headers and body over 30 s, loses its connection. SIGINT or SIGTERM shuts
the server down gracefully: calls in flight finish, sessions are closed, within 10 seconds.`,
		Example: `  nodediag serve
  nodediag serve --listen 0.0.0.0:8080 --auth-token-file /etc/nodediag/token
  nodediag serve --listen 127.0.0.1:8080 --insecure-no-auth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listen == "" {
				// The HTTP flags without --listen would silently do nothing: say so.
				for _, f := range []string{"auth-token-file", "insecure-no-auth", "allowed-origins", "rate-limit", "rate-burst"} {
					if cmd.Flags().Changed(f) {
						return usageError("--%s applies to the HTTP server: give --listen ADDR too", f)
					}
				}
			}
			if maxBody < 0 {
				return usageError("--max-body-bytes %d: want a positive number of bytes", maxBody)
			}
			if callTime <= 0 {
				return usageError("--call-timeout %v: want a positive duration, e.g. 2m", callTime)
			}
			st, err := g.openStore()
			if err != nil {
				return err
			}
			go g.followRemote(cmd.Context(), syncEvery)
			c, err := loadRunbooks(dir)
			if err != nil {
				return err
			}
			opts, err := kc.options(cmd.Context(), g, st)
			if err != nil {
				return err
			}
			if opts.Toolsets, err = mcpserver.ParseToolsets(splitList(toolsets)); err != nil {
				return usageError("--toolsets: %v", err)
			}
			opts.Runbooks, opts.Version, opts.ReadOnly, opts.FullText = c, buildinfo.Current().Version, readOnly, fullText
			opts.CallTimeout, opts.Logger = callTime, g.log
			opts.AllowedClusters = splitList(clusters)
			opts.ApproveCollect = approve
			srv := mcpserver.New(opts)
			if listen == "" {
				return srv.Run(cmd.Context(), mcpserver.StdioTransport(g.stdin, g.stdout, maxBody, g.log))
			}
			hopts.Addr, hopts.InsecureNoAuth, hopts.MaxBodyBytes = listen, insecure, maxBody
			hopts.Reports, hopts.ReportTimeout = st, callTime
			switch {
			case rateLim < 0 || hopts.RateBurst < 0:
				return usageError("--rate-limit %g --rate-burst %d: want positive numbers (--rate-limit 0 turns the limit off)", rateLim, hopts.RateBurst)
			case rateLim == 0:
				hopts.RateLimit = rate.Inf
			default:
				hopts.RateLimit = rate.Limit(rateLim)
			}
			hopts.Logger = g.log
			if !cmd.Flag("log-level").Changed {
				// The default level (warn) would hide the address being served, which is what a
				// user starting a server looks for first (with :0, the only way to learn the port).
				hopts.Logger = slog.New(redact.Handler(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}), g.cleaner(redact.Terminal)))
			}
			if err := mcpserver.ServeHTTP(cmd.Context(), srv, hopts); err != nil {
				if errors.Is(err, mcpserver.ErrConfig) {
					return &exitError{code: ExitUsage, err: err}
				}
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&syncEvery, "sync-interval", time.Minute, "with a bucket --store, how often to mirror what others published and publish what this server collected")
	f.StringSliceVar(&toolsets, "toolsets", nil, "toolsets to serve, comma-separated: "+strings.Join(mcpserver.AllToolsets, ", ")+" (default all; one the server is not configured for is not listed)")
	_ = cmd.RegisterFlagCompletionFunc("toolsets", completeToolsets)
	f.BoolVar(&readOnly, "read-only", false, "serve only the tools annotated read-only: no collect, no status")
	f.BoolVar(&fullText, "full-text", false, "send each answer's JSON as text too, for clients that read only text content (default: a few lines and the next call)")
	f.DurationVar(&callTime, "call-timeout", mcpserver.DefaultCallTimeout, "longest a tool call may run; past it the call is stopped and answers an error saying how to narrow it")
	f.StringVar(&dir, "runbooks", "", "a folder of your own SOP files (*.md) served beside the built-ins")
	f.StringVar(&listen, "listen", "", "serve MCP over streamable HTTP on this host:port instead of stdio")
	f.StringVar(&hopts.TokenFile, "auth-token-file", "", "file holding the bearer token HTTP clients must send, or lines name:token, one per caller")
	f.BoolVar(&insecure, "insecure-no-auth", false, "serve HTTP without a token (loopback --listen only)")
	f.Int64Var(&maxBody, "max-body-bytes", mcpserver.DefaultMaxBodyBytes, "largest request accepted: an HTTP request body, or a message line over stdio")
	f.Float64Var(&rateLim, "rate-limit", mcpserver.DefaultRateLimit, "requests to /mcp each token may send per second; over it, 429 with Retry-After (0: no limit)")
	f.IntVar(&hopts.RateBurst, "rate-burst", mcpserver.DefaultRateBurst, "requests each token may send at once before --rate-limit applies")
	f.StringSliceVar(&hopts.AllowedOrigins, "allowed-origins", nil, "browser origins allowed to call the HTTP server besides localhost ones, comma-separated exact origins (https://app.example.com); * allows every origin")
	f.StringVar(&kc.kubeconfig, "kubeconfig", "", "kubeconfig for the Kubernetes tools (default $KUBECONFIG or ~/.kube/config; in a pod, its service account)")
	f.StringSliceVar(&clusters, "allowed-clusters", nil, "the only cluster names the Kubernetes and AWS tools may be asked for, comma-separated (default any the kubeconfig and AWS reach)")
	f.BoolVar(&kc.noKube, "no-kube", false, "serve without cluster access: the Kubernetes tools say so, diagnose_crashloop needs instanceId")
	f.StringVar(&kc.bucket, "bucket", "", "S3 bucket the collect tool's SSM automation uploads to (default $"+bucketEnv+")")
	f.StringVar(&kc.roleARN, "role-arn", "", "IAM role the SSM automation assumes (AutomationAssumeRole); default the caller's permissions")
	f.StringVar(&kc.region, "region", "", "AWS region (default the SDK's: AWS_REGION, the profile's region)")
	f.StringSliceVar(&kc.regions, "search-regions", nil, "regions to search, in order, for an instance not in --region")
	f.BoolVar(&approve, "approve-collect", false, "pre-approve every collection collect starts, for unattended use (default: ask the client's user for each, by MCP elicitation)")
	f.BoolVar(&kc.allowNodeProxy, "allow-node-proxy", false, "let collect use method kube: the node log API through nodes/proxy, a permission that reaches the whole kubelet API")
	f.BoolVar(&kc.noAWS, "no-aws", false, "serve without AWS: collect, status, cluster_health's AWS view and get_cloudwatch_logs say so")
	return cmd
}

// serveClusterFlags say how the server reaches the cluster and AWS.
type serveClusterFlags struct {
	kubeconfig, bucket, roleARN, region string
	regions                             []string
	noKube, noAWS, allowNodeProxy       bool
}

// options builds the server's cluster access, collector and AWS view. AWS credentials are
// resolved lazily by the SDK, so a machine without them still serves every node-log tool and the
// AWS tools answer what is missing when called.
func (kc serveClusterFlags) options(ctx context.Context, g *globals, st *store.Store) (mcpserver.Options, error) {
	opts := mcpserver.Options{Store: st, AllowNodeProxy: kc.allowNodeProxy}
	if !kc.noKube {
		opts.Clusters = kube.NewClusters(kc.kubeconfig)
	}
	var aws collect.AWS
	if !kc.noAWS {
		cfg, err := cloud.LoadConfig(ctx, kc.region)
		if err != nil {
			g.log.Warn("serving without AWS: its configuration did not load", "err", err)
		} else {
			bucket := kc.bucket
			if bucket == "" {
				bucket = os.Getenv(bucketEnv)
			}
			aws = cloud.New(cfg, cloud.Options{Bucket: bucket, RoleARN: kc.roleARN, Regions: kc.regions})
			opts.AWS = eks.New(cfg)
		}
	}
	if aws == nil && (opts.Clusters == nil || !kc.allowNodeProxy) {
		// Neither SSM nor the node log API can collect: collect and status are not served.
		return opts, nil
	}
	col, err := collect.New(st, aws, g.log)
	if err != nil {
		return opts, err
	}
	opts.Collector = col
	return opts, nil
}
