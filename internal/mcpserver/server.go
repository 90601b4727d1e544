// Package mcpserver serves nodediag's node-log tools over the Model Context Protocol, so that an
// AI agent following the K3 CrashLoopBackOff runbook can call them by the names and parameters
// the runbook writes. Each tool is a thin adapter over a library function (index findings,
// search, read, correlate, validate, summarize, quick triage, diagnose and the runbook catalog);
// the server adds only bundle selection, paging and the shape of answers for an LLM: small by
// default, structured, with the bundle they came from and a hint of what to call next.
package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/runbook"
	"github.com/nodediag/nodediag/internal/store"
)

// Options configure the server.
type Options struct {
	// Store holds the bundles every node-log tool reads.
	Store *store.Store
	// Runbooks is the SOP catalog behind list_sops and get_sop; nil means the built-in runbooks.
	Runbooks *runbook.Catalog
	// Version is reported to clients in the initialize handshake.
	Version string
	// Clusters gives read-only Kubernetes access by clusterName; nil leaves the Kubernetes tools
	// answering how to configure it, and diagnose_crashloop needing instanceId.
	Clusters Clusters
	// Collector starts and follows collections (collect, status); nil leaves them answering what
	// configuration they need.
	Collector *collect.Collector
	// AWS answers cluster_health and get_cloudwatch_logs from the EKS, EC2, SSM and CloudWatch
	// APIs; nil leaves cluster_health with the Kubernetes view alone.
	AWS ClusterAWS
	// AllowNodeProxy lets collect use method kube, which needs the nodes/proxy permission.
	AllowNodeProxy bool
	// Toolsets are the toolsets to list (AllToolsets when empty). A toolset the server is not
	// configured for is not listed either: its tools could only say so.
	Toolsets []string
	// ReadOnly lists only the tools annotated read-only (not collect, not status).
	ReadOnly bool
	// FullText sends each answer's JSON as text content too, for clients that read only text;
	// otherwise the text is a few lines and the next call.
	FullText bool
	// ApproveCollect pre-approves every collection collect starts. Otherwise collect asks the
	// client's user to approve each SSM automation (an MCP elicitation naming the instance and
	// the bucket) and refuses when the client cannot ask.
	ApproveCollect bool
	// AllowedClusters, when not empty, are the only cluster names the Kubernetes and AWS tools
	// may be asked for (clusterName, cluster_name, resource_name, and the cluster of the
	// instance collect starts on); a call naming another is refused with the list. With one
	// allowed cluster, a call naming none means it.
	AllowedClusters []string
	// CallTimeout bounds every tool call: at the limit the tool's context ends and the call
	// answers an isError result naming the limit. Zero (or less) means DefaultCallTimeout.
	CallTimeout time.Duration
	// Logger receives the server's warnings (a tool that does not stop at its limit); nil
	// discards them.
	Logger *slog.Logger
}

// Clusters hands out a Kubernetes client for a cluster name ("" = the current context);
// *kube.Clusters is the real one.
type Clusters interface {
	Client(ctx context.Context, clusterName string) (*kube.Client, error)
}

// server is the state the tool handlers share.
type server struct {
	store     *store.Store
	runbooks  *runbook.Catalog
	clusters  Clusters
	collector *collect.Collector
	aws       ClusterAWS
	// allowNodeProxy: see Options.AllowNodeProxy.
	allowNodeProxy bool
	// allowedClusters: see Options.AllowedClusters.
	allowedClusters []string
	// approveCollect: see Options.ApproveCollect.
	approveCollect bool
	// runbookErr is why the built-in catalog could not be loaded; list_sops and get_sop report it
	// rather than the whole server failing, because the log tools do not need runbooks.
	runbookErr error
}

// instructions tell a client how the tools fit the K3 runbook.
const instructions = "nodediag explains why a Kubernetes container is crash-looping from the worker node's own logs. " +
	"Follow the K3 SOP (get_sop sopId=K3): Phase 1 read_k8s_resource, get_k8s_events and get_pod_logs(previous=true) for " +
	"the pod; collect(instanceId) then status(executionId) until completed for the node's logs; then errors, search, " +
	"correlate, summarize. diagnose_crashloop(namespace, pod) runs the whole SOP in one call. instanceId selects the " +
	"node's newest stored bundle; cluster_health says whether the nodes themselves are well; fleet_crashloops whether a " +
	"crash loop is on other nodes' stored bundles too (the K3 multi-node guardrail)."

func (s *server) registerAll(r *registry) {
	s.register(r)
	s.registerCollection(r)
	s.registerKube(r)
	s.registerCluster(r)
	s.registerFleet(r)
}

// howToConfigure says what the server's operator passes to serve for each missing toolset.
func howToConfigure(sets []string) string {
	var how []string
	for _, set := range sets {
		switch set {
		case SetKubernetes:
			how = append(how, "kubernetes: serve --kubeconfig, or a pod's service account")
		case SetAWS:
			how = append(how, "aws: AWS credentials and region, and serve --bucket for collect")
		case SetNodeLogs:
			how = append(how, "node-logs: serve --store")
		case SetFleet:
			how = append(how, "fleet: serve --store")
		}
	}
	return strings.Join(how, "; ")
}

// New returns an MCP server with every node-log tool registered. It does not start serving:
// the caller connects it to a transport (stdio, HTTP or, in tests, in-memory).
func New(opts Options) *mcp.Server {
	s := &server{store: opts.Store, runbooks: opts.Runbooks, clusters: opts.Clusters, collector: opts.Collector, aws: opts.AWS,
		allowNodeProxy: opts.AllowNodeProxy, allowedClusters: slices.Clone(opts.AllowedClusters), approveCollect: opts.ApproveCollect}
	if s.runbooks == nil {
		s.runbooks, s.runbookErr = runbook.Builtin()
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	sets := opts.Toolsets
	if len(sets) == 0 {
		sets = AllToolsets
	}
	// A first pass records the tools; the second adds those a client should see, once the
	// instructions can say what is not served and why (they are sent at initialize).
	plan := &registry{fullText: opts.FullText}
	s.registerAll(plan)
	drop, missing := plan.choose(sets, opts.ReadOnly)
	text := instructions
	if len(missing) > 0 {
		text += " Not configured on this server, so not listed: " + howToConfigure(missing) + "."
	}
	if len(s.allowedClusters) > 0 {
		text += " The Kubernetes and AWS tools may reach only these clusters (clusterName): " + strings.Join(s.allowedClusters, ", ") + "."
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "nodediag", Version: version}, &mcp.ServerOptions{Instructions: text})
	s.registerAll(&registry{srv: srv, fullText: opts.FullText, drop: drop})
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limit := opts.CallTimeout
	if limit <= 0 {
		limit = DefaultCallTimeout
	}
	srv.AddReceivingMiddleware(callLimit(limit, log))
	return srv
}

// readOnly marks a tool that changes nothing, on the node or in the store, and reads only the
// store, so clients may call it without asking the user.
func readOnly(title string) *mcp.ToolAnnotations {
	closed := false
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &closed}
}

// readsOutside marks a tool that changes nothing but reads a live system outside the store: the
// cluster's API or AWS.
func readsOutside(title string) *mcp.ToolAnnotations {
	open := true
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &open}
}

// fetchesIntoStore marks a tool that reads AWS and may add to the store (status downloads and
// imports a finished collection): not read-only, never destructive, and calling it again
// changes nothing more.
func fetchesIntoStore(title string) *mcp.ToolAnnotations {
	notDestructive, open := false, true
	return &mcp.ToolAnnotations{Title: title, IdempotentHint: true, DestructiveHint: &notDestructive, OpenWorldHint: &open}
}

// BundleRef names the bundle an answer was read from, so every claim carries its provenance.
type BundleRef struct {
	BundleID   string    `json:"bundleId" jsonschema:"the stored bundle the answer was read from"`
	InstanceID string    `json:"instanceId" jsonschema:"the EC2 instance id of the node"`
	Capture    time.Time `json:"capture,omitzero" jsonschema:"when the bundle was collected (UTC)"`
}

// open resolves a bundle and loads its index. An unknown instance or bundle is an error the agent
// can act on: it names what the store holds.
func (s *server) open(ctx context.Context, instanceID, bundleID string) (*store.Entry, *index.Index, BundleRef, error) {
	if s.store == nil {
		return nil, nil, BundleRef{}, errors.New("no bundle store is configured for this server: start it with --store DIR")
	}
	e, err := s.store.Resolve(instanceID, bundleID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, BundleRef{}, notFound(s.store, instanceID, bundleID)
		}
		return nil, nil, BundleRef{}, fmt.Errorf("resolving instanceId %q bundleId %q: %w", instanceID, bundleID, err)
	}
	idx, err := s.store.Index(ctx, e, false)
	if err != nil {
		return nil, nil, BundleRef{}, fmt.Errorf("loading the index of bundle %s: %w", e.Manifest.ID, err)
	}
	return e, idx, BundleRef{BundleID: e.Manifest.ID, InstanceID: e.Manifest.InstanceID, Capture: idx.Time.Capture}, nil
}

// notFound says what st holds and how to get the bundle that is missing.
func notFound(st *store.Store, instanceID, bundleID string) error {
	what := fmt.Sprintf("instance %q", instanceID)
	if bundleID != "" {
		what = fmt.Sprintf("bundle %q", bundleID)
		if instanceID != "" {
			what += fmt.Sprintf(" of instance %q", instanceID)
		}
	}
	var have []string
	if entries, err := st.List(); err == nil {
		for _, e := range entries {
			if !slices.Contains(have, e.Manifest.InstanceID) {
				have = append(have, e.Manifest.InstanceID)
			}
		}
	}
	stored := "the store holds no bundles"
	if len(have) > 0 {
		stored = "stored instances: " + strings.Join(have, ", ")
	}
	how := "import a log collector bundle with `nodediag import <archive>`, or call again with one of the stored instanceIds"
	if instanceID != "" && bundleID == "" {
		how = fmt.Sprintf("collect(instanceId=%q) starts a collection and status(executionId) brings the bundle in; or %s", instanceID, how)
	}
	return fmt.Errorf("no bundle for %s in the store (%s): %s", what, stored, how)
}

// pick returns the one value given for a parameter that has two spellings (the SOP's and the EKS
// MCP server's); both given and different is an error, since either could be the intended one.
func pick(name, a, altName, b string) (string, error) {
	if a != "" && b != "" && a != b {
		return "", fmt.Errorf("%s %q and %s %q disagree: give one of them", name, a, altName, b)
	}
	if a != "" {
		return a, nil
	}
	return b, nil
}

// pickWorkload resolves the pod and container parameters, each given in the SOP's spelling or
// the EKS MCP server's.
func pickWorkload(pod, podName, container, containerName string) (string, string, error) {
	p, err := pick("pod", pod, "pod_name", podName)
	if err != nil {
		return "", "", err
	}
	c, err := pick("container", container, "container_name", containerName)
	if err != nil {
		return "", "", err
	}
	return p, c, nil
}

// splitList reads a comma-separated parameter ("kubelet,containerd") into its trimmed items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
