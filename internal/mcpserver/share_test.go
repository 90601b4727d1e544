package mcpserver

import (
	"bufio"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/cloud/awsfake"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/store"
)

// postFrom is post with an Origin header, as a browser sends for a page's fetch.
func postFrom(t *testing.T, url, auth, origin, body string) *http.Response {
	t.Helper()
	return postWith(t, url, auth, origin, strings.NewReader(body))
}

// TestHTTPOrigin: a page of a foreign origin gets 403 before anything else is looked at, even
// with the right token; loopback origins, listed origins and requests without Origin pass.
func TestHTTPOrigin(t *testing.T) {
	ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken), AllowedOrigins: []string{"https://App.example.com:443", "http://10.0.0.5:3000"}})
	for _, tc := range []struct {
		origin string
		want   int
	}{
		{"", http.StatusOK},
		{"http://localhost:6274", http.StatusOK},
		{"http://127.0.0.1:8080", http.StatusOK},
		{"https://[::1]", http.StatusOK},
		{"https://app.example.com", http.StatusOK},
		{"http://10.0.0.5:3000", http.StatusOK},
		{"http://10.0.0.5:3001", http.StatusForbidden},
		{"http://app.example.com", http.StatusForbidden}, // scheme differs
		{"https://evil.example", http.StatusForbidden},
		{"https://localhost.evil.example", http.StatusForbidden},
		{"null", http.StatusForbidden},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			resp := postFrom(t, ts.URL+"/mcp", "Bearer "+testToken, tc.origin, initializeBody)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want == http.StatusForbidden {
				var e struct {
					Error            string `json:"error"`
					ErrorDescription string `json:"error_description"`
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error != "origin_not_allowed" || !strings.Contains(e.ErrorDescription, "--allowed-origins") {
					t.Errorf("403 body %s: want origin_not_allowed naming --allowed-origins", body)
				}
			}
		})
	}
	// The check comes before authentication: a page learns nothing about the token.
	resp := postFrom(t, ts.URL+"/mcp", "Bearer wrong-token-wrong-token", "https://evil.example", initializeBody)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin with a wrong token: %d, want 403", resp.StatusCode)
	}

	t.Run("star allows every origin", func(t *testing.T) {
		ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken), AllowedOrigins: []string{"*"}})
		if resp := postFrom(t, ts.URL+"/mcp", "Bearer "+testToken, "https://evil.example", initializeBody); resp.StatusCode != http.StatusOK {
			t.Errorf("with *: %d, want 200", resp.StatusCode)
		}
	})
	t.Run("bad origins refused", func(t *testing.T) {
		for _, o := range []string{"app.example.com", "ftp://x.example", "https://x.example/path", "https://user@x.example"} {
			_, err := NewHTTPHandler(New(Options{Version: "test"}), HTTPOptions{Token: []byte(testToken), AllowedOrigins: []string{o}})
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--allowed-origins") {
				t.Errorf("%q: %v, want a configuration error naming --allowed-origins", o, err)
			}
		}
	})
}

// serveLoopback runs ServeListener (the real http.Server with its timeouts, which httptest
// does not have) on a loopback port until the test ends, and returns its base URL.
func serveLoopback(t *testing.T, srv *mcp.Server, opts HTTPOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, srv, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeListener: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestHTTPSlowBody: a client that sends its headers and then its body slowly, or not at all,
// loses the connection after ReadTimeout instead of holding it and a handler forever.
func TestHTTPSlowBody(t *testing.T) {
	const timeout = 300 * time.Millisecond
	base := serveLoopback(t, New(Options{Version: "test"}), HTTPOptions{Token: []byte(testToken), ReadTimeout: timeout})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Accept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n%s",
		strings.TrimPrefix(base, "http://"), testToken, len(initializeBody), initializeBody[:10])
	// The rest of the body never comes. A guard far beyond the timeout, in case the server waits.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(conn) // the server's answer, then the end of the connection
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("after %v: %v, want the server to close the connection (read %q)", elapsed, err, got)
	}
	if elapsed < timeout/2 || elapsed > timeout+2*time.Second { // the server counts from when it took the connection
		t.Errorf("connection closed after %v, want about ReadTimeout %v", elapsed, timeout)
	}
	t.Logf("a body that never came: connection closed after %v (ReadTimeout %v)", elapsed, timeout)
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 400")) {
		t.Errorf("answer %q, want 400 for the body that did not come", got)
	}
}

// TestHTTPStreamsOutliveTimeouts: the read, header and idle timeouts must not end what is meant
// to last: a tool call that runs longer than all of them still answers, and the session's
// standalone SSE stream (a GET that lasts the session) still carries a notification afterwards.
func TestHTTPStreamsOutliveTimeouts(t *testing.T) {
	const timeout = 100 * time.Millisecond
	srv := New(Options{Version: "test"})
	type slowOut struct {
		Slept string `json:"slept"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "slow_for_test"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, slowOut, error) {
		select {
		case <-time.After(5 * timeout):
			return nil, slowOut{Slept: (5 * timeout).String()}, nil
		case <-ctx.Done():
			return nil, slowOut{}, context.Cause(ctx)
		}
	})
	base := serveLoopback(t, srv, HTTPOptions{Token: []byte(testToken), ReadTimeout: timeout, ReadHeaderTimeout: timeout, IdleTimeout: timeout})
	changed := make(chan struct{}, 1)
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	ctx := context.Background()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: tokenClient(testToken), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	var out slowOut
	if err := callInto(ctx, cs, "slow_for_test", nil, &out); err != nil || out.Slept == "" {
		t.Fatalf("a call longer than the timeouts: %v %+v", err, out)
	}
	// Adding a tool notifies every session on its standalone stream, opened at connect.
	mcp.AddTool(srv, &mcp.Tool{Name: "added_for_test"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, slowOut, error) {
		return nil, slowOut{}, nil
	})
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no tools/list_changed notification: the standalone SSE stream did not outlive the timeouts")
	}
}

// connectServer connects the SDK client to srv over memory for the test's length.
func connectServer(t *testing.T, srv *mcp.Server, copts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, copts).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

type blockOut struct {
	Done bool `json:"done"`
}

// addBlockingTool adds "block_for_test", which runs until its context ends (reporting the
// cause on ended) or, with ignoreCtx, sleeps for d whatever its context says.
func addBlockingTool(srv *mcp.Server, started chan<- struct{}, ended chan<- error, ignoreCtx bool, d time.Duration) {
	mcp.AddTool(srv, &mcp.Tool{Name: "block_for_test"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, blockOut, error) {
		if started != nil {
			started <- struct{}{}
		}
		if ignoreCtx {
			time.Sleep(d)
			return nil, blockOut{Done: true}, nil
		}
		select {
		case <-ctx.Done():
			if ended != nil {
				ended <- context.Cause(ctx)
			}
			return nil, blockOut{}, ctx.Err()
		case <-time.After(d):
			return nil, blockOut{Done: true}, nil
		}
	})
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestCallTimeout: a call past the server's limit answers, soon after the limit, an isError
// result that names the limit, the flag and how to narrow the request — whether the tool stops
// when its context ends, does not stop at all, or (search) returns partial matches as a success.
func TestCallTimeout(t *testing.T) {
	const limit = 200 * time.Millisecond
	ctx := context.Background()
	t.Run("tool that stops", func(t *testing.T) {
		srv := New(Options{Version: "test", CallTimeout: limit})
		ended := make(chan error, 1)
		addBlockingTool(srv, nil, ended, false, 10*time.Second)
		cs := connectServer(t, srv, nil)
		start := time.Now()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "block_for_test"})
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("a protocol error %v, want an isError result", err)
		}
		if !res.IsError || !strings.Contains(resultText(res), "limit of 200ms per call (serve --call-timeout)") {
			t.Errorf("isError %v, %q: want an error naming the limit and --call-timeout", res.IsError, resultText(res))
		}
		if elapsed > limit+time.Second {
			t.Errorf("answered after %v, want soon after the limit %v", elapsed, limit)
		}
		t.Logf("a call past a limit of %v answered after %v", limit, elapsed)
		select {
		case cause := <-ended:
			if !errors.Is(cause, errCallTimeout) {
				t.Errorf("the tool's context ended with %v, want the call timeout", cause)
			}
		default:
			t.Error("the tool's context did not end")
		}
	})
	t.Run("tool that ignores its context", func(t *testing.T) {
		var logs syncBuffer
		srv := New(Options{Version: "test", CallTimeout: limit, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		addBlockingTool(srv, nil, nil, true, 5*time.Second)
		cs := connectServer(t, srv, nil)
		start := time.Now()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "block_for_test"})
		elapsed := time.Since(start)
		if err != nil || !res.IsError {
			t.Fatalf("%v %v: want an isError result", err, res)
		}
		if elapsed > limit+stopGrace+time.Second {
			t.Errorf("answered after %v, want within the limit and the grace (%v)", elapsed, limit+stopGrace)
		}
		t.Logf("a tool ignoring its context, limit %v: answered after %v", limit, elapsed)
		if !strings.Contains(logs.String(), "did not stop") || !strings.Contains(logs.String(), "block_for_test") {
			t.Errorf("log %q: want a warning naming the tool that did not stop", logs.String())
		}
	})
	t.Run("search answers its partial matches as an error", func(t *testing.T) {
		f := newFixture(t)
		// A limit that has passed before the search starts: the search returns at once with
		// what it found (nothing), as a success; the call must still say it was stopped.
		cs := connect(t, Options{Store: f.store, Version: "test", CallTimeout: time.Nanosecond})
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"instanceId": f.instance, "query": "OOMKilled"}})
		if err != nil || !res.IsError {
			t.Fatalf("%v %v: want an isError result", err, res)
		}
		if text := resultText(res); !strings.Contains(text, "--call-timeout") || !strings.Contains(text, "logTypes") || !strings.Contains(text, "start_time") {
			t.Errorf("%q: want the limit's flag and search's narrowing parameters", text)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a logger writing from a tool's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rawSession initializes an MCP session over plain HTTP, as a client without the SDK would,
// and returns its id.
func rawSession(t *testing.T, url, token string) string {
	t.Helper()
	resp := post(t, url, "Bearer "+token, strings.NewReader(initializeBody))
	io.Copy(io.Discard, resp.Body)
	id := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("initialize: status %d, session %q", resp.StatusCode, id)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusAccepted {
		t.Fatalf("initialized: status %d", r2.StatusCode)
	}
	return id
}

// TestHTTPDisconnectCancels: when the HTTP client of a running call closes its connection —
// without the cancellation notification an SDK client would send — the tool's context ends.
func TestHTTPDisconnectCancels(t *testing.T) {
	srv := New(Options{Version: "test"})
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	addBlockingTool(srv, started, ended, false, 10*time.Second)
	ts := serveHandler(t, srv, HTTPOptions{Token: []byte(testToken)})
	id := rawSession(t, ts.URL+"/mcp", testToken)

	ctx, hangUp := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/mcp",
		strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"block_for_test","arguments":{}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	// A client cannot pass for another request: the server sets the key over this one.
	req.Header.Set(callKeyHeader, "forged")
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the tool never started")
	}
	hungUp := time.Now()
	hangUp() // the transport closes the connection
	select {
	case cause := <-ended:
		if !errors.Is(cause, errClientGone) {
			t.Errorf("the tool's context ended with %v, want errClientGone", cause)
		}
		t.Logf("the tool's context ended %v after its client hung up", time.Since(hungUp))
	case <-time.After(5 * time.Second):
		t.Fatal("the tool still runs 5 s after its client disconnected")
	}
}

// stdioPeer drives a server over StdioTransport with raw lines, as an agent's client would.
// Its stdout is read all the time, as a real client does, into answers.
type stdioPeer struct {
	t       *testing.T
	in      *io.PipeWriter
	answers chan map[string]any
	done    chan error
}

func newStdioPeer(t *testing.T, srv *mcp.Server, maxBytes int64, log *slog.Logger) *stdioPeer {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &stdioPeer{t: t, in: inW, answers: make(chan map[string]any, 100), done: make(chan error, 1)}
	go func() {
		p.done <- srv.Run(context.Background(), StdioTransport(inR, outW, maxBytes, log))
		outW.Close()
	}()
	go func() {
		defer close(p.answers)
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"unparsable": sc.Text()}
			}
			p.answers <- m
		}
	}()
	t.Cleanup(func() { inW.Close() })
	return p
}

// send writes one line; with id > 0 it waits for the answer with that id and returns it.
func (p *stdioPeer) send(id int, line string) map[string]any {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatalf("writing to the server: %v", err)
	}
	if id == 0 {
		return nil
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-p.answers:
			if !ok {
				p.t.Fatalf("no answer to id %d: the server ended (%v)", id, <-p.done)
			}
			if u, bad := m["unparsable"]; bad {
				p.t.Fatalf("stdout carries a non-JSON line %q", u)
			}
			if got, ok := m["id"].(float64); ok && int(got) == id {
				return m
			}
		case <-timeout:
			p.t.Fatalf("no answer to id %d within 10 s", id)
		}
	}
}

// TestStdioBadMessages: a message over the limit, a line that is not JSON, JSON that is not
// JSON-RPC and a batch the protocol version does not have are each dropped — answered with an
// error when their id can be read — and the server answers the next request.
func TestStdioBadMessages(t *testing.T) {
	const limit = 4096
	var logs syncBuffer
	p := newStdioPeer(t, New(Options{Version: "test"}), limit, slog.New(slog.NewTextHandler(&logs, nil)))
	p.send(1, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`)
	p.send(0, `{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`)

	big := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_sops","arguments":{"query":"` + strings.Repeat("x", 3*limit) + `"}}}`
	answer := p.send(2, big)
	e, _ := answer["error"].(map[string]any)
	if e == nil || e["code"] != float64(-32600) || !strings.Contains(e["message"].(string), "limit of 4096 bytes") || !strings.Contains(e["message"].(string), "--max-body-bytes") {
		t.Errorf("oversized message: answer %v, want error -32600 naming the limit and --max-body-bytes", answer)
	}
	p.send(0, `this is not JSON`)
	cut := p.send(3, `{"jsonrpc":"2.0","id":3,"method":`) // not JSON, but its id can be read
	if e, _ := cut["error"].(map[string]any); e == nil || e["code"] != float64(-32700) {
		t.Errorf("a cut message: answer %v, want a parse error -32700", cut)
	}
	p.send(0, `["not", "json-rpc"]`)
	p.send(0, `   `)
	// 2025-06-18 has no batches: each request of one is answered with an error.
	batch := p.send(5, `[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/progress","params":{}}]`)
	if e, _ := batch["error"].(map[string]any); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "no JSON-RPC batches") {
		t.Errorf("a batch: answer %v, want an error saying the protocol has no batches", batch)
	}
	res := p.send(4, `  {"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_sops","arguments":{}}}  `)
	if r, _ := res["result"].(map[string]any); r == nil || r["isError"] == true {
		t.Fatalf("after the bad messages: %v, want list_sops answered", res)
	}
	// The log names every drop, answered or not.
	if n := strings.Count(logs.String(), "dropped a message on stdin"); n != 5 {
		t.Errorf("%d drops logged, want 5:\n%s", n, logs.String())
	}
	p.in.Close()
	if err := <-p.done; err != nil && !errors.Is(err, io.EOF) {
		t.Errorf("the server ended with %v when its input closed", err)
	}
}

func TestIDOf(t *testing.T) {
	for _, tc := range []struct {
		head string
		want any // nil: none
	}{
		{`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"x":"` + strings.Repeat("y", 100), float64(7)},
		{`{"jsonrpc":"2.0","method":"x","id":"abc"}`, "abc"},
		{`{"jsonrpc":"2.0","params":{"x":"yyyy`, nil}, // cut before any id
		{`{"jsonrpc":"2.0","id":null}`, nil},
		{`[1,2]`, nil},
		{`garbage`, nil},
	} {
		id, ok := idOf([]byte(tc.head))
		if (tc.want == nil) == ok {
			t.Errorf("%.40q: found %v (%v), want %v", tc.head, id.Raw(), ok, tc.want)
			continue
		}
		if ok && fmt.Sprint(id.Raw()) != fmt.Sprint(tc.want) {
			t.Errorf("%.40q: id %v, want %v", tc.head, id.Raw(), tc.want)
		}
	}
}

// TestHTTPNamedTokens: a token file of name:token lines admits each caller under its name, and
// the name is in the log line and the metric series of each call; a session belongs to the
// caller that opened it.
func TestHTTPNamedTokens(t *testing.T) {
	const alice, bob = "alice-token-0123456789abcdef", "bob-token-0123456789abcdef01"
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("# the team\nalice:"+alice+"\n\nbob: "+bob+"  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ts, _ := serveTest(t, nil, HTTPOptions{TokenFile: file, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()

	_, _, before := scrapeAs(t, ts.URL, bob)
	for _, series := range []string{"list_sops/ok/alice", "list_sops/ok/bob", "get_sop/tool_error/bob"} {
		if v, ok := before[series]; !ok || v != 0 {
			t.Errorf("before any call: %s = %v (present %v), want a zero series per caller", series, v, ok)
		}
	}
	as := map[string]*mcp.ClientSession{}
	for name, tok := range map[string]string{"alice": alice, "bob": bob} {
		cs, err := connectHTTP(ctx, ts.URL, tokenClient(tok))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer cs.Close()
		as[name] = cs
	}
	calls := map[string]int{"alice": 1, "bob": 2}
	for name, n := range calls {
		for range n {
			if res, err := as[name].CallTool(ctx, &mcp.CallToolParams{Name: "list_sops"}); err != nil || res.IsError {
				t.Fatalf("%s: list_sops: %v %v", name, err, res)
			}
		}
	}
	_, _, after := scrapeAs(t, ts.URL, alice)
	for name, n := range calls {
		if got := after["list_sops/ok/"+name]; got != float64(n) {
			t.Errorf("list_sops/ok/%s = %v, want %d", name, got, n)
		}
	}
	if !strings.Contains(logs.String(), `msg="tool call" tool=list_sops caller=alice outcome=ok`) ||
		!strings.Contains(logs.String(), `caller=bob`) {
		t.Errorf("log %s: want a line per call naming its caller", logs.String())
	}
	for _, tok := range []string{alice, bob} {
		if strings.Contains(logs.String(), tok) {
			t.Error("the log shows a token")
		}
	}

	// Bob cannot use the session Alice opened.
	id := rawSession(t, ts.URL+"/mcp", alice)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+bob)
	req.Header.Set("Mcp-Session-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob on alice's session: status %d, want 403", resp.StatusCode)
	}
}

func TestParseTokens(t *testing.T) {
	const a, b = "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"
	for _, tc := range []struct {
		name, file string
		want       []string // caller names; nil: refused
		wantErr    string
	}{
		{"bare token", a + "\n", []string{DefaultCaller}, ""},
		{"bare token after a comment", "# ours\n" + a, []string{DefaultCaller}, ""},
		{"named", "alice:" + a + "\nbob:" + b, []string{"alice", "bob"}, ""},
		{"one named", "alice:" + a, []string{"alice"}, ""},
		{"a line without a name", "alice:" + a + "\n" + b, nil, "line 2 has no name"},
		{"same name twice", "alice:" + a + "\nalice:" + b, nil, "lines 1 and 2 both name alice"},
		{"same token twice", "alice:" + a + "\nbob:" + a, nil, "lines 1 and 2 hold the same token"},
		{"a name with a space", "al ice:" + a, nil, "line 1: the name"},
		{"a short token", "alice:" + a + "\nbob:short", nil, "line 2 (bob): the token is 5 bytes"},
		{"only comments", "# nothing\n\n", nil, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTokens([]byte(tc.file), "the token file f")
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrConfig) {
					t.Errorf("err %v, want ErrConfig containing %q", err, tc.wantErr)
				}
				if err != nil && (strings.Contains(err.Error(), a) || strings.Contains(err.Error(), b)) {
					t.Errorf("the error shows a token: %v", err)
				}
				return
			}
			if err != nil || !slices.Equal(got.names(), tc.want) {
				t.Fatalf("callers %v, %v; want %v", got.names(), err, tc.want)
			}
			if name, ok := got.lookup(a); !ok || name != tc.want[0] {
				t.Errorf("token a is %q (%v), want %s", name, ok, tc.want[0])
			}
		})
	}
}

// TestHTTPRateLimit: a caller over its rate gets 429 with Retry-After, naming the flags; its
// bucket is its own, so another caller is still served, and a DELETE is never refused.
func TestHTTPRateLimit(t *testing.T) {
	const alice, bob = "alice-token-0123456789abcdef", "bob-token-0123456789abcdef01"
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("alice:"+alice+"\nbob:"+bob+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// One request every 10 s, bursts of 3: the test's requests come far faster.
	ts, _ := serveTest(t, nil, HTTPOptions{TokenFile: file, RateLimit: 0.1, RateBurst: 3})
	for i := range 3 {
		if resp := post(t, ts.URL+"/mcp", "Bearer "+alice, strings.NewReader(initializeBody)); resp.StatusCode != http.StatusOK {
			t.Fatalf("alice's request %d of the burst: %d, want 200", i+1, resp.StatusCode)
		}
	}
	resp := post(t, ts.URL+"/mcp", "Bearer "+alice, strings.NewReader(initializeBody))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("alice's 4th request: %d, want 429", resp.StatusCode)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 10 {
		t.Errorf("Retry-After %q, want 1 to 10 seconds", resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(body), "--rate-limit") || !strings.Contains(string(body), `\"alice\"`) {
		t.Errorf("429 body %s: want the caller and the flag named", body)
	}
	if resp := post(t, ts.URL+"/mcp", "Bearer "+bob, strings.NewReader(initializeBody)); resp.StatusCode != http.StatusOK {
		t.Errorf("bob while alice is limited: %d, want 200", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Mcp-Session-Id", "no-such-session")
	del, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	del.Body.Close()
	if del.StatusCode == http.StatusTooManyRequests {
		t.Error("a DELETE was refused by the rate limit: closing a session must stay possible")
	}
}

// TestAllowedClusters: with --allowed-clusters every tool that reaches a cluster refuses one
// not listed, naming those that are; with one allowed, naming none means it; unset, nothing
// changes.
func TestAllowedClusters(t *testing.T) {
	f := newFixture(t)
	pod, opts := everythingConfigured(t, f.instance)
	calls := map[string]map[string]any{
		"list_k8s_resources":  {"kind": "Pod", "namespace": pod.Namespace},
		"read_k8s_resource":   {"kind": "Pod", "name": pod.Name, "namespace": pod.Namespace},
		"get_k8s_events":      {"kind": "Pod", "name": pod.Name, "namespace": pod.Namespace},
		"get_pod_logs":        {"pod": pod.Name, "namespace": pod.Namespace, "previous": true},
		"cluster_health":      {},
		"get_cloudwatch_logs": {},
		"diagnose_crashloop":  {"pod": pod.Name, "namespace": pod.Namespace},
	}
	with := func(args map[string]any, k, v string) map[string]any {
		out := map[string]any{k: v}
		for a, x := range args {
			out[a] = x
		}
		return out
	}

	opts.AllowedClusters = []string{"prod"}
	g := &fixture{cs: connect(t, opts)}
	for tool, args := range calls {
		t.Run(tool, func(t *testing.T) {
			msg := g.call(t, tool, with(args, "clusterName", "staging"), nil, true)
			if !strings.Contains(msg, `"staging" is not a cluster this server may reach`) || !strings.Contains(msg, "prod (serve --allowed-clusters)") {
				t.Errorf("clusterName staging: %q, want a refusal naming the allowed cluster and the flag", msg)
			}
			g.call(t, tool, with(args, "cluster_name", "prod"), nil, false)
			g.call(t, tool, args, nil, false) // no name: the one allowed cluster
		})
	}
	if msg := g.call(t, "get_cloudwatch_logs", map[string]any{"resource_type": "cluster", "resource_name": "staging"}, nil, true); !strings.Contains(msg, "--allowed-clusters") {
		t.Errorf("resource_name staging: %q, want refused", msg)
	}

	opts.AllowedClusters = []string{"staging", "test"}
	g = &fixture{cs: connect(t, opts)}
	if msg := g.call(t, "list_k8s_resources", calls["list_k8s_resources"], nil, true); !strings.Contains(msg, "clusterName is required on this server") ||
		!strings.Contains(msg, "staging, test") {
		t.Errorf("no name with two allowed: %q, want clusterName required, naming both", msg)
	}
	// collect names no cluster: the one of the instance's tags is checked before the automation
	// starts.
	if msg := g.call(t, "collect", map[string]any{"instanceId": f.instance}, nil, true); !strings.Contains(msg, `node of cluster "prod"`) ||
		!strings.Contains(msg, "--allowed-clusters") {
		t.Errorf("collect on a node of prod: %q, want refused naming its cluster", msg)
	}

	opts.AllowedClusters = nil
	g = &fixture{cs: connect(t, opts)}
	if msg := g.call(t, "list_k8s_resources", with(calls["list_k8s_resources"], "clusterName", "staging"), nil, true); strings.Contains(msg, "allowed-clusters") {
		t.Errorf("unset: %q, want the kubeconfig's own answer", msg)
	}
}

// collectServer is a server with a collector over a fake AWS account holding one running EKS
// node of cluster prod, uploading to the bucket node-logs.
func collectServer(t *testing.T, approve bool) (*mcp.Server, *awsfake.Account, string) {
	t.Helper()
	const instance = "i-0a1b2c3d4e5f60718"
	acct := awsfake.New()
	t.Cleanup(acct.Close)
	acct.AddInstance(awsfake.Instance{ID: instance, Region: "us-west-2", State: "running", PrivateDNSName: "ip-10-0-1-7.us-west-2.compute.internal",
		Tags: map[string]string{"eks:cluster-name": "prod"}})
	acct.AddBucket("node-logs")
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := collect.New(st, cloud.New(acct.Config("us-west-2"), cloud.Options{Bucket: "node-logs"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: st, Collector: col, ApproveCollect: approve, Version: "test"}), acct, instance
}

// TestCollectApproval: before collect starts an SSM automation the user is asked, through an
// elicitation naming the instance and the bucket, and only an accepted, checked form starts
// it; a client that cannot be asked gets an error naming --approve-collect, which the operator
// sets to pre-approve.
func TestCollectApproval(t *testing.T) {
	ctx := context.Background()
	answer := func(action string, content map[string]any) *mcp.ClientOptions {
		return &mcp.ClientOptions{ElicitationHandler: func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: action, Content: content}, nil
		}}
	}
	for _, tc := range []struct {
		name    string
		approve bool // --approve-collect
		client  *mcp.ClientOptions
		wantErr string // empty: started
	}{
		{"accepted", false, answer("accept", map[string]any{"approve": true}), ""},
		{"accepted unchecked", false, answer("accept", map[string]any{"approve": false}), "not approved: the user left"},
		{"declined", false, answer("decline", nil), "not approved: the user declined"},
		{"cancelled", false, answer("cancel", nil), "not approved: the user dismissed"},
		{"client without elicitation", false, nil, "serve --approve-collect"},
		{"pre-approved", true, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, acct, instance := collectServer(t, tc.approve)
			var asked []string
			if tc.client != nil {
				inner := tc.client.ElicitationHandler
				tc.client.ElicitationHandler = func(ctx context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					asked = append(asked, r.Params.Message)
					return inner(ctx, r)
				}
			}
			cs := connectServer(t, srv, tc.client)
			args := map[string]any{"instanceId": instance, "idempotencyToken": "t1"}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "collect", Arguments: args})
			if err != nil {
				t.Fatalf("a protocol error %v, want a tool result", err)
			}
			started := len(acct.RequestsFor("StartAutomationExecution"))
			if tc.wantErr != "" {
				if !res.IsError || !strings.Contains(resultText(res), tc.wantErr) {
					t.Errorf("isError %v %q, want an error containing %q", res.IsError, resultText(res), tc.wantErr)
				}
				if started != 0 {
					t.Errorf("%d automations started without approval", started)
				}
				return
			}
			if res.IsError || started != 1 {
				t.Fatalf("isError %v %q, %d automations started: want one", res.IsError, resultText(res), started)
			}
			if tc.approve {
				if len(asked) != 0 {
					t.Errorf("pre-approved, yet the user was asked %d times", len(asked))
				}
				return
			}
			if len(asked) != 1 || !strings.Contains(asked[0], instance) || !strings.Contains(asked[0], "s3://node-logs") ||
				!strings.Contains(asked[0], "cluster prod") {
				t.Errorf("asked %q: want one question naming the instance, its cluster and the bucket", asked)
			}
			// The same idempotency token names the execution already started: nothing to approve.
			if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "collect", Arguments: args}); err != nil || res.IsError || len(asked) != 1 {
				t.Errorf("again with the same token: %v %v, asked %d times; want the same execution without asking", err, res, len(asked))
			}
		})
	}
}

// TestCollectApprovalOverHTTP: over streamable HTTP the session negotiates a protocol version
// before multi round-trips, so the SDK asks the client with an elicitation request of its own,
// on the call's stream; the answer decides the same way.
func TestCollectApprovalOverHTTP(t *testing.T) {
	ctx := context.Background()
	for _, action := range []string{"accept", "decline"} {
		t.Run(action, func(t *testing.T) {
			srv, acct, instance := collectServer(t, false)
			ts := serveHandler(t, srv, HTTPOptions{Token: []byte(testToken)})
			asked := 0
			c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, &mcp.ClientOptions{
				ElicitationHandler: func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					asked++
					return &mcp.ElicitResult{Action: action, Content: map[string]any{"approve": action == "accept"}}, nil
				}})
			cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: tokenClient(testToken), MaxRetries: -1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if v := cs.InitializeResult().ProtocolVersion; v >= "2026-07-28" {
				t.Fatalf("negotiated %s: the test means the protocol before multi round-trips", v)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "collect", Arguments: map[string]any{"instanceId": instance}})
			if err != nil {
				t.Fatal(err)
			}
			started := len(acct.RequestsFor("StartAutomationExecution"))
			if asked != 1 || res.IsError != (action != "accept") || started != map[bool]int{true: 1}[action == "accept"] {
				t.Errorf("asked %d, isError %v (%s), %d started", asked, res.IsError, resultText(res), started)
			}
		})
	}
}

// serveHandler serves srv over streamable HTTP on loopback, closing its sessions and the
// server with the test.
func serveHandler(t *testing.T, srv *mcp.Server, opts HTTPOptions) *httptest.Server {
	t.Helper()
	h, err := NewHTTPHandler(srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		for ss := range srv.Sessions() {
			_ = ss.Close()
		}
		ts.Close()
	})
	return ts
}
