package facts

import (
	"bytes"
	"strings"
)

// extractPLEGFinished reads `"Generic (PLEG): container finished" podID=… containerID=… exitCode=N`.
// Kubelets before the structured-logging migration quote nothing; a pending upstream change
// renames podID to podUID and adds pod/containerName, so all of those keys are read.
func extractPLEGFinished(line []byte) (Fact, bool) {
	i := index(line, "container finished")
	if i < 0 {
		return Fact{}, false
	}
	line = line[i:] // the keys follow the message; the prefix need not be searched
	cv, ok := value(line, "containerID=")
	if !ok {
		return Fact{}, false
	}
	cid := normContainerID(cv)
	ev, ok := value(line, "exitCode=")
	if cid == "" || !ok {
		return Fact{}, false
	}
	code, ok := atoi(ev)
	if !ok {
		return Fact{}, false
	}
	f := Fact{Kind: ContainerExit, Source: ExtPLEGFinished, ContainerID: cid}
	setExit(&f, code)
	if v, ok := value(line, "podID="); ok {
		f.PodUID = normPodUID(v)
	}
	fillPodKeys(&f, line)
	if v, ok := value(line, "containerName="); ok {
		f.Container = string(v)
	}
	return f, true
}

// extractPLEGEvent reads "SyncLoop (PLEG): event for pod" in its three renderings: JSON
// (`event={"ID":…,"Type":…,"Data":…}`), Go %+v (`event=&{ID:… Type:… Data:…}`) and the
// pre-structured `SyncLoop (PLEG): "name_ns(uid)", event: &pleg.PodLifecycleEvent{ID:"…", …}`.
// Data may be a sandbox ID; Join tells the two apart.
func extractPLEGEvent(line []byte) (Fact, bool) {
	var typ, id, data []byte
	if i := index(line, `"Type":`); i >= 0 {
		typ = readValue(line[i+len(`"Type":`):])
		id, _ = value(line, `"ID":`)
		data, _ = value(line, `"Data":`)
	} else {
		typ, _ = value(line, "Type:")
		id, _ = value(line, "ID:")
		data, _ = value(line, "Data:")
	}
	var f Fact
	switch string(typ) {
	case "ContainerStarted":
		f.Kind = ContainerStarted
	case "ContainerDied":
		f.Kind = ContainerDied
	default:
		return Fact{}, false
	}
	f.Source = ExtPLEGEvent
	f.PodUID = normPodUID(id)
	if f.PodUID == "" {
		return Fact{}, false
	}
	f.ContainerID = normContainerID(data)
	fillPodKeys(&f, line)
	if f.Pod == "" {
		if i := index(line, `(PLEG): "`); i >= 0 {
			rest := line[i+len(`(PLEG): "`):]
			if j := bytes.IndexByte(rest, '"'); j > 0 {
				if name, ns, uid, ok := formatPod(rest[:j]); ok && uid == f.PodUID {
					f.Pod, f.Namespace = name, ns
				}
			}
		}
	}
	return f, true
}

// startContainerFor reads the name in `failed to "StartContainer" for "c"` (kubelet) or the ID in
// `StartContainer for "<id>"` (containerd), whatever the quoting depth.
func startContainerFor(line []byte) []byte {
	i := index(line, "StartContainer")
	if i < 0 {
		return nil
	}
	rest := line[i+len("StartContainer"):]
	for len(rest) > 0 && (rest[0] == '\\' || rest[0] == '"') {
		rest = rest[1:]
	}
	if !bytes.HasPrefix(rest, bs(" for ")) {
		return nil
	}
	name, _, ok := quotedAfter(rest[len(" for "):])
	if !ok {
		return nil
	}
	return name
}

// fillContainerRef sets Container or ContainerID from the StartContainer wording: containerd
// names the container by ID, kubelet by name.
func fillContainerRef(f *Fact, line []byte) {
	v := startContainerFor(line)
	if len(v) == 0 {
		return
	}
	if id := normContainerID(v); id != "" {
		if f.ContainerID == "" {
			f.ContainerID = id
		}
		return
	}
	if f.Container == "" {
		f.Container = string(v)
	}
}

// extractBackOff reads the CrashLoopBackOff wordings: the ErrorS `err="… back-off 40s restarting
// failed container=c pod=p_ns(uid)"`, the glog-era capital `Back-off 5m0s restarting …`, the
// V(3) `"Back-off restarting failed container" err=…` and the event text `Back-off restarting
// failed container c in pod p_ns(uid)`. Image back-offs are ImagePull facts.
func extractBackOff(line []byte) (Fact, bool) {
	if has(line, "ImagePullBackOff") || has(line, "ErrImagePull") || has(line, "ack-off pulling image") {
		return extractImagePull(line)
	}
	f := Fact{Kind: BackOff, Source: ExtBackOff}
	const phrase = "restarting failed container"
	found := false
	for off := 0; off < len(line); {
		i := index(line[off:], "ack-off ")
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		if i == 0 || line[i-1] != 'B' && line[i-1] != 'b' {
			continue
		}
		rest := line[i+len("ack-off "):]
		if !bytes.HasPrefix(rest, bs(phrase)) {
			tok := bareToken(rest)
			d, ok := parseDuration(tok)
			if !ok || !bytes.HasPrefix(rest[len(tok):], bs(" "+phrase)) {
				continue
			}
			f.Delay, f.DelaySeconds = string(tok), d.Seconds()
			rest = rest[len(tok)+1:]
		}
		found = true
		rest = rest[len(phrase):]
		switch {
		case len(rest) > 0 && rest[0] == '=':
			// container=c pod=p_ns(uid)
			f.Container = string(bareToken(rest[1:]))
			if p, ok := value(rest, "pod="); ok {
				if name, ns, uid, ok := formatPod(p); ok {
					f.Pod, f.Namespace, f.PodUID = name, ns, uid
				}
			}
		case len(rest) > 1 && rest[0] == ' ':
			// the event text: "… container c in pod p_ns(uid)"
			c := bareToken(rest[1:])
			tail := rest[1+len(c):]
			if len(c) > 0 && bytes.HasPrefix(tail, bs(" in pod ")) {
				f.Container = string(c)
				p := tail[len(" in pod "):]
				if j := bytes.IndexByte(p, ')'); j > 0 {
					if name, ns, uid, ok := formatPod(p[:j+1]); ok {
						f.Pod, f.Namespace, f.PodUID = name, ns, uid
					}
				}
			}
		}
		if f.Delay != "" || f.Container != "" {
			break
		}
	}
	if !found {
		return Fact{}, false
	}
	fillPodKeys(&f, line)
	fillContainerRef(&f, line)
	return f, true
}

// extractKilling reads kubelet's kill of a container: the structured "Killing container with a
// grace period" line, the pre-structured `Killing container "<id>" with 30 second grace period`,
// and the Killing event (logged at V(3)), which carries the reason as its message.
func extractKilling(line []byte) (Fact, bool) {
	f := Fact{Kind: Killing, Source: ExtKilling}
	switch {
	case has(line, "Killing container with a grace period"):
		fillPodKeys(&f, line)
		if v, ok := value(line, "containerName="); ok {
			f.Container = string(v)
		}
		if v, ok := value(line, "containerID="); ok {
			f.ContainerID = normContainerID(v)
		}
		if v, ok := value(line, "gracePeriod="); ok {
			if n, ok := atoi(v); ok {
				f.GracePeriod = intp(n)
			}
		}
		for _, k := range [...]string{"reason=", "message="} {
			if v, ok := value(line, k); ok && len(v) > 0 {
				f.Message = message(v)
				break
			}
		}
	case has(line, "Killing container "):
		i := index(line, "Killing container ")
		id, rest, ok := quotedAfter(line[i+len("Killing container "):])
		if !ok {
			return Fact{}, false
		}
		f.ContainerID = normContainerID(id)
		if bytes.HasPrefix(rest, bs(" with ")) {
			if n, ok := leadingInt(rest[len(" with "):]); ok && has(rest, " second grace period") {
				f.GracePeriod = intp(int(n))
			}
		}
		if f.ContainerID == "" && f.GracePeriod == nil {
			return Fact{}, false
		}
	case has(line, `reason="Killing"`):
		if v, ok := value(line, "object="); ok {
			f.Namespace, f.Pod = nsName(v)
		}
		if v, ok := value(line, "fieldPath="); ok {
			f.Container = fieldPathContainer(v)
		}
		if v, ok := value(line, "message="); ok {
			f.Message = message(v)
		}
	default:
		return Fact{}, false
	}
	return f, true
}

// fieldPathContainer reads c from an event's fieldPath "spec.containers{c}".
func fieldPathContainer(v []byte) string {
	i := bytes.IndexByte(v, '{')
	j := bytes.LastIndexByte(v, '}')
	if i < 0 || j <= i+1 {
		return ""
	}
	return string(v[i+1 : j])
}

func probeKind(word []byte) string {
	switch strings.ToLower(string(word)) {
	case "liveness":
		return "liveness"
	case "readiness":
		return "readiness"
	case "startup":
		return "startup"
	}
	return ""
}

// extractProbeFailed reads a failed probe: the structured "Probe failed" line (its output, when
// multi-line `output=<`, arrives on later journal entries and is not kept), the kubelet-side
// `containerMessage="Container x failed liveness probe, will be restarted"`, the pre-structured
// `Liveness probe for "p_ns(uid):c" failed (failure): out`, and the Unhealthy event text.
func extractProbeFailed(line []byte) (Fact, bool) {
	f := Fact{Kind: ProbeFailure, Source: ExtProbeFailed}
	switch {
	case has(line, "Probe failed"), has(line, "Probe errored"):
		// "Probe errored": the probe could not run (exec into a dying container, a runtime
		// timeout); kubelet counts it as a failure all the same.
		v, ok := value(line, "probeType=")
		if !ok {
			return Fact{}, false
		}
		if f.FailureKind = probeKind(v); f.FailureKind == "" {
			return Fact{}, false
		}
		fillPodKeys(&f, line)
		if v, ok := value(line, "containerName="); ok {
			f.Container = string(v)
		}
		if v, ok := value(line, "output="); ok && !bytes.Equal(v, bs("<")) {
			f.Message = message(v)
		} else if v, ok := value(line, "err="); ok && has(line, "Probe errored") {
			f.Message = message(v)
		}
	case has(line, "containerMessage="):
		cm, _ := value(line, "containerMessage=")
		c, kind, ok := containerProbeMessage(cm)
		if !ok {
			return Fact{}, false
		}
		f.Container, f.FailureKind, f.Message = c, kind, message(cm)
		fillPodKeys(&f, line)
		if i := index(line, "containerStatusID="); i >= 0 {
			if v, ok := value(line[i:], `"ID":`); ok {
				f.ContainerID = normContainerID(v)
			}
		}
	case has(line, " probe for "):
		i := index(line, " probe for ")
		w := line[:i]
		if j := bytes.LastIndexAny(w, " \t]"); j >= 0 {
			w = w[j+1:]
		}
		if f.FailureKind = probeKind(w); f.FailureKind == "" {
			return Fact{}, false
		}
		ref, rest, ok := quotedAfter(line[i+len(" probe for "):])
		if !ok || !(bytes.HasPrefix(rest, bs(" failed")) || bytes.HasPrefix(rest, bs(" errored"))) {
			return Fact{}, false
		}
		if j := bytes.LastIndexByte(ref, ':'); j > 0 {
			if name, ns, uid, ok := formatPod(ref[:j]); ok {
				f.Pod, f.Namespace, f.PodUID = name, ns, uid
				f.Container = string(ref[j+1:])
			}
		}
		if j := index(rest, "): "); j >= 0 {
			f.Message = message(rest[j+3:])
		} else if j := index(rest, "errored: "); j >= 0 {
			f.Message = message(rest[j+len("errored: "):])
		}
	default:
		// Event text: "Liveness probe failed: HTTP probe failed with statuscode: 500".
		i := index(line, " probe failed")
		if i < 0 {
			return Fact{}, false
		}
		w := line[:i]
		if j := bytes.LastIndexAny(w, " \t\"]"); j >= 0 {
			w = w[j+1:]
		}
		if f.FailureKind = probeKind(w); f.FailureKind == "" {
			return Fact{}, false
		}
		if v, ok := value(line, "message="); ok {
			f.Message = message(v)
		} else {
			f.Message = message(bytes.TrimSpace(line[i-len(w):]))
		}
		if v, ok := value(line, "object="); ok {
			f.Namespace, f.Pod = nsName(v)
		}
		if v, ok := value(line, "fieldPath="); ok {
			f.Container = fieldPathContainer(v)
		}
	}
	return f, true
}

// containerProbeMessage reads "Container x failed liveness probe, will be restarted".
func containerProbeMessage(cm []byte) (container, kind string, ok bool) {
	if !bytes.HasPrefix(cm, bs("Container ")) {
		return "", "", false
	}
	rest := cm[len("Container "):]
	c := bareToken(rest)
	rest = rest[len(c):]
	if len(c) == 0 || !bytes.HasPrefix(rest, bs(" failed ")) {
		return "", "", false
	}
	rest = rest[len(" failed "):]
	w := bareToken(rest)
	if !bytes.HasPrefix(rest[len(w):], bs(" probe")) {
		return "", "", false
	}
	if kind = probeKind(w); kind == "" {
		return "", "", false
	}
	return string(c), kind, true
}

// missingWords are the object kinds whose "<kind> \"name\" not found" errors mean the pod
// references something that does not exist. API errors use the lowercase plural resource name,
// the volume plugins the singular.
var missingWords = [...]struct{ word, kind string }{
	{"configmap", "configmap"},
	{"ConfigMap", "configmap"},
	{"secret", "secret"},
	{"Secret", "secret"},
	{"persistentvolumeclaim", "pvc"},
	{"PersistentVolumeClaim", "pvc"},
	{"persistentvolume", "volume"},
	{"PersistentVolume", "volume"},
}

// missingObject finds `<kind> "name" not found` (any quoting depth) and returns the kind and name.
func missingObject(line []byte) (kind, name string, ok bool) {
	for _, w := range missingWords {
		for off := 0; off < len(line); {
			i := index(line[off:], w.word)
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			if i > 0 && isKeyByte(line[i-1]) {
				continue
			}
			rest := line[i+len(w.word):]
			if len(rest) > 0 && rest[0] == 's' {
				rest = rest[1:]
			}
			if len(rest) == 0 || rest[0] != ' ' {
				continue
			}
			n, after, ok := quotedAfter(rest[1:])
			if !ok || len(n) == 0 || !bytes.HasPrefix(after, bs(" not found")) {
				continue
			}
			return w.kind, string(n), true
		}
	}
	return "", "", false
}

// extractConfigMissing reads a reference to a ConfigMap, Secret, key, PVC or volume that does not
// exist. CreateContainerConfigError alone is not enough: it also covers e.g. runAsNonRoot
// violations, so a fact needs the missing object named.
func extractConfigMissing(line []byte) (Fact, bool) {
	f := Fact{Kind: ConfigMissing, Source: ExtConfigMissing}
	if i := index(line, "couldn't find key "); i >= 0 {
		rest := line[i+len("couldn't find key "):]
		key := bareToken(rest)
		rest = rest[len(key):]
		end := len(line) - len(rest)
		for _, in := range [...]string{" in ConfigMap ", " in Secret "} {
			if bytes.HasPrefix(rest, bs(in)) {
				obj := bareToken(rest[len(in):])
				end += len(in) + len(obj)
				break
			}
		}
		if len(key) == 0 {
			return Fact{}, false
		}
		f.FailureKind, f.Name, f.Message = "key", string(key), message(line[i:end])
	} else if kind, name, ok := missingObject(line); ok {
		f.FailureKind, f.Name = kind, name
		f.Message = kind + " " + name + " not found"
	} else if i := index(line, "unmounted volumes=["); i >= 0 {
		rest := line[i+len("unmounted volumes=["):]
		j := bytes.IndexByte(rest, ']')
		if j <= 0 {
			return Fact{}, false
		}
		f.FailureKind, f.Name = "volume", string(rest[:j])
		f.Message = "unmounted volumes=[" + f.Name + "]"
	} else {
		return Fact{}, false
	}
	if i := index(line, "for volume "); i >= 0 {
		if v, _, ok := quotedAfter(line[i+len("for volume "):]); ok {
			f.Message = "volume " + string(v) + ": " + f.Message
		}
	}
	f.Message = capped(f.Message)
	fillPodKeys(&f, line)
	if i := index(line, "(UID: "); i >= 0 {
		if uid, _, ok := quotedAfter(line[i+len("(UID: "):]); ok && f.PodUID == "" {
			f.PodUID = normPodUID(uid)
		}
		if j := bytes.LastIndex(line[:i], bs("pod ")); j >= 0 && f.Pod == "" {
			if name, rest, ok := quotedAfter(line[j+len("pod "):]); ok && bytes.HasPrefix(rest, bs(" (UID: ")) {
				f.Pod = string(name)
			}
		}
	}
	fillContainerRef(&f, line)
	return f, true
}

var pullFailureMarks = [...]string{"ImagePullBackOff", "ErrImagePull", "ailed to pull", "ack-off pulling image", "PullImage from image service failed"}

// extractImagePull reads image pull failures from kubelet (`Failed to pull image "img": …`,
// ErrImagePull / ImagePullBackOff in "Error syncing pod", `Back-off pulling image "img"`) and
// containerd (`PullImage "img" failed`). A successful or merely started pull is not a fact.
func extractImagePull(line []byte) (Fact, bool) {
	failed := false
	for _, m := range pullFailureMarks {
		if has(line, m) {
			failed = true
			break
		}
	}
	if !failed && !(has(line, "PullImage ") && has(line, " failed")) {
		return Fact{}, false
	}
	f := Fact{Kind: ImagePull, Source: ExtImagePull}
	switch {
	case has(line, "ImagePullBackOff"):
		f.Reason = "ImagePullBackOff"
	case has(line, "ErrImagePull"):
		f.Reason = "ErrImagePull"
	}
	var tail []byte
	if v, ok := value(line, "image="); ok && len(v) > 0 {
		f.Image = unescape(v)
	}
	// The first image the line names is the one asked for; an error chain may name the resolved
	// reference later ("PullImage \"nginx:bad\" failed … unpack image \"docker.io/library/nginx:bad\"").
	first, firstLen := -1, 0
	for _, p := range [...]string{"pull image ", "pulling image ", "unpack image ", "PullImage "} {
		if i := index(line, p); i >= 0 && (first < 0 || i < first) {
			if name, _, ok := quotedAfter(line[i+len(p):]); ok && len(name) > 0 {
				first, firstLen = i, len(p)
			}
		}
	}
	if first >= 0 {
		name, rest, _ := quotedAfter(line[first+firstLen:])
		if f.Image == "" {
			f.Image = string(name)
		}
		tail = rest
	}
	for _, k := range [...]string{"err=", "error="} {
		if v, ok := value(line, k); ok && len(v) > 0 {
			f.Message = message(v)
			break
		}
	}
	if f.Message == "" && bytes.HasPrefix(tail, bs(": ")) {
		f.Message = message(unquotedPrefix(tail[2:]))
	}
	if f.Image == "" && f.Reason == "" {
		return Fact{}, false
	}
	fillPodKeys(&f, line)
	fillContainerRef(&f, line)
	return f, true
}

// unquotedPrefix cuts b at its first unescaped '"': the end of the quoted value b sits in.
func unquotedPrefix(b []byte) []byte {
	for j := 0; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[:j]
		}
	}
	return b
}
