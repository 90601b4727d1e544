package agent

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSpotWatchUnreachable: an IMDS the pod cannot use (here it refuses every token, as a pod
// sees nothing at all under a hop limit of 1) is said once, with the way out, and polled once a
// minute rather than every few seconds.
func TestSpotWatchUnreachable(t *testing.T) {
	var tokens atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer imds.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	going := make(chan string, 1)
	watchSpot(ctx, imds.URL, 10*time.Millisecond, log, going)
	if n := tokens.Load(); n != spotFailuresBeforeWarning {
		t.Errorf("%d token requests in 400 ms at a 10 ms poll; want %d, then one a minute", n, spotFailuresBeforeWarning)
	}
	if got := strings.Count(logs.String(), "IMDS not reachable"); got != 1 || !strings.Contains(logs.String(), "agent.hostNetwork") {
		t.Errorf("warnings: %d, want one naming agent.hostNetwork:\n%s", got, logs.String())
	}
	if len(going) != 0 {
		t.Errorf("a notice reported from an IMDS that answered none: %q", <-going)
	}
}
