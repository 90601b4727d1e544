// Package kube reads what the Kubernetes API knows about a crash-looping pod — its status, events,
// previous container logs and node — read-only. Offline, it parses the files an engineer saves
// with `kubectl get pod -o json` and `kubectl get events -o json`, so a diagnosis works without
// cluster access; the client-go packages below are what the live, read-only client builds on.
package kube

import (
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "k8s.io/client-go/tools/clientcmd"
)
