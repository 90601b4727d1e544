package cli

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/eks"
	"github.com/nodediag/nodediag/internal/health"
	"github.com/nodediag/nodediag/internal/kube"
)

// newClusterAWS builds the AWS view of a cluster from the SDK's standard configuration; tests
// point it at a fake.
var newClusterAWS = func(ctx context.Context, region string) (clusterAWS, error) {
	cfg, err := cloud.LoadConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	return eks.New(cfg), nil
}

// clusterAWS is what the cluster commands read from AWS; *eks.Client is the real one.
type clusterAWS interface {
	health.AWSView
	Logs(ctx context.Context, req eks.LogsRequest) (*eks.LogsResult, error)
}

func newClusterHealthCmd(g *globals) *cobra.Command {
	var kubeconfig, region string
	var noAWS, noKube bool
	cmd := &cobra.Command{
		Use:   "cluster-health [CLUSTER]",
		Short: "Health of a cluster's nodes: EKS node groups, EC2 and SSM status, and node conditions",
		Long: `cluster-health reads two views of a cluster and merges them: from AWS the EKS cluster's status
and health issues, its node groups, and its EC2 instances with their state and SSM ping status
(collect needs SSM Online); from the Kubernetes API each node's Ready, memory, disk and PID
pressure and network conditions. CLUSTER is the EKS cluster name; the kubeconfig context is the one
whose name or cluster matches it (the current one when CLUSTER is not given). Either view alone is
an answer; what one could not read is listed as a gap. Exit 1 when anything is unhealthy.`,
		Example: `  nodediag cluster-health prod
  nodediag cluster-health prod --no-kube -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cluster := ""
			if len(args) == 1 {
				cluster = args[0]
			}
			if noAWS && noKube {
				return usageError("--no-aws and --no-kube leave nothing to read: keep one of them")
			}
			var aws health.AWSView
			if !noAWS {
				a, err := newClusterAWS(cmd.Context(), region)
				if err != nil {
					return err
				}
				aws = a
			}
			var kv health.KubeView
			if !noKube {
				kv = kube.NewClusters(kubeconfig)
			}
			r, err := health.Check(cmd.Context(), cluster, aws, kv)
			if err != nil {
				return err
			}
			if err := emit(g, &r, func(w io.Writer) { healthTable(w, r) }); err != nil {
				return err
			}
			if len(r.Unhealthy) > 0 {
				return &exitError{code: ExitFindings}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&region, "region", "", "AWS region (default the SDK's: AWS_REGION, the profile's region)")
	f.BoolVar(&noAWS, "no-aws", false, "read only the Kubernetes view")
	f.BoolVar(&noKube, "no-kube", false, "read only the AWS view")
	return cmd
}

func healthTable(w io.Writer, r *health.Report) {
	if r.AWS != nil {
		c := r.AWS.Cluster
		fprintf(w, "cluster %s: %s, Kubernetes %s (%s), %d node groups, %d instances\n", c.Name, c.Status, c.Version, r.AWS.Region, len(r.AWS.NodeGroups), len(r.AWS.Instances))
	}
	if len(r.Nodes) > 0 {
		fprintf(w, "\nNODE\tINSTANCE\tHEALTHY\tWHY\n")
		for _, n := range r.Nodes {
			fprintf(w, "%s\t%s\t%v\t%s\n", n.Name, n.InstanceID, !n.Unhealthy, clip(n.Why, 100))
		}
	}
	if r.AWS != nil && len(r.AWS.Instances) > 0 {
		fprintf(w, "\nINSTANCE\tSTATE\tNODE GROUP\tSSM\tPRIVATE DNS\n")
		for _, i := range r.AWS.Instances {
			fprintf(w, "%s\t%s\t%s\t%s\t%s\n", i.ID, i.State, i.NodeGroup, i.SSMPingStatus, i.PrivateDNSName)
		}
	}
	if len(r.Unhealthy) == 0 {
		fprintf(w, "\nevery node healthy\n")
	} else {
		fprintf(w, "\nUNHEALTHY\tWHY\n")
		for _, p := range r.Unhealthy {
			fprintf(w, "%s\t%s\n", p.Subject, p.Why)
		}
	}
	for _, gap := range r.Gaps {
		fprintf(w, "gap: %s\n", gap)
	}
}

func newCloudWatchLogsCmd(g *globals) *cobra.Command {
	var region, logType, filter, start, end string
	var since time.Duration
	var limit int
	cmd := &cobra.Command{
		Use:   "cloudwatch-logs CLUSTER",
		Short: "The cluster's control-plane log events from CloudWatch Logs",
		Long: `cloudwatch-logs reads /aws/eks/CLUSTER/cluster: --log-type api, audit, authenticator,
controllerManager, scheduler, or control-plane (default) for all of them; --filter is a CloudWatch
Logs filter pattern ("OOMKilled"). The window is --start..--end (RFC 3339) or the last --since
(default 1h); the newest --limit events (default 100, at most 1000) are printed oldest first.`,
		Example: `  nodediag cloudwatch-logs prod --log-type audit --filter OOMKilled --since 6h`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec := app.LogsSpec{Cluster: args[0], LogType: logType, Filter: filter, Start: start, End: end, Last: since, Limit: limit, Names: app.Names{Start: "--start", End: "--end", Last: "--since"}}
			req, err := spec.Request() // before AWS is configured: a bad flag is the first thing to say
			if err != nil {
				return err
			}
			a, err := newClusterAWS(cmd.Context(), region)
			if err != nil {
				return err
			}
			res, err := a.Logs(cmd.Context(), req)
			if err != nil {
				return err
			}
			return emit(g, &res, func(w io.Writer) {
				for _, e := range res.Events {
					fprintf(w, "%s\t%s\t%s\n", stampPrecise(e.Time), e.Stream, e.Message)
				}
				if res.Truncated {
					fprintf(w, "… more events matched: %s\n", res.Hint)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&region, "region", "", "AWS region (default the SDK's)")
	f.StringVar(&logType, "log-type", "", "api, audit, authenticator, controllerManager, scheduler (default all of them)")
	f.StringVar(&filter, "filter", "", "CloudWatch Logs filter pattern")
	f.StringVar(&start, "start", "", "window start, RFC 3339")
	f.StringVar(&end, "end", "", "window end, RFC 3339 (default now)")
	f.DurationVar(&since, "since", time.Hour, "window length when --start is not given")
	f.IntVar(&limit, "limit", 0, "events to print (default 100, at most 1000)")
	return cmd
}
