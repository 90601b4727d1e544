package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/time/rate"

	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/search"
	"github.com/nodediag/nodediag/internal/store"
)

// testToken is 32 bytes, twice the minimum.
const testToken = "0123456789abcdef0123456789abcdef"

// bearer adds an Authorization header to every request, as an MCP client configured with a
// token does.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func tokenClient(token string) *http.Client {
	return &http.Client{Transport: bearer{token: token, base: http.DefaultTransport}}
}

// httpBundle is one scenario bundle imported into a temporary store, with what the library
// itself answers for it, to compare the HTTP answers with.
type httpBundle struct {
	store *store.Store
	entry *store.Entry
	idx   *index.Index
	truth scenario.Truth
}

func importScenario(t *testing.T, name string) httpBundle {
	t.Helper()
	var sc scenario.Scenario
	found := false
	for _, s := range scenario.All() {
		if s.Name == name {
			sc, found = s, true
		}
	}
	if !found {
		t.Fatalf("no scenario %q", name)
	}
	dir := t.TempDir()
	e, idx, truth := scenariotest.Import(t, dir, sc, sc.Layout)
	st, err := store.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return httpBundle{store: st, entry: e, idx: idx, truth: truth}
}

// serveTest serves a new MCP server over st on a loopback httptest server.
func serveTest(t *testing.T, st *store.Store, opts HTTPOptions) (*httptest.Server, *mcp.Server) {
	t.Helper()
	srv := New(Options{Store: st, Version: "test"})
	h, err := NewHTTPHandler(srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		// httptest waits for every request, and a session's SSE stream lasts until it is closed.
		for ss := range srv.Sessions() {
			_ = ss.Close()
		}
		ts.Close()
	})
	return ts, srv
}

func connectHTTP(ctx context.Context, url string, hc *http.Client) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil)
	return c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: hc, MaxRetries: -1}, nil)
}

// initializeBody is an MCP initialize request, as a client's first POST.
const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`

func post(t *testing.T, url, auth string, body io.Reader) *http.Response {
	t.Helper()
	return postWith(t, url, auth, "", body)
}

// postWith is post with an Origin header too, as a browser sends for a page's fetch ("" sends
// none, as non-browser clients do).
func postWith(t *testing.T, url, auth, origin string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHTTPAuth(t *testing.T) {
	ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken + "\n")})
	for _, tc := range []struct {
		name, path, auth string
		wantChallenge    string // WWW-Authenticate; empty: the request is let through
	}{
		{"mcp without token", "/mcp", "", `Bearer realm="nodediag"`},
		{"mcp with basic auth", "/mcp", "Basic dXNlcjpwYXNz", `Bearer realm="nodediag"`},
		{"mcp with wrong token", "/mcp", "Bearer " + strings.ToUpper(testToken), `Bearer realm="nodediag", error="invalid_token"`},
		{"mcp with a prefix of the token", "/mcp", "Bearer " + testToken[:16], `Bearer realm="nodediag", error="invalid_token"`},
		{"metrics without token", "/metrics", "", `Bearer realm="nodediag"`},
		{"metrics with wrong token", "/metrics", "Bearer wrong-token-wrong-token", `Bearer realm="nodediag", error="invalid_token"`},
		{"mcp with token", "/mcp", "Bearer " + testToken, ""},
		{"mcp with lower-case scheme", "/mcp", "bearer " + testToken, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.path == "/mcp" {
				resp = post(t, ts.URL+tc.path, tc.auth, strings.NewReader(initializeBody))
			} else {
				req, _ := http.NewRequest(http.MethodGet, ts.URL+tc.path, nil)
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				var err error
				if resp, err = http.DefaultClient.Do(req); err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
			}
			body, _ := io.ReadAll(resp.Body)
			if tc.wantChallenge == "" {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d (%s), want 200", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.wantChallenge)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Errorf("body %q: want a JSON error (%v)", body, err)
			}
			if bytes.Contains(body, []byte(testToken)) {
				t.Errorf("the 401 body echoes the token: %s", body)
			}
		})
	}

	t.Run("sdk client", func(t *testing.T) {
		ctx := context.Background()
		if _, err := connectHTTP(ctx, ts.URL, tokenClient("not-the-token-at-all")); err == nil {
			t.Error("connecting with a wrong token succeeded")
		}
		cs, err := connectHTTP(ctx, ts.URL, tokenClient(testToken))
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		// A server with no store, cluster or AWS serves the runbooks alone.
		if want := []string{"get_sop", "list_sops"}; !slices.Equal(names, want) {
			t.Errorf("tools over HTTP %v, want %v", names, want)
		}
	})
}

func TestHTTPHealthz(t *testing.T) {
	ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken)})
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz without a token: %d %q, want 200 ok", resp.StatusCode, body)
	}
}

func TestHTTPBodyLimit(t *testing.T) {
	const limit = 1024
	ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken), MaxBodyBytes: limit})
	// A JSON string padded past the limit: a well-formed request, only too big.
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 2*limit) + `"}}`
	for _, tc := range []struct {
		name string
		body io.Reader
		want int
	}{
		{"declared length over the cap", strings.NewReader(big), http.StatusRequestEntityTooLarge},
		// io.MultiReader hides the length, so the request is chunked and the cap applies as it is read.
		{"chunked over the cap", io.MultiReader(strings.NewReader(big)), http.StatusRequestEntityTooLarge},
		{"initialize under the cap", strings.NewReader(initializeBody), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, ts.URL+"/mcp", "Bearer "+testToken, tc.body)
			if resp.StatusCode != tc.want {
				body, _ := io.ReadAll(resp.Body)
				t.Errorf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
}

func TestHTTPOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	writeToken := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := writeToken("good", testToken+"\n", 0o600)
	for _, tc := range []struct {
		name    string
		opts    HTTPOptions
		wantErr string // empty: accepted
	}{
		{"neither token nor insecure", HTTPOptions{Addr: "127.0.0.1:0"}, "--auth-token-file"},
		{"insecure on every interface", HTTPOptions{Addr: ":8080", InsecureNoAuth: true}, "loopback"},
		{"insecure on 0.0.0.0", HTTPOptions{Addr: "0.0.0.0:8080", InsecureNoAuth: true}, "loopback"},
		{"insecure on a private address", HTTPOptions{Addr: "10.0.0.7:8080", InsecureNoAuth: true}, "loopback"},
		{"insecure on a host name", HTTPOptions{Addr: "example.com:8080", InsecureNoAuth: true}, "loopback"},
		{"insecure on 127.0.0.1", HTTPOptions{Addr: "127.0.0.1:8080", InsecureNoAuth: true}, ""},
		{"insecure on 127.1.2.3", HTTPOptions{Addr: "127.1.2.3:8080", InsecureNoAuth: true}, ""},
		{"insecure on ::1", HTTPOptions{Addr: "[::1]:8080", InsecureNoAuth: true}, ""},
		{"insecure on localhost", HTTPOptions{Addr: "localhost:8080", InsecureNoAuth: true}, ""},
		{"token and insecure", HTTPOptions{Addr: "127.0.0.1:0", Token: []byte(testToken), InsecureNoAuth: true}, "not several"},
		{"token file", HTTPOptions{Addr: "0.0.0.0:8080", TokenFile: good}, ""},
		{"missing token file", HTTPOptions{TokenFile: filepath.Join(dir, "absent")}, "--auth-token-file"},
		{"empty token file", HTTPOptions{TokenFile: writeToken("empty", "\n\n", 0o600)}, "is empty"},
		{"short token file", HTTPOptions{TokenFile: writeToken("short", "0123456789abcde\n", 0o600)}, "is 15 bytes"},
		{"short token", HTTPOptions{Token: []byte("secret")}, "is 6 bytes"},
		{"negative body cap", HTTPOptions{Token: []byte(testToken), MaxBodyBytes: -1}, "negative"},
		{"negative timeout", HTTPOptions{Token: []byte(testToken), ReadHeaderTimeout: -time.Second}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHTTPHandler(New(Options{Version: "test"}), tc.opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("accepted, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			case tc.wantErr != "" && !errors.Is(err, ErrConfig):
				t.Errorf("error %q does not wrap ErrConfig", err)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}

	t.Run("insecure refused on a non-loopback listener", func(t *testing.T) {
		// The listener's real address decides, whatever opts.Addr says.
		ln := fakeListener{addr: &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 8080}}
		err := ServeListener(context.Background(), ln, New(Options{Version: "test"}), HTTPOptions{Addr: "127.0.0.1:8080", InsecureNoAuth: true})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("ServeListener on %s with insecure: %v, want a loopback error", ln.addr, err)
		}
	})

	t.Run("group-readable token file warns", func(t *testing.T) {
		var logs bytes.Buffer
		p := writeToken("shared", testToken, 0o644)
		if err := os.Chmod(p, 0o644); err != nil { // the umask may have narrowed it
			t.Fatal(err)
		}
		opts := HTTPOptions{TokenFile: p, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		if _, err := NewHTTPHandler(New(Options{Version: "test"}), opts); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "readable by group or others") || strings.Contains(logs.String(), testToken) {
			t.Errorf("log %q: want a warning about the mode, without the token", logs.String())
		}
	})
}

// fakeListener reports an address it does not listen on; ServeListener must refuse before
// accepting.
type fakeListener struct{ addr net.Addr }

func (l fakeListener) Accept() (net.Conn, error) {
	return nil, errors.New("fakeListener does not accept")
}
func (l fakeListener) Close() error   { return nil }
func (l fakeListener) Addr() net.Addr { return l.addr }

// scrape reads /metrics with the token and returns the counter values of
// nodediag_mcp_tool_calls_total by "tool/outcome" (summed over callers) and the histogram
// sample counts by tool.
func scrape(t *testing.T, url string) (calls map[string]float64, observed map[string]uint64) {
	t.Helper()
	calls, observed, _ = scrapeAs(t, url, testToken)
	return calls, observed
}

// scrapeAs is scrape with the given token, also returning the calls by "tool/outcome/caller".
func scrapeAs(t *testing.T, url, token string) (calls map[string]float64, observed map[string]uint64, byCaller map[string]float64) {
	t.Helper()
	resp, err := tokenClient(token).Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics lacks %s (Go and process collectors)", name)
		}
	}
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	calls, observed, byCaller = map[string]float64{}, map[string]uint64{}, map[string]float64{}
	for _, m := range fams["nodediag_mcp_tool_calls_total"].GetMetric() {
		if len(m.GetLabel()) != 3 || label(m, "caller") == "" {
			t.Errorf("tool_calls_total has labels %v: want tool, outcome and caller", m.GetLabel())
		}
		calls[label(m, "tool")+"/"+label(m, "outcome")] += m.GetCounter().GetValue()
		byCaller[label(m, "tool")+"/"+label(m, "outcome")+"/"+label(m, "caller")] = m.GetCounter().GetValue()
	}
	for _, m := range fams["nodediag_mcp_tool_duration_seconds"].GetMetric() {
		observed[label(m, "tool")] = m.GetHistogram().GetSampleCount()
	}
	return calls, observed, byCaller
}

func TestHTTPMetrics(t *testing.T) {
	b := importScenario(t, "container-oom-v2")
	ts, _ := serveTest(t, b.store, HTTPOptions{Token: []byte(testToken)})
	ctx := context.Background()
	cs, err := connectHTTP(ctx, ts.URL, tokenClient(testToken))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	calls, _ := scrape(t, ts.URL)
	if v, ok := calls["errors/ok"]; !ok || v != 0 {
		t.Errorf("before any call: errors/ok = %v (present %v), want a zero series for every tool", v, ok)
	}

	// Each call and the series it must add one to; the unknown names must not become labels.
	steps := []struct {
		tool   string
		args   map[string]any
		series string
	}{
		{"errors", map[string]any{"instanceId": b.entry.Manifest.InstanceID}, "errors/ok"},
		{"errors", map[string]any{"instanceId": b.entry.Manifest.InstanceID, "severity": "dreadful"}, "errors/tool_error"},
		{"search", map[string]any{"query": "(unclosed"}, "search/tool_error"},
		{"no_such_tool", nil, UnknownTool + "/" + OutcomeProtocolError},
		{"another-made-up-name", nil, UnknownTool + "/" + OutcomeProtocolError},
	}
	want := map[string]float64{}
	wantObserved := map[string]uint64{}
	for _, s := range steps {
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: s.tool, Arguments: s.args})
		want[s.series]++
		wantObserved[strings.Split(s.series, "/")[0]]++
	}
	calls, observed := scrape(t, ts.URL)
	for series, n := range want {
		if calls[series] != n {
			t.Errorf("%s = %v, want %v", series, calls[series], n)
		}
	}
	for tool, n := range wantObserved {
		if observed[tool] != n {
			t.Errorf("duration samples of %s = %d, want %d", tool, observed[tool], n)
		}
	}
	for series := range calls {
		if strings.HasPrefix(series, "no_such_tool/") || strings.HasPrefix(series, "another-made-up-name/") {
			t.Errorf("an unknown tool name became a label: %s", series)
		}
	}
}

// TestHTTPConcurrentSessions runs 50 client sessions at once, each initializing, then calling
// search and errors on a scenario bundle; every answer must equal the library's own.
func TestHTTPConcurrentSessions(t *testing.T) {
	const sessions = 50
	b := importScenario(t, "container-oom-v2")
	// 50 agents starting at once on one token are over its rate limit; this test is about
	// concurrency, TestHTTPRateLimit about the limit.
	ts, _ := serveTest(t, b.store, HTTPOptions{Token: []byte(testToken), RateLimit: rate.Inf})
	ctx := context.Background()

	// What the tools must answer, from the library directly: the search for the pod's name, and
	// the findings at the errors tool's default severity (low and above).
	// Exact totals: a page's own total is a lower bound that depends on how far its workers read.
	wantSearch, err := search.Search(ctx, b.entry, b.idx, search.Request{Query: b.truth.Pod, MaxTotal: defaultMaxResults, ExactTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if wantSearch.Total == 0 {
		t.Fatalf("the bundle has no line naming pod %s: the test would prove nothing", b.truth.Pod)
	}
	wantFindings := 0
	for _, f := range b.idx.Findings {
		if index.SeverityRank(f.Severity) <= index.SeverityRank("low") {
			wantFindings++
		}
	}

	hc := tokenClient(testToken)
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		wg.Go(func() {
			if err := sessionWork(ctx, ts.URL, hc, b, wantSearch.Total, wantFindings); err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func sessionWork(ctx context.Context, url string, hc *http.Client, b httpBundle, wantTotal, wantFindings int) error {
	cs, err := connectHTTP(ctx, url, hc)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer cs.Close()
	var s SearchOut
	if err := callInto(ctx, cs, "search", map[string]any{"instanceId": b.entry.Manifest.InstanceID, "query": b.truth.Pod, "exactTotal": true}, &s); err != nil {
		return err
	}
	if s.Total != wantTotal || s.Bundle.BundleID != b.entry.Manifest.ID {
		return fmt.Errorf("search %s: %d matches in bundle %s, want %d in %s", b.truth.Pod, s.Total, s.Bundle.BundleID, wantTotal, b.entry.Manifest.ID)
	}
	var e ErrorsOut
	if err := callInto(ctx, cs, "errors", map[string]any{"instanceId": b.entry.Manifest.InstanceID}, &e); err != nil {
		return err
	}
	if e.Matching != wantFindings {
		return fmt.Errorf("errors: %d findings, want %d", e.Matching, wantFindings)
	}
	return nil
}

func callInto(ctx context.Context, cs *mcp.ClientSession, tool string, args map[string]any, out any) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return fmt.Errorf("%s: %w", tool, err)
	}
	if res.IsError {
		return fmt.Errorf("%s: isError: %v", tool, res.Content)
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// TestHTTPGracefulShutdown cancels the server while a session holds its SSE stream open: the
// server must close the session and return nil, which it only does within ShutdownTimeout.
func TestHTTPGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Version: "test"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, ln, srv, HTTPOptions{Token: []byte(testToken), ShutdownTimeout: 5 * time.Second})
	}()

	cs, err := connectHTTP(context.Background(), "http://"+ln.Addr().String(), tokenClient(testToken))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeListener after cancel: %v, want nil", err)
		}
	case <-time.After(time.Minute):
		// Only a guard against a hang; the server's own timeout (5 s) would have returned an error.
		t.Fatal("ServeListener did not return after cancel")
	}
	n := 0
	for range srv.Sessions() {
		n++
	}
	if n != 0 {
		t.Errorf("%d sessions still open after shutdown", n)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestHTTPMaxSessions(t *testing.T) {
	const max = 2
	ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken), MaxSessions: max})
	ctx := context.Background()
	for i := range max {
		cs, err := connectHTTP(ctx, ts.URL, tokenClient(testToken))
		if err != nil {
			t.Fatalf("session %d of %d: %v", i+1, max, err)
		}
		defer cs.Close()
	}
	resp := post(t, ts.URL+"/mcp", "Bearer "+testToken, strings.NewReader(initializeBody))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("session %d: status %d, Retry-After %q: want 503 with Retry-After", max+1, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestHTTPShutdownLetsCallsFinish cancels the server while a tool call is running: the call must
// still get its answer, and the server must then return nil.
func TestHTTPShutdownLetsCallsFinish(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	srv := New(Options{Version: "test"})
	started, release := make(chan struct{}), make(chan struct{})
	type slowOut struct {
		Finished bool `json:"finished"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "slow_for_test"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, slowOut, error) {
		close(started)
		<-release
		return nil, slowOut{Finished: true}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, srv, HTTPOptions{Token: []byte(testToken)}) }()

	cs, err := connectHTTP(context.Background(), addr, tokenClient(testToken))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	answered := make(chan error, 1)
	go func() {
		var out slowOut
		err := callInto(context.Background(), cs, "slow_for_test", nil, &out)
		if err == nil && !out.Finished {
			err = errors.New("the answer does not say finished")
		}
		answered <- err
	}()
	<-started
	cancel()
	// Release the tool only once the server has stopped accepting connections, so the call is
	// in flight during the shutdown.
	for {
		resp, err := http.Get(addr + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		runtime.Gosched()
	}
	close(release)
	if err := <-answered; err != nil {
		t.Errorf("the call in flight during shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("ServeListener: %v, want nil", err)
	}
}
