package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nodediag/nodediag/internal/gather"
	"github.com/nodediag/nodediag/internal/providerid"
)

// Client is the part of the API the agent uses: the core group (pods get/list/watch, events
// list, nodes get). kubernetes.Interface and client-go's fake clientset satisfy it, and so does
// CoreClient around the core group's typed client alone, which is what the agent's binary
// builds: the clientset and the informer factory link and register every API group at start-up,
// tens of MiB of RSS on a process that otherwise idles (docs/performance.md).
//
// Tests pass the fake clientset itself, not CoreClient around its CoreV1(): the clientset is what
// tells the pod watch that the fake cannot stream a watch-list, which it would otherwise wait
// for (client-go's reflector awaits the initial-events bookmark, and the fake never sends it).
type Client interface {
	CoreV1() corev1client.CoreV1Interface
}

// CoreClient makes a core-group typed client (corev1client.NewForConfig) a Client.
type CoreClient struct{ corev1client.CoreV1Interface }

// CoreV1 returns the typed client.
func (c CoreClient) CoreV1() corev1client.CoreV1Interface { return c.CoreV1Interface }

// Options configure an Agent. Zero durations and sizes take the defaults below.
type Options struct {
	Node     string // the node whose pods are watched (NODE_NAME from the downward API)
	Client   Client // pods get/list/watch, events list, nodes get
	Sink     Sink
	State    StateKeeper   // where the rate limits are kept across restarts; nil: not kept
	HostRoot string        // where the node's filesystem is mounted ("/host"); "": "/"
	Run      gather.Runner // journalctl and dmesg; nil: gather.ExecRunner (hostRunner points journalctl at HostRoot)
	WorkDir  string        // where snapshots are built before the sink takes them; "": the temp folder

	Limits Limits
	// Window is how far before the crash the journals are read.
	Window time.Duration
	// Settle is how long after a crash the snapshot waits, so that the kubelet's and
	// containerd's lines about the exit and the back-off are in the journal.
	Settle time.Duration
	// MaxFileBytes caps each file of a snapshot, MaxBytes the whole snapshot.
	MaxFileBytes, MaxBytes int64
	// CommandTimeout bounds each journalctl or dmesg.
	CommandTimeout time.Duration

	// FinalWithin: the last snapshot covers pods that crashed this recently; FinalDeadline
	// bounds it (keep it under the pod's terminationGracePeriodSeconds).
	FinalWithin, FinalDeadline time.Duration
	// NodePoll is how often the node is read to see it cordoned for a drain; <0: never.
	NodePoll time.Duration
	// IMDS is the instance metadata service's base URL, polled for a spot interruption notice
	// every SpotPoll; "": not polled.
	IMDS     string
	SpotPoll time.Duration

	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time
}

// Defaults.
const (
	DefaultWindow         = 30 * time.Minute
	DefaultSettle         = 15 * time.Second
	DefaultMaxFileBytes   = 4 << 20
	DefaultMaxBytes       = 16 << 20
	DefaultCommandTimeout = 30 * time.Second
	DefaultFinalWithin    = time.Hour
	DefaultFinalDeadline  = 25 * time.Second
	DefaultNodePoll       = 30 * time.Second
	DefaultSpotPoll       = 5 * time.Second
	queueSize             = 16
)

func (o *Options) defaults() {
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&o.Window, DefaultWindow)
	set(&o.CommandTimeout, DefaultCommandTimeout)
	set(&o.FinalWithin, DefaultFinalWithin)
	set(&o.FinalDeadline, DefaultFinalDeadline)
	set(&o.NodePoll, DefaultNodePoll)
	set(&o.SpotPoll, DefaultSpotPoll)
	if o.Settle < 0 {
		o.Settle = 0
	} else if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.HostRoot == "" {
		o.HostRoot = "/"
	}
	if o.WorkDir == "" {
		o.WorkDir = os.TempDir()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Check reports options Run cannot work with.
func (o *Options) Check() error {
	switch {
	case o.Node == "":
		return errors.New("agent: no node name (--node, or NODE_NAME from the downward API)")
	case o.Client == nil:
		return errors.New("agent: no Kubernetes client")
	case o.Sink == nil:
		return errors.New("agent: no store to write snapshots to")
	}
	return nil
}

// crash is the newest crash of one container, kept for the last snapshot.
type crash struct {
	pod     *corev1.Pod
	trigger gather.Trigger
	seen    time.Time // when the agent saw it; the final snapshot's "last hour" counts from here
	snapped bool      // a snapshot was taken (or is queued) since this crash
}

type job struct {
	pod     *corev1.Pod
	trigger gather.Trigger
	final   bool
}

// Agent watches one node's pods and snapshots crashes.
type Agent struct {
	opt      Options
	lim      *Limiter
	queue    chan job
	mu       sync.Mutex
	crashes  map[string]*crash // pod UID/container → newest crash
	instance string            // the node's EC2 instance id, from its providerID
}

// New returns an agent; Run starts it.
func New(opt Options) (*Agent, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	opt.defaults()
	return &Agent{opt: opt, lim: NewLimiter(opt.Limits), queue: make(chan job, queueSize), crashes: map[string]*crash{}}, nil
}

// Metrics returns the agent's metrics.
func (a *Agent) Metrics() *Metrics { return a.opt.Metrics }

// Run watches until ctx is done, then takes the last snapshot within FinalDeadline. A drain or
// a spot interruption notice takes it too, while the agent goes on watching.
func (a *Agent) Run(ctx context.Context) error {
	log := a.opt.Log
	if n, err := a.getNode(ctx); err != nil {
		// Snapshots still work, named by the node; the instance id only helps find them.
		log.Warn("own node not read; snapshots are named by node name only", "node", a.opt.Node, "err", err)
	} else {
		a.instance = providerid.InstanceID(n.Spec.ProviderID)
	}
	// Before the watch: its first list shows every loop already going, and the limits of the
	// agent's last run must decide which of them are already on record.
	a.restoreLimits(ctx)

	inf := a.podInformer()
	// The cache holds every pod of the node for the agent's lifetime: drop what no snapshot
	// uses (managed fields, last-applied annotations are most of a pod's bytes).
	if err := inf.SetTransform(trimPod); err != nil {
		return fmt.Errorf("agent: pod watch of node %s: %w", a.opt.Node, err)
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { a.observe(nil, obj) },
		UpdateFunc: func(old, obj any) { a.observe(old, obj) },
		DeleteFunc: a.forget,
	}); err != nil {
		return fmt.Errorf("agent: pod watch of node %s: %w", a.opt.Node, err)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	done := make(chan struct{})
	go func() { defer close(done); inf.RunWithContext(watchCtx) }()
	defer func() { stopWatch(); <-done }()
	if !cache.WaitForCacheSync(watchCtx.Done(), inf.HasSynced) {
		return fmt.Errorf("agent: pod watch of node %s did not sync: %w", a.opt.Node, ctx.Err())
	}
	a.opt.Metrics.ready.Store(true)
	log.Info("watching pods", "node", a.opt.Node, "instance", a.instance, "pods", len(inf.GetStore().ListKeys()))

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.work(ctx) }()
	going := make(chan string, 2)
	if a.opt.NodePoll > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); a.watchDrain(ctx, going) }()
	}
	if a.opt.IMDS != "" {
		wg.Add(1)
		go func() { defer wg.Done(); watchSpot(ctx, a.opt.IMDS, a.opt.SpotPoll, log, going) }()
	}
	for {
		select {
		case why := <-going:
			log.Warn("node going away: last snapshot", "why", why)
			fctx, cancel := context.WithTimeout(ctx, a.opt.FinalDeadline)
			a.final(fctx, why)
			cancel()
			continue
		case <-ctx.Done():
		}
		break
	}
	stopWatch()
	wg.Wait()
	// The pod's own termination grace period bounds what is left: the context is done, so
	// the last snapshot runs on one of its own.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opt.FinalDeadline)
	defer cancel()
	a.final(fctx, "SIGTERM: the agent is stopping")
	return nil
}

// podInformer watches the pods bound to the node (field selector spec.nodeName), as client-go's
// informer factory would for the core group's pods — the same list-and-watch, and the watch-list
// stream when the client supports it (a fake clientset says it does not) — without the factory,
// which links every API group's informers.
func (a *Agent) podInformer() cache.SharedIndexInformer {
	pods := a.opt.Client.CoreV1().Pods(metav1.NamespaceAll)
	onNode := func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.opt.Node).String()
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			onNode(&o)
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			onNode(&o)
			return pods.Watch(ctx, o)
		},
	}
	return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, a.opt.Client), &corev1.Pod{},
		cache.SharedIndexInformerOptions{ObjectDescription: "pods of node " + a.opt.Node})
}

// trimPod keeps what the snapshot and the crash check read.
func trimPod(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		p.ManagedFields = nil
		delete(p.Annotations, corev1.LastAppliedConfigAnnotation)
	}
	return obj, nil
}

// observe compares a pod's containers with their previous state and queues a snapshot for
// each new crash that the limits allow.
func (a *Agent) observe(oldObj, obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.NodeName != a.opt.Node { // a fake or old API server may ignore the field selector
		return
	}
	var old *corev1.Pod
	if oldObj != nil {
		old, _ = oldObj.(*corev1.Pod)
	}
	if old == nil {
		a.opt.Metrics.Pods.Inc()
	}
	now := a.opt.Now()
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			s := &list[i]
			t, ok := crashed(old, s, now)
			if !ok {
				continue
			}
			t.Namespace, t.Pod, t.PodUID = p.Namespace, p.Name, string(p.UID)
			a.crashed(p, t, now)
		}
	}
}

// crashed reports whether s shows a crash that prev did not: the restart count rose after a
// failing exit, or the container began to wait in CrashLoopBackOff (the agent's first sight of
// a loop that started before it did, or a loop whose restarts it missed).
func crashed(prev *corev1.Pod, s *corev1.ContainerStatus, now time.Time) (gather.Trigger, bool) {
	var before *corev1.ContainerStatus
	if prev != nil {
		before = statusOf(prev, s.Name)
	}
	t := gather.Trigger{Container: s.Name, RestartCount: s.RestartCount, CrashedAt: now}
	if term := s.LastTerminationState.Terminated; term != nil {
		code := term.ExitCode
		t.ExitCode = &code
		if !term.FinishedAt.IsZero() {
			t.CrashedAt = term.FinishedAt.UTC()
		}
	}
	// An OOM kill is a crash whatever the exit code: the kubelet reports OOMKilled with exit 0
	// or 1 when the process the kernel killed was not the container's first (published
	// statuses in kubernetes/kubernetes#131530 and AliyunContainerService/kube-eventer#285).
	failing := t.ExitCode != nil && *t.ExitCode != 0 ||
		s.LastTerminationState.Terminated != nil && s.LastTerminationState.Terminated.Reason == "OOMKilled"
	if before != nil && s.RestartCount > before.RestartCount && failing {
		t.Reason = "restart"
		return t, true
	}
	if w := s.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
		if before == nil || before.State.Waiting == nil || before.State.Waiting.Reason != "CrashLoopBackOff" {
			t.Reason = "CrashLoopBackOff"
			return t, true
		}
	}
	return t, false
}

func statusOf(p *corev1.Pod, name string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func (a *Agent) crashed(p *corev1.Pod, t gather.Trigger, now time.Time) {
	key := t.PodUID + "/" + t.Container
	a.mu.Lock()
	c := &crash{pod: p, trigger: t, seen: now}
	a.crashes[key] = c
	a.mu.Unlock()

	verdict := a.lim.Allow(t.PodUID, t.Container, now)
	log := a.opt.Log.With("pod", t.Namespace+"/"+t.Pod, "container", t.Container, "restarts", t.RestartCount, "reason", t.Reason)
	if verdict != Allowed {
		a.opt.Metrics.Snapshots.WithLabelValues(verdict).Inc()
		log.Info("crash seen; no snapshot", "limit", verdict)
		return
	}
	select {
	case a.queue <- job{pod: p, trigger: t}:
		a.mu.Lock()
		c.snapped = true
		a.mu.Unlock()
		log.Info("crash seen; snapshot queued")
	default:
		a.opt.Metrics.Snapshots.WithLabelValues(QueueFull).Inc()
		log.Warn("crash seen; snapshot queue full")
	}
}

// forget drops a deleted pod's crashes: its log folder goes with it.
func (a *Agent) forget(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	a.opt.Metrics.Pods.Dec()
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, c := range a.crashes {
		if c.pod.UID == p.UID {
			delete(a.crashes, k)
		}
	}
}

// work takes the queued snapshots one at a time, each after the settle delay.
func (a *Agent) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-a.queue:
			if !j.final {
				a.saveLimits(ctx) // the limiter charged this job when it was queued
			}
			if wait := j.trigger.CrashedAt.Add(a.opt.Settle).Sub(a.opt.Now()); wait > 0 && a.opt.Settle > 0 {
				select {
				case <-ctx.Done():
					a.unsnap(j.trigger) // left for the last snapshot
					return
				case <-time.After(min(wait, a.opt.Settle)):
				}
			}
			if _, err := a.snapshot(ctx, j); err != nil {
				a.unsnap(j.trigger) // the last snapshot tries again
			}
		}
	}
}

// unsnap marks a crash whose snapshot did not happen, so that the last snapshot takes it.
func (a *Agent) unsnap(t gather.Trigger) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.crashes[t.PodUID+"/"+t.Container]; c != nil && c.trigger.RestartCount == t.RestartCount {
		c.snapped = false
	}
}

// final takes one last snapshot of each container that crashed within FinalWithin and has no
// snapshot since, newest crash first, until ctx ends. The rate limits do not apply: the node
// is going and this is the last chance; the deadline bounds it instead.
func (a *Agent) final(ctx context.Context, why string) {
	now := a.opt.Now()
	a.mu.Lock()
	var todo []*crash
	for _, c := range a.crashes {
		if !c.snapped && now.Sub(c.seen) <= a.opt.FinalWithin {
			todo = append(todo, c)
		}
	}
	a.mu.Unlock()
	sort.Slice(todo, func(i, j int) bool { return todo[i].seen.After(todo[j].seen) })
	for i, c := range todo {
		if ctx.Err() != nil {
			a.opt.Log.Warn("last snapshot cut by its deadline", "left", len(todo)-i)
			return
		}
		t := c.trigger
		t.Reason = "final: " + why
		if _, err := a.snapshot(ctx, job{pod: c.pod, trigger: t, final: true}); err == nil {
			a.mu.Lock()
			c.snapped = true
			a.mu.Unlock()
		}
	}
}

// watchDrain reads the node every NodePoll and reports it once when it becomes unschedulable
// (kubectl drain, Karpenter's disruption cordon both set spec.unschedulable first).
func (a *Agent) watchDrain(ctx context.Context, going chan<- string) {
	t := time.NewTicker(a.opt.NodePoll)
	defer t.Stop()
	was := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := a.getNode(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.opt.Log.Warn("own node not read", "node", a.opt.Node, "err", err)
			}
			continue
		}
		if n.Spec.Unschedulable && !was {
			select {
			case going <- "node " + a.opt.Node + " cordoned (drain)":
			case <-ctx.Done():
				return
			}
		}
		was = n.Spec.Unschedulable
	}
}

// apiTimeout bounds each get and list: the client has no timeout of its own, for the watch.
const apiTimeout = 30 * time.Second

func (a *Agent) getNode(ctx context.Context) (*corev1.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	n, err := a.opt.Client.CoreV1().Nodes().Get(ctx, a.opt.Node, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get node %s: %w", a.opt.Node, err)
	}
	return n, nil
}
