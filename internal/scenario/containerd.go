package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The containerd release model. What containerd writes about a container's life depends on
// its release: which lines reach an info-level log (EKS runs containerd at info), how an exit
// event is worded, and how %+v renders event and CRI values. Every wording and level below was
// read from containerd's source at the release tags. The 1.6–2.2 ones are recorded, with their
// exact tag ranges and upstream lines, in internal/formats/matrix/containerd.yaml (the comments
// name the rows); the matrix does not cover 1.4, whose lines were read at v1.4.13
// (vendor/github.com/containerd/cri/pkg/server/events.go, instrumented_service.go, io/, and
// runtime/v2/), nor the routine lines a healthy node writes (ImageUpdate, exec I/O, image pulls,
// StopPodSandbox), read at v1.4.13, v1.6.36, v1.7.27, v2.0.6, v2.1.4 and v2.2.1.

// ctrdRelease is the containerd release a node runs.
type ctrdRelease struct {
	version             string // as `containerd --version` prints it: "1.7.27", "2.1.4+bottlerocket"
	major, minor, patch int
}

// ContainerdReleases lists one containerd release on each side of every change in what
// containerd writes at info level, newest family last: the versions a test should cover. Any
// other patch of the 1.4, 1.6, 1.7, 2.0, 2.1 and 2.2 series is accepted by Options.Containerd.
func ContainerdReleases() []string {
	return []string{"1.4.13", "1.6.36", "1.6.38", "1.7.23", "1.7.27", "2.0.6", "2.0.7", "2.1.1", "2.1.4", "2.1.5", "2.2.1"}
}

// parseContainerd reads a release version such as "1.7.27" or "2.1.4+bottlerocket". Only the
// series whose wordings the matrix records are accepted (1.5 was not read, so it is refused
// rather than guessed).
func parseContainerd(v string) (ctrdRelease, error) {
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "+")
	core, _, _ = strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return ctrdRelease{}, fmt.Errorf("containerd version %q: want MAJOR.MINOR.PATCH", v)
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return ctrdRelease{}, fmt.Errorf("containerd version %q: want MAJOR.MINOR.PATCH", v)
		}
		n[i] = x
	}
	r := ctrdRelease{version: strings.TrimPrefix(v, "v"), major: n[0], minor: n[1], patch: n[2]}
	switch {
	case r.major == 1 && (r.minor == 4 || r.minor == 6 || r.minor == 7):
	case r.major == 2 && r.minor <= 2:
	default:
		return ctrdRelease{}, fmt.Errorf("containerd version %q: not modelled (supported series: 1.4, 1.6, 1.7, 2.0, 2.1, 2.2)", v)
	}
	return r, nil
}

func mustContainerd(v string) ctrdRelease {
	r, err := parseContainerd(v)
	if err != nil {
		panic(err)
	}
	return r
}

// series reports whether the release is major.minor with a patch in [lo, hi].
func (r ctrdRelease) series(major, minor, lo, hi int) bool {
	return r.major == major && r.minor == minor && r.patch >= lo && r.patch <= hi
}

// Levels. A line a release writes at debug is drawn all the same (so an incident's random
// stream does not depend on the release) and then dropped: EKS runs containerd at info.
// absent marks a line a release does not write at all; it is treated the same way.
const (
	lvlDebug  = "debug"
	lvlAbsent = "absent"
)

func written(level string) bool { return level != lvlDebug && level != lvlAbsent }

// legacyCRI: containerd ≤1.4 (the separate cri plugin) fed every container and sandbox exit
// through its event handler, which logs "TaskExit event %+v" at info (row ctrd-exit-retry-gogo
// covers the same wording, which from 1.5 on appears only on back-off retries).
func (r ctrdRelease) legacyCRI() bool { return r.major == 1 && r.minor <= 4 }

// gogoEvents: 1.4–1.6 vendor gogo-generated event types, whose String() prints
// `&TaskExit{ContainerID:…,…,XXX_unrecognized:[],}`; 1.7+ print protobuf-go text.
func (r ctrdRelease) gogoEvents() bool { return r.major == 1 && r.minor <= 6 }

// gogoCRI: CRI metadata (k8s.io/cri-api) is gogo through 2.1.x, protobuf-go text from 2.2.0
// (rows ctrd-runpodsandbox-returns-gogo / -proto, ctrd-createcontainer-returns-*).
func (r ctrdRelease) gogoCRI() bool { return r.major == 1 || r.minor <= 1 }

// renamedExits: 2.0.7+, 2.1.5+ and 2.2 say "received container exit event" and "received
// sandbox container exit event" (rows ctrd-exit-received-container, -sandbox-container).
func (r ctrdRelease) renamedExits() bool {
	return r.major == 2 && (r.minor == 0 && r.patch >= 7 || r.minor == 1 && r.patch >= 5 || r.minor >= 2)
}

// exitLevel is the level of the CRI exit monitor's line for a container or sandbox exit:
// debug in 1.6.0–1.6.36 and 1.7.0–1.7.23 (rows ctrd-exit-received-debug-*), info from 1.6.37
// and 1.7.24 and in every 2.x; ≤1.4 logs "TaskExit event" at info instead.
func (r ctrdRelease) exitLevel() string {
	switch {
	case r.legacyCRI():
		return "info"
	case r.series(1, 6, 0, 36), r.series(1, 7, 0, 23):
		return lvlDebug
	}
	return "info"
}

// podsandboxCopyLevel is the level of "TaskExit event in podsandbox handler %+v", which the
// podsandbox controller prints for every /tasks/exit event while it is subscribed to them
// (2.0.0–2.0.6, 2.1.0–2.1.4): info until 2.1.1, debug from 2.1.2 (rows
// ctrd-exit-podsandbox-handler-*). Container, sandbox and exec exits alike.
func (r ctrdRelease) podsandboxCopyLevel() string {
	switch {
	case r.series(2, 0, 0, 6), r.series(2, 1, 0, 1):
		return "info"
	case r.series(2, 1, 2, 4):
		return lvlDebug
	}
	return lvlAbsent
}

// twoSpaces is protobuf-go's text marshaller choice of one or two spaces between fields. It is
// fixed per binary build (internal/detrand hashes the executable), so a release build always
// prints the same; which one a given build prints cannot be read from the source, so the
// model draws it from the version string (the bit is the one that keeps the layouts' default
// releases as the bundles had them: 1.7.27 one space, 2.1.4 two; the published 2.1.0 line of
// row ctrd-exit-podsandbox-handler-exec has two).
func (r ctrdRelease) twoSpaces() bool { return streamKey("protobuf-go detrand", r.version)>>11&1 == 1 }

// protoText renders a protobuf-go message the way its String() does: fields in declaration
// order, zero values omitted, one or two spaces between fields.
type protoText struct {
	sep    string
	fields []string
}

func (r ctrdRelease) proto() *protoText {
	sep := " "
	if r.twoSpaces() {
		sep = "  "
	}
	return &protoText{sep: sep}
}

func (p *protoText) str(k, v string) *protoText {
	if v != "" {
		p.fields = append(p.fields, k+":"+strconv.Quote(v))
	}
	return p
}

func (p *protoText) num(k string, v int64) *protoText {
	if v != 0 {
		p.fields = append(p.fields, k+":"+strconv.FormatInt(v, 10))
	}
	return p
}

// stamp renders a google.protobuf.Timestamp field.
func (p *protoText) stamp(k string, t time.Time) *protoText {
	inner := (&protoText{sep: p.sep}).num("seconds", t.Unix()).num("nanos", int64(t.Nanosecond()))
	p.fields = append(p.fields, k+":{"+inner.String()+"}")
	return p
}

func (p *protoText) String() string { return strings.Join(p.fields, p.sep) }

// gogoTime is how gogo's String() prints a stdtime Timestamp field: Go's time.Time String().
func gogoTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999999 -0700 MST") }

// taskExit renders a TaskExit event value. id differs from cid for an exec'd process.
func (r ctrdRelease) taskExit(cid, id string, pid, code int, at time.Time) string {
	if r.gogoEvents() {
		return fmt.Sprintf("&TaskExit{ContainerID:%s,ID:%s,Pid:%d,ExitStatus:%d,ExitedAt:%s,XXX_unrecognized:[],}", cid, id, pid, code, gogoTime(at))
	}
	return r.proto().str("container_id", cid).str("id", id).num("pid", int64(pid)).num("exit_status", int64(code)).stamp("exited_at", at).String()
}

// sandboxExit renders a 2.x SandboxExit event value.
func (r ctrdRelease) sandboxExit(sid string, code int, at time.Time) string {
	return r.proto().str("sandbox_id", sid).num("exit_status", int64(code)).stamp("exited_at", at).String()
}

// taskOOM renders "TaskOOM event %+v", at info in every release (rows ctrd-oom-gogo / -proto).
func (r ctrdRelease) taskOOM(cid string) string {
	if r.gogoEvents() {
		return fmt.Sprintf("TaskOOM event &TaskOOM{ContainerID:%s,XXX_unrecognized:[],}", cid)
	}
	return "TaskOOM event " + r.proto().str("container_id", cid).String()
}

// imageUpdate renders "ImageUpdate event %+v" for an image the CRI manages. containerd ≤1.4
// did not label its images yet.
func (r ctrdRelease) imageUpdate(name string) string {
	switch {
	case r.legacyCRI():
		return fmt.Sprintf("ImageUpdate event &ImageUpdate{Name:%s,Labels:map[string]string{},XXX_unrecognized:[],}", name)
	case r.gogoEvents():
		return fmt.Sprintf("ImageUpdate event &ImageUpdate{Name:%s,Labels:map[string]string{io.cri-containerd.image: managed,},XXX_unrecognized:[],}", name)
	}
	labels := r.proto().str("key", "io.cri-containerd.image").str("value", "managed")
	return "ImageUpdate event " + r.proto().str("name", name).String() + r.proto().sep + "labels:{" + labels.String() + "}"
}

// sandboxMeta renders a PodSandboxMetadata (attempt 0).
func (r ctrdRelease) sandboxMeta(p *pod) string {
	if r.gogoCRI() {
		return fmt.Sprintf("&PodSandboxMetadata{Name:%s,Uid:%s,Namespace:%s,Attempt:0,}", p.name, p.uid, p.ns)
	}
	return r.proto().str("name", p.name).str("uid", p.uid).str("namespace", p.ns).String()
}

// containerMeta renders a ContainerMetadata.
func (r ctrdRelease) containerMeta(name string, attempt int) string {
	if r.gogoCRI() {
		return fmt.Sprintf("&ContainerMetadata{Name:%s,Attempt:%d,}", name, attempt)
	}
	return r.proto().str("name", name).num("attempt", int64(attempt)).String()
}

// containerExitLine is the CRI exit monitor's line for a container's init process.
func (r ctrdRelease) containerExitLine(cid string, pid, code int, at time.Time) (level, msg string) {
	v := r.taskExit(cid, cid, pid, code, at)
	switch {
	case r.legacyCRI():
		return "info", "TaskExit event " + v
	case r.renamedExits():
		return "info", "received container exit event " + v
	}
	return r.exitLevel(), "received exit event " + v
}

// podsandboxCopy is the podsandbox handler's copy of a task exit (2.0.0–2.1.4; see
// podsandboxCopyLevel).
func (r ctrdRelease) podsandboxCopy(cid, id string, pid, code int, at time.Time) (level, msg string) {
	return r.podsandboxCopyLevel(), "TaskExit event in podsandbox handler " + r.taskExit(cid, id, pid, code, at)
}

// shimNamespace: 1.7+ log the shim teardown lines through a logger that carries namespace=.
func (r ctrdRelease) shimNamespace() bool { return r.major == 2 || r.minor >= 7 }

// from211 is 2.1.1 and later, which reworded the dead-shim cleanup (rows ctrd-shim-cleanup-info,
// ctrd-shim-dead-cleanup, ctrd-shim-cleanup-warnings).
func (r ctrdRelease) from211() bool {
	return r.major == 2 && (r.minor >= 2 || r.minor == 1 && r.patch >= 1)
}

// deadShimID: "cleaning up dead shim" names the task from 2.1.1.
func (r ctrdRelease) deadShimID() bool { return r.from211() }

// shimCleanupLevel is the level of "cleaning up after shim disconnected": a warning by
// accident until 2.1.0, info from 2.1.1.
func (r ctrdRelease) shimCleanupLevel() string {
	if r.from211() {
		return "info"
	}
	return "warning"
}

// startError renders the error StartContainer fails with when the shim could not create the
// task: 1.x keeps errdefs.FromGRPC's ": unknown" suffix and logs the error as is; 2.x (errdefs
// v1) drops the suffix and logs the error already converted to a gRPC status (rows
// ctrd-startcontainer-failed-1x / -2x). kubelet receives the status's message: cause.
func (r ctrdRelease) startError(inner string) (cause, logged string) {
	if r.major == 1 {
		return inner + ": unknown", inner + ": unknown"
	}
	return inner, "rpc error: code = Unknown desc = " + inner
}

// rpcLogged is how the CRI service logs an error without an errdefs class: as is on 1.x, as
// the gRPC status it returns on 2.x.
func (r ctrdRelease) rpcLogged(err string) string {
	if r.major == 1 {
		return err
	}
	return "rpc error: code = Unknown desc = " + err
}

// verbosePull: "Pulled image … size … in …" and "stop pulling image …" are info from 1.7 on;
// 1.6 and earlier log a shorter "Pulled image" at debug and no "stop pulling".
func (r ctrdRelease) verbosePull() bool { return r.major == 2 || r.minor >= 7 }

// execIOLevel is the level of "Finish piping %q of container exec %q" and "Exec process %q
// exits with exit code %d and error %v": info in containerd ≤1.4, debug from 1.5.
func (r ctrdRelease) execIOLevel() string {
	if r.legacyCRI() {
		return "info"
	}
	return lvlDebug
}

// configVersion is the version of config.toml EKS ships with the release.
func (r ctrdRelease) configVersion() int {
	if r.major == 2 {
		return 3
	}
	return 2
}

// module is the Go module path in containerd's stack traces.
func (r ctrdRelease) module() string {
	if r.major == 2 {
		return "github.com/containerd/containerd/v2"
	}
	return "github.com/containerd/containerd"
}
