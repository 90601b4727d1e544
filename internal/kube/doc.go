// Package kube reads what the Kubernetes API knows about a crash-looping pod — its status, events,
// previous container logs and node — read-only. Offline, it parses the files an engineer saves
// with `kubectl get pod -o json` and `kubectl get events -o json`, so a diagnosis works without
// cluster access; online, Client gets the same through client-go.
package kube
