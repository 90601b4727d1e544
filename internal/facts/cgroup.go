package facts

import "strings"

// containerScopePrefixes are the names runtimes give a container's systemd scope.
var containerScopePrefixes = [...]string{"cri-containerd-", "docker-", "crio-"}

// DecodeCgroup reads a pod UID (dashed) and a container ID from a cgroup path in any encoding
// kubelet uses: cgroupfs `/kubepods[/burstable|/besteffort]/pod<uid>/<64hex>`, systemd
// `…/kubepods[-burstable|-besteffort]-pod<uid_with_underscores>.slice/cri-containerd-<64hex>.scope`
// (or docker-/crio- scopes), and a bare basename such as the oom-kill line's cpuset=. ok is false
// when the path holds neither.
func DecodeCgroup(path string) (podUID, containerID string, ok bool) {
	b := bs(path)
	for off := 0; off < len(b); {
		i := index(b[off:], "pod")
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		u := b[i+len("pod"):]
		n := podUIDLen(u)
		if n == 0 || n < len(u) && u[n] != '/' && u[n] != '.' {
			continue
		}
		podUID = normPodUID(u[:n])
		break
	}
	for seg := range strings.SplitSeq(path, "/") {
		seg = strings.TrimSuffix(seg, ".scope")
		for _, p := range containerScopePrefixes {
			if strings.HasPrefix(seg, p) {
				seg = seg[len(p):]
				break
			}
		}
		if id := normContainerID(bs(seg)); id != "" {
			containerID = id // the innermost one names the container
		}
	}
	return podUID, containerID, podUID != "" || containerID != ""
}
