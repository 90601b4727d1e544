package facts

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// IDs and names taken from the example lines of the node-log-bundles reference (§5–§6).
const (
	cidAKSNginx = "c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"
	uidAKSNginx = "5da5612b-9738-493c-af51-a213072997f6"
	sbAKSNginx  = "3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17"
	cidGKE      = "7baae34a275025ee9803614c912ba1916f452fcd6569e835e556566e79a52357"
	uidGKE      = "7eaba53e-63d2-4906-9a16-ff315c3337fd"
	cidLiveness = "05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707"
	uidLiveness = "93e17ecc-ab55-461a-b526-29248d2554ad"
	uidNFS      = "80ce594f-dfaa-40fd-ae06-032ec1187193"
	cidGogo     = "72d440531d468f757ce628deac966828b405df842b0a84f4e737d1d464cdd4ab"
	cidKind     = "86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484"
	cidAKSOOM   = "9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987"
	uidAKSOOM   = "a5d8fdd1-1369-469e-8a7d-2c1047529435"
	uidV1       = "95387fa4-da9c-11e7-9d36-5254b24cbf5e"
	cidV1       = "6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b"
	uidSystemd  = "392bf93e-1fcf-11ea-9b5b-3cfdfe576498"
	cidSystemd  = "27edbc0dd4ec2a3e9a4d8ef8b014eda12e76ff36da95b0a91e842f5dac4fc02f"
	cidOther    = "f512aa9e0c8bd1e04b0cd39c62a6f5a0e1bb2c6bd7e53ffb4b9e4e5f9a1c2d3e" // an exec's id
	uidShop     = "1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"
)

// Prefixes the same payload arrives with, per source: bare, journald short (script bundles),
// short-precise (Bottlerocket), short-iso-precise (NMA), rsyslog messages (AL2).
var (
	kubeletPrefixes = []string{
		"",
		"Nov 29 18:20:18 aks-np2-39852331-vmss000000 kubelet[2775]: ",
		"Mar 14 10:12:31.545053 localhost kubelet[2775]: ",
		"2025-02-12T06:25:29.149489+0000 ip-10-0-1-229.us-west-2.compute.internal kubelet[4015]: ",
		"Nov  9 18:20:18 ip-10-0-1-229 kubelet: ",
		"2022-11-21T02:50:53.90545154Z stderr F ", // a CRI log file line
	}
	containerdPrefixes = []string{
		"",
		"Nov 29 18:13:10 aks-np2-39852331-vmss000000 containerd[2506]: ",
		"Mar 14 10:12:31.545053 localhost containerd[1402]: ",
		"2025-02-12T06:25:29.149489+00:00 ip-10-0-1-229.us-west-2.compute.internal containerd[2954]: ",
		"Apr  8 08:29:24 ip-10-110-50-88 containerd: ",
		"2022-11-21T02:50:53.905552332Z stdout F ",
	}
	kernelPrefixes = []string{
		"",
		"[  139.201482] ",
		"[Thu Oct 10 03:06:53 2024] ",
		"[   32.298491][  T896] ",
		"<4>[  139.201482] ",
		"Jun 21 19:22:58 ip-10-0-12-209 kernel: ",
		"May 19 18:14:43 aks-np0cas-14924781-vmss000008 kernel: [  139.201482] ",
		"Mar 14 10:12:31.545053 localhost kernel: ",
		"2025-02-12T06:25:29.149489+0000 ip-10-0-1-229 kernel: ",
	}
)

func ip(n int) *int { return &n }

type xcase struct {
	name string
	line string
	want *Fact // nil: the line must yield no fact
}

type xtable struct {
	extractor string
	prefixes  []string
	cases     []xcase
}

// logfmt wraps a containerd msg (quotes inside already escaped) the way containerd writes it.
func logfmt(level, msg string) string {
	return `time="2024-11-29T18:13:10.764041708Z" level=` + level + ` msg="` + msg + `"`
}

// jsonLog wraps the same msg in containerd's JSON log format.
func jsonLog(msg string) string {
	return `{"level":"info","msg":"` + msg + `","time":"2024-11-29T18:13:10.764041708Z"}`
}

func extractTables() []xtable {
	return []xtable{
		{ExtPLEGFinished, kubeletPrefixes, []xcase{
			{"quoted", `I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" exitCode=0`,
				&Fact{Kind: ContainerExit, Source: ExtPLEGFinished, PodUID: uidAKSNginx, ContainerID: cidAKSNginx, ExitCode: ip(0)}},
			{"unquoted-uid", `I0502 08:56:09.232422    2264 generic.go:332] "Generic (PLEG): container finished" podID=7eaba53e-63d2-4906-9a16-ff315c3337fd containerID="7baae34a275025ee9803614c912ba1916f452fcd6569e835e556566e79a52357" exitCode=137`,
				&Fact{Kind: ContainerExit, Source: ExtPLEGFinished, PodUID: uidGKE, ContainerID: cidGKE, ExitCode: ip(137), Signal: 9}},
			{"exit-255-is-no-signal", `I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="C65A36D4090569F70B6BADB5B6127AD773EBD7E5CE18D3872B8E93EE4FB52CAB" exitCode=255`,
				&Fact{Kind: ContainerExit, Source: ExtPLEGFinished, PodUID: uidAKSNginx, ContainerID: cidAKSNginx, ExitCode: ip(255)}},
			{"short-id", `I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="c65a36d40905" exitCode=1`, nil},
			{"no-exit-code", `I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"`, nil},
			{"remove-container", `I1129 18:20:19.001000    2775 scope.go:117] "RemoveContainer" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"`, nil},
		}},
		{ExtPLEGEvent, kubeletPrefixes, []xcase{
			{"json-died", `I1129 18:20:18.668321    2775 kubelet.go:2465] "SyncLoop (PLEG): event for pod" pod="default/nginx" event={"ID":"5da5612b-9738-493c-af51-a213072997f6","Type":"ContainerDied","Data":"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"}`,
				&Fact{Kind: ContainerDied, Source: ExtPLEGEvent, Namespace: "default", Pod: "nginx", PodUID: uidAKSNginx, ContainerID: cidAKSNginx}},
			{"gostruct-started", `I0502 08:56:09.232470    2264 kubelet.go:2102] "SyncLoop (PLEG): event for pod" pod="kube-system/kube-proxy-8xk2p" event=&{ID:7eaba53e-63d2-4906-9a16-ff315c3337fd Type:ContainerStarted Data:7baae34a275025ee9803614c912ba1916f452fcd6569e835e556566e79a52357}`,
				&Fact{Kind: ContainerStarted, Source: ExtPLEGEvent, Namespace: "kube-system", Pod: "kube-proxy-8xk2p", PodUID: uidGKE, ContainerID: cidGKE}},
			{"prestructured", `I1110 10:01:02.123456    1234 kubelet.go:1893] SyncLoop (PLEG): "web-0_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)", event: &pleg.PodLifecycleEvent{ID:"1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b", Type:"ContainerDied", Data:"05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707"}`,
				&Fact{Kind: ContainerDied, Source: ExtPLEGEvent, Namespace: "shop", Pod: "web-0", PodUID: uidShop, ContainerID: cidLiveness}},
			{"prestructured-issue-95932", `SyncLoop (PLEG): "foo(96eb6e9d-84cf-12ea-b64a-42010a80005d)", event: &pleg.PodLifecycleEvent{ID:"96eb6e9d-84cf-12ea-b64a-42010a80005d", Type:"ContainerDied", Data:"bar"}`,
				&Fact{Kind: ContainerDied, Source: ExtPLEGEvent, Pod: "foo", PodUID: "96eb6e9d-84cf-12ea-b64a-42010a80005d"}},
			{"removed", `I1129 18:30:18.668321    2775 kubelet.go:2465] "SyncLoop (PLEG): event for pod" pod="default/nginx" event={"ID":"5da5612b-9738-493c-af51-a213072997f6","Type":"ContainerRemoved","Data":"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"}`, nil},
			{"sync-loop-probe", `I1129 18:30:18.668321    2775 kubelet.go:2485] "SyncLoop (probe)" probe="readiness" status="ready" pod="default/nginx"`, nil},
		}},
		{ExtBackOff, kubeletPrefixes, []xcase{
			{"errors", `E0719 20:54:58.447705     914 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"nfs-client-provisioner\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=nfs-client-provisioner pod=nfs-client-provisioner-56f77ff677-wkfmq_default(80ce594f-dfaa-40fd-ae06-032ec1187193)\"" pod="default/nfs-client-provisioner-56f77ff677-wkfmq" podUID="80ce594f-dfaa-40fd-ae06-032ec1187193"`,
				&Fact{Kind: BackOff, Source: ExtBackOff, Namespace: "default", Pod: "nfs-client-provisioner-56f77ff677-wkfmq", PodUID: uidNFS, Container: "nfs-client-provisioner", Delay: "5m0s", DelaySeconds: 300}},
			{"errors-1m20s", `E1120 08:17:43.112000    3187 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 1m20s restarting failed container=api pod=api-7d9f8b6c4d-x2x9k_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)\"" pod="shop/api-7d9f8b6c4d-x2x9k" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
				&Fact{Kind: BackOff, Source: ExtBackOff, Namespace: "shop", Pod: "api-7d9f8b6c4d-x2x9k", PodUID: uidShop, Container: "api", Delay: "1m20s", DelaySeconds: 80}},
			{"glog-capital", `E0719 20:54:58.447705     914 pod_workers.go:186] Error syncing pod 1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b ("web-0_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)"), skipping: failed to "StartContainer" for "web" with CrashLoopBackOff: "Back-off 2m40s restarting failed container=web pod=web-0_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)"`,
				&Fact{Kind: BackOff, Source: ExtBackOff, Namespace: "shop", Pod: "web-0", PodUID: uidShop, Container: "web", Delay: "2m40s", DelaySeconds: 160}},
			{"v3", `I0719 20:54:58.447705     914 kuberuntime_manager.go:1182] "Back-off restarting failed container" err="back-off 20s restarting failed container=web pod=web-0_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)"`,
				&Fact{Kind: BackOff, Source: ExtBackOff, Namespace: "shop", Pod: "web-0", PodUID: uidShop, Container: "web", Delay: "20s", DelaySeconds: 20}},
			{"event-text", `I0719 20:54:58.447705     914 event.go:307] "Event occurred" object="shop/web-0" fieldPath="spec.containers{web}" kind="Pod" apiVersion="v1" type="Warning" reason="BackOff" message="Back-off restarting failed container web in pod web-0_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)"`,
				&Fact{Kind: BackOff, Source: ExtBackOff, Namespace: "shop", Pod: "web-0", PodUID: uidShop, Container: "web"}},
			{"image-backoff-is-image-pull", `E0719 20:54:58.447705     914 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"web\" with ImagePullBackOff: \"Back-off pulling image \\\"nginx:bad\\\"\"" pod="shop/web-0" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
				&Fact{Kind: ImagePull, Source: ExtImagePull, Namespace: "shop", Pod: "web-0", PodUID: uidShop, Container: "web", Image: "nginx:bad", Reason: "ImagePullBackOff",
					Message: `failed to "StartContainer" for "web" with ImagePullBackOff: "Back-off pulling image "nginx:bad""`}},
			{"network-not-ready", `E0719 20:54:58.447705     914 pod_workers.go:1298] "Error syncing pod, skipping" err="network is not ready: container runtime network not ready: NetworkReady=false" pod="shop/web-0" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`, nil},
			{"backoff-bad-duration", `E0719 20:54:58.447705     914 pod_workers.go:1298] "Error syncing pod, skipping" err="back-off soon restarting failed container=web pod=web-0_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)"`, nil},
		}},
		{ExtKilling, kubeletPrefixes, []xcase{
			{"structured", `I0516 18:34:49.885621    4052 kuberuntime_container.go:808] "Killing container with a grace period" pod="default/liveness-exec" podUID="93e17ecc-ab55-461a-b526-29248d2554ad" containerName="liveness" containerID="containerd://05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707" gracePeriod=30`,
				&Fact{Kind: Killing, Source: ExtKilling, Namespace: "default", Pod: "liveness-exec", PodUID: uidLiveness, Container: "liveness", ContainerID: cidLiveness, GracePeriod: ip(30)}},
			{"prestructured-docker", `I0612 10:00:00.000000    1234 kuberuntime_container.go:581] Killing container "docker://05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707" with 60 second grace period`,
				&Fact{Kind: Killing, Source: ExtKilling, ContainerID: cidLiveness, GracePeriod: ip(60)}},
			{"event", `I0516 18:34:49.885000    4052 event.go:307] "Event occurred" object="default/liveness-exec" fieldPath="spec.containers{liveness}" kind="Pod" apiVersion="v1" type="Normal" reason="Killing" message="Container liveness failed liveness probe, will be restarted"`,
				&Fact{Kind: Killing, Source: ExtKilling, Namespace: "default", Pod: "liveness-exec", Container: "liveness", Message: "Container liveness failed liveness probe, will be restarted"}},
			{"killing-unwanted-pod", `I0516 18:34:49.885621    4052 kubelet_pods.go:1134] "Killing unwanted pod" podName="liveness-exec"`, nil},
		}},
		{ExtProbeFailed, kubeletPrefixes, []xcase{
			{"structured", `I0516 18:34:19.885621    4052 prober.go:107] "Probe failed" probeType="Liveness" pod="default/liveness-exec" podUID="93e17ecc-ab55-461a-b526-29248d2554ad" containerName="liveness" probeResult="failure" output="HTTP probe failed with statuscode: 500"`,
				&Fact{Kind: ProbeFailure, Source: ExtProbeFailed, FailureKind: "liveness", Namespace: "default", Pod: "liveness-exec", PodUID: uidLiveness, Container: "liveness", Message: "HTTP probe failed with statuscode: 500"}},
			{"structured-multiline", `I0516 18:34:19.885621    4052 prober.go:107] "Probe failed" probeType="Startup" pod="default/liveness-exec" podUID="93e17ecc-ab55-461a-b526-29248d2554ad" containerName="liveness" probeResult="failure" output=<`,
				&Fact{Kind: ProbeFailure, Source: ExtProbeFailed, FailureKind: "startup", Namespace: "default", Pod: "liveness-exec", PodUID: uidLiveness, Container: "liveness"}},
			{"container-message", `I0516 18:34:49.885000    4052 kuberuntime_manager.go:1027] "Message for Container of pod" containerName="liveness" containerStatusID={"Type":"containerd","ID":"05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707"} pod="default/liveness-exec" containerMessage="Container liveness failed liveness probe, will be restarted"`,
				&Fact{Kind: ProbeFailure, Source: ExtProbeFailed, FailureKind: "liveness", Namespace: "default", Pod: "liveness-exec", Container: "liveness", ContainerID: cidLiveness, Message: "Container liveness failed liveness probe, will be restarted"}},
			{"prestructured", `I0101 00:00:00.000000    1234 prober.go:116] Readiness probe for "web-0_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b):web" failed (failure): Get http://10.0.0.1:8080/healthz: dial tcp 10.0.0.1:8080: connect: connection refused`,
				&Fact{Kind: ProbeFailure, Source: ExtProbeFailed, FailureKind: "readiness", Namespace: "shop", Pod: "web-0", PodUID: uidShop, Container: "web", Message: "Get http://10.0.0.1:8080/healthz: dial tcp 10.0.0.1:8080: connect: connection refused"}},
			{"event", `I0516 18:34:19.886000    4052 event.go:307] "Event occurred" object="default/liveness-exec" fieldPath="spec.containers{liveness}" kind="Pod" apiVersion="v1" type="Warning" reason="Unhealthy" message="Liveness probe failed: HTTP probe failed with statuscode: 500"`,
				&Fact{Kind: ProbeFailure, Source: ExtProbeFailed, FailureKind: "liveness", Namespace: "default", Pod: "liveness-exec", Container: "liveness", Message: "Liveness probe failed: HTTP probe failed with statuscode: 500"}},
			{"definition-changed", `I0516 18:34:49.885000    4052 kuberuntime_manager.go:1027] "Message for Container of pod" containerName="web" containerStatusID={"Type":"containerd","ID":"05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707"} pod="default/web" containerMessage="Container web definition changed, will be restarted"`, nil},
			{"probe-ok", `I1129 18:30:18.668321    2775 kubelet.go:2485] "SyncLoop (probe)" probe="readiness" status="ready" pod="default/nginx"`, nil},
		}},
		{ExtConfigMissing, kubeletPrefixes, []xcase{
			// The volume manager's populator (desired_state_of_world_populator.go).
			{"pvc", `E1120 08:17:02.118312    3187 desired_state_of_world_populator.go:312] "Error processing volume" err="error processing PVC db/data-pg-0: failed to fetch PVC from API server: persistentvolumeclaims \"data-pg-0\" not found" pod="db/pg-0" volumeName="data"`,
				&Fact{Kind: ConfigMissing, Source: ExtConfigMissing, FailureKind: "pvc", Name: "data-pg-0", Namespace: "db", Pod: "pg-0", Message: "pvc data-pg-0 not found"}},
			{"mount-configmap", `E0308 10:11:12.000001    3187 nestedpendingoperations.go:348] Operation for "{volumeName:kubernetes.io/configmap/1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b-config podName:1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b nodeName:}" failed. No retries permitted until 2024-03-08 10:13:14 +0000 UTC m=+1234.5 (durationBeforeRetry 2m2s). Error: MountVolume.SetUp failed for volume "config" (UniqueName: "kubernetes.io/configmap/1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b-config") pod "api-5d8" (UID: "1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b") : configmap "app-config" not found`,
				&Fact{Kind: ConfigMissing, Source: ExtConfigMissing, FailureKind: "configmap", Name: "app-config", Pod: "api-5d8", PodUID: uidShop, Message: "volume config: configmap app-config not found"}},
			{"create-config-secret", `E0308 10:11:12.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CreateContainerConfigError: \"secret \\\"db-pass\\\" not found\"" pod="shop/api-5d8" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
				&Fact{Kind: ConfigMissing, Source: ExtConfigMissing, FailureKind: "secret", Name: "db-pass", Namespace: "shop", Pod: "api-5d8", PodUID: uidShop, Container: "api", Message: "secret db-pass not found"}},
			{"create-config-key", `E0308 10:11:12.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CreateContainerConfigError: \"couldn't find key DB_HOST in ConfigMap shop/app-config\"" pod="shop/api-5d8" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
				&Fact{Kind: ConfigMissing, Source: ExtConfigMissing, FailureKind: "key", Name: "DB_HOST", Namespace: "shop", Pod: "api-5d8", PodUID: uidShop, Container: "api", Message: "couldn't find key DB_HOST in ConfigMap shop/app-config"}},
			{"unmounted-volumes", `E0308 10:11:12.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="unmounted volumes=[data], unattached volumes=[data kube-api-access-4xk2p]: timed out waiting for the condition" pod="db/pg-0" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
				&Fact{Kind: ConfigMissing, Source: ExtConfigMissing, FailureKind: "volume", Name: "data", Namespace: "db", Pod: "pg-0", PodUID: uidShop, Message: "unmounted volumes=[data]"}},
			{"run-as-non-root", `E0308 10:11:12.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CreateContainerConfigError: \"container has runAsNonRoot and image will run as root (pod: \\\"api-5d8_shop(1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b)\\\", container: api)\"" pod="shop/api-5d8"`, nil},
			{"secret-forbidden", `E0308 10:11:12.000001    3187 reflector.go:147] secrets "default-token-abc" is forbidden: User "system:node:ip-10-0-1-1" cannot list resource "secrets"`, nil},
		}},
		{ExtImagePull, kubeletPrefixes, []xcase{
			{"failed-to-pull-structured", `E0308 10:11:12.000001    3187 kuberuntime_image.go:53] "Failed to pull image" err="rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:bad\": not found" image="nginx:bad"`,
				&Fact{Kind: ImagePull, Source: ExtImagePull, Image: "nginx:bad", Message: `rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:bad": not found`}},
			{"err-image-pull", `E0308 10:11:12.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"web\" with ErrImagePull: \"rpc error: code = NotFound desc = failed to pull and unpack image \\\"docker.io/library/nginx:bad\\\": not found\"" pod="shop/web-0" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
				&Fact{Kind: ImagePull, Source: ExtImagePull, Reason: "ErrImagePull", Image: "docker.io/library/nginx:bad", Namespace: "shop", Pod: "web-0", PodUID: uidShop, Container: "web",
					Message: `failed to "StartContainer" for "web" with ErrImagePull: "rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:bad": not found"`}},
			{"event-text", `Failed to pull image "nginx:bad": rpc error: code = Unknown desc = failed to pull`,
				&Fact{Kind: ImagePull, Source: ExtImagePull, Image: "nginx:bad", Message: "rpc error: code = Unknown desc = failed to pull"}},
			{"pulling-started", `I0308 10:11:12.000001    3187 event.go:307] "Event occurred" object="shop/web-0" reason="Pulling" message="Pulling image \"nginx:1.25\""`, nil},
			{"pulled", `Successfully pulled image "nginx:1.25" in 2.1s`, nil},
		}},
		{ExtImagePull, containerdPrefixes, []xcase{
			{"containerd-pullimage", logfmt("error", `PullImage \"nginx:bad\" failed`) + ` error="rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:bad\": not found"`,
				&Fact{Kind: ImagePull, Source: ExtImagePull, Image: "nginx:bad", Message: `rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:bad": not found`}},
			{"containerd-pull-ok", logfmt("info", `PullImage \"nginx:1.25\" returns image reference \"sha256:4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100\"`), nil},
		}},
		{ExtTaskExit, containerdPrefixes, []xcase{
			{"gogo", logfmt("info", `TaskExit event &TaskExit{ContainerID:72d440531d468f757ce628deac966828b405df842b0a84f4e737d1d464cdd4ab,ID:72d440531d468f757ce628deac966828b405df842b0a84f4e737d1d464cdd4ab,Pid:31408,ExitStatus:0,ExitedAt:2019-11-18 13:57:42.618338639 +0900 UTC,}`),
				&Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cidGogo, PID: 31408, ExitCode: ip(0)}},
			{"gogo-unrecognized", logfmt("info", `TaskExit event &TaskExit{ContainerID:72d440531d468f757ce628deac966828b405df842b0a84f4e737d1d464cdd4ab,ID:72d440531d468f757ce628deac966828b405df842b0a84f4e737d1d464cdd4ab,Pid:31408,ExitStatus:137,ExitedAt:2019-11-18 13:57:42.618338639 +0900 UTC,XXX_unrecognized:[],}`),
				&Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cidGogo, PID: 31408, ExitCode: ip(137), Signal: 9}},
			{"prototext", logfmt("info", `TaskExit event container_id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" pid:3915 exit_status:137 exited_at:{seconds:1742293319 nanos:281077149}`),
				&Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cidKind, PID: 3915, ExitCode: ip(137), Signal: 9}},
			{"received-two-spaces", logfmt("info", `received exit event container_id:\"9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987\"  id:\"9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987\"  pid:7620  exit_status:137  exited_at:{seconds:1747649683  nanos:725415123}`),
				&Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cidAKSOOM, PID: 7620, ExitCode: ip(137), Signal: 9}},
			{"zero-status-omitted", logfmt("info", `received exit event container_id:\"9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987\"  id:\"9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987\"  pid:219567  exited_at:{seconds:1747649683  nanos:725415123}`),
				&Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cidAKSOOM, PID: 219567, ExitCode: ip(0)}},
			{"json", jsonLog(`received exit event container_id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" pid:3915 exit_status:1 exited_at:{seconds:1742293319 nanos:281077149}`),
				&Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cidKind, PID: 3915, ExitCode: ip(1)}},
			// The podsandbox handler (2.0.0–2.1.1) copies an exit the CRI monitor logs too.
			{"podsandbox handler", logfmt("info", `TaskExit event in podsandbox handler container_id:\"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" id:\"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" pid:2810 exit_status:137 exited_at:{seconds:1732904418 nanos:328811928}`), nil},
			// containerd 2.0.7+/2.1.5+/2.2 (internal/cri/server/events.go).
			{"received container exit event", logfmt("info", `received container exit event container_id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" pid:3915 exit_status:139 exited_at:{seconds:1742293319 nanos:281077149}`),
				&Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cidKind, PID: 3915, ExitCode: ip(139), Signal: 11}},
			{"received sandbox container exit event", logfmt("info", `received sandbox container exit event sandbox_id:\"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" exit_status:137 exited_at:{seconds:1732904418 nanos:328811928}`) + " monitor_name=criService",
				&Fact{Kind: SandboxExit, Source: ExtTaskExit, SandboxID: sbAKSNginx, ExitCode: ip(137), Signal: 9}},
			{"received sandbox exit event (podsandbox controller, no pid)", logfmt("info", `received sandbox exit event container_id:\"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" id:\"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" exit_status:137 exited_at:{seconds:1732904418 nanos:328811928}`) + " monitor_name=podsandbox",
				&Fact{Kind: SandboxExit, Source: ExtTaskExit, SandboxID: sbAKSNginx, ExitCode: ip(137), Signal: 9}},
			// 2.0.0–2.0.6 and 2.1.0–2.1.4 log a sandbox's SandboxExit value as "received exit event".
			{"received exit event of a SandboxExit", logfmt("info", `received exit event sandbox_id:\"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" exit_status:137 exited_at:{seconds:1732904418 nanos:328811928}`),
				&Fact{Kind: SandboxExit, Source: ExtTaskExit, SandboxID: sbAKSNginx, ExitCode: ip(137), Signal: 9}},
			{"failed to handle (2.x, lower case) repeats an exit", logfmt("error", `failed to handle container TaskExit event container_id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" pid:3915 exit_status:139 exited_at:{seconds:1742293319 nanos:281077149}`), nil},
			{"exec", logfmt("info", `TaskExit event container_id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" id:\"f512aa9e0c8bd1e04b0cd39c62a6f5a0e1bb2c6bd7e53ffb4b9e4e5f9a1c2d3e\" pid:4410 exit_status:1 exited_at:{seconds:1742293319 nanos:281077149}`), nil},
			{"exec-gogo", logfmt("info", `TaskExit event &TaskExit{ContainerID:72d440531d468f757ce628deac966828b405df842b0a84f4e737d1d464cdd4ab,ID:exec-probe-1,Pid:31500,ExitStatus:1,ExitedAt:2019-11-18 13:57:42.618338639 +0900 UTC,}`), nil},
			{"handler-retry", logfmt("error", `Failed to handle exit event container_id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" id:\"86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484\" pid:3915 exit_status:137 exited_at:{seconds:1742293319 nanos:281077149} for 86c8014e2400986b752c3d7825a3b6d859509a55b288964aa2f2dbbd69ffd484`), nil},
			{"shim-disconnected", `time="2024-11-29T18:20:18.329810628Z" level=info msg="shim disconnected" id=c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab namespace=k8s.io`, nil},
		}},
		{ExtTaskOOM, containerdPrefixes, []xcase{
			{"prototext", logfmt("info", `TaskOOM event container_id:\"9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987\"`),
				&Fact{Kind: TaskOOM, Source: ExtTaskOOM, ContainerID: cidAKSOOM}},
			{"gogo", logfmt("info", `TaskOOM event &TaskOOM{ContainerID:72d440531d468f757ce628deac966828b405df842b0a84f4e737d1d464cdd4ab,XXX_unrecognized:[],}`),
				&Fact{Kind: TaskOOM, Source: ExtTaskOOM, ContainerID: cidGogo}},
			{"short-id", logfmt("info", `TaskOOM event &TaskOOM{ContainerID:72d440531d46,}`), nil},
		}},
		{ExtSandboxCreated, containerdPrefixes, []xcase{
			{"gogo", logfmt("info", `RunPodSandbox for &PodSandboxMetadata{Name:nginx,Uid:5da5612b-9738-493c-af51-a213072997f6,Namespace:default,Attempt:0,} returns sandbox id \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\"`),
				&Fact{Kind: SandboxCreated, Source: ExtSandboxCreated, Pod: "nginx", PodUID: uidAKSNginx, Namespace: "default", Attempt: ip(0), SandboxID: sbAKSNginx}},
			{"prototext-attempt", logfmt("info", `RunPodSandbox for name:\"web-0\" uid:\"1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b\" namespace:\"shop\" attempt:2 returns sandbox id \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\"`),
				&Fact{Kind: SandboxCreated, Source: ExtSandboxCreated, Pod: "web-0", PodUID: uidShop, Namespace: "shop", Attempt: ip(2), SandboxID: sbAKSNginx}},
			{"start", logfmt("info", `RunPodSandbox for &PodSandboxMetadata{Name:nginx,Uid:5da5612b-9738-493c-af51-a213072997f6,Namespace:default,Attempt:0,}`), nil},
			{"failed", logfmt("error", `RunPodSandbox for &PodSandboxMetadata{Name:nginx,Uid:5da5612b-9738-493c-af51-a213072997f6,Namespace:default,Attempt:0,} failed, error`) + ` error="failed to setup network for sandbox"`, nil},
		}},
		{ExtContainerCreated, containerdPrefixes, []xcase{
			{"gogo", logfmt("info", `CreateContainer within sandbox \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" for &ContainerMetadata{Name:nginx,Attempt:3,} returns container id \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\"`),
				&Fact{Kind: ContainerCreated, Source: ExtContainerCreated, SandboxID: sbAKSNginx, Container: "nginx", Attempt: ip(3), ContainerID: cidAKSNginx}},
			{"prototext-attempt-0", logfmt("info", `CreateContainer within sandbox \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" for name:\"nginx\" returns container id \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\"`),
				&Fact{Kind: ContainerCreated, Source: ExtContainerCreated, SandboxID: sbAKSNginx, Container: "nginx", Attempt: ip(0), ContainerID: cidAKSNginx}},
			{"start", logfmt("info", `CreateContainer within sandbox \"3cfe7b007c290255f1a416b2bd9404604e6ef5967348211d30cd41e00912fe17\" for container &ContainerMetadata{Name:nginx,Attempt:3,}`), nil},
		}},
		{ExtExecFailure, containerdPrefixes, []xcase{
			{"not-found", logfmt("error", `StartContainer for \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" failed`) + ` error="failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"x\": executable file not found in $PATH: unknown"`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "not-found", Path: "x", ContainerID: cidAKSNginx, Message: `exec: "x": executable file not found in $PATH`}},
			// runc 1.2+: the failed stat is named (libcontainer/standard_init_linux.go).
			{"stat-enoent", logfmt("error", `StartContainer for \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" failed`) + ` error="failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/app/server\": stat /app/server: no such file or directory: unknown"`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "not-found", Path: "/app/server", ContainerID: cidAKSNginx, Message: `exec: "/app/server": stat /app/server: no such file or directory`}},
			// runc 1.1.6–1.1.15 (libcontainer/standard_init_linux.go: eaccess).
			{"eaccess", logfmt("error", `StartContainer for \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" failed`) + ` error="failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec /app/server: eaccess /app/server: permission denied: unknown"`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "permission", Path: "/app/server", ContainerID: cidAKSNginx, Message: `eaccess /app/server: permission denied`}},
			// crun (src/libcrun/container.c).
			{"crun-not-found", logfmt("error", `StartContainer for \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" failed`) + " error=\"failed to create containerd task: failed to create shim task: OCI runtime create failed: executable file `/app/server` not found in $PATH: No such file or directory\"",
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "not-found", Path: "/app/server", ContainerID: cidAKSNginx, Message: "executable file `/app/server` not found in $PATH"}},
			{"crun-not-executable", logfmt("error", `StartContainer for \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" failed`) + " error=\"failed to create containerd task: failed to create shim task: OCI runtime create failed: the path `/app/server` exists but it is not executable: Operation not permitted\"",
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "permission", Path: "/app/server", ContainerID: cidAKSNginx, Message: "the path `/app/server` exists but it is not executable"}},
			{"mount-permission", logfmt("error", `StartContainer for \"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\" failed`) + ` error="failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting \"/var/lib/kubelet/pods/x/volumes/cfg\" to rootfs at \"/etc/config\": open /etc/config: permission denied: unknown"`, nil},
		}},
		{ExtExecFailure, kubeletPrefixes, []xcase{
			{"kubelet-permission", `E0308 10:11:12.000001    3187 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"app\" with RunContainerError: \"failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \\\"/app\\\": permission denied: unknown\"" pod="shop/app-1" podUID="1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b"`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "permission", Path: "/app", Container: "app", Namespace: "shop", Pod: "app-1", PodUID: uidShop, Message: `exec: "/app": permission denied`}},
			{"kubelet-runtime-service", `E0308 10:11:12.000001    3187 remote_runtime.go:343] "StartContainer from runtime service failed" err="rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"sleepx\": executable file not found in $PATH: unknown" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab"`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "not-found", Path: "sleepx", ContainerID: cidAKSNginx, Message: `exec: "sleepx": executable file not found in $PATH`}},
			{"go-exec-format", `exec /usr/local/bin/app: exec format error`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "exec-format", Path: "/usr/local/bin/app", Message: "exec /usr/local/bin/app: exec format error"}},
			{"log-file-missing", `E0308 10:11:12.000001    3187 log.go:32] "Failed when writing line to log file" err="open /var/log/pods/shop_app-1/app/0.log: no such file or directory"`, nil},
			{"runc 1.0 in the container's output", `standard_init_linux.go:211: exec user process caused "no such file or directory"`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "not-found", Message: `exec user process caused "no such file or directory`}},
			{"glibc missing library", `/app/server: error while loading shared libraries: libssl.so.3: cannot open shared object file: No such file or directory`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "library", Path: "libssl.so.3", Message: "error while loading shared libraries: libssl.so.3: cannot open shared object file"}},
			{"glibc version not found", `/app/server: /lib/x86_64-linux-gnu/libc.so.6: version ` + "`GLIBC_2.34'" + ` not found (required by /app/server)`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "library", Path: "/lib/x86_64-linux-gnu/libc.so.6", Message: "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found"}},
			{"musl missing library", `Error loading shared library libstdc++.so.6: No such file or directory (needed by /usr/local/bin/envoy)`,
				&Fact{Kind: ExecFailure, Source: ExtExecFailure, FailureKind: "library", Path: "libstdc++.so.6", Message: "Error loading shared library libstdc++.so.6: No such file or directory"}},
			{"a library named in prose", `loaded 12 shared libraries: ok`, nil},
		}},
		{ExtOOMInvoked, kernelPrefixes, []xcase{
			{"modern", `java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=985`,
				&Fact{Kind: OOMPart, Source: ExtOOMInvoked, Process: "java"}},
			{"old", `java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998`,
				&Fact{Kind: OOMPart, Source: ExtOOMInvoked, Process: "java"}},
			{"comm-with-space", `Web Content invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0`,
				&Fact{Kind: OOMPart, Source: ExtOOMInvoked, Process: "Web Content"}},
			{"score-adj-config", `oom_score_adj=-999 written for process 3187`, nil},
		}},
		{ExtOOMInvoked, kubeletPrefixes, []xcase{
			{"kubelet-score-adj", `I1129 18:20:18.668292    2775 container_manager_linux.go:513] "Updating kernel flag" flag="vm/overcommit_memory" expectedValue=1 oom_score_adj=-999`, nil},
		}},
		{ExtMemcgUsage, kernelPrefixes, []xcase{
			{"v2", `memory: usage 262144kB, limit 262144kB, failcnt 3036`,
				&Fact{Kind: OOMPart, Source: ExtMemcgUsage, UsageKB: 262144, LimitKB: 262144}},
			{"v1", `memory: usage 204800kB, limit 204800kB, failcnt 3616`,
				&Fact{Kind: OOMPart, Source: ExtMemcgUsage, UsageKB: 204800, LimitKB: 204800}},
			{"memsw", `memory+swap: usage 204800kB, limit 9007199254740988kB, failcnt 0`, nil},
			{"swap", `swap: usage 0kB, limit 0kB, failcnt 0`, nil},
			{"kmem", `kmem: usage 5120kB, limit 9007199254740988kB, failcnt 0`, nil},
		}},
		{ExtOOMTaskIn, kernelPrefixes, []xcase{
			{"systemd", `Task in /kubepods.slice/kubepods-pod392bf93e_1fcf_11ea_9b5b_3cfdfe576498.slice/27edbc0dd4ec2a3e9a4d8ef8b014eda12e76ff36da95b0a91e842f5dac4fc02f killed as a result of limit of /kubepods.slice/kubepods-pod392bf93e_1fcf_11ea_9b5b_3cfdfe576498.slice`,
				&Fact{Kind: OOMPart, Source: ExtOOMTaskIn, PodUID: uidSystemd, ContainerID: cidSystemd,
					TaskMemcg: "/kubepods.slice/kubepods-pod392bf93e_1fcf_11ea_9b5b_3cfdfe576498.slice/27edbc0dd4ec2a3e9a4d8ef8b014eda12e76ff36da95b0a91e842f5dac4fc02f",
					Memcg:     "/kubepods.slice/kubepods-pod392bf93e_1fcf_11ea_9b5b_3cfdfe576498.slice"}},
			{"memcg-stats", `Memory cgroup stats for /kubepods/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e/6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b: cache:32KB rss:524188KB`, nil},
		}},
		{ExtOOMGroup, kernelPrefixes, []xcase{
			{"aks", `Tasks in /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope are going to be killed due to memory.oom.group set`,
				&Fact{Kind: OOMPart, Source: ExtOOMGroup, PodUID: uidAKSOOM, ContainerID: cidAKSOOM,
					TaskMemcg: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope"}},
			{"tasks-state", `Tasks state (memory values in pages):`, nil},
		}},
		{ExtOOMKill, kernelPrefixes, []xcase{
			{"aks-v2", `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope,mems_allowed=0,oom_memcg=/kubepods.slice,task_memcg=/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope,task=bash,pid=7788,uid=0`,
				&Fact{Kind: OOMKill, Source: ExtOOMKill, Scope: "cgroup", Constraint: "CONSTRAINT_MEMCG", Process: "bash", PID: 7788, Memcg: "/kubepods.slice",
					TaskMemcg: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope",
					PodUID:    uidAKSOOM, ContainerID: cidAKSOOM}},
			{"not-a-pod", `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/podruntime.slice,task_memcg=/podruntime.slice/kubelet.service,task=kubelet,pid=989,uid=0`,
				&Fact{Kind: OOMKill, Source: ExtOOMKill, Scope: "cgroup", Constraint: "CONSTRAINT_MEMCG", Process: "kubelet", PID: 989, Memcg: "/podruntime.slice", TaskMemcg: "/podruntime.slice/kubelet.service"}},
			{"global", `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1e0f2b7c_3a4d_4e5f_8a9b_0c1d2e3f4a5b.slice/cri-containerd-c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab.scope,task=java,pid=4242,uid=1000`,
				&Fact{Kind: OOMKill, Source: ExtOOMKill, Scope: "global", Constraint: "CONSTRAINT_NONE", Process: "java", PID: 4242,
					TaskMemcg: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1e0f2b7c_3a4d_4e5f_8a9b_0c1d2e3f4a5b.slice/cri-containerd-c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab.scope",
					PodUID:    uidShop, ContainerID: cidAKSNginx}},
			{"cgroupfs-cpuset-and-comma-comm", `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b,mems_allowed=0,oom_memcg=/kubepods/burstable/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e,task_memcg=/kubepods/burstable/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e,task=a,b c,pid=24572,uid=0`,
				&Fact{Kind: OOMKill, Source: ExtOOMKill, Scope: "cgroup", Constraint: "CONSTRAINT_MEMCG", Process: "a,b c", PID: 24572,
					Memcg: "/kubepods/burstable/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e", TaskMemcg: "/kubepods/burstable/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e",
					PodUID: uidV1, ContainerID: cidV1}},
			{"truncated", `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-ca0c308b91e6712a9f57d9c4eb300cc8e3acb80a2d3f342f6c858d4998bbb945.scope,mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod50beeb08_b8d5_460a_92f7_1`, nil},
		}},
		{ExtOOMKilledProcess, kernelPrefixes, []xcase{
			{"v2", `Memory cgroup out of memory: Killed process 7788 (bash) total-vm:7169492kB, anon-rss:7165824kB, file-rss:956kB, shmem-rss:0kB, UID:0 pgtables:14076kB oom_score_adj:1000`,
				&Fact{Kind: OOMKill, Source: ExtOOMKill, Scope: "cgroup", PID: 7788, Process: "bash", TotalVMKB: 7169492, AnonRSSKB: 7165824, FileRSSKB: 956}},
			{"global", `Out of memory: Killed process 4242 (java) total-vm:9123456kB, anon-rss:8012345kB, file-rss:1234kB, shmem-rss:0kB, UID:1000 pgtables:16000kB oom_score_adj:985`,
				&Fact{Kind: OOMKill, Source: ExtOOMKill, Scope: "global", PID: 4242, Process: "java", TotalVMKB: 9123456, AnonRSSKB: 8012345, FileRSSKB: 1234}},
			{"old", `Killed process 28438 (java) total-vm:20255636kB, anon-rss:466160kB, file-rss:13684kB`,
				&Fact{Kind: OOMKill, Source: ExtOOMKill, PID: 28438, Process: "java", TotalVMKB: 20255636, AnonRSSKB: 466160, FileRSSKB: 13684}},
			{"v1-select", `Memory cgroup out of memory: Kill process 24572 (java) score 0 or sacrifice child`,
				&Fact{Kind: OOMPart, Source: srcOOMSelect, Scope: "cgroup", PID: 24572, Process: "java"}},
			{"reaper", `oom_reaper: reaped process 7788 (bash), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB`, nil},
		}},
		{ExtSegfault, kernelPrefixes, []xcase{
			{"nccl", `pt_main_thread[2536443]: segfault at 7f797fe00000 ip 00007f7c7ac69996 sp 00007f7c12fd7c30 error 4 in libnccl.so.2[7f7c7ac00000+d3d3000]`,
				&Fact{Kind: Segfault, Source: ExtSegfault, Signal: 11, Process: "pt_main_thread", PID: 2536443, Addr: "7f797fe00000", IP: "00007f7c7ac69996", SP: "00007f7c12fd7c30", ErrorCode: "4", Object: "libnccl.so.2"}},
			{"a.out", `a.out[25311]: segfault at 0 ip 0000000000400546 sp 00007fff2fb08610 error 4 in a.out[400000+1000]`,
				&Fact{Kind: Segfault, Source: ExtSegfault, Signal: 11, Process: "a.out", PID: 25311, Addr: "0", IP: "0000000000400546", SP: "00007fff2fb08610", ErrorCode: "4", Object: "a.out"}},
			{"likely-on-cpu", `kexec[896]: segfault at 0 ip 0000000000000000 sp 00007ffeaf0ff420 error 14 in dash[561ac3c57000+4000] likely on CPU 1 (core 1, socket 0)`,
				&Fact{Kind: Segfault, Source: ExtSegfault, Signal: 11, Process: "kexec", PID: 896, Addr: "0", IP: "0000000000000000", SP: "00007ffeaf0ff420", ErrorCode: "14", Object: "dash"}},
			{"no-object", `app[77]: segfault at 8 ip 00007f00deadbeef sp 00007ffd00000000 error 6`,
				&Fact{Kind: Segfault, Source: ExtSegfault, Signal: 11, Process: "app", PID: 77, Addr: "8", IP: "00007f00deadbeef", SP: "00007ffd00000000", ErrorCode: "6"}},
			{"4.14 null ip", `start-stop-daem[1835]: segfault at 0 ip           (null) sp 00007ffc2c02c8d0 error 14 in start-stop-daemon[5651e3991000+8000]`,
				&Fact{Kind: Segfault, Source: ExtSegfault, Signal: 11, Process: "start-stop-daem", PID: 1835, Addr: "0", IP: "0", SP: "00007ffc2c02c8d0", ErrorCode: "14", Object: "start-stop-daemon"}},
			{"coredump", `systemd-coredump[1234]: Process 5678 (app) of user 0 dumped core.`, nil},
		}},
		{ExtTrap, kernelPrefixes, []xcase{
			{"gpf", `traps: node[12345] general protection fault ip:7f1c2a3b4c5d sp:7ffc12345678 error:0 in libc.so.6[7f1c2a300000+1b5000]`,
				&Fact{Kind: Segfault, Source: ExtTrap, Signal: 11, Process: "node", PID: 12345, Message: "general protection fault", IP: "7f1c2a3b4c5d", SP: "7ffc12345678", ErrorCode: "0", Object: "libc.so.6"}},
			{"invalid-opcode", `traps: python3[4321] trap invalid opcode ip:7f00aa sp:7fff00bb error:0 in libtorch_cpu.so[7f0000000000+100000]`,
				&Fact{Kind: Segfault, Source: ExtTrap, Signal: 4, Process: "python3", PID: 4321, Message: "invalid opcode", IP: "7f00aa", SP: "7fff00bb", ErrorCode: "0", Object: "libtorch_cpu.so"}},
			{"divide-error", `traps: app[99] trap divide error ip:401136 sp:7ffd5c8e9a40 error:0 in app[401000+1000]`,
				&Fact{Kind: Segfault, Source: ExtTrap, Signal: 8, Process: "app", PID: 99, Message: "divide error", IP: "401136", SP: "7ffd5c8e9a40", ErrorCode: "0", Object: "app"}},
			{"no-ip", `traps: something unrelated happened`, nil},
			{"comm with a space", `traps: EBPF SOCKET[999936] trap divide error ip:64b27406ad90 sp:712b448117d0 error:0 in ebpf.plugin[64b273fed000+135000]`,
				&Fact{Kind: Segfault, Source: ExtTrap, Signal: 8, Process: "EBPF SOCKET", PID: 999936, Message: "divide error", IP: "64b27406ad90", SP: "712b448117d0", ErrorCode: "0", Object: "ebpf.plugin"}},
		}},
		// arch/arm64/mm/fault.c: 4.14 prints the signal; 5.10+ the exception class and ESR.
		{ExtArm64Fault, kernelPrefixes, []xcase{
			{"4.14", `app[31882]: unhandled level 3 translation fault (11) at 0x00000008, esr 0x92000007, in app[aaaab1230000+2a0000]`,
				&Fact{Kind: Segfault, Source: ExtArm64Fault, Signal: 11, Process: "app", PID: 31882, Addr: "0x00000008", Message: "level 3 translation fault (11)", Object: "app"}},
			{"5.10", `app[31882]: unhandled exception: DABT (lower EL), ESR 0x92000007, level 3 translation fault in app[aaaab1230000+2a0000]`,
				&Fact{Kind: Segfault, Source: ExtArm64Fault, Signal: 11, Process: "app", PID: 31882, Message: "DABT (lower EL), ESR 0x92000007, level 3 translation fault", Object: "app"}},
			{"alignment is a bus error", `java[5512]: unhandled exception: DABT (lower EL), ESR 0x0000000092000061, alignment fault in libjvm.so[ffff9b000000+1200000]`,
				&Fact{Kind: Segfault, Source: ExtArm64Fault, Signal: 7, Process: "java", PID: 5512, Message: "DABT (lower EL), ESR 0x0000000092000061, alignment fault", Object: "libjvm.so"}},
			{"not a user fault", `Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008`, nil},
		}},
	}
}

func TestExtract(t *testing.T) {
	for _, tb := range extractTables() {
		for _, c := range tb.cases {
			for pi, p := range tb.prefixes {
				t.Run(fmt.Sprintf("%s/%s/%d", tb.extractor, c.name, pi), func(t *testing.T) {
					got, ok := Extract(tb.extractor, []byte(p+c.line))
					if c.want == nil {
						if ok {
							t.Fatalf("want no fact, got %+v", got)
						}
						return
					}
					if !ok {
						t.Fatalf("want a fact, got none")
					}
					if d := cmp.Diff(*c.want, got); d != "" {
						t.Errorf("fact (-want +got):\n%s", d)
					}
				})
			}
		}
	}
}

// TestNamesCovered keeps the extractor list and the tests in step: every extractor has lines that
// must yield a fact and lines that must not.
func TestNamesCovered(t *testing.T) {
	pos, neg := map[string]int{}, map[string]int{}
	for _, tb := range extractTables() {
		for _, c := range tb.cases {
			if c.want == nil {
				neg[tb.extractor]++
			} else {
				pos[tb.extractor]++
			}
		}
	}
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() not sorted: %v", names)
	}
	for _, n := range names {
		if pos[n] == 0 || neg[n] == 0 {
			t.Errorf("extractor %s: %d positive and %d near-miss cases, want at least one of each", n, pos[n], neg[n])
		}
	}
	for n := range pos {
		if !slices.Contains(names, n) {
			t.Errorf("tested extractor %s missing from Names()", n)
		}
	}
	if _, ok := Extract("no-such-extractor", []byte("anything")); ok {
		t.Error("unknown extractor yielded a fact")
	}
}

func TestExtractKeepsNoReferenceToLine(t *testing.T) {
	// The indexer reuses its line buffer: a fact must not change when the buffer does.
	line := []byte(`I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished" pod="default/nginx" podID="5da5612b-9738-493c-af51-a213072997f6" containerName="nginx" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" exitCode=1`)
	f, ok := Extract(ExtPLEGFinished, line)
	if !ok {
		t.Fatal("no fact")
	}
	for i := range line {
		line[i] = 'x'
	}
	want := Fact{Kind: ContainerExit, Source: ExtPLEGFinished, Namespace: "default", Pod: "nginx", PodUID: uidAKSNginx, Container: "nginx", ContainerID: cidAKSNginx, ExitCode: ip(1)}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("fact changed with the buffer (-want +got):\n%s", d)
	}
}

func TestMessageCap(t *testing.T) {
	long := strings.Repeat("é", maxMessage) // 2 bytes each: the cut falls inside a rune
	line := `I0516 18:34:19.885621    4052 prober.go:107] "Probe failed" probeType="Readiness" pod="default/web" containerName="web" output="` + long + `"`
	f, ok := Extract(ExtProbeFailed, []byte(line))
	if !ok {
		t.Fatal("no fact")
	}
	want := strings.Repeat("é", maxMessage/2) + "…"
	if f.Message != want {
		t.Errorf("message = %q (%d bytes), want %d runes of é and an ellipsis", f.Message, len(f.Message), maxMessage/2)
	}
}
