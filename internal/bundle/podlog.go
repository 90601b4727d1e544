package bundle

import (
	"regexp"
	"strconv"
	"strings"
)

// PodLogInfo is what the name of a CRI pod log file says about the container that wrote it.
type PodLogInfo struct {
	Namespace   string `json:"namespace"`
	Pod         string `json:"pod"`
	PodUID      string `json:"podUID,omitempty"`      // from /var/log/pods folder names only
	Container   string `json:"container"`             //
	ContainerID string `json:"containerID,omitempty"` // from /var/log/containers flat names only
	Restart     int    `json:"restart"`               // the N of N.log; -1 when the name does not carry it
}

var (
	hex64   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	podUID  = regexp.MustCompile(`^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$`) // static pods use a 32-hex config hash
	dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	restart = regexp.MustCompile(`^(\d+)\.log$`)
)

// wellKnownNamespaces lets ParsePodLogPath accept flat names written namespace-first, which
// some tools produce, when the namespace is unmistakable.
var wellKnownNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

// ParsePodLogPath reads pod coordinates from a CRI pod log path, in either form kubelet writes:
// the /var/log/containers flat name `<pod>_<ns>_<container>-<64hex>.log` and the /var/log/pods
// tree `<ns>_<pod>_<uid>/<container>/<n>.log`. Rotation suffixes (`.20261119-101010`, `.gz`) are
// accepted. It returns false for any other path.
func ParsePodLogPath(p string) (PodLogInfo, bool) {
	p = cleanForMatch(p)
	comps := strings.Split(p, "/")
	name := StripRotation(comps[len(comps)-1])

	if len(comps) >= 3 {
		if m := restart.FindStringSubmatch(name); m != nil {
			ctr := comps[len(comps)-2]
			parts := strings.Split(comps[len(comps)-3], "_")
			if len(parts) == 3 && dnsName.MatchString(ctr) && dnsName.MatchString(parts[0]) &&
				dnsName.MatchString(parts[1]) && podUID.MatchString(parts[2]) {
				n, err := strconv.Atoi(m[1])
				if err == nil {
					return PodLogInfo{Namespace: parts[0], Pod: parts[1], PodUID: parts[2], Container: ctr, Restart: n}, true
				}
			}
		}
	}

	stem, ok := strings.CutSuffix(name, ".log")
	if !ok || len(stem) < 66 || stem[len(stem)-65] != '-' {
		return PodLogInfo{}, false
	}
	id := stem[len(stem)-64:]
	parts := strings.Split(stem[:len(stem)-65], "_")
	if !hex64.MatchString(id) || len(parts) != 3 {
		return PodLogInfo{}, false
	}
	for _, s := range parts {
		if !dnsName.MatchString(s) {
			return PodLogInfo{}, false
		}
	}
	pod, ns := parts[0], parts[1]
	if wellKnownNamespaces[pod] && !wellKnownNamespaces[ns] {
		pod, ns = ns, pod
	}
	return PodLogInfo{Namespace: ns, Pod: pod, Container: parts[2], ContainerID: id, Restart: -1}, true
}

// podLogType gives the add-ons whose logs the SOP searches by name their own log type.
func podLogType(info PodLogInfo) string {
	switch {
	case strings.HasPrefix(info.Pod, "aws-node-") || info.Container == "aws-node" ||
		info.Container == "aws-eks-nodeagent" || info.Container == "aws-vpc-cni-init":
		return TypeAWSNode
	case strings.HasPrefix(info.Pod, "coredns-") || info.Container == "coredns":
		return TypeCoreDNS
	case strings.HasPrefix(info.Pod, "kube-proxy-") || info.Container == "kube-proxy":
		return TypeKubeProxy
	}
	return TypePods
}
