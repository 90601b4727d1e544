package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Clusters chooses a cluster by the name an agent knows it by (the EKS cluster name the K3 SOP
// passes as clusterName) and hands out one cached Client per kubeconfig context. It is safe
// for concurrent use.
type Clusters struct {
	kubeconfig string
	from       func(clusterName string) (*Client, error)
	inCluster  func() (*rest.Config, error)

	mu      sync.Mutex
	clients map[string]*Client // by resolved context name; "" is the in-cluster client
}

// NewClusters reads contexts from kubeconfigPath; empty: $KUBECONFIG or ~/.kube/config, as
// kubectl does. When no kubeconfig exists and the process runs in a pod, the pod's service
// account is used (in-cluster config). The files are read on each Client call, so a context
// added meanwhile (aws eks update-kubeconfig) is found without a restart.
func NewClusters(kubeconfigPath string) *Clusters {
	return &Clusters{kubeconfig: kubeconfigPath, inCluster: rest.InClusterConfig, clients: map[string]*Client{}}
}

// NewClustersFrom serves every Client from a function of the cluster name asked for (fakes in
// tests): it decides what names exist and may return the same Client for each.
func NewClustersFrom(from func(clusterName string) (*Client, error)) *Clusters {
	return &Clusters{from: from, clients: map[string]*Client{}}
}

// Client returns the client for clusterName: empty means the current context; otherwise the
// context whose name equals it, else the contexts whose cluster entry is named clusterName, or
// whose context or cluster name is an EKS ARN ending ":cluster/<clusterName>" or an eksctl name
// "<user>@<clusterName>.<region>.eksctl.io". No match, or matches that point at different
// clusters, is an error naming the contexts.
func (cs *Clusters) Client(ctx context.Context, clusterName string) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("choose cluster %q: %w", clusterName, err)
	}
	if cs.from != nil {
		return cs.from(clusterName)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if cs.kubeconfig != "" {
		rules.ExplicitPath = cs.kubeconfig
	}
	cfg, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", orDefault(cs.kubeconfig, "($KUBECONFIG or ~/.kube/config)"), err)
	}
	if len(cfg.Contexts) == 0 {
		return cs.inClusterClient(clusterName)
	}
	name, err := ResolveContext(cfg, clusterName)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.clients[name]; ok {
		return c, nil
	}
	rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, name, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", name, err)
	}
	c, err := NewClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", name, err)
	}
	cs.clients[name] = c
	return c, nil
}

// inClusterClient serves a process in a pod without a kubeconfig. There is only one cluster to
// talk to, so any clusterName is taken to mean it.
func (cs *Clusters) inClusterClient(clusterName string) (*Client, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.clients[""]; ok {
		return c, nil
	}
	rc, err := cs.inCluster()
	if err != nil {
		where := cs.kubeconfig
		if where == "" {
			where = "$KUBECONFIG or ~/.kube/config"
			if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
				where = env
			}
		}
		return nil, fmt.Errorf("cluster %q: no kubeconfig context in %s and not running in a pod (%w); write one with aws eks update-kubeconfig --name CLUSTER", clusterName, where, err)
	}
	c, err := NewClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("in-cluster client: %w", err)
	}
	cs.clients[""] = c
	return c, nil
}

// ErrNoContext marks a cluster name no kubeconfig context matches, or matches ambiguously.
var ErrNoContext = errors.New("no kubeconfig context for the cluster")

// ResolveContext picks the context of cfg that clusterName names, by the rules of
// (*Clusters).Client, and returns its name.
func ResolveContext(cfg *clientcmdapi.Config, clusterName string) (string, error) {
	if clusterName == "" {
		if cfg.CurrentContext == "" {
			return "", fmt.Errorf("%w: no clusterName given and the kubeconfig has no current-context; contexts: %s", ErrNoContext, contextList(cfg))
		}
		if _, ok := cfg.Contexts[cfg.CurrentContext]; !ok {
			return "", fmt.Errorf("%w: current-context %q is not among the contexts (%s)", ErrNoContext, cfg.CurrentContext, contextList(cfg))
		}
		return cfg.CurrentContext, nil
	}
	// A context's own name is what kubectl --context takes: it wins outright.
	if _, ok := cfg.Contexts[clusterName]; ok {
		return clusterName, nil
	}
	var matches []string
	for name, c := range cfg.Contexts {
		if c != nil && (c.Cluster == clusterName || namesCluster(name, clusterName) || namesCluster(c.Cluster, clusterName)) {
			matches = append(matches, name)
		}
	}
	sort.Strings(matches)
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("%w: no kubeconfig context names cluster %q (by context name, cluster entry, EKS ARN or eksctl name); contexts: %s", ErrNoContext, clusterName, contextList(cfg))
	case 1:
		return matches[0], nil
	}
	// Several contexts may reach one cluster (two users, two namespaces); that is no ambiguity.
	// The current context is preferred among them, then the first by name.
	byCluster := map[string][]string{}
	for _, m := range matches {
		k := cfg.Contexts[m].Cluster
		if cl := cfg.Clusters[k]; cl != nil {
			k = cl.Server
		}
		byCluster[k] = append(byCluster[k], m)
	}
	if len(byCluster) > 1 {
		var desc []string
		for _, k := range sortedKeys(byCluster) {
			desc = append(desc, fmt.Sprintf("%s (cluster %s)", strings.Join(byCluster[k], ", "), k))
		}
		return "", fmt.Errorf("%w: cluster name %q is ambiguous: it matches contexts of different clusters: %s; pass a context name instead", ErrNoContext, clusterName, strings.Join(desc, " and "))
	}
	if slices.Contains(matches, cfg.CurrentContext) {
		return cfg.CurrentContext, nil
	}
	return matches[0], nil
}

// namesCluster says whether an EKS-style name (an ARN or an eksctl context name) is that of
// cluster: "arn:aws:eks:us-west-2:123456789012:cluster/prod" and
// "alice@prod.us-west-2.eksctl.io" both name "prod".
func namesCluster(name, cluster string) bool {
	if strings.HasPrefix(name, "arn:") && strings.HasSuffix(name, ":cluster/"+cluster) {
		return true
	}
	_, host, ok := strings.Cut(name, "@")
	if !ok {
		host = name // eksctl names the cluster entry without the user
	}
	rest, ok := strings.CutSuffix(host, ".eksctl.io")
	if !ok {
		return false
	}
	// rest is "<cluster>.<region>"; the cluster name itself may hold no dot (EKS forbids it).
	i := strings.LastIndexByte(rest, '.')
	return i > 0 && rest[:i] == cluster
}

func contextList(cfg *clientcmdapi.Config) string {
	if len(cfg.Contexts) == 0 {
		return "none"
	}
	var out []string
	for _, name := range sortedKeys(cfg.Contexts) {
		c := cfg.Contexts[name]
		cl := ""
		if c != nil {
			cl = c.Cluster
		}
		out = append(out, fmt.Sprintf("%s (cluster %s)", name, cl))
	}
	return strings.Join(out, ", ")
}
