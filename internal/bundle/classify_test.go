package bundle

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	cid  = "0bc51ee611621f4901511e1e1bb0eafab8cf27de10e5152ad8615b5324ad139f"
	puid = "5da5612b-9738-493c-af51-a213072997f6"
)

// Paths are the files the reference lists for each producer (§2.2 collector, §3 NMA, §4 logdog).
func TestClassify(t *testing.T) {
	tests := []struct {
		path    string
		logType string
		log     bool
	}{
		// collector: kernel/, modinfo/
		{"kernel/dmesg.boot", TypeDmesg, true},
		{"kernel/dmesg.current", TypeDmesg, true},
		{"kernel/dmesg.human.current", TypeDmesg, true},
		{"kernel/uname.txt", TypeKernel, false},
		{"modinfo/lustre", TypeKernel, false},
		{"modinfo/ip_vs", TypeKernel, false},
		// system/
		{"system/script-params.txt", TypeSystem, false},
		{"system/instance-id.txt", TypeSystem, false},
		{"system/region.txt", TypeSystem, false},
		{"system/availability-zone.txt", TypeSystem, false},
		{"system/selinux.txt", TypeSystem, false},
		{"system/pkglist.txt", TypeSystem, false},
		{"system/services.txt", TypeSystem, false},
		{"system/systemd-analyze.svg", TypeSystem, false},
		{"system/top.txt", TypeSystem, false},
		{"system/ps.txt", TypeSystem, false},
		{"system/ps-threads.txt", TypeSystem, false},
		{"system/netstat.txt", TypeSystem, false},
		{"system/procstat.txt", TypeSystem, false},
		{"system/allprocstat.txt", TypeSystem, false},
		{"system/large_environments.txt", TypeSystem, false},
		{"system/cpu_throttling.txt", TypeSystem, false},
		{"system/io_throttling.txt", TypeSystem, false},
		{"system/last_reboot.txt", TypeSystem, false},
		// docker/
		{"docker/docker.log", TypeDocker, true},
		{"docker/docker-info.txt", TypeDocker, false},
		{"docker/docker-ps.txt", TypeDocker, false},
		{"docker/docker-images.txt", TypeDocker, false},
		{"docker/docker-version.txt", TypeDocker, false},
		{"docker/docker-trace.txt", TypeDocker, false},
		// containerd/
		{"containerd/containerd-config.txt", TypeConfig, false},
		{"containerd/containerd-log.txt", TypeContainerd, true},
		{"containerd/containerd.1732612345.stacks.log", TypeContainerd, false},
		{"containerd/containerd-version.txt", TypeContainerd, false},
		{"containerd/containerd-namespaces.txt", TypeContainerd, false},
		{"containerd/containerd-images.txt", TypeContainerd, false},
		{"containerd/containerd-containers.txt", TypeContainerd, false},
		{"containerd/containerd-tasks.txt", TypeContainerd, false},
		{"containerd/containerd-plugins.txt", TypeContainerd, false},
		{"containerd/soci-snapshotter/soci-snapshotter-status.txt", TypeContainerd, false},
		{"containerd/soci-snapshotter/soci-snapshotter-log.txt", TypeContainerd, true},
		{"containerd/soci-snapshotter/config.toml", TypeConfig, false},
		// sandbox-image/, kubelet/
		{"sandbox-image/sandbox-image-log.txt", TypeSandboxImage, true},
		{"kubelet/kubelet.log", TypeKubelet, true},
		{"kubelet/kubelet_service.txt", TypeConfig, false},
		{"kubelet/config.json", TypeConfig, false},
		{"kubelet/config.json.d/00-nodeadm.conf", TypeConfig, false},
		{"kubelet/kubelet-config.json", TypeConfig, false},
		{"kubelet/kubeconfig.yaml", TypeConfig, false},
		{"kubelet/svc.log", TypeKubelet, false},
		{"kubelet/kubelet-eks_service.txt", TypeConfig, false},
		// nodeadm/
		{"nodeadm/nodeadm-config.log", TypeNodeadm, true},
		{"nodeadm/nodeadm-run.log", TypeNodeadm, true},
		{"nodeadm/nodeadm-boot-hook.log", TypeNodeadm, true},
		{"nodeadm/udev-net-manager_ens5.log", TypeNetworking, true},
		// ipamd/
		{"ipamd/enis.json", TypeIPAMD, false},
		{"ipamd/pods.json", TypeIPAMD, false},
		{"ipamd/networkutils-env-settings.json", TypeIPAMD, false},
		{"ipamd/ipamd-env-settings.json", TypeIPAMD, false},
		{"ipamd/eni-configs.json", TypeIPAMD, false},
		{"ipamd/metrics.json", TypeIPAMD, false},
		{"ipamd/ipam.json", TypeIPAMD, false},
		{"ipamd/ipam_introspection_ignore.txt", TypeIPAMD, false},
		// var_log/
		{"var_log/messages", TypeMessages, true},
		{"var_log/syslog", TypeMessages, true},
		{"var_log/cron", TypeSystem, true},
		{"var_log/unattended-upgrades/unattended-upgrades.log", TypeSystem, true},
		{"var_log/cloud-init.log", TypeCloudInit, true},
		{"var_log/cloud-init-output.log", TypeCloudInit, true},
		{"var_log/user-data.log", TypeCloudInit, true},
		{"var_log/kube-proxy.log", TypeKubeProxy, true},
		{"var_log/secure", TypeSecurity, true},
		{"var_log/audit/audit.log", TypeSecurity, true},
		{"var_log/aws-routed-eni/ipamd.log", TypeIPAMD, true},
		{"var_log/aws-routed-eni/plugin.log", TypeIPAMD, true},
		{"var_log/aws-routed-eni/network-policy-agent.log", TypeIPAMD, true},
		{"var_log/aws-routed-eni/egress-v4-plugin.log", TypeIPAMD, true},
		{"var_log/aws-routed-eni/egress-v6-plugin.log", TypeIPAMD, true},
		{"var_log/aws-node-7fqz2_kube-system_aws-node-" + cid + ".log", TypeAWSNode, true},
		{"var_log/aws-node-7fqz2_kube-system_aws-eks-nodeagent-" + cid + ".log", TypeAWSNode, true},
		{"var_log/coredns-6b9575c64c-8xk2p_kube-system_coredns-" + cid + ".log", TypeCoreDNS, true},
		{"var_log/kube-proxy-2m8fd_kube-system_kube-proxy-" + cid + ".log", TypeKubeProxy, true},
		{"var_log/ebs-csi-node-4xk9z_kube-system_ebs-plugin-" + cid + ".log", TypePods, true},
		{"var_log/efs-csi-node-9qvbn_kube-system_efs-plugin-" + cid + ".log", TypePods, true},
		{"var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log", TypeAWSNode, true},
		{"var_log/kube-system_coredns-6b9575c64c-8xk2p_" + puid + "/coredns/3.log", TypeCoreDNS, true},
		{"var_log/kube-system_kube-proxy-2m8fd_" + puid + "/kube-proxy/0.log", TypeKubeProxy, true},
		{"var_log/kube-system_ebs-csi-controller-7d9f8b6c4d-x2x9k_" + puid + "/csi-provisioner/1.log", TypePods, true},
		{"var_log/kube-system_eks-pod-identity-agent-8jw2l_" + puid + "/eks-pod-identity-agent/0.log", TypePods, true},
		{"var_log/mount-s3_mp-9f8e7d_" + puid + "/mountpoint/0.log", TypePods, true},
		// networking/
		{"networking/iptables.txt", TypeNetworking, false},
		{"networking/iptables-mangle.txt", TypeNetworking, false},
		{"networking/iptables-save.txt", TypeNetworking, false},
		{"networking/ip6tables-save.txt", TypeNetworking, false},
		{"networking/ipvsadm.txt", TypeNetworking, false},
		{"networking/ipset.txt", TypeNetworking, false},
		{"networking/conntrack.txt", TypeNetworking, false},
		{"networking/ifconfig.txt", TypeNetworking, false},
		{"networking/iproute.txt", TypeNetworking, false},
		{"networking/configure-multicard-interfaces.txt", TypeNetworking, true},
		{"networking/ping_amazon.com.txt", TypeNetworking, false},
		{"networking/curl_api_server.txt", TypeNetworking, false},
		{"networking/resolv.conf", TypeNetworking, false},
		{"networking/ethtool.txt", TypeNetworking, false},
		{"networking/systemd-network/10-eks_primary_eni.network", TypeNetworking, false},
		{"networking/ebpf-maps-data.txt", TypeNetworking, false},
		// storage/, sysctls/, cni/, gpu/
		{"storage/mounts.txt", TypeStorage, false},
		{"storage/inodes.txt", TypeStorage, false},
		{"storage/lsblk.txt", TypeStorage, false},
		{"storage/fstab.txt", TypeStorage, false},
		{"storage/pod_local_storage.txt", TypeStorage, false},
		{"sysctls/sysctl_all.txt", TypeConfig, false},
		{"cni/10-aws.conflist", TypeConfig, false},
		{"cni/cni-configuration-variables-dockerd.txt", TypeCNI, false},
		{"cni/cni-configuration-variables-containerd.json", TypeCNI, false},
		{"gpu/nvidia-bug-report.log", TypeGPU, false},
		// NMA extras (§3)
		{"system/pressure_cpu.txt", TypeSystem, false},
		{"system/pressure_memory.txt", TypeSystem, false},
		{"networking/nftables-filter.txt", TypeNetworking, false},
		{"networking/get_api_server.txt", TypeNetworking, false},
		{"networking/CheckMacAddressPolicy.log", TypeNetworking, true},
		{"automode/status.txt", TypeSystem, false},
		{"gpu/nvidia-bug-report.log.gz", TypeGPU, false},
		{"bottlerocket/application-inventory.json", TypeSystem, false},
		{"bottlerocket/logdog/bottlerocket-logs.tar.gz", TypeOther, false},
		{"var_log/pods/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log", TypeAWSNode, true},
		// logdog (§4), top folder stripped
		{"journalctl.log", TypeJournal, true},
		{"journalctl.errors", TypeJournal, true},
		{"journalctl-boots", TypeSystem, false},
		{"dmesg", TypeDmesg, true},
		{"kube-status", TypeKubelet, false},
		{"ipamd.log", TypeIPAMD, true},
		{"plugin.log", TypeIPAMD, true},
		{"containerd-config", TypeConfig, false},
		{"containerd-config-host", TypeConfig, false},
		{"df", TypeStorage, false},
		{"df-inodes", TypeStorage, false},
		{"iptables-filter", TypeNetworking, false},
		{"iptables-nat", TypeNetworking, false},
		{"proc-mounts", TypeStorage, false},
		{"os-release", TypeSystem, false},
		{"signpost", TypeSystem, false},
		{"systemd-analyze-blame", TypeSystem, false},
		{"systemd-analyze-critical-chain", TypeSystem, false},
		{"systemd-analyze-plot.svg", TypeSystem, false},
		{"settings.json", TypeConfig, false},
		{"logdog.errors", TypeSystem, false},
		{"var/log/kdump/vmcore-dmesg.txt", TypeDmesg, true},
		{"var/log/kdump/vmcore", TypeKernel, false},
		{"var/lib/systemd/pstore/dmesg-efi-167890123400001", TypeDmesg, true},
		{"docker-info", TypeDocker, false},
		{"docker-daemon.json", TypeConfig, false},
		{"ecs-agent-state.json", TypeOther, false},
		{"ecs-config.json", TypeConfig, false},
		{"ecs-tasks", TypeOther, false},
		{"var/log/ecs/ecs-agent.log", TypeOther, true},
		// logdog, not stripped or nested in an NMA bundle
		{"bottlerocket-logs/journalctl.log", TypeJournal, true},
		{"bottlerocket-logs/dmesg", TypeDmesg, true},
		{"bottlerocket/logdog/bottlerocket-logs/journalctl.log", TypeJournal, true},
		{"bottlerocket/logdog/bottlerocket-logs/kube-status", TypeKubelet, false},
		{"bottlerocket/logdog/other-name/dmesg", TypeDmesg, true},
		{"bottlerocket/logdog/bottlerocket-logs/var/log/kdump/vmcore-dmesg.txt", TypeDmesg, true},
		// /var/log trees
		{"var/log/messages", TypeMessages, true},
		{"var/log/pods/kube-system_coredns-6b9575c64c-8xk2p_" + puid + "/coredns/0.log", TypeCoreDNS, true},
		{"var/log/containers/kube-proxy-2m8fd_kube-system_kube-proxy-" + cid + ".log", TypeKubeProxy, true},
		{"var/log/aws-routed-eni/ipamd.log", TypeIPAMD, true},
		// rotations do not change the type
		{"var_log/messages-20261119", TypeMessages, true},
		{"var_log/messages.1", TypeMessages, true},
		{"var_log/messages-20261119.gz", TypeMessages, true},
		{"var_log/syslog.2.gz", TypeMessages, true},
		{"var_log/aws-routed-eni/ipamd.log.1.gz", TypeIPAMD, true},
		{"var_log/aws-routed-eni/ipamd-2022-03-20T17-48-56.540.log.gz", TypeIPAMD, true},
		{"var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log.20261119-101010.gz", TypeAWSNode, true},
		{"var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-node/0.log.20261119-101010", TypeAWSNode, true},
		{"kubelet/kubelet.log.1", TypeKubelet, true},
		// a user's folder around a collector bundle, and loose files
		{"eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9/kubelet/kubelet.log", TypeKubelet, true},
		{"./kernel/dmesg.current", TypeDmesg, true},
		{"kubelet.log", TypeKubelet, true},
		{"logs/containerd.log", TypeContainerd, true},
		{"messages", TypeMessages, true},
		{"notes.txt", TypeOther, false},
		{"random/app.log", TypeOther, true},
		{"var_log/boot.log", TypeSystem, true},
		{"var_log/something-else.log", TypeOther, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			gotType, gotLog := Classify(tt.path)
			if gotType != tt.logType || gotLog != tt.log {
				t.Errorf("Classify(%q) = (%q, %v), want (%q, %v)", tt.path, gotType, gotLog, tt.logType, tt.log)
			}
		})
	}
}

func TestParsePodLogPath(t *testing.T) {
	tests := []struct {
		path string
		want PodLogInfo
		ok   bool
	}{
		{"var_log/aws-node-7fqz2_kube-system_aws-node-" + cid + ".log",
			PodLogInfo{Namespace: "kube-system", Pod: "aws-node-7fqz2", Container: "aws-node", ContainerID: cid, Restart: -1}, true},
		{"var/log/containers/ebs-csi-node-4xk9z_kube-system_liveness-probe-" + cid + ".log",
			PodLogInfo{Namespace: "kube-system", Pod: "ebs-csi-node-4xk9z", Container: "liveness-probe", ContainerID: cid, Restart: -1}, true},
		// namespace-first flat names (written by some tools) when the namespace is unmistakable
		{"var_log/kube-system_coredns-6b9575c64c-8xk2p_coredns-" + cid + ".log",
			PodLogInfo{Namespace: "kube-system", Pod: "coredns-6b9575c64c-8xk2p", Container: "coredns", ContainerID: cid, Restart: -1}, true},
		{"var_log/kube-system_aws-node-7fqz2_" + puid + "/aws-eks-nodeagent/2.log",
			PodLogInfo{Namespace: "kube-system", Pod: "aws-node-7fqz2", PodUID: puid, Container: "aws-eks-nodeagent", Restart: 2}, true},
		{"var/log/pods/shop_api-7d9f8b6c4d-x2x9k_" + puid + "/api/11.log.20261119-101010.gz",
			PodLogInfo{Namespace: "shop", Pod: "api-7d9f8b6c4d-x2x9k", PodUID: puid, Container: "api", Restart: 11}, true},
		{"var/log/pods/kube-system_kube-apiserver-node1_9054a5d7b5befa0bad21882ce0905d05/kube-apiserver/0.log",
			PodLogInfo{Namespace: "kube-system", Pod: "kube-apiserver-node1", PodUID: "9054a5d7b5befa0bad21882ce0905d05", Container: "kube-apiserver", Restart: 0}, true},
		{"kubelet/kubelet.log", PodLogInfo{}, false},
		{"var_log/messages", PodLogInfo{}, false},
		// container ID cut short (names are cut to 255 characters)
		{"var_log/aws-node-7fqz2_kube-system_aws-node-0bc51ee6.log", PodLogInfo{}, false},
		// not hex
		{"var_log/a_b_c-" + "z" + cid[1:] + ".log", PodLogInfo{}, false},
		// a uid that is not a uid
		{"var_log/kube-system_aws-node-7fqz2_notauid/aws-node/0.log", PodLogInfo{}, false},
		// too many underscores
		{"var_log/a_b_c_d-" + cid + ".log", PodLogInfo{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := ParsePodLogPath(tt.path)
			if ok != tt.ok {
				t.Fatalf("ParsePodLogPath(%q) ok = %v, want %v", tt.path, ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePodLogPath(%q) mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestStripRotation(t *testing.T) {
	tests := []struct{ in, want string }{
		{"messages", "messages"},
		{"messages-20261119", "messages"},
		{"messages-20261119.gz", "messages"},
		{"ipamd.log.1", "ipamd.log"},
		{"ipamd.log.1.gz", "ipamd.log"},
		{"0.log.20261119-101010", "0.log"},
		{"0.log.20261119-101010.gz", "0.log"},
		{"ipamd-2022-03-20T17-48-56.540.log.gz", "ipamd.log"},
		{"0.log", "0.log"},
		{"dmesg.human.current", "dmesg.human.current"},
		{"containerd-log.txt", "containerd-log.txt"},
		{"nvidia-bug-report.log.gz", "nvidia-bug-report.log"},
		{"1", "1"},
	}
	for _, tt := range tests {
		if got := StripRotation(tt.in); got != tt.want {
			t.Errorf("StripRotation(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
