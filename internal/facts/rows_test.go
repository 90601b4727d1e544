package facts

import (
	"testing"

	"github.com/nodediag/nodediag/internal/formats"
)

// caseRows names, for every extractor case that yields a fact, the format-matrix row that records
// its wording (producer, versions, upstream source): "<extractor>/<case>" → row.
var caseRows = map[string]string{
	"containerd-container-created/gogo":                                                "ctrd-createcontainer-returns-gogo",
	"containerd-container-created/prototext-attempt-0":                                 "ctrd-createcontainer-returns-proto-attempt0",
	"containerd-sandbox-created/gogo":                                                  "ctrd-runpodsandbox-returns-gogo",
	"containerd-sandbox-created/prototext-attempt":                                     "ctrd-runpodsandbox-returns-proto",
	"containerd-task-exit/gogo":                                                        "ctrd-exit-retry-gogo-clean",
	"containerd-task-exit/gogo-unrecognized":                                           "ctrd-exit-retry-gogo-clean",
	"containerd-task-exit/json":                                                        "ctrd-exit-received-proto-json",
	"containerd-task-exit/prototext":                                                   "ctrd-exit-retry-proto",
	"containerd-task-exit/received container exit event":                               "ctrd-exit-received-container",
	"containerd-task-exit/received exit event of a SandboxExit":                        "ctrd-exit-received-sandbox-proto",
	"containerd-task-exit/received sandbox container exit event":                       "ctrd-exit-received-sandbox-container",
	"containerd-task-exit/received sandbox exit event (podsandbox controller, no pid)": "ctrd-exit-received-sandbox-podsandbox",
	"containerd-task-exit/received-two-spaces":                                         "ctrd-exit-received-proto",
	"containerd-task-exit/zero-status-omitted":                                         "ctrd-exit-received-proto-clean",
	"containerd-task-oom/gogo":                                                         "ctrd-oom-gogo",
	"containerd-task-oom/prototext":                                                    "ctrd-oom-proto",
	"kernel-arm64-fault/4.14":                                                          "kernel-arm64-unhandled-fault-4-14",
	"kernel-arm64-fault/5.10":                                                          "kernel-arm64-unhandled-exception-5-10",
	"kernel-arm64-fault/alignment is a bus error":                                      "kernel-arm64-unhandled-exception",
	"kernel-memcg-usage/v1":                                                            "kernel-oom-memcg-usage-ctime",
	"kernel-memcg-usage/v2":                                                            "kernel-oom-memcg-usage-ctime",
	"kernel-oom-group/aks":                                                             "kernel-oom-group-kill",
	"kernel-oom-invoked/comm-with-space":                                               "kernel-oom-invoked-messages",
	"kernel-oom-invoked/modern":                                                        "kernel-oom-invoked",
	"kernel-oom-invoked/old":                                                           "kernel-oom-invoked-pre-4-14",
	"kernel-oom-kill/aks-v2":                                                           "kernel-oom-kill-memcg-allocatable",
	"kernel-oom-kill/cgroupfs-cpuset-and-comma-comm":                                   "kernel-oom-kill-memcg-v1-cgroupfs",
	"kernel-oom-kill/global":                                                           "kernel-oom-kill-global",
	"kernel-oom-kill/not-a-pod":                                                        "kernel-oom-kill-memcg-system-slice",
	"kernel-oom-killed-process/global":                                                 "kernel-oom-killed-process-global",
	"kernel-oom-killed-process/old":                                                    "kernel-oom-killed-process-pre-4-14",
	"kernel-oom-killed-process/v1-select":                                              "kernel-oom-kill-select-memcg-4-14",
	"kernel-oom-killed-process/v2":                                                     "kernel-oom-killed-process-memcg",
	"kernel-oom-task-in/systemd":                                                       "kernel-oom-task-in-4-14",
	"kernel-segfault/a.out":                                                            "kernel-segfault-4-14",
	"kernel-segfault/4.14 null ip":                                                     "kernel-segfault-4-14-null-ip",
	"kernel-segfault/likely-on-cpu":                                                    "kernel-segfault-cpu",
	"kernel-segfault/nccl":                                                             "kernel-segfault-ctime",
	"kernel-segfault/no-object":                                                        "kernel-segfault",
	"kernel-trap/comm with a space":                                                    "kernel-trap-divide-error",
	"kernel-trap/divide-error":                                                         "kernel-trap-divide-error",
	"kernel-trap/gpf":                                                                  "kernel-trap-gpf",
	"kernel-trap/invalid-opcode":                                                       "kernel-trap-invalid-opcode",
	"kubelet-backoff/errors":                                                           "kubelet-crashloop-errsync-quoted",
	"kubelet-backoff/errors-1m20s":                                                     "kubelet-crashloop-errsync-quoted",
	"kubelet-backoff/event-text":                                                       "kubelet-backoff-event-named",
	"kubelet-backoff/glog-capital":                                                     "kubelet-crashloop-glog-legacy",
	"kubelet-backoff/image-backoff-is-image-pull":                                      "kubelet-imagepullbackoff-errsync-backoff",
	"kubelet-backoff/v3":                                                               "kubelet-backoff-v3",
	"kubelet-config-missing/create-config-key":                                         "kubelet-ccce-missing-key",
	"kubelet-config-missing/create-config-secret":                                      "kubelet-ccce-secret",
	"kubelet-config-missing/mount-configmap":                                           "kubelet-mount-configmap-missing",
	"kubelet-config-missing/pvc":                                                       "kubelet-pvc-not-found",
	"kubelet-config-missing/unmounted-volumes":                                         "kubelet-errsync-unmounted-volumes",
	"kubelet-image-pull/containerd-pullimage":                                          "ctrd-pullimage-notfound-local",
	"kubelet-image-pull/err-image-pull":                                                "kubelet-errimagepull-errsync",
	"kubelet-image-pull/event-text":                                                    "kubelet-image-failed-event",
	"kubelet-image-pull/failed-to-pull-structured":                                     "kubelet-pull-image-failed-structured",
	"kubelet-killing/event":                                                            "kubelet-killing-event",
	"kubelet-killing/prestructured-docker":                                             "kubelet-killing-container-legacy",
	"kubelet-killing/structured":                                                       "kubelet-killing-grace",
	"kubelet-pleg-event/gostruct-started":                                              "kubelet-pleg-event-started-gov",
	"kubelet-pleg-event/json-died":                                                     "kubelet-pleg-event-died-json",
	"kubelet-pleg-event/prestructured":                                                 "kubelet-pleg-event-legacy",
	"kubelet-pleg-event/prestructured-issue-95932":                                     "kubelet-pleg-event-legacy",
	"kubelet-pleg-finished/exit-255-is-no-signal":                                      "kubelet-pleg-finished-quoted",
	"kubelet-pleg-finished/quoted":                                                     "kubelet-pleg-finished-zero",
	"kubelet-pleg-finished/unquoted-uid":                                               "kubelet-pleg-finished-unquoted",
	"kubelet-probe-failed/container-message":                                           "kubelet-kill-reason-liveness",
	"kubelet-probe-failed/event":                                                       "kubelet-probe-unhealthy-event",
	"kubelet-probe-failed/prestructured":                                               "kubelet-probe-legacy-readiness",
	"kubelet-probe-failed/structured":                                                  "kubelet-probe-failed-liveness-http",
	"kubelet-probe-failed/structured-multiline":                                        "kubelet-probe-failed-startup-multiline",
	"runtime-exec-failure/crun-not-executable":                                         "crun-create-not-executable",
	"runtime-exec-failure/crun-not-found":                                              "crun-create-exec-not-found",
	"runtime-exec-failure/eaccess":                                                     "runc-create-eaccess-1-1",
	"runtime-exec-failure/go-exec-format":                                              "runc-exec-format-post-start",
	"runtime-exec-failure/kubelet-permission":                                          "kubelet-runcontainer-error",
	"runtime-exec-failure/kubelet-runtime-service":                                     "kubelet-cri-startcontainer-failed",
	"runtime-exec-failure/not-found":                                                   "runc-create-exec-not-found-1-1",
	"runtime-exec-failure/runc 1.0 in the container's output":                          "runc-rc10-exec-user-process",
	"runtime-exec-failure/glibc missing library":                                       "glibc-ld-so-missing-library",
	"runtime-exec-failure/glibc version not found":                                     "glibc-ld-so-version-not-found",
	"runtime-exec-failure/musl missing library":                                        "musl-ld-so-missing-library",
	"runtime-exec-failure/stat-enoent":                                                 "runc-create-exec-stat-enoent",
}

// TestExtractorCasesNameRows: every line an extractor is tested on is a wording some producer
// writes, and the matrix row of that wording names the extractor.
func TestExtractorCasesNameRows(t *testing.T) {
	m, err := formats.Load()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, tab := range extractTables() {
		for _, c := range tab.cases {
			if c.want == nil {
				continue
			}
			key := tab.extractor + "/" + c.name
			used[key] = true
			id, ok := caseRows[key]
			if !ok {
				t.Errorf("%s: no format-matrix row named for this case", key)
				continue
			}
			switch r := m.Row(id); {
			case r == nil:
				t.Errorf("%s: row %s is not in the matrix", key, id)
			case r.Extract != tab.extractor:
				t.Errorf("%s: row %s names extractor %q", key, id, r.Extract)
			}
		}
	}
	for key := range caseRows {
		if !used[key] {
			t.Errorf("caseRows names %s, which is no positive case", key)
		}
	}
}
