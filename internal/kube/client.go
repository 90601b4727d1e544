package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	kubecfg "github.com/nodediag/nodediag/internal/kubeconfig"
	"github.com/nodediag/nodediag/internal/providerid"
)

// maxLogBytes caps the previous log fetched: the error that ended the container is at its end,
// and the runbook needs the last lines, not the whole history.
const maxLogBytes int64 = 1 << 20

// Client reads a cluster through the API server. It only ever gets and lists: the runbook's
// Kubernetes steps are all read-only (GREEN). A Client is safe for concurrent use.
type Client struct {
	cs  kubernetes.Interface
	dyn dynamic.Interface // nil when built by NewClientFrom: generic kinds are then refused
	// meta lists Secrets as metadata only (PartialObjectMetadataList): their data never
	// reaches this process. nil: Secrets are not listed.
	meta metadata.Interface
	host string // the API server URL, named in unreachable-cluster errors

	// Discovery is read once, on the first kind to resolve, and again when a kind is not found
	// (a CRD installed since); every later call shares it.
	mu     sync.Mutex
	groups []*restmapper.APIGroupResources
	mapper meta.RESTMapper
	cfg    *rest.Config
}

// NewClient builds a client from a kubeconfig file (empty: $KUBECONFIG or ~/.kube/config, as
// kubectl does) and a context name (empty: the current context).
func NewClient(kubeconfig, kubeContext string) (*Client, error) {
	cfg, _, err := LoadConfig(kubeconfig, kubeContext)
	if err != nil {
		return nil, err
	}
	return NewClientForConfig(cfg)
}

// LoadConfig reads a kubeconfig the way kubectl does (empty path: $KUBECONFIG or ~/.kube/config;
// empty context: the current one) and returns the REST configuration with the name of the
// context's cluster entry ("" when the file does not say). internal/kubeconfig does the work,
// free of the clientset, for the capture agent's binary.
func LoadConfig(kubeconfig, kubeContext string) (*rest.Config, string, error) {
	return kubecfg.Load(kubeconfig, kubeContext)
}

// requestTimeout bounds each API request; the largest (a 1 MiB log, a 500-row list) take well
// under a second on a reachable API server.
const requestTimeout = 30 * time.Second

// NewClientForConfig builds a client (typed, dynamic and discovery) from a REST config, such as
// the in-cluster one. Nothing is contacted until the first call.
func NewClientForConfig(cfg *rest.Config) (*Client, error) {
	if cfg.Timeout == 0 {
		// client-go waits forever by default; a cluster behind a dropped VPN would hang a tool
		// call (and the agent waiting on it) instead of answering that it is unreachable.
		cfg = rest.CopyConfig(cfg)
		cfg.Timeout = requestTimeout
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", cfg.Host, err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client for %s: %w", cfg.Host, err)
	}
	return &Client{cs: cs, dyn: dyn, meta: meta, host: cfg.Host, cfg: rest.CopyConfig(cfg)}, nil
}

// RESTConfig is the configuration the client was built from, for the callers that speak to the
// API server beyond client-go's typed calls (the node log query of a kube collection).
func (c *Client) RESTConfig() (*rest.Config, error) {
	if c.cfg == nil {
		return nil, fmt.Errorf("the client for %s was built without a REST configuration (a fake): it cannot reach the node log API", orDefault(c.host, "this cluster"))
	}
	return rest.CopyConfig(c.cfg), nil
}

// NewClientFrom wraps a clientset (a fake one in tests). Without a dynamic client, ListResources
// and ReadResource refuse; every typed call (Fetch, Events, PodLogs, NodeOf, NodeConditions) works.
func NewClientFrom(cs kubernetes.Interface) *Client { return &Client{cs: cs} }

// NewClientWith wraps a clientset and a dynamic client (fakes in tests). Kinds are resolved
// through the clientset's discovery.
func NewClientWith(cs kubernetes.Interface, dyn dynamic.Interface) *Client {
	return &Client{cs: cs, dyn: dyn}
}

// WithMetadata adds the metadata-only client Secrets are listed with (a fake one in tests).
func (c *Client) WithMetadata(m metadata.Interface) *Client {
	c.meta = m
	return c
}

// Clientset is the typed clientset the client reads through.
func (c *Client) Clientset() kubernetes.Interface { return c.cs }

// Host is the API server URL the client talks to; empty for a client built on fakes.
func (c *Client) Host() string { return c.host }

// ErrUnreachable marks an API server that could not be reached or refused the credentials; the
// message names the server and what to check.
var ErrUnreachable = errors.New("Kubernetes API server unreachable")

// apiErr wraps an API call's error. Transport failures (refused, timeout, DNS, TLS) and rejected
// credentials get a message naming the server URL and what to check, because "connection
// refused" alone does not tell an on-call engineer that their VPN is down.
func (c *Client) apiErr(what string, err error) error {
	if err == nil {
		return nil
	}
	host := c.host
	if host == "" {
		host = "the API server"
	}
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller's deadline, not the server's fault.
		return fmt.Errorf("%s: %w", what, err)
	case errors.As(err, &ue), errors.As(err, &ne), utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err):
		return fmt.Errorf("%s: %w: could not reach %s (check the kubeconfig context, VPN and network access): %w", what, ErrUnreachable, host, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: %w: %s rejected the credentials (check the kubeconfig user, or renew the token, e.g. aws eks update-kubeconfig): %w", what, ErrUnreachable, host, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// PodInfo is what the API says about a pod for the K3 runbook's Phase 1.
type PodInfo struct {
	Pod         *corev1.Pod
	Container   string
	Events      []corev1.Event
	PreviousLog string
	NodeName    string
	ProviderID  string
	InstanceID  string // from the node's providerID (aws:///zone/i-…); empty off AWS
	// ClusterCrashLoops are the pods of the whole cluster in CrashLoopBackOff: the runbook's
	// "multiple pods on multiple nodes" guardrail needs to see beyond this node.
	ClusterCrashLoops []CrashLoop
	// Gaps says what could not be read and why; the diagnosis lists them.
	Gaps []string
}

// Fetch reads the pod, picks its container, and reads its events, previous log and node. Only
// the pod is required: anything else that fails is a gap, because a diagnosis without it is
// still worth having.
func (c *Client) Fetch(ctx context.Context, namespace, pod, container string) (*PodInfo, error) {
	if namespace == "" || pod == "" {
		return nil, fmt.Errorf("%w: want --pod NAMESPACE/NAME, got namespace %q pod %q", ErrInput, namespace, pod)
	}
	p, err := c.cs.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return nil, c.apiErr(fmt.Sprintf("get pod %s/%s", namespace, pod), err)
	}
	info := &PodInfo{Pod: p, NodeName: p.Spec.NodeName}
	if info.Container, err = PickContainer(p, container); err != nil {
		return nil, err
	}
	sel := fields.Set{"involvedObject.name": pod, "involvedObject.namespace": namespace}.AsSelector().String()
	evs, err := c.cs.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		info.Gaps = append(info.Gaps, fmt.Sprintf("pod events not read: %v", err))
	} else {
		// The server applies the field selector; filtering again keeps a server (or fake)
		// that ignores it from mixing in other pods' events.
		info.Events = EventsFor(evs.Items, p, info.Container)
	}
	limit := maxLogBytes
	raw, err := c.cs.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: info.Container, Previous: true, LimitBytes: &limit}).DoRaw(ctx)
	if err != nil {
		info.Gaps = append(info.Gaps, fmt.Sprintf("previous container log not read: %v", err))
	} else {
		info.PreviousLog = string(raw)
	}
	c.clusterView(ctx, info)
	if info.NodeName == "" {
		info.Gaps = append(info.Gaps, "pod is not scheduled to a node (spec.nodeName empty)")
		return info, nil
	}
	n, err := c.cs.CoreV1().Nodes().Get(ctx, info.NodeName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		info.Gaps = append(info.Gaps, fmt.Sprintf("node %s no longer exists", info.NodeName))
	case err != nil:
		info.Gaps = append(info.Gaps, fmt.Sprintf("node %s not read: %v", info.NodeName, err))
	default:
		info.ProviderID = n.Spec.ProviderID
		info.InstanceID = InstanceID(n.Spec.ProviderID)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fetch pod %s/%s: %w", namespace, pod, err)
	}
	return info, nil
}

// InstanceID extracts the EC2 instance id from a node's providerID ("aws:///us-west-2a/i-0abc…"),
// or returns "" when the provider is not AWS or the id is not there (internal/providerid).
func InstanceID(providerID string) string { return providerid.InstanceID(providerID) }
