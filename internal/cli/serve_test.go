package cli

import (
	"strings"
	"testing"
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
