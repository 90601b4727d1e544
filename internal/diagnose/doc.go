// Package diagnose runs the K3 CrashLoopBackOff runbook in one call: it reads a container's exit
// code (from the pod's lastState.terminated, else from kubelet's and containerd's exit lines),
// classifies the crash with the node's crash facts, measures its frequency and back-off ladder
// with correlate, and fills the runbook's Output Format with the lines that prove each claim.
//
// Diagnose, QuickTriage and Summarize share one classifier (classify), so the three never
// disagree about a bundle.
//
// Root-cause classes are the runbook's: container_oom, node_oom, app_error, segfault,
// command_not_found, permission_denied, missing_config, runtime_error. Two incidents the
// runbook has no class for are mapped onto it:
//
//   - a container stopped with SIGTERM (exit 143) after its liveness probe failed is app_error:
//     the application stopped answering its probe, so the fix is in the application (or the
//     probe), and the diagnosis cross-references K2; exit_code_meaning stays SIGTERM. A SIGTERM
//     without a probe kill is runtime_error (something outside the container stopped it).
//   - kubelet or containerd OOM-killed is node_oom with OOM level "node": whichever cgroup limit
//     fired, the node's own daemons ran out of memory, which is the runbook's node-level branch;
//     it always escalates to A1.
//
// OOM levels: container (the memcg the kernel hit is the container's own), pod (the pod's
// memcg), node-allocatable (the kubepods memcg), node (the global OOM killer, or a node daemon),
// none.
package diagnose
