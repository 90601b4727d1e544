package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestServeFlagsRefused: serve's sharing flags are checked before anything is served: an HTTP
// flag without --listen and a value the server cannot use are usage errors naming the flag.
func TestServeFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"origins without --listen", []string{"--allowed-origins", "https://app.example.com"}, "--allowed-origins applies to the HTTP server"},
		{"rate limit without --listen", []string{"--rate-limit", "5"}, "--rate-limit applies to the HTTP server"},
		{"negative rate limit", []string{"--listen", "127.0.0.1:0", "--insecure-no-auth", "--rate-limit", "-1"}, "--rate-limit -1"},
		{"zero call timeout", []string{"--call-timeout", "0s"}, "--call-timeout 0s"},
		{"an origin with a path", []string{"--listen", "127.0.0.1:0", "--insecure-no-auth", "--allowed-origins", "https://app.example.com/mcp"}, "--allowed-origins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"--store", t.TempDir(), "serve", "--no-kube", "--no-aws"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitUsage, tc.wantErr)
			}
		})
	}
}

// TestServeStdioSurvivesOversizedMessage: a message longer than the SDK's own 16 MiB cap used
// to end `serve`; now it is answered with an error naming --max-body-bytes, and the next
// request is served.
func TestServeStdioSurvivesOversizedMessage(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- MainIO(context.Background(), []string{"--store", t.TempDir(), "serve", "--no-kube", "--no-aws"}, inR, outW, &errb)
		outW.Close()
		inR.CloseWithError(io.ErrClosedPipe) // a write to a server that ended fails, not blocks
	}()
	answers := make(chan map[string]any, 10)
	go func() {
		defer close(answers)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var m map[string]any
			_ = json.Unmarshal(sc.Bytes(), &m)
			answers <- m
		}
	}()
	wait := func(id int) map[string]any {
		t.Helper()
		for {
			select {
			case m, ok := <-answers:
				if !ok {
					t.Fatalf("serve ended before answering id %d: %s", id, errb.String())
				}
				if got, _ := m["id"].(float64); int(got) == id {
					return m
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no answer to id %d", id)
			}
		}
	}
	write := func(s string) {
		if _, err := io.WriteString(inW, s+"\n"); err != nil {
			t.Fatalf("serve stopped reading its input (%v); stderr: %s", err, errb.String())
		}
	}
	write(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`)
	wait(1)
	write(`{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`)
	write(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_sops","arguments":{"query":"` + strings.Repeat("x", 17<<20) + `"}}}`)
	if e, _ := wait(2)["error"].(map[string]any); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "--max-body-bytes") {
		t.Errorf("the 17 MiB message: error %v, want one naming --max-body-bytes", e)
	}
	write(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_sops","arguments":{}}}`)
	if r, _ := wait(3)["result"].(map[string]any); r == nil || r["isError"] == true {
		t.Errorf("the call after it: %v, want list_sops answered", r)
	}
	inW.Close()
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "dropped a message on stdin") {
		t.Errorf("stderr %q: want the drop logged", errb.String())
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines may log into while the test reads it.
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

// TestServeHTTPShared starts `serve --listen` with the sharing flags and checks each reaches the
// server: a foreign origin gets 403, a named caller is served and named in the log, and a token
// over its rate gets 429.
func TestServeHTTPShared(t *testing.T) {
	const alice = "alice-token-0123456789abcdef"
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("alice:"+alice+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- MainIO(ctx, []string{"--store", filepath.Join(dir, "store"), "serve", "--no-kube", "--no-aws", "--listen", "127.0.0.1:0",
			"--auth-token-file", tokens, "--allowed-origins", "https://app.example.com", "--rate-limit", "0.5", "--rate-burst", "8",
			"--call-timeout", "5s", "--allowed-clusters", "prod"}, strings.NewReader(""), io.Discard, &errb)
	}()
	url := ""
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, rest, ok := strings.Cut(errb.String(), "url="); ok {
			url, _, _ = strings.Cut(rest, " ")
		}
	}
	if url == "" {
		t.Fatalf("serve did not say where it listens: %s", errb.String())
	}
	post := func(origin string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+alice)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("https://evil.example"); code != http.StatusForbidden {
		t.Errorf("a foreign origin: %d, want 403", code)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearerTransport(alice)}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_sops"})
	if err != nil || res.IsError {
		t.Fatalf("list_sops as alice: %v %v", err, res)
	}
	cs.Close()
	limited := false
	for range 10 { // the burst of 8 is spent, partly by the session above
		if post("https://app.example.com") == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("10 requests at once past a burst of 8: none got 429")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d: %s", code, errb.String())
	}
	if log := errb.String(); !strings.Contains(log, "tool=list_sops caller=alice outcome=ok") || strings.Contains(log, alice) {
		t.Errorf("stderr %s: want the call logged under alice's name, without her token", log)
	}
}

// bearerTransport adds a bearer token to every request.
type bearerTransport string

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}
