package gather

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/nodediag/nodediag/internal/providerid"
)

// KubeOptions tunes FromNode. The zero value gathers the collector's 10-day window.
type KubeOptions struct {
	Since        time.Time // node log query sinceTime; zero: Now − 10 days
	Until        time.Time // untilTime; zero: not sent
	TailLines    int       // tailLines (the kubelet accepts up to 100000); 0: not sent
	Boot         *int      // boot (0 the current boot, −1 the one before); nil: not sent
	MaxFileBytes int64     // per-file cap; 0: DefaultMaxFileBytes
	Now          func() time.Time
	Progress     Progress
}

// ForbiddenError says the caller may not use the node log query. nodes/proxy reaches the whole
// kubelet API, so nodediag asks for it only on an explicit opt-in and names the permission.
type ForbiddenError struct {
	Node string
	Err  error
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("node log query on node %s was refused (HTTP 403): the identity needs RBAC verb \"get\" on resource "+
		"\"nodes/proxy\" (and \"nodes/log\" on some clusters); nodes/proxy grants the whole kubelet API, which is why "+
		"--allow-node-proxy is an explicit opt-in: %v", e.Node, e.Err)
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// unitQueries are the journald units asked of the node log query, with where the collector puts
// their journals.
var unitQueries = []struct{ unit, path string }{
	{"kubelet", "kubelet/kubelet.log"},
	{"containerd", "containerd/containerd-log.txt"},
}

// logFiles are files of the node's /var/log read through the kubelet's /logs/ file server. The
// kubelet's node log query reads journald units only, and kernel messages belong to no unit, so
// syslog copies (AL2's /var/log/messages, Ubuntu's syslog) and the boot-time dmesg file are the
// only kernel messages this method can reach.
var logFiles = []struct{ name, path string }{
	{"messages", "var_log/messages"},
	{"syslog", "var_log/syslog"},
	{"dmesg", "kernel/dmesg.boot"},
}

// FromNode gathers a bundle for one node through the API server at cfg: the kubelet and
// containerd journals by the node log query (GET /api/v1/nodes/NODE/proxy/logs/?query=UNIT),
// /var/log/messages, syslog and dmesg through the kubelet's /logs/ file server, and the current
// and previous logs of every container of every pod on the node through the pods API. It
// writes dstParent/eks_<instance-or-node>_<YYYY-MM-DD_HHMM>-UTC_nodediag-kube/.
//
// A 403 on nodes/proxy is a *ForbiddenError and nothing is written. A disabled node log query
// (feature gate NodeLogQuery off or enableSystemLogQuery false in the kubelet config), an absent
// unit or file and a refused pod log are listed in Result.Missing and gathering goes on.
func FromNode(ctx context.Context, cfg *rest.Config, nodeName, dstParent string, opt KubeOptions) (*Result, error) {
	if cfg == nil {
		return nil, errors.New("gather: nil REST config (want the cluster's client configuration)")
	}
	if nodeName == "" || strings.ContainsAny(nodeName, "/?#") {
		return nil, fmt.Errorf("gather: node name %q is not valid (want a node's metadata.name)", nodeName)
	}
	// The core group is all FromNode reads; its typed client spares the rest of the clientset.
	cs, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("gather: kubernetes client for %s: %w", cfg.Host, err)
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	capture := now().UTC()
	if opt.Since.IsZero() {
		opt.Since = capture.Add(-DefaultWindow)
	}
	b, err := newBuilder(dstParent, "kube", capture, opt.MaxFileBytes, opt.Progress)
	if err != nil {
		return nil, err
	}
	b.res.NodeName = nodeName
	b.plan(2 + len(unitQueries) + len(logFiles))

	b.step("node " + nodeName)
	node, err := cs.Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	switch {
	case ctx.Err() != nil:
		return nil, b.abort(fmt.Errorf("gather: node %s: %w", nodeName, ctx.Err()))
	case apierrors.IsNotFound(err):
		return nil, b.abort(fmt.Errorf("gather: node %s not found in the cluster at %s (check the name with `kubectl get nodes`): %w", nodeName, cfg.Host, err))
	case err != nil:
		b.missing("instance id", fmt.Sprintf("reading node %s failed, so its providerID is unknown: %v", nodeName, err))
	default:
		b.res.InstanceID = providerid.InstanceID(node.Spec.ProviderID)
		if b.res.InstanceID == "" {
			b.missing("instance id", fmt.Sprintf("node %s has providerID %q, which names no EC2 instance", nodeName, node.Spec.ProviderID))
		}
	}
	if validInstanceID.MatchString(b.res.InstanceID) {
		if err := b.writeText(ctx, "system/instance-id.txt", "node spec.providerID", b.res.InstanceID); err != nil {
			return nil, b.abort(err)
		}
	}

	proxy := "/api/v1/nodes/" + url.PathEscape(nodeName) + "/proxy/logs/"
	for _, q := range unitQueries {
		b.step("node log query " + q.unit)
		params := queryParams(q.unit, opt)
		req := cs.RESTClient().Get().AbsPath(proxy)
		for k, vs := range params {
			for _, v := range vs {
				req = req.Param(k, v)
			}
		}
		source := "node log query " + proxy + "?" + params.Encode() + " (journalctl --utc --output=short-precise on the node)"
		if err := b.fetchJournal(ctx, req, nodeName, q.path, source); err != nil {
			return nil, b.abort(err)
		}
	}
	for _, f := range logFiles {
		b.step("node /var/log/" + f.name)
		req := cs.RESTClient().Get().AbsPath(proxy + f.name)
		if err := b.fetchFile(ctx, req, nodeName, f.name, f.path, "kubelet /logs/ file server "+proxy+f.name); err != nil {
			return nil, b.abort(err)
		}
	}
	b.missing("kernel ring buffer", "the node log query reads journald units and /var/log files only; the kernel ring buffer "+
		"(dmesg, journalctl -k) is not reachable through it: kernel messages come only from /var/log/messages or syslog where the node keeps them")

	b.step("pods on node " + nodeName)
	if err := b.podLogs(ctx, cs, nodeName); err != nil {
		return nil, b.abort(err)
	}
	id := b.res.InstanceID
	if id == "" {
		id = nodeName
	}
	return b.finish(id)
}

// queryParams are the node log query's parameters for one unit, in the kubelet's spelling.
func queryParams(unit string, opt KubeOptions) url.Values {
	v := url.Values{}
	v.Set("query", unit)
	v.Set("sinceTime", opt.Since.UTC().Format(time.RFC3339))
	if !opt.Until.IsZero() {
		v.Set("untilTime", opt.Until.UTC().Format(time.RFC3339))
	}
	if opt.TailLines > 0 {
		v.Set("tailLines", strconv.Itoa(opt.TailLines))
	}
	if opt.Boot != nil {
		v.Set("boot", strconv.Itoa(*opt.Boot))
	}
	return v
}

// replyProblem recognises the kubelet's in-band failures: the node log query answers 200 with an
// explanation in the body when a unit is not in the journal, journalctl fails, or the query is
// ignored because the feature is off (the /logs/ file server then lists /var/log as HTML).
func replyProblem(head []byte, unit string) string {
	t := bytes.TrimSpace(head)
	switch {
	case bytes.HasPrefix(bytes.ToLower(t), []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<pre>")):
		return "the kubelet ignored the query and listed /var/log instead: the node log query is disabled " +
			"(feature gate NodeLogQuery off, or enableSystemLogQuery: false in the kubelet configuration)"
	case bytes.Contains(t, []byte("options present and query resolved to log files")),
		bytes.HasPrefix(t, []byte("log not found for")):
		return fmt.Sprintf("journald on the node has no unit %s.service (the kubelet fell back to /var/log files and found none)", unit)
	case bytes.HasPrefix(t, []byte("error: journal output not available")),
		bytes.HasPrefix(t, []byte("failed to get logging cmd")),
		bytes.HasPrefix(t, []byte("error getting log for")):
		return "the kubelet could not run journalctl: " + string(firstLineOf(t))
	}
	return ""
}

func firstLineOf(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// statusProblem explains an HTTP failure of the node log query or the /logs/ file server;
// a 403 is returned as an error since nothing through nodes/proxy can work.
func statusProblem(err error, node, what string) (string, error) {
	switch {
	case apierrors.IsForbidden(err):
		return "", &ForbiddenError{Node: node, Err: err}
	case apierrors.IsNotFound(err):
		return what + " not found on the node (HTTP 404; for the query itself: the kubelet's log handler is off, enableSystemLogHandler: false)", nil
	case apierrors.IsBadRequest(err), apierrors.IsNotAcceptable(err):
		return "the kubelet rejected the request (" + err.Error() + "); the node log query needs a kubelet with feature gate " +
			"NodeLogQuery and enableSystemLogQuery: true in the kubelet configuration", nil
	}
	return fmt.Sprintf("request failed: %v", err), nil
}

// fetchJournal streams one node log query into path.
func (b *builder) fetchJournal(ctx context.Context, req *rest.Request, node, rel, source string) error {
	unit := req.URL().Query().Get("query")
	rc, err := req.Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("gather: %s: %w", source, ctx.Err())
		}
		why, ferr := statusProblem(err, node, "unit "+unit)
		if ferr != nil {
			return ferr
		}
		b.missing(rel, why)
		return nil
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	head, _ := br.Peek(4096)
	if why := replyProblem(head, unit); why != "" {
		b.missing(rel, why)
		return nil
	}
	var n int
	_, ok, err := b.write(ctx, rel, source, br, countEntries(&n))
	if err != nil {
		return err
	}
	if ok && n == 0 {
		b.drop(rel)
		ok = false
	}
	if !ok {
		b.missing(rel, fmt.Sprintf("journald returned no entries for unit %s in the window", unit))
	}
	return nil
}

// fetchFile streams one /var/log file through the kubelet's /logs/ file server into path.
func (b *builder) fetchFile(ctx context.Context, req *rest.Request, node, name, rel, source string) error {
	rc, err := req.Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("gather: %s: %w", source, ctx.Err())
		}
		why, ferr := statusProblem(err, node, "/var/log/"+name)
		if ferr != nil {
			return ferr
		}
		b.missing(rel, why)
		return nil
	}
	defer rc.Close()
	_, ok, err := b.write(ctx, rel, source, rc, nil)
	if err != nil {
		return err
	}
	if !ok {
		b.missing(rel, "/var/log/"+name+" is empty on the node")
	}
	return nil
}

// podLogs gathers current and previous logs of every container of every pod bound to the node.
func (b *builder) podLogs(ctx context.Context, cs corev1client.CoreV1Interface, node string) error {
	pods, err := cs.Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String()})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("gather: list pods on %s: %w", node, ctx.Err())
		}
		b.missing("pod logs", fmt.Sprintf("listing pods on node %s failed (needs RBAC \"list\" on \"pods\"): %v", node, err))
		return nil
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		statuses := map[string]corev1.ContainerStatus{}
		for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			statuses[s.Name] = s
		}
		var names []string
		for _, c := range p.Spec.InitContainers {
			names = append(names, c.Name)
		}
		for _, c := range p.Spec.Containers {
			names = append(names, c.Name)
		}
		for _, c := range names {
			restarts := int(statuses[c].RestartCount)
			attempts := []struct {
				n        int
				previous bool
			}{{restarts, false}}
			if restarts > 0 {
				attempts = append(attempts, struct {
					n        int
					previous bool
				}{restarts - 1, true})
			}
			for _, a := range attempts {
				b.plan(1)
				if err := b.podLog(ctx, cs, p, c, a.n, a.previous); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (b *builder) podLog(ctx context.Context, cs corev1client.CoreV1Interface, p *corev1.Pod, container string, n int, previous bool) error {
	which := "current"
	if previous {
		which = "previous"
	}
	ref := fmt.Sprintf("%s/%s container %s (%s)", p.Namespace, p.Name, container, which)
	b.step("pod log " + ref)
	// kubelet's own layout, which internal/bundle reads the pod UID and restart count from.
	rel := fmt.Sprintf("var_log/pods/%s_%s_%s/%s/%d.log", p.Namespace, p.Name, p.UID, container, n)
	limit := b.maxBytes
	rc, err := cs.Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{
		Container: container, Previous: previous, Timestamps: true, LimitBytes: &limit,
	}).Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("gather: pod log %s: %w", ref, ctx.Err())
		}
		b.missing(rel, fmt.Sprintf("pods/log for %s failed: %v", ref, err))
		return nil
	}
	defer rc.Close()
	source := fmt.Sprintf("pods/log %s timestamps=true previous=%t (the API merges stdout and stderr: written as stdout)", ref, previous)
	_, ok, err := b.write(ctx, rel, source, rc, criLine())
	if err != nil {
		return err
	}
	if !ok {
		b.missing(rel, fmt.Sprintf("%s wrote nothing", ref))
	}
	return nil
}

// criLine turns the pods API's "<RFC3339Nano> <text>" lines into the CRI log format kubelet
// writes under /var/log/pods ("<RFC3339Nano> stdout F <text>"). The API does not say which
// stream a line came from, so every line is stdout. A line without a stamp (a long line the
// server split) borrows the last stamp seen, so that it stays in order.
func criLine() lineFunc {
	var last []byte
	return func(dst, line []byte) []byte {
		line = bytes.TrimSuffix(line, []byte("\r"))
		stamp, text, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			stamp, text = line, nil
		}
		if _, err := time.Parse(time.RFC3339Nano, string(stamp)); err != nil {
			if last == nil {
				return dst // nothing to place it by; a log always begins with a stamped line
			}
			stamp, text = last, line
		} else {
			last = append(last[:0], stamp...)
		}
		dst = append(dst, stamp...)
		dst = append(dst, " stdout F "...)
		return append(dst, text...)
	}
}
