// Package gather builds a node log bundle without AWS: either through the Kubernetes API (the
// API server's node log query on nodes/proxy for the kubelet and containerd journals and
// /var/log files, the pods API for container logs) or on the node itself (journalctl, dmesg,
// /var/log). Both write a folder in the EKS log collector's layout
// (eks_<instance>_<YYYY-MM-DD_HHMM>-UTC_nodediag-<method>/kubelet/kubelet.log, …) so that
// internal/bundle classifies it and internal/store imports it like any collector bundle.
//
// Gathering is honest about what it could not get: every source that failed, was empty, was
// refused or was cut at a size cap is listed in Result.Missing and in the bundle's
// nodediag-gather.json, so a diagnosis built on the bundle can say which evidence is absent
// rather than treat absence as health. The folder appears only when gathering is done (it is
// built under a temporary name and renamed), so a store never sees half a bundle.
package gather
