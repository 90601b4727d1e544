package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/fleet"
)

func newFleetCmd(g *globals) *cobra.Command {
	var minNodes int
	cmd := &cobra.Command{
		Use:   "fleet [--min-nodes N]",
		Short: "Crash signatures across nodes: which workload's container fails how, on how many nodes",
		Long: `fleet reads the newest bundle of every instance in the store and groups the crash-looping and
failed containers by signature — workload (inferred from the pod's name), namespace, container, class
as diagnose classifies it, exit code — with the nodes (instance ids) each is on, the crash count and
the first and last crash. A signature on many nodes is a workload's problem (its image, config or
limits) or one of what the nodes share, not one node's. Each bundle's summary is derived from its index
at first use and kept beside it, so later runs read one small file per node.`,
		Example: `  nodediag fleet                    # every signature, most nodes first
  nodediag fleet --min-nodes 2 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if minNodes < 1 {
				return usageError("--min-nodes %d: want 1 or more", minNodes)
			}
			st, err := g.openStore()
			if err != nil {
				return err
			}
			res, err := app.Fleet(cmd.Context(), st, app.FleetRequest{MinNodes: minNodes, Names: app.CLIFleetNames})
			if err != nil {
				return err
			}
			for _, p := range res.Problems {
				g.log.Warn("bundle left out of the fleet view", "problem", p)
			}
			return emit(g, &res, func(w io.Writer) { printFleet(w, res) })
		},
	}
	cmd.Flags().IntVar(&minNodes, "min-nodes", 1, "list signatures on at least this many nodes")
	return cmd
}

func printFleet(w io.Writer, res app.FleetResult) {
	fprintf(w, "NODES\tWORKLOAD\tNAMESPACE\tCONTAINER\tCLASS\tEXIT\tCOUNT\tFIRST (UTC)\tLAST (UTC)\tINSTANCES\n")
	for _, s := range res.Signatures {
		fprintf(w, "%d\t%s/%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", len(s.Nodes), s.WorkloadKind, s.Workload, s.Namespace, s.Container,
			s.Class, exitText(s.ExitCode), s.Count, stamp(s.First), stamp(s.Last), nodesText(s.Nodes))
	}
	fprintf(w, "(%d %s across %d %s)\n", len(res.Signatures), plural(len(res.Signatures), "signature"), res.Nodes, plural(res.Nodes, "node"))
	for _, p := range res.Problems {
		fprintf(w, "not read: %s\n", p)
	}
	for _, n := range res.Notes {
		fprintf(w, "note: %s\n", n)
	}
}

func newCompareNodesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "compare-nodes FAILING HEALTHY",
		Short: "Findings, crash signatures and fact kinds that only one of two nodes' newest bundles has",
		Long: `compare-nodes sets the newest bundle of a failing node (an instance id) against a healthy node's:
what only the failing node has is where its cause is; what both have is not it.`,
		Example: `  nodediag compare-nodes i-0a1b2c3d4e5f60718 i-0fedcba9876543210`,
		Args:    cobra.ExactArgs(2),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) >= 2 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeInstances(cmd, args, prefix)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openStore()
			if err != nil {
				return err
			}
			c, err := app.CompareNodes(cmd.Context(), st, app.CompareRequest{Failing: args[0], Healthy: args[1], Names: app.CLIFleetNames})
			if err != nil {
				return err
			}
			return emit(g, &c, func(w io.Writer) {
				printSide(w, "only on the failing node", c.Failing)
				printSide(w, "only on the healthy node", c.Healthy)
				fprintf(w, "shared: %d %s, %d %s\n", c.SharedFindings, plural(c.SharedFindings, "finding"), c.SharedSignatures, plural(c.SharedSignatures, "signature"))
			})
		},
	}
}

func printSide(w io.Writer, title string, s fleet.Side) {
	fprintf(w, "%s %s (bundle %s):\n", title, s.InstanceID, s.BundleID)
	for _, f := range s.Findings {
		fprintf(w, "  finding\t%s\t%s\t%d\t%s\n", f.Severity, f.Rule, f.Count, f.Title)
	}
	for _, g := range s.Signatures {
		fprintf(w, "  signature\t%s/%s\t%s/%s\t%s exit %s\t%d\n", g.WorkloadKind, g.Workload, g.Namespace, g.Container, g.Class, exitText(g.ExitCode), g.Count)
	}
	for _, k := range slices.Sorted(maps.Keys(s.FactKinds)) {
		fprintf(w, "  facts\t%s\t%d\n", k, s.FactKinds[k])
	}
	if len(s.Findings)+len(s.Signatures)+len(s.FactKinds) == 0 {
		fprintf(w, "  (nothing)\n")
	}
}

func exitText(code *int) string {
	if code == nil {
		return "-"
	}
	return fmt.Sprint(*code)
}

// nodesText lists up to three instance ids; a table row stays one line.
func nodesText(nodes []string) string {
	if len(nodes) <= 3 {
		return strings.Join(nodes, ",")
	}
	return fmt.Sprintf("%s,… (+%d)", strings.Join(nodes[:3], ","), len(nodes)-3)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
