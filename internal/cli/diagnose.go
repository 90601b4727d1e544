package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/store"
)

// yamlByDefault switches a command whose natural form is the runbook's YAML Output Format to
// YAML unless -o was given.
func yamlByDefault(cmd *cobra.Command, g *globals) {
	if f := cmd.Flags().Lookup("output"); f == nil || !f.Changed {
		g.output = "yaml"
	}
}

// podFlags select the container a diagnosis is about and what the Kubernetes API (or files)
// say about it: diagnose and report share them, so a report shows what diagnose prints.
type podFlags struct {
	bf                                                                                   bundleFlags
	pod, namespace, container, podJSON, eventsJSON, previousLog, kubeconfig, kubeContext string
}

func (p *podFlags) register(cmd *cobra.Command) {
	p.bf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&p.pod, "pod", "", "the crash-looping pod, NAMESPACE/NAME, or NAME with -n (default: the busiest crash-looping container of the bundle); also the POD argument")
	f.StringVarP(&p.namespace, "namespace", "n", "", "the pod's namespace, as kubectl's -n: "+cmd.Name()+" NAME -n NAMESPACE is --pod NAMESPACE/NAME")
	f.StringVar(&p.container, "container", "", "the container (default: the one crash-looping)")
	f.StringVar(&p.podJSON, "pod-json", "", "`FILE` holding the pod as kubectl get pod -o json prints it (offline Kubernetes input)")
	f.StringVar(&p.eventsJSON, "events-json", "", "`FILE` holding the pod's events as kubectl get events -o json prints them")
	f.StringVar(&p.previousLog, "previous-log", "", "`FILE` holding the container's previous log, as kubectl logs --previous prints it")
	f.StringVar(&p.kubeconfig, "kubeconfig", "", "read the pod's status, events, previous log and node from the cluster (read-only); default $KUBECONFIG")
	f.StringVar(&p.kubeContext, "context", "", "the kubeconfig context to use")
}

// selection is what podFlags resolved to: the diagnosis input, the bundle and its index, and
// the gaps the cluster read left.
type selection struct {
	in      diagnose.Input
	entry   *store.Entry
	idx     *index.Index
	apiGaps []string
}

// resolve reads the flags, the files they name and, when asked, the cluster, and opens the bundle.
func (p *podFlags) resolve(cmd *cobra.Command, g *globals, args []string) (*selection, error) {
	pod, err := podArg(p.pod, p.namespace, args)
	if err != nil {
		return nil, err
	}
	if p.container != "" && pod == "" && p.podJSON == "" {
		return nil, usageError("--container %s needs --pod NAMESPACE/NAME (or --pod-json FILE): a container name alone names no pod", p.container)
	}
	in := diagnose.Input{Container: p.container}
	if pod != "" {
		if i := strings.IndexByte(pod, '/'); i >= 0 {
			in.Namespace, in.Pod = pod[:i], pod[i+1:]
		} else {
			in.Pod = pod
		}
	}
	if p.podJSON != "" {
		if in.PodStatus, err = kube.LoadPodFile(p.podJSON); err != nil {
			return nil, usageError("--pod-json: %v", err)
		}
	}
	if p.eventsJSON != "" {
		if in.Events, err = kube.LoadEventsFile(p.eventsJSON); err != nil {
			return nil, usageError("--events-json: %v", err)
		}
	}
	if p.previousLog != "" {
		if in.PreviousLog, err = kube.LoadLogFile(p.previousLog); err != nil {
			return nil, usageError("--previous-log: %v", err)
		}
	}
	bf := p.bf
	var apiGaps []string
	if p.kubeconfig != "" || p.kubeContext != "" || (os.Getenv("KUBECONFIG") != "" && p.podJSON == "") {
		info, err := fetchFromCluster(cmd.Context(), p.kubeconfig, p.kubeContext, in)
		if err != nil {
			// The node's logs still tell most of the story: say what is missing, go on.
			g.log.Warn("cluster not read; diagnosing from node logs only", "err", err)
			apiGaps = append(apiGaps, fmt.Sprintf("cluster not read (%v): pod status, events and previous log come from files or are missing", err))
		} else {
			in.PodStatus, in.Events, in.PreviousLog, in.Container = info.Pod, info.Events, info.PreviousLog, info.Container
			in.ClusterCrashLoops = info.ClusterCrashLoops
			apiGaps = append(apiGaps, info.Gaps...)
			if bf.bundle == "" && bf.instance == "" {
				// The pod's node decides which bundle to read, as in the MCP tool.
				if err := podsNode(g, &bf, info); err != nil {
					return nil, err
				}
			}
		}
	}
	e, idx, err := bf.open(cmd.Context(), g)
	if err != nil {
		return nil, err
	}
	in.Entry = e
	// An agent's snapshot is named in the diagnosis, and stands in for the pod's status when
	// the cluster was not read.
	apiGaps = append(apiGaps, app.SnapshotInput(e, &in)...)
	// The other nodes' bundles in the store say whether the crash is the node's or the
	// workload's (the K3 multi-node guardrail), for the diagnosis and the report alike.
	if st, err := g.openStore(); err == nil {
		apiGaps = append(apiGaps, withPeers(cmd.Context(), g, st, &in)...)
	}
	return &selection{in: in, entry: e, idx: idx, apiGaps: apiGaps}, nil
}

func newDiagnoseCmd(g *globals) *cobra.Command {
	var pf podFlags
	var failOn string
	cmd := &cobra.Command{
		Use:   "diagnose [POD] [-n NAMESPACE] (--bundle PATH|ID | --instance ID)",
		Short: "Run the K3 CrashLoopBackOff runbook in one call and print its Output Format, with evidence",
		Long: `diagnose follows the K3 CrashLoopBackOff runbook against a node log bundle: the exit code and its
meaning (from the pod's lastState.terminated when --pod-json is given, else from kubelet and containerd
lines), the OOM level (container limit, node allocatable, whole node, or SIGKILL without OOM), segfault,
exec and missing-config evidence, the crash frequency and back-off ladder, and prints the runbook's
Output Format (YAML by default) with the file:line of every piece of evidence, a confidence, the
evidence that was not available, and escalations when a guardrail fires.`,
		Example: `  nodediag diagnose --bundle testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz --pod payments/ledger-0
  nodediag diagnose --instance i-0a1b2c3d4e5f60718 --pod shop/api-7d9f8b6c4d-x2x9k --pod-json pod.json --events-json events.json --previous-log prev.log
  kubectl nodediag diagnose api-7d9f8b6c4d-x2x9k -n shop --context prod   # as a kubectl plugin: the pod's node picks the bundle`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			yamlByDefault(cmd, g)
			var fail string
			if failOn != "" {
				var err error
				if fail, err = app.NormalizeSeverity("--fail-on", failOn); err != nil {
					return err
				}
			}
			sel, err := pf.resolve(cmd, g, args)
			if err != nil {
				return err
			}
			d, err := diagnose.Diagnose(cmd.Context(), sel.idx, sel.in)
			if err != nil {
				return err
			}
			d.Gaps = append(d.Gaps, sel.apiGaps...)
			if err := emit(g, &d, func(w io.Writer) { printDiagnosis(w, d) }); err != nil {
				return err
			}
			if fail != "" && d.Class != "" && index.SeverityRank(strings.ToLower(d.Severity)) <= index.SeverityRank(fail) {
				return &exitError{code: ExitFindings}
			}
			return nil
		},
	}
	pf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&failOn, "fail-on", "", "exit 1 when a root cause of at least this severity is found (critical, high, medium, low)")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", completeSeverity)
	return cmd
}

// podArg folds the POD argument and -n NAMESPACE into the --pod NAMESPACE/NAME form: the
// argument is --pod spelled as kubectl spells a pod; they must not disagree.
func podArg(pod, namespace string, args []string) (string, error) {
	if len(args) == 1 {
		if pod != "" && pod != args[0] {
			return "", usageError("the POD argument %s and --pod %s name two pods: give one", args[0], pod)
		}
		pod = args[0]
	}
	if namespace == "" {
		return pod, nil
	}
	if pod == "" {
		return "", usageError("-n %s needs a pod: diagnose NAME -n %s", namespace, namespace)
	}
	if ns, _, ok := strings.Cut(pod, "/"); ok {
		if ns != namespace {
			return "", usageError("pod %s is not in namespace %s (-n)", pod, namespace)
		}
		return pod, nil
	}
	return namespace + "/" + pod, nil
}

// clusterTimeout bounds the API reads: an unreachable cluster must not hold up a diagnosis the
// node's logs can give on their own.
const clusterTimeout = 20 * time.Second

func fetchFromCluster(ctx context.Context, kubeconfig, kubeContext string, in diagnose.Input) (*kube.PodInfo, error) {
	if in.Namespace == "" || in.Pod == "" {
		return nil, fmt.Errorf("--pod NAMESPACE/NAME is needed to read the pod from the cluster")
	}
	c, err := kube.NewClient(kubeconfig, kubeContext)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	return c.Fetch(ctx, in.Namespace, in.Pod, in.Container)
}

func printDiagnosis(w io.Writer, d *diagnose.Diagnosis) {
	rc := d.RootCause
	if rc == "" {
		rc = "none found"
	}
	fprintf(w, "root cause\t%s\n", rc)
	if d.ExitCode != nil {
		fprintf(w, "exit code\t%d (%s)\n", *d.ExitCode, d.ExitCodeMeaning)
	}
	if d.OOMLevel != "" {
		fprintf(w, "OOM level\t%s\n", d.OOMLevel)
	}
	fprintf(w, "crash frequency\t%s\n", d.CrashFrequency)
	fprintf(w, "severity\t%s\nconfidence\t%s\n", d.Severity, d.Confidence)
	for _, ev := range d.Evidence {
		fprintf(w, "\nevidence: %s\t%s\n", ev.Type, ev.Content)
		for _, l := range ev.Lines {
			fprintf(w, "  %s\t%s\n", l.Ref, clip(l.Text, 160))
		}
	}
	fprintf(w, "\nmitigation (immediate)\t%s\nmitigation (long term)\t%s\n", d.Mitigation.Immediate, d.Mitigation.LongTerm)
	for _, x := range d.CrossReference {
		fprintf(w, "cross reference\t%s\n", x)
	}
	for _, x := range d.Escalation {
		fprintf(w, "ESCALATE\t%s\n", x)
	}
	for _, x := range d.Gaps {
		fprintf(w, "gap\t%s\n", x)
	}
}

func newTriageCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	cmd := &cobra.Command{
		Use:     "quick-triage",
		Aliases: []string{"quick_triage", "triage"},
		Short:   "Fast overview: top findings, crash facts per workload, the most likely root cause and the runbooks to follow",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			in := diagnose.Input{Entry: e}
			if st, err := g.openStore(); err == nil {
				withPeers(cmd.Context(), g, st, &in) // a failure is logged; triage goes on without the fleet view
			}
			t, err := diagnose.QuickTriageAcross(cmd.Context(), idx, in.Peers)
			if err != nil {
				return err
			}
			return emit(g, &t, func(w io.Writer) {
				rc := t.RootCause
				if rc == "" {
					rc = "none found"
				}
				fprintf(w, "bundle %s  instance %s\nmost likely root cause\t%s (confidence %s)\nrunbooks\t%s\n", t.BundleID, t.InstanceID, rc, t.Confidence, strings.Join(t.SOPs, ", "))
				for _, x := range t.Escalation {
					fprintf(w, "ESCALATE\t%s\n", x)
				}
				fprintf(w, "\nID\tSEVERITY\tCOUNT\tRULE\tEXAMPLE\n")
				for _, f := range t.TopFindings {
					ex := "-"
					if f.Example != nil {
						ex = f.Example.Ref
					}
					fprintf(w, "%s\t%s\t%d\t%s\t%s\n", f.ID, f.Severity, f.Count, f.Rule, ex)
				}
				fprintf(w, "\nKIND\tPOD/CONTAINER\tCOUNT\tNEWEST\n")
				for _, c := range t.CrashFacts {
					fprintf(w, "%s\t%s/%s/%s\t%d\t%s\n", c.Kind, c.Namespace, c.Pod, c.Container, c.Count, c.Last)
				}
			})
		},
	}
	bf.register(cmd)
	return cmd
}

func newSummarizeCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	cmd := &cobra.Command{
		Use:   "summarize [FINDING_ID…]",
		Short: "Grounded summary of findings (default: all at medium or above): claims with their lines, root cause, recommendations, runbooks",
		RunE: func(cmd *cobra.Command, args []string) error {
			_, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			s, err := diagnose.Summarize(cmd.Context(), idx, splitList(args))
			if err != nil {
				return err
			}
			return emit(g, &s, func(w io.Writer) {
				rc := s.RootCause
				if rc == "" {
					rc = "none found"
				}
				fprintf(w, "root cause\t%s (confidence %s)\ncomponents\t%s\nrunbooks\t%s\n", rc, s.Confidence, strings.Join(s.Components, ", "), strings.Join(s.SOPs, ", "))
				for _, c := range s.Claims {
					fprintf(w, "\n- %s [%s]\n", c.Text, strings.Join(c.Findings, ", "))
					for _, l := range c.Lines {
						fprintf(w, "    %s\t%s\n", l.Ref, clip(l.Text, 150))
					}
				}
				for _, r := range s.Recommendations {
					fprintf(w, "\nrecommendation: %s\n", r)
				}
			})
		},
	}
	bf.register(cmd)
	return cmd
}

func loadRunbooks(dir string) (*runbook.Catalog, error) {
	c, err := runbook.Builtin()
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if err := c.LoadDir(dir); err != nil {
			return nil, usageError("--runbooks %s: %v", dir, err)
		}
	}
	return c, nil
}

func newSOPsCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:     "sops",
		Aliases: []string{"list-sops"},
		Short:   "List the runbooks (SOPs): the built-in catalog plus --runbooks DIR",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadRunbooks(dir)
			if err != nil {
				return err
			}
			type row struct {
				ID          string   `json:"id" yaml:"id"`
				Title       string   `json:"title" yaml:"title"`
				Severity    string   `json:"severity" yaml:"severity"`
				Status      string   `json:"status" yaml:"status"`
				Description string   `json:"description" yaml:"description"`
				Triggers    []string `json:"triggers" yaml:"triggers"`
				Source      string   `json:"source" yaml:"source"`
			}
			var rows []row
			for _, rb := range c.List() {
				rows = append(rows, row{rb.ID, rb.Title, rb.Severity, rb.Status, rb.Description, rb.Triggers, rb.Source})
			}
			return emit(g, &rows, func(w io.Writer) {
				fprintf(w, "ID\tSEVERITY\tSTATUS\tTITLE\tSOURCE\n")
				for _, r := range rows {
					fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Status, r.Title, r.Source)
				}
			})
		},
	}
	cmd.Flags().StringVar(&dir, "runbooks", "", "a folder of your own SOP files (*.md); they win over built-ins with the same id")
	return cmd
}

func newSOPCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:               "sop ID",
		Aliases:           []string{"get-sop"},
		ValidArgsFunction: completeRunbooks,
		Short:             "Print one runbook (SOP), e.g. `nodediag sop K3`",
		Args:              cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadRunbooks(dir)
			if err != nil {
				return err
			}
			rb, ok := c.Get(args[0])
			if !ok {
				return usageError("no runbook %q: known are %s", args[0], strings.Join(c.IDs(), ", "))
			}
			return emitText(g, &rb, func(w io.Writer) {
				fmt.Fprintf(w, "# %s (%s, %s, %s)\n\n%s\n", rb.Title, rb.ID, rb.Severity, rb.Status, rb.Body)
			})
		},
	}
	cmd.Flags().StringVar(&dir, "runbooks", "", "a folder of your own SOP files (*.md); they win over built-ins with the same id")
	return cmd
}

// podsNode points bf at the newest stored bundle of the pod's node (app.BundleOfNode); with none,
// at its instance, so the error lists the stored instances; with no instance either, it is an
// error naming the node, never another node's bundle.
func podsNode(g *globals, bf *bundleFlags, info *kube.PodInfo) error {
	st, err := g.openStore()
	if err != nil {
		return err
	}
	if e, ok := app.BundleOfNode(st, info.InstanceID, info.NodeName); ok {
		bf.bundle = e.Manifest.ID
		return nil
	}
	if info.InstanceID != "" {
		bf.instance = info.InstanceID
		return nil
	}
	return fmt.Errorf("%w: the pod runs on node %q, whose providerID %q names no EC2 instance, and no stored bundle is from "+
		"that node; import its bundle (nodediag import, or nodediag collect --method kube --node %s --allow-node-proxy) or give --bundle",
		store.ErrNotFound, info.NodeName, info.ProviderID, info.NodeName)
}

// withPeers gives the diagnosis the fleet view (app.Peers): the other nodes' crash signatures
// in the store. Without it the multi-node guardrail has only the cluster's view, so a failure
// is a gap to state, not a reason to stop.
func withPeers(ctx context.Context, g *globals, st *store.Store, in *diagnose.Input) []string {
	gaps, problems := app.WithPeers(ctx, st, in)
	for _, gap := range gaps {
		g.log.Warn("other nodes' bundles not read", "gap", gap)
	}
	for _, p := range problems {
		g.log.Warn("bundle left out of the fleet view", "problem", p)
	}
	return gaps
}
