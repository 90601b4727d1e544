package facts

import "testing"

func TestDecodeCgroup(t *testing.T) {
	const uid = "1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"
	const uidU = "1e0f2b7c_3a4d_4e5f_8a9b_0c1d2e3f4a5b"
	const cid = "c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"
	for _, tc := range []struct {
		name, path, uid, cid string
		ok                   bool
	}{
		{"cgroupfs-burstable", "/kubepods/burstable/pod" + uid + "/" + cid, uid, cid, true},
		{"cgroupfs-guaranteed", "/kubepods/pod" + uid + "/" + cid, uid, cid, true},
		{"cgroupfs-besteffort", "/kubepods/besteffort/pod" + uid + "/" + cid, uid, cid, true},
		{"systemd-burstable", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidU + ".slice/cri-containerd-" + cid + ".scope", uid, cid, true},
		{"systemd-guaranteed", "/kubepods.slice/kubepods-pod" + uidU + ".slice/cri-containerd-" + cid + ".scope", uid, cid, true},
		{"systemd-besteffort", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidU + ".slice/cri-containerd-" + cid + ".scope", uid, cid, true},
		{"systemd-docker", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidU + ".slice/docker-" + cid + ".scope", uid, cid, true},
		{"systemd-crio", "/kubepods.slice/kubepods-pod" + uidU + ".slice/crio-" + cid + ".scope", uid, cid, true},
		{"v1-systemd-no-prefix", "/kubepods.slice/kubepods-pod392bf93e_1fcf_11ea_9b5b_3cfdfe576498.slice/27edbc0dd4ec2a3e9a4d8ef8b014eda12e76ff36da95b0a91e842f5dac4fc02f", "392bf93e-1fcf-11ea-9b5b-3cfdfe576498", "27edbc0dd4ec2a3e9a4d8ef8b014eda12e76ff36da95b0a91e842f5dac4fc02f", true},
		{"pod-slice-only", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidU + ".slice", uid, "", true},
		{"static-pod-hash", "/kubepods/burstable/pod9054a5d7b5befa0bad21882ce0905d05/" + cid, "9054a5d7b5befa0bad21882ce0905d05", cid, true},
		{"cpuset-basename", "cri-containerd-" + cid + ".scope", "", cid, true},
		{"cpuset-bare-id", cid, "", cid, true},
		{"uppercase", "/kubepods/pod1E0F2B7C-3A4D-4E5F-8A9B-0C1D2E3F4A5B/C65A36D4090569F70B6BADB5B6127AD773EBD7E5CE18D3872B8E93EE4FB52CAB", uid, cid, true},
		{"nested-init-scope", "/kubepods.slice/kubepods-pod" + uidU + ".slice/cri-containerd-" + cid + ".scope/init.scope", uid, cid, true},
		{"kubelet-service", "/podruntime.slice/kubelet.service", "", "", false},
		{"root", "/", "", "", false},
		{"kubepods-only", "/kubepods.slice", "", "", false},
		{"short-id", "/kubepods/burstable/pod" + uid + "/c65a36d40905", uid, "", true},
		{"uid-too-long", "/kubepods/pod" + uid + "0/x", "", "", false},
		{"empty", "", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, c, ok := DecodeCgroup(tc.path)
			if u != tc.uid || c != tc.cid || ok != tc.ok {
				t.Errorf("DecodeCgroup(%q) = %q, %q, %v; want %q, %q, %v", tc.path, u, c, ok, tc.uid, tc.cid, tc.ok)
			}
		})
	}
}
