package facts

import "slices"

// Extractor names: the contract between the rule catalog (a rule's `extract:` field) and this
// package. The indexer hands every line a rule matched to the extractor the rule names.
const (
	ExtPLEGFinished     = "kubelet-pleg-finished"
	ExtPLEGEvent        = "kubelet-pleg-event"
	ExtBackOff          = "kubelet-backoff"
	ExtKilling          = "kubelet-killing"
	ExtProbeFailed      = "kubelet-probe-failed"
	ExtConfigMissing    = "kubelet-config-missing"
	ExtImagePull        = "kubelet-image-pull"
	ExtTaskExit         = "containerd-task-exit"
	ExtTaskOOM          = "containerd-task-oom"
	ExtSandboxCreated   = "containerd-sandbox-created"
	ExtContainerCreated = "containerd-container-created"
	ExtExecFailure      = "runtime-exec-failure"
	ExtOOMInvoked       = "kernel-oom-invoked"
	ExtMemcgUsage       = "kernel-memcg-usage"
	ExtOOMTaskIn        = "kernel-oom-task-in"
	ExtOOMGroup         = "kernel-oom-group"
	ExtOOMKill          = "kernel-oom-kill"
	ExtOOMKilledProcess = "kernel-oom-killed-process"
	ExtSegfault         = "kernel-segfault"
	ExtTrap             = "kernel-trap"
	ExtArm64Fault       = "kernel-arm64-fault"
)

// Sources that are not an extractor name: one OOM kill is read from several kernel lines, and a
// v1 kernel's victim selection is a fragment rather than a kill.
const (
	srcOOMKill   = ExtOOMKill
	srcOOMSelect = "kernel-oom-select"
)

var extractors = map[string]func([]byte) (Fact, bool){
	ExtPLEGFinished:     extractPLEGFinished,
	ExtPLEGEvent:        extractPLEGEvent,
	ExtBackOff:          extractBackOff,
	ExtKilling:          extractKilling,
	ExtProbeFailed:      extractProbeFailed,
	ExtConfigMissing:    extractConfigMissing,
	ExtImagePull:        extractImagePull,
	ExtTaskExit:         extractTaskExit,
	ExtTaskOOM:          extractTaskOOM,
	ExtSandboxCreated:   extractSandboxCreated,
	ExtContainerCreated: extractContainerCreated,
	ExtExecFailure:      extractExecFailure,
	ExtOOMInvoked:       extractOOMInvoked,
	ExtMemcgUsage:       extractMemcgUsage,
	ExtOOMTaskIn:        extractOOMTaskIn,
	ExtOOMGroup:         extractOOMGroup,
	ExtOOMKill:          extractOOMKill,
	ExtOOMKilledProcess: extractOOMKilledProcess,
	ExtSegfault:         extractSegfault,
	ExtTrap:             extractTrap,
	ExtArm64Fault:       extractArm64Fault,
}

// Names lists every extractor name, sorted; the rule catalog's lint checks its extract fields
// against it.
func Names() []string {
	out := make([]string, 0, len(extractors))
	for n := range extractors {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Extract runs one extractor on one line. ok is false for an unknown extractor or a line that
// does not carry the event. Kernel OOM block lines other than the kill come back as OOMPart
// fragments; use an Assembler to merge a block into OOMKill facts. The Ref is left for the caller.
func Extract(extractor string, line []byte) (Fact, bool) {
	fn := extractors[extractor]
	if fn == nil {
		return Fact{}, false
	}
	return fn(line)
}
