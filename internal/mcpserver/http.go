package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/nodediag/nodediag/internal/store"
)

// Defaults of HTTPOptions. Every limit has one, so that no setting left at zero is unbounded.
const (
	DefaultMaxBodyBytes      = 1 << 20 // a tools/call is a few hundred bytes; 1 MiB leaves room and stops a flood
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds a whole request, headers and body: a body is at most
	// MaxBodyBytes (1 MiB), which takes 30 s only below 35 KB/s; a client slower than that is
	// holding the connection, not sending.
	DefaultReadTimeout = 30 * time.Second
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultSessionTimeout closes sessions a client abandoned without DELETE; an agent working
	// through the runbook calls far more often than this.
	DefaultSessionTimeout  = 30 * time.Minute
	DefaultMaxSessions     = 128
	DefaultShutdownTimeout = 10 * time.Second
	// MinTokenBytes is the shortest bearer token accepted: 16 bytes is 128 bits when random.
	MinTokenBytes = 16
	// maxHeaderBytes bounds request headers: a bearer token and the MCP headers fit many times.
	maxHeaderBytes = 64 << 10
)

// ErrConfig is wrapped by every error about HTTPOptions themselves (no token, a short one,
// insecure mode off loopback, a negative limit), so that a CLI can report a usage error.
var ErrConfig = errors.New("HTTP server configuration")

// HTTPOptions configure the streamable HTTP transport. Exactly one of Token, TokenFile and
// InsecureNoAuth must be set.
type HTTPOptions struct {
	// Addr is host:port to listen on; with InsecureNoAuth its host must be loopback.
	Addr string
	// Token is the bearer token clients send as "Authorization: Bearer <token>" (at least 16
	// bytes; trailing whitespace is trimmed).
	Token []byte
	// TokenFile holds the token; it is read once, when the handler is built.
	TokenFile string
	// InsecureNoAuth serves without a token; refused unless Addr is a loopback address.
	InsecureNoAuth bool
	// MaxBodyBytes caps a request body; larger ones get 413. Default 1 MiB.
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds the time to read request headers. Default 10 s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to read a whole request, headers and body, so that a client
	// sending its body slowly, or never, cannot hold a connection and a handler. Default 30 s.
	ReadTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long. Default 2 min.
	IdleTimeout time.Duration
	// SessionTimeout closes MCP sessions without a request for this long. Default 30 min.
	SessionTimeout time.Duration
	// MaxSessions is how many MCP sessions may be open at once; a new one beyond it gets 503.
	// Default 128.
	MaxSessions int
	// ShutdownTimeout bounds the graceful shutdown. Default 10 s.
	ShutdownTimeout time.Duration
	// RateLimit is the rate of requests to /mcp a caller (a token) may send, per second;
	// RateBurst how many it may send at once. A caller over it gets 429 with Retry-After.
	// Zero means DefaultRateLimit and DefaultRateBurst; rate.Inf turns the limit off.
	RateLimit rate.Limit
	RateBurst int
	// AllowedOrigins are the browser origins (scheme://host[:port]) allowed besides loopback
	// ones; "*" allows every origin. A request whose Origin header is not allowed gets 403.
	AllowedOrigins []string
	// Logger receives the listening address, refused requests and warnings; nil discards.
	Logger *slog.Logger
	// Reports, when set, serves the HTML report of its bundles at GET /report/{instance}
	// (ReportPath), behind the same token and rate limit as /mcp.
	Reports *store.Store
	// ReportTimeout bounds building one report; zero means DefaultCallTimeout, as a tool call.
	ReportTimeout time.Duration
}

// withDefaults fills unset limits and refuses negative ones, which would mean "unbounded" to
// the libraries underneath.
func (o HTTPOptions) withDefaults() (HTTPOptions, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ReadHeaderTimeout", &o.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{"ReadTimeout", &o.ReadTimeout, DefaultReadTimeout},
		{"IdleTimeout", &o.IdleTimeout, DefaultIdleTimeout},
		{"SessionTimeout", &o.SessionTimeout, DefaultSessionTimeout},
		{"ShutdownTimeout", &o.ShutdownTimeout, DefaultShutdownTimeout},
	} {
		if *d.v < 0 {
			return o, fmt.Errorf("%w: %s %v is negative: want a positive duration, or zero for the default %v", ErrConfig, d.name, *d.v, d.def)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.MaxBodyBytes < 0 {
		return o, fmt.Errorf("%w: max body bytes %d is negative: want a positive size, or zero for the default %d", ErrConfig, o.MaxBodyBytes, DefaultMaxBodyBytes)
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.RateLimit < 0 || o.RateBurst < 0 {
		return o, fmt.Errorf("%w: rate limit %g per second, burst %d: want positive numbers, or zero for the defaults (%d, burst %d)",
			ErrConfig, float64(o.RateLimit), o.RateBurst, DefaultRateLimit, DefaultRateBurst)
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.RateBurst == 0 {
		o.RateBurst = DefaultRateBurst
	}
	if o.MaxSessions < 0 {
		return o, fmt.Errorf("%w: MaxSessions %d is negative: want a positive count, or zero for the default %d", ErrConfig, o.MaxSessions, DefaultMaxSessions)
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	return o, nil
}

// loopbackAddr says whether addr (host:port, or a bare host) can only be reached from this
// machine. An empty host (":8080") listens on every interface, so it is not loopback.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = strings.Trim(addr, "[]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// httpHandler is the /mcp, /healthz and /metrics mux with its auth and limits. It counts the
// requests in flight on /mcp so that shutdown can let tool calls finish before closing sessions.
type httpHandler struct {
	mux      *http.ServeMux
	srv      *mcp.Server
	opts     HTTPOptions
	tokens   tokenTable   // nil: no auth
	limiter  *rateLimiter // nil: no rate limit
	origins  originPolicy
	inflight atomic.Int64
	// calls maps the key ServeHTTP gives each POST to /mcp (in callKeyHeader) to that request's
	// context, while the request is being served.
	calls sync.Map
}

// callKeyHeader carries, from ServeHTTP to the tool middleware, which HTTP request delivered a
// tools/call: the SDK runs tool handlers on a context of the session, not of the request, so
// without it a call runs on after its client has gone. ServeHTTP sets it on every POST, over
// whatever the client sent.
const callKeyHeader = "Nodediag-Call-Key"

// errClientGone is the cause of a tool call's context ending because the HTTP request that
// carried it ended first: the client closed the connection or gave up, and no one will read the
// answer.
var errClientGone = errors.New("the HTTP client that made the call went away")

// NewHTTPHandler serves srv over the MCP streamable HTTP transport on /mcp, a liveness answer
// on /healthz (no auth) and Prometheus metrics of its own registry on /metrics (behind the same
// token as /mcp). It instruments srv's tool calls; build one handler per server.
func NewHTTPHandler(srv *mcp.Server, opts HTTPOptions) (http.Handler, error) {
	return newHTTPHandler(context.Background(), srv, opts)
}

func newHTTPHandler(ctx context.Context, srv *mcp.Server, opts HTTPOptions) (*httpHandler, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	tokens, err := opts.tokens()
	if err != nil {
		return nil, err
	}
	origins, err := parseOrigins(opts.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("registering the Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("registering the process collector: %w", err)
	}
	callers := tokens.names()
	if tokens == nil {
		callers = []string{AnonymousCaller}
	}
	if err := Instrument(ctx, srv, reg, callers, opts.Logger); err != nil {
		return nil, err
	}
	h := &httpHandler{mux: http.NewServeMux(), srv: srv, opts: opts, tokens: tokens, origins: origins}
	if opts.RateLimit != rate.Inf {
		h.limiter = newRateLimiter(opts.RateLimit, opts.RateBurst)
	}
	srv.AddReceivingMiddleware(h.cancelOnDisconnect)
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		Logger:              opts.Logger,
		SessionTimeout:      opts.SessionTimeout,
		MaxRequestBodyBytes: opts.MaxBodyBytes,
	})
	mcpHandler := h.limitSessions(streamable)
	if tokens != nil {
		mcpHandler = withTokenInfo(mcpHandler)
	}
	h.mux.Handle("/mcp", h.auth(h.rateLimit(mcpHandler)))
	h.mux.Handle("GET /metrics", h.auth(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelError),
		// Scrapes come every few seconds from one or two Prometheus servers; more at once is abuse.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})))
	if opts.Reports != nil {
		limit := opts.ReportTimeout
		if limit <= 0 {
			limit = DefaultCallTimeout
		}
		timeout := func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, limit)
		}
		h.mux.Handle("GET "+ReportPath+"{instance}", h.auth(h.rateLimit(reportHandler(opts.Reports, timeout))))
	}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	return h, nil
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Origin first: a page in a browser must learn nothing, not even whether its token is right.
	if !h.checkOrigin(w, r) {
		return
	}
	// Refuse a declared oversize body before reading it; MaxBytesReader catches the undeclared
	// (chunked) ones while they are read, and the SDK answers those with 413 too.
	if r.ContentLength > h.opts.MaxBodyBytes {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "request_too_large",
			fmt.Sprintf("request body is %d bytes: the limit is %d", r.ContentLength, h.opts.MaxBodyBytes))
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	}
	if r.URL.Path == "/mcp" && r.Method != http.MethodGet {
		h.inflight.Add(1)
		defer h.inflight.Add(-1)
	}
	if r.URL.Path == "/mcp" && r.Method == http.MethodPost {
		key := rand.Text()
		r.Header.Set(callKeyHeader, key)
		h.calls.Store(key, r.Context())
		defer h.calls.Delete(key)
	}
	h.mux.ServeHTTP(w, r)
}

// cancelOnDisconnect is receiving middleware that ends a tool call's context when the HTTP
// request that carried it ends before the answer (net/http cancels a request's context when
// its connection closes). Without it a search whose client disconnected read on for minutes.
func (h *httpHandler) cancelOnDisconnect(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		extra := req.GetExtra()
		if method != "tools/call" || extra == nil || extra.Header.Get(callKeyHeader) == "" {
			return next(ctx, method, req)
		}
		name := ""
		if cr, ok := req.(*mcp.CallToolRequest); ok && cr.Params != nil {
			name = cr.Params.Name
		}
		v, ok := h.calls.Load(extra.Header.Get(callKeyHeader))
		if !ok {
			// The POST was answered or abandoned before the call started: no one is waiting.
			h.opts.Logger.Info("not running a tool call: the HTTP request that carried it has ended", "tool", name, "caller", toolCaller(req))
			return nil, errClientGone
		}
		cctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(v.(context.Context), func() {
			h.opts.Logger.Info("cancelling a tool call: the HTTP request that carried it ended", "tool", name, "caller", toolCaller(req))
			cancel(errClientGone)
		})
		defer stop()
		return next(cctx, method, req)
	}
}

// auth requires a bearer token the server knows, unless the handler was built insecure, and
// puts its caller's name in the request's context.
func (h *httpHandler) auth(next http.Handler) http.Handler {
	if h.tokens == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
		tok = strings.TrimSpace(tok)
		if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			// RFC 6750 §3.1: no error code when the request carried no credentials.
			w.Header().Set("WWW-Authenticate", `Bearer realm="nodediag"`)
			writeJSONError(w, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <token>")
			return
		}
		name, ok := h.tokens.lookup(tok)
		if !ok {
			h.opts.Logger.Warn("refused an MCP HTTP request with a wrong bearer token", "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="nodediag", error="invalid_token"`)
			writeJSONError(w, http.StatusUnauthorized, "invalid_token", "the bearer token is not one this server was started with")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, name)))
	})
}

// limitSessions refuses a new session (a POST without Mcp-Session-Id) when MaxSessions are
// open. The count and the creation are not atomic, so concurrent initializes can overshoot by
// the number in flight; the bound still holds to within the connections being served.
func (h *httpHandler) limitSessions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("Mcp-Session-Id") == "" {
			n := 0
			for ss := range h.srv.Sessions() {
				// Only initialized HTTP sessions count: the in-memory session Instrument opens
				// to list the tools has no id, and the SDK makes short-lived uninitialized
				// sessions for a client's requests before initialize; either may still be
				// closing, and must not take a client's place.
				if ss.ID() != "" && ss.InitializeParams() != nil {
					n++
				}
			}
			if n >= h.opts.MaxSessions {
				w.Header().Set("Retry-After", "30")
				writeJSONError(w, http.StatusServiceUnavailable, "too_many_sessions",
					fmt.Sprintf("%d MCP sessions are open, the most this server allows: close one (DELETE /mcp) or retry later", n))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": msg})
}

// ServeHTTP listens on opts.Addr and serves srv until ctx is cancelled, then shuts down
// gracefully within opts.ShutdownTimeout.
func ServeHTTP(ctx context.Context, srv *mcp.Server, opts HTTPOptions) error {
	// Check the options before binding the port, so a refused configuration opens nothing; the
	// warnings are logged once, by ServeListener.
	check := opts
	check.Logger = slog.New(slog.DiscardHandler)
	if _, err := check.tokens(); err != nil {
		return err
	}
	if _, err := parseOrigins(opts.AllowedOrigins); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listening on %q: %w", opts.Addr, err)
	}
	return ServeListener(ctx, ln, srv, opts)
}

// ServeListener is ServeHTTP on a listener the caller opened (tests listen on 127.0.0.1:0). The
// listener's address, not opts.Addr, decides whether insecure mode is allowed. It closes ln.
//
// On ctx cancellation it stops accepting connections, lets requests in flight on /mcp finish,
// closes every session of srv (which ends their SSE streams) and waits for the connections to
// close, all within opts.ShutdownTimeout; it returns nil when that succeeds.
func ServeListener(ctx context.Context, ln net.Listener, srv *mcp.Server, opts HTTPOptions) error {
	opts.Addr = ln.Addr().String()
	h, err := newHTTPHandler(ctx, srv, opts)
	if err != nil {
		ln.Close()
		return err
	}
	opts = h.opts
	// ReadTimeout does not end what must last: net/http lifts the connection's read deadline as
	// soon as a request's body has been read (to watch for the client going away), so a tool call
	// that runs for minutes and a session's standalone SSE stream (a GET without a body that lasts
	// the session) are not cut by it. WriteTimeout would cut both, and stays unset: a call's
	// length is bounded by Options.CallTimeout instead.
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	auth := "bearer token"
	if h.tokens == nil {
		auth = "none"
	}
	opts.Logger.Info("serving MCP over streamable HTTP", "url", "http://"+ln.Addr().String()+"/mcp", "auth", auth)

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving MCP over HTTP on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	opts.Logger.Info("shutting down the MCP HTTP server", "timeout", opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- hs.Shutdown(sctx) }()
	// Shutdown waits for every connection to go idle, but a session's standalone SSE stream never
	// does: once the tool calls in flight have answered, close the sessions to end the streams.
	h.waitIdle(sctx)
	for ss := range srv.Sessions() {
		_ = ss.Close()
	}
	err = <-shut
	<-served // http.ErrServerClosed, expected after Shutdown
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("the MCP HTTP server did not shut down within %v, connections were closed: %w", opts.ShutdownTimeout, err)
	}
	return nil
}

// waitIdle returns when no /mcp POST or DELETE is being served, or when ctx ends.
func (h *httpHandler) waitIdle(ctx context.Context) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for h.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
