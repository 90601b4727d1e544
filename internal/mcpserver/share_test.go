package mcpserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
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
