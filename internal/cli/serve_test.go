package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
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
