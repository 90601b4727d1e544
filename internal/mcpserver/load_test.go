package mcpserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/time/rate"
)

// TestHTTPLoad runs 50 sessions at once over streamable HTTP on loopback, each with its own
// named token, each making 100 tool calls (errors and the K3 OOM search, alternately) as fast
// as it can, through the whole server: origin check, token lookup among 50, call limit,
// metrics and the log line of each call. Every call must answer; the test logs the latency
// percentiles (docs/performance.md records them). The rate limit is off: 100 calls as fast as
// possible are far over any caller's limit, and what is measured is the server.
func TestHTTPLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("the load test makes 5,000 calls")
	}
	const sessions, calls = 50, 100
	b := importScenario(t, "container-oom-v2")
	var file strings.Builder
	tokens := make([]string, sessions)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("load-token-%02d-0123456789abcdef", i)
		fmt.Fprintf(&file, "agent-%02d:%s\n", i, tokens[i])
	}
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Store: b.store, Version: "test"})
	base := serveLoopback(t, srv, HTTPOptions{TokenFile: path, RateLimit: rate.Inf, MaxSessions: sessions})
	ctx := context.Background()
	instance := b.entry.Manifest.InstanceID
	work := []*mcp.CallToolParams{
		{Name: "errors", Arguments: map[string]any{"instanceId": instance}},
		{Name: "search", Arguments: map[string]any{"instanceId": instance, "query": "oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score"}},
	}

	var mu sync.Mutex
	var latencies []time.Duration
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	for i := range sessions {
		wg.Go(func() {
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("session %d: %w", i, err))
				mu.Unlock()
			}
			cs, err := connectHTTP(ctx, base, tokenClient(tokens[i]))
			if err != nil {
				fail(err)
				return
			}
			defer cs.Close()
			mine := make([]time.Duration, 0, calls)
			for c := range calls {
				p := work[c%len(work)]
				t0 := time.Now()
				res, err := cs.CallTool(ctx, p)
				mine = append(mine, time.Since(t0))
				if err != nil {
					fail(fmt.Errorf("call %d (%s): %w", c, p.Name, err))
					return
				}
				if res.IsError {
					fail(fmt.Errorf("call %d (%s): isError %s", c, p.Name, resultText(res)))
					return
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		t.Error(err)
	}
	if len(latencies) != sessions*calls {
		t.Fatalf("%d calls answered, want %d", len(latencies), sessions*calls)
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("%d sessions x %d calls: %v in all (%.0f calls/s), latency p50 %v, p95 %v, p99 %v, max %v",
		sessions, calls, elapsed.Round(time.Millisecond), float64(len(latencies))/elapsed.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.95).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), latencies[len(latencies)-1].Round(10*time.Microsecond))
}
