package facts

import "bytes"

// Containerd's CRI plugin prints its task events with %+v (gogo-proto: `&TaskExit{ContainerID:…,
// ID:…,Pid:…,ExitStatus:…,}`) or protobuf-go text (`container_id:"…" id:"…" pid:… exit_status:…`,
// zero fields omitted, one or two spaces between fields). Inside logfmt msg="…" the quotes are
// escaped; value() reads either quoting and keyAt() does not care about spacing.

// taskField reads a field written either way: proto text key (e.g. "exit_status:") or gogo key
// (e.g. "ExitStatus:").
func taskField(line []byte, proto, gogo string) ([]byte, bool) {
	if v, ok := value(line, proto); ok {
		return v, true
	}
	return value(line, gogo)
}

// extractTaskExit reads a containerd exit event. An event whose exec id differs from the container
// id is an exec'd process (a probe, kubectl exec) ending, not the container: no fact. The
// podsandbox handler's events are sandbox exits. A "Failed to handle exit event" line repeats an
// event containerd already logged on arrival.
func extractTaskExit(line []byte) (Fact, bool) {
	if has(line, "Failed to handle") {
		return Fact{}, false // a retry of an event already logged when it arrived
	}
	i := index(line, "TaskExit event")
	if i < 0 {
		i = index(line, "exit event")
	}
	if i < 0 {
		return Fact{}, false
	}
	ev := line[i:]
	cv, ok := taskField(ev, "container_id:", "ContainerID:")
	if !ok {
		return Fact{}, false
	}
	cid := normContainerID(cv)
	if cid == "" {
		return Fact{}, false
	}
	if id, ok := taskField(ev, "id:", "ID:"); ok && normContainerID(id) != cid {
		return Fact{}, false
	}
	f := Fact{Kind: ContainerExit, Source: ExtTaskExit, ContainerID: cid}
	if has(ev, "in podsandbox handler") {
		f.Kind, f.SandboxID, f.ContainerID = SandboxExit, cid, ""
	}
	code := 0 // protobuf-go text omits a zero exit_status
	if v, ok := taskField(ev, "exit_status:", "ExitStatus:"); ok {
		if code, ok = atoi(v); !ok {
			return Fact{}, false
		}
	}
	setExit(&f, code)
	if v, ok := taskField(ev, "pid:", "Pid:"); ok {
		if n, ok := atoi(v); ok && n > 0 {
			f.PID = n
		}
	}
	return f, true
}

// extractTaskOOM reads `TaskOOM event container_id:"…"` and `TaskOOM event &TaskOOM{ContainerID:…,}`.
func extractTaskOOM(line []byte) (Fact, bool) {
	i := index(line, "TaskOOM")
	if i < 0 {
		return Fact{}, false
	}
	v, ok := taskField(line[i:], "container_id:", "ContainerID:")
	if !ok {
		return Fact{}, false
	}
	cid := normContainerID(v)
	if cid == "" {
		return Fact{}, false
	}
	return Fact{Kind: TaskOOM, Source: ExtTaskOOM, ContainerID: cid}, true
}

// metaField reads a CRI metadata field printed with %+v: gogo-generated types print
// `&PodSandboxMetadata{Name:p,Uid:u,…,}`, protobuf-go ones print `name:"p" uid:"u"`.
func metaField(meta []byte, gogo, proto string) ([]byte, bool) {
	if v, ok := value(meta, gogo); ok {
		return v, true
	}
	return value(meta, proto)
}

// metaAttempt reads the Attempt field; protobuf-go omits a zero attempt, gogo prints Attempt:0.
func metaAttempt(meta []byte) (int, bool) {
	v, ok := metaField(meta, "Attempt:", "attempt:")
	if !ok {
		return 0, true
	}
	n, ok := atoi(v)
	return n, ok && n >= 0
}

// extractSandboxCreated reads `RunPodSandbox for &PodSandboxMetadata{Name:p,Uid:u,Namespace:ns,
// Attempt:0,} returns sandbox id "S"`. A RunPodSandbox that failed returns no id: no fact.
func extractSandboxCreated(line []byte) (Fact, bool) {
	i := index(line, "RunPodSandbox for ")
	if i < 0 {
		return Fact{}, false
	}
	meta := line[i+len("RunPodSandbox for "):]
	j := index(meta, "returns sandbox id ")
	if j < 0 {
		return Fact{}, false
	}
	sid, _, ok := quotedAfter(meta[j+len("returns sandbox id "):])
	if !ok {
		return Fact{}, false
	}
	f := Fact{Kind: SandboxCreated, Source: ExtSandboxCreated, SandboxID: normContainerID(sid)}
	meta = meta[:j]
	if f.SandboxID == "" {
		return Fact{}, false
	}
	if v, ok := metaField(meta, "Name:", "name:"); ok {
		f.Pod = string(v)
	}
	if v, ok := metaField(meta, "Namespace:", "namespace:"); ok {
		f.Namespace = string(v)
	}
	if v, ok := metaField(meta, "Uid:", "uid:"); ok {
		f.PodUID = normPodUID(v)
	}
	if n, ok := metaAttempt(meta); ok {
		f.Attempt = intp(n)
	}
	return f, true
}

// extractContainerCreated reads `CreateContainer within sandbox "S" for &ContainerMetadata{Name:c,
// Attempt:n,} returns container id "C"`: the only line that names a container ID's container.
func extractContainerCreated(line []byte) (Fact, bool) {
	i := index(line, "CreateContainer within sandbox ")
	if i < 0 {
		return Fact{}, false
	}
	rest := line[i+len("CreateContainer within sandbox "):]
	sid, rest, ok := quotedAfter(rest)
	if !ok {
		return Fact{}, false
	}
	j := index(rest, "returns container id ")
	if j < 0 {
		return Fact{}, false
	}
	cid, _, ok := quotedAfter(rest[j+len("returns container id "):])
	if !ok {
		return Fact{}, false
	}
	f := Fact{Kind: ContainerCreated, Source: ExtContainerCreated, SandboxID: normContainerID(sid), ContainerID: normContainerID(cid)}
	if f.ContainerID == "" {
		return Fact{}, false
	}
	meta := rest[:j]
	if v, ok := metaField(meta, "Name:", "name:"); ok {
		f.Container = string(v)
	}
	if n, ok := metaAttempt(meta); ok {
		f.Attempt = intp(n)
	}
	return f, true
}

// extractExecFailure reads an entrypoint that could not be executed, from runc's error as
// containerd or kubelet relays it: `exec: "x": executable file not found in $PATH` (not-found),
// `exec: "/app": permission denied` (permission), `exec format error` (exec-format), `exec:
// "/app": no such file or directory` (not-found). "permission denied" or "no such file" without
// an exec is some other failure (a mount, a log file) and yields no fact.
func extractExecFailure(line []byte) (Fact, bool) {
	f := Fact{Kind: ExecFailure, Source: ExtExecFailure}
	start, end := -1, -1
	// exec: "path": reason   (runc) — any quoting depth
	if i := index(line, "exec: "); i >= 0 {
		if p, rest, ok := quotedAfter(line[i+len("exec: "):]); ok && bytes.HasPrefix(rest, bs(": ")) {
			f.Path = string(p)
			start = i
			rest = rest[2:]
			end = len(line) - len(rest)
			switch {
			case bytes.HasPrefix(rest, bs("executable file not found")):
				f.FailureKind = "not-found"
				end += len("executable file not found in $PATH")
			case bytes.HasPrefix(rest, bs("no such file or directory")):
				f.FailureKind = "not-found"
				end += len("no such file or directory")
			case bytes.HasPrefix(rest, bs("permission denied")):
				f.FailureKind = "permission"
				end += len("permission denied")
			case bytes.HasPrefix(rest, bs("exec format error")):
				f.FailureKind = "exec-format"
				end += len("exec format error")
			}
		}
	}
	// exec /path: reason   (Go's os/exec and newer runc wording)
	if f.FailureKind == "" {
		for off := 0; off < len(line); {
			i := index(line[off:], "exec /")
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			rest := line[i+len("exec "):]
			j := index(rest, ": ")
			if j <= 0 || bytes.IndexByte(rest[:j], ' ') >= 0 {
				continue
			}
			reason := rest[j+2:]
			kind, n := "", 0
			switch {
			case bytes.HasPrefix(reason, bs("exec format error")):
				kind, n = "exec-format", len("exec format error")
			case bytes.HasPrefix(reason, bs("permission denied")):
				kind, n = "permission", len("permission denied")
			case bytes.HasPrefix(reason, bs("no such file or directory")):
				kind, n = "not-found", len("no such file or directory")
			}
			if kind != "" {
				f.FailureKind, f.Path = kind, string(rest[:j])
				start, end = i, i+len("exec ")+j+2+n
				break
			}
		}
	}
	if f.FailureKind == "" && has(line, "exec format error") {
		f.FailureKind = "exec-format"
		start = index(line, "exec format error")
		end = start + len("exec format error")
	}
	if f.FailureKind == "" {
		return Fact{}, false
	}
	if end > len(line) {
		end = len(line)
	}
	f.Message = message(line[start:end])
	fillPodKeys(&f, line)
	if v, ok := value(line, "containerID="); ok {
		f.ContainerID = normContainerID(v)
	}
	if v, ok := value(line, "containerName="); ok {
		f.Container = string(v)
	}
	fillContainerRef(&f, line)
	return f, true
}
