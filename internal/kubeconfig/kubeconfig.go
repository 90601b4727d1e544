// Package kubeconfig turns a kubeconfig into a client-go REST configuration the way kubectl
// does. It imports client-go's clientcmd and rest only, not the clientset (every API group's
// scheme registration at start-up), so that the capture agent's small binary can share it with
// internal/kube.
package kubeconfig

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Load reads a kubeconfig (empty path: $KUBECONFIG or ~/.kube/config, and in a pod with neither
// the pod's service account; empty context: the current one) and returns the REST configuration
// with the name of the context's cluster entry ("" when the file does not say).
func Load(path, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig %q context %q: %w", path, context, err)
	}
	cluster := ""
	if raw, err := cc.RawConfig(); err == nil {
		name := context
		if name == "" {
			name = raw.CurrentContext
		}
		if c := raw.Contexts[name]; c != nil {
			cluster = c.Cluster
		}
	}
	return cfg, cluster, nil
}
