// Package agent is the capture agent behind `nodediag agent` and its own binary, nodediag-agent:
// run on every node (a DaemonSet), it watches the pods of its own node and, when a container
// restarts after a failing exit or waits in CrashLoopBackOff, snapshots what the K3 runbook needs
// from that node — the kubelet and containerd journals and kernel messages around the crash, the
// container's previous and current log, its pod status and events — as a small bundle in the EKS
// log collector's layout (internal/gather), imported into the store and, for a bucket, published.
// The evidence then outlives the node: consolidation, a spot interruption or a replacement no
// longer takes it.
//
// It is bounded: a per-pod rate, a de-duplication window per container, a token bucket per node
// and a byte budget per snapshot keep a node full of crash loops from filling the store or
// loading the node. It only reads: pods, events and its own node from the API (never Secrets),
// and the node's journals, kernel ring buffer and /var/log/pods through read-only mounts. When
// the node is going away (SIGTERM to the agent, the node cordoned for a drain, a spot
// interruption notice) it takes one last snapshot of each pod that crash-looped in the last hour
// and has none since its last crash, within a deadline.
package agent
