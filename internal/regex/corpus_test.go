package regex

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.log")

const corpusPath = "testdata/corpus.log"

// TestCorpus keeps testdata/corpus.log, the benchmark's always-present text, equal to what
// corpus generates.
func TestCorpus(t *testing.T) {
	golden.Check(t, corpusPath, corpus(1500), *update, "go test ./internal/regex -run TestCorpus -update")
}

// corpus makes n lines in the shapes of the node logs the benchmark bundle holds (the kubelet,
// containerd, kernel and CRI pod-log lines of ../shared/bench/mkbundle.py): mostly ASCII, with
// 64-digit container ids, durations in ms, errors, OOM kills, and a few lines of UTF-8 text from
// applications.
func corpus(n int) []byte {
	r := rand.New(rand.NewPCG(13, 2026))
	t := time.Date(2026, 11, 10, 10, 30, 0, 0, time.UTC)
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = digits[r.IntN(16)]
		}
		return string(b)
	}
	pods := []string{"payments/ledger-0", "monitoring/node-exporter-9zq7d", "shop/checkout-7f9c8d6b5-xk2lp", "kube-system/aws-node-4x8vq"}
	var out bytes.Buffer
	for range n {
		t = t.Add(time.Duration(r.IntN(700)) * time.Millisecond)
		sys := t.Format("Jan _2 15:04:05") + " ip-10-0-37-142.us-west-2.compute.internal"
		klog := t.Format("0102 15:04:05.000000")
		pod := pods[r.IntN(len(pods))]
		var line string
		switch k := r.IntN(100); {
		case k < 30:
			line = fmt.Sprintf(`%s kubelet[3187]: I%s    3187 kubelet.go:2485] "SyncLoop (probe)" probe="readiness" status="ready" pod=%q`, sys, klog, pod)
		case k < 42:
			line = fmt.Sprintf(`%s kubelet[3187]: I%s    3187 generic.go:334] "Generic (PLEG): container finished" podID="%s-%s-%s-%s-%s" containerID="%s" exitCode=%d`,
				sys, klog, hex(8), hex(4), hex(4), hex(4), hex(12), hex(64), r.IntN(2)*137)
		case k < 50:
			line = fmt.Sprintf(`%s kubelet[3187]: E%s    3187 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"app\" with CrashLoopBackOff: \"back-off %dm%ds restarting failed container\"" pod=%q`,
				sys, klog, r.IntN(5), r.IntN(60), pod)
		case k < 58:
			line = fmt.Sprintf(`%s kubelet[3187]: I%s    3187 pod_startup_latency_tracker.go:104] "Observed pod startup duration" pod=%q podStartSLOduration=%d.%06d podStartE2EDuration="%dms"`,
				sys, klog, pod, r.IntN(20), r.IntN(1000000), r.IntN(20000))
		case k < 72:
			line = fmt.Sprintf(`%s containerd[2841]: time="%s" level=info msg="StartContainer for \"%s\" returns successfully"`, sys, t.Format(time.RFC3339Nano), hex(64))
		case k < 78:
			line = fmt.Sprintf(`%s containerd[2841]: time="%s" level=error msg="copy shim log" error="read /proc/self/fd/%d: file already closed"`, sys, t.Format(time.RFC3339Nano), 20+r.IntN(180))
		case k < 80:
			line = fmt.Sprintf(`%s kernel: Memory cgroup out of memory: Killed process %d (java) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB, UID:1000 pgtables:%dkB oom_score_adj:985`,
				sys, 1000+r.IntN(30000), 5000000+r.IntN(100000), 1000000+r.IntN(20000), 10000+r.IntN(20000), 1000+r.IntN(2000))
		case k < 81:
			line = fmt.Sprintf(`%s kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-%s.scope,mems_allowed=0,task=java,pid=%d,uid=1000`, sys, hex(64), 1000+r.IntN(30000))
		case k < 93:
			line = fmt.Sprintf(`%s stdout F {"level":"info","ts":"%s","msg":"request served","path":"/api/v1/orders/%d","status":200,"latency":"%dms","trace":"%s"}`,
				t.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano), r.IntN(100000), r.IntN(3000), hex(32))
		case k < 98:
			line = fmt.Sprintf(`%s stderr F %s ERROR [checkout] connection to db-%s.shop.svc refused after %dms, retrying`, t.Format(time.RFC3339Nano), t.Format("15:04:05.000"), hex(6), r.IntN(5000))
		default:
			msgs := []string{"Zeitüberschreitung bei der Verbindung – erneuter Versuch", "接続がタイムアウトしました", "échec de la requête: délai dépassé", "ошибка: нет памяти"}
			line = fmt.Sprintf(`%s stderr F level=warn msg="%s" latency=%dms`, t.Format(time.RFC3339Nano), msgs[r.IntN(len(msgs))], r.IntN(5000))
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}
