// Package kube reads what the Kubernetes API knows about a crash-looping pod — its status, events,
// previous container logs and node — read-only. Offline, it parses the files an engineer saves
// with `kubectl get pod -o json` and `kubectl get events -o json`, so a diagnosis works without
// cluster access; online, Client gets the same through client-go.
//
// Client also backs the MCP server's Kubernetes tools, which an agent calls as the K3 SOP
// writes them: ListResources (list_k8s_resources: any kind, resolved through discovery, as
// compact rows), ReadResource (read_k8s_resource: without managedFields; Secrets refused),
// Events (get_k8s_events: newest first), PodLogs (get_pod_logs: tail and byte limits), NodeOf
// (a pod's EC2 instance) and NodeConditions (cluster_health). Clusters picks the kubeconfig
// context an EKS cluster name designates. Every result is a JSON-tagged struct (or JSON-shaped
// map) that serves as structured tool output as is. Package kubetest builds a Client on fakes.
package kube
