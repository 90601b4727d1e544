package mcpserver

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of the rate limit per caller. An agent waits for its model between calls, so it
// sends a few requests a second at most; a session's start (initialize, initialized, the
// stream, tools/list) is a burst of four or five. 20 a second with a burst of 40 leaves room
// for several agents sharing one token, and stops a loop that hammers the server.
const (
	DefaultRateLimit = 20
	DefaultRateBurst = 40
)

// rateLimiter holds a token bucket per caller name.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	// logged thins out the log of refusals: a client in a loop is refused many times a second.
	logged rate.Sometimes
}

func newRateLimiter(limit rate.Limit, burst int) *rateLimiter {
	return &rateLimiter{limit: limit, burst: burst, buckets: map[string]*rate.Limiter{}, logged: rate.Sometimes{First: 1, Interval: 10 * time.Second}}
}

func (l *rateLimiter) bucket(caller string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[caller]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[caller] = b // callers are the token file's names: the map stays small
	}
	return b
}

// rateLimit answers 429 with Retry-After to a caller over its rate of requests to /mcp. A
// DELETE, which closes a session and frees what it holds, is never refused.
func (h *httpHandler) rateLimit(next http.Handler) http.Handler {
	if h.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			next.ServeHTTP(w, r)
			return
		}
		caller := callerOf(r.Context())
		res := h.limiter.bucket(caller).Reserve()
		wait := res.Delay()
		if wait == 0 {
			next.ServeHTTP(w, r)
			return
		}
		res.Cancel() // the request is refused, so it takes nothing from the bucket
		secs := max(1, int(math.Ceil(wait.Seconds())))
		h.limiter.logged.Do(func() {
			h.opts.Logger.Warn("refusing requests of a caller over its rate limit", "caller", caller, "limit", float64(h.limiter.limit), "burst", h.limiter.burst)
		})
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSONError(w, http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("caller %q sent more than %g requests a second (bursts of %d) to /mcp, this server's limit per token "+
				"(serve --rate-limit, --rate-burst): retry after %d s", caller, float64(h.limiter.limit), h.limiter.burst, secs))
	})
}
