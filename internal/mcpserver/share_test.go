package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// postFrom is post with an Origin header, as a browser sends for a page's fetch.
func postFrom(t *testing.T, url, auth, origin, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", auth)
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
	if elapsed < timeout || elapsed > timeout+2*time.Second {
		t.Errorf("connection closed after %v, want about ReadTimeout %v", elapsed, timeout)
	}
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
