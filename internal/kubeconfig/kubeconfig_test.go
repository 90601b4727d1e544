package kubeconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- {name: prod, cluster: {server: "https://prod.example:6443"}}
- {name: dev, cluster: {server: "https://dev.example:6443"}}
users: [{name: u, user: {token: t}}]
contexts:
- {name: p, context: {cluster: prod, user: u}}
- {name: d, context: {cluster: dev, user: u}}
current-context: p
`

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		context, host, cluster, err string
	}{
		{"", "https://prod.example:6443", "prod", ""},
		{"d", "https://dev.example:6443", "dev", ""},
		{"nope", "", "", `context "nope"`},
	} {
		cfg, cluster, err := Load(path, tc.context)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("context %q: err %v, want one naming %s", tc.context, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("context %q: %v", tc.context, err)
		}
		if cfg.Host != tc.host || cluster != tc.cluster || cfg.BearerToken != "t" {
			t.Errorf("context %q: host %q cluster %q token %q, want %q %q t", tc.context, cfg.Host, cluster, cfg.BearerToken, tc.host, tc.cluster)
		}
	}
}
