package agent

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Results of a crash, the label of nodediag_agent_snapshots_total: a snapshot taken or failed,
// or one of the limits' verdicts, or the queue full.
const (
	Taken     = "taken"
	Failed    = "failed"
	QueueFull = "queue_full"
)

// Metrics are the agent's Prometheus metrics, in a registry of their own so that nothing else
// in the process (client-go's defaults) is exported by accident.
type Metrics struct {
	Registry  *prometheus.Registry
	Snapshots *prometheus.CounterVec
	Bytes     prometheus.Counter
	Pods      prometheus.Gauge
	// StateErrors counts failed saves of the rate limits: a restart would forget them.
	StateErrors prometheus.Counter
	ready       atomic.Bool
}

// NewMetrics builds the metrics in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Snapshots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nodediag_agent_snapshots_total",
			Help: "Crashes seen by the capture agent, by what came of them: taken, failed, deduplicated, pod_rate_limited, node_rate_limited, queue_full.",
		}, []string{"result"}),
		Bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nodediag_agent_snapshot_bytes_total",
			Help: "Bytes of node evidence written into snapshots.",
		}),
		Pods: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nodediag_agent_watched_pods",
			Help: "Pods of this node the agent watches.",
		}),
		StateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nodediag_agent_state_save_failures_total",
			Help: "Failed saves of the agent's rate limits to the store; a restart forgets what was not saved.",
		}),
	}
	m.Registry.MustRegister(m.Snapshots, m.Bytes, m.Pods, m.StateErrors)
	// Every result is exported from the start, so that a rate over it is defined before the
	// first crash.
	for _, r := range []string{Taken, Failed, Duplicate, PodLimited, NodeLimited, QueueFull} {
		m.Snapshots.WithLabelValues(r)
	}
	return m
}

// Handler serves /metrics, and /healthz, which is healthy once the pod watch has synced.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if !m.ready.Load() {
			http.Error(w, "pod watch not synced yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
