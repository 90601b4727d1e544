package scenario

import (
	"regexp"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/facts"
)

// releaseWording is what an info-level containerd log of a release holds for the events the
// scenarios plant, written from internal/formats/matrix/containerd.yaml (not from the generator):
// <C> stands for a container id, <S> for a sandbox id, <P> for a pid, ~ for one or two spaces.
type releaseWording struct {
	exit         string   // a container's exit (empty: logged at debug only)
	sandboxExits []string // a pod sandbox's exit, each line containerd writes for it
	copies       bool     // the podsandbox handler's "TaskExit event in podsandbox handler" copy, at info
	oom          string
	meta         string // RunPodSandbox's metadata rendering
	cleanup      string // level of "cleaning up after shim disconnected" (empty: not logged)
}

const (
	gogoExit  = `&TaskExit{ContainerID:<C>,ID:<C>,Pid:<P>,ExitStatus:137,ExitedAt:\d{4}-\d\d-\d\d [\d:.]+ \+0000 UTC,XXX_unrecognized:\[\],}`
	gogoSbx   = `&TaskExit{ContainerID:<S>,ID:<S>,Pid:<P>,ExitStatus:137,ExitedAt:\d{4}-\d\d-\d\d [\d:.]+ \+0000 UTC,XXX_unrecognized:\[\],}`
	protoExit = `container_id:\\"<C>\\"~id:\\"<C>\\"~pid:<P>~exit_status:137~exited_at:{seconds:\d+~nanos:\d+}`
	protoSbxT = `container_id:\\"<S>\\"~id:\\"<S>\\"~pid:<P>~exit_status:137~exited_at:{seconds:\d+~nanos:\d+}`
	protoSbxE = `sandbox_id:\\"<S>\\"~exit_status:137~exited_at:{seconds:\d+~nanos:\d+}`
	gogoOOM   = `TaskOOM event &TaskOOM{ContainerID:<C>,XXX_unrecognized:\[\],}`
	protoOOM  = `TaskOOM event container_id:\\"<C>\\"`
	gogoMeta  = `&PodSandboxMetadata{Name:`
	protoMeta = `name:\\"`
)

var releaseWordings = map[string]releaseWording{
	"1.4.13": {exit: "TaskExit event " + gogoExit, sandboxExits: []string{"TaskExit event " + gogoSbx}, oom: gogoOOM, meta: gogoMeta},
	"1.6.36": {oom: gogoOOM, meta: gogoMeta, cleanup: "warning"},
	"1.6.38": {exit: "received exit event " + gogoExit, sandboxExits: []string{"received exit event " + gogoSbx}, oom: gogoOOM, meta: gogoMeta, cleanup: "warning"},
	"1.7.23": {oom: protoOOM, meta: gogoMeta, cleanup: "warning"},
	"1.7.27": {exit: "received exit event " + protoExit, sandboxExits: []string{"received exit event " + protoSbxT}, oom: protoOOM, meta: gogoMeta, cleanup: "warning"},
	"2.0.6": {exit: "received exit event " + protoExit, sandboxExits: []string{"received exit event " + protoSbxE}, copies: true,
		oom: protoOOM, meta: gogoMeta, cleanup: "warning"},
	"2.0.7": {exit: "received container exit event " + protoExit, sandboxExits: []string{
		"received sandbox container exit event " + protoSbxE + `" monitor_name=criService`,
		"received sandbox exit event " + strings.Replace(protoSbxT, "pid:<P>~", "", 1) + `" monitor_name=podsandbox`}, oom: protoOOM, meta: gogoMeta, cleanup: "warning"},
	"2.1.1": {exit: "received exit event " + protoExit, sandboxExits: []string{"received exit event " + protoSbxE}, copies: true,
		oom: protoOOM, meta: gogoMeta, cleanup: "info"},
	"2.1.4": {exit: "received exit event " + protoExit, sandboxExits: []string{"received exit event " + protoSbxE}, oom: protoOOM, meta: gogoMeta, cleanup: "info"},
	"2.1.5": {exit: "received container exit event " + protoExit, sandboxExits: []string{
		"received sandbox container exit event " + protoSbxE + `" monitor_name=criService`,
		"received sandbox exit event " + strings.Replace(protoSbxT, "pid:<P>~", "", 1) + `" monitor_name=podsandbox`}, oom: protoOOM, meta: gogoMeta, cleanup: "info"},
	"2.2.1": {exit: "received container exit event " + protoExit, sandboxExits: []string{
		"received sandbox container exit event " + protoSbxE + `" monitor_name=criService`,
		"received sandbox exit event " + strings.Replace(protoSbxT, "pid:<P>~", "", 1) + `" monitor_name=podsandbox`}, oom: protoOOM, meta: protoMeta, cleanup: "info"},
}

// wordingRe turns a releaseWording pattern into a regexp for one container, sandbox and pid.
func wordingRe(pat, cid, sid, pid string) *regexp.Regexp {
	r := strings.NewReplacer("~", "  ?", "<C>", cid, "<S>", sid, "<P>", pid).Replace(pat)
	return regexp.MustCompile(`level=info msg="` + r)
}

var sandboxStoppedRe = regexp.MustCompile(`msg="StopPodSandbox for \\"([0-9a-f]{64})\\" returns successfully"`)

// TestContainerdReleaseWordings writes a container OOM under each modelled release and finds
// in the containerd log exactly the lines the release writes at info for the container's exits,
// its TaskOOMs, the cron Jobs' finished sandboxes and the podsandbox handler's copies, and no
// debug line.
func TestContainerdReleaseWordings(t *testing.T) {
	if len(releaseWordings) != len(ContainerdReleases()) {
		t.Fatalf("%d releases modelled, %d described here", len(ContainerdReleases()), len(releaseWordings))
	}
	s, _ := Lookup("container-oom-v2")
	for _, v := range ContainerdReleases() {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			w, ok := releaseWordings[v]
			if !ok {
				t.Fatalf("no expected wording for %s", v)
			}
			b := readBundle(t, s, AL2023, Options{Seed: 11, NoiseLines: 400, Containerd: v})
			ctrd := containerdLines(b, AL2023)
			all := strings.Join(ctrd, "\n")
			if strings.Contains(all, "level=debug") {
				t.Error("a debug line in an info-level log")
			}
			if !strings.Contains(all, `msg="starting containerd" revision=`) || !strings.Contains(all, "version="+v) {
				t.Errorf("no start line naming version %s", v)
			}
			if !strings.Contains(b.files["containerd/containerd-version.txt"], "Version:  "+v) {
				t.Errorf("containerd-version.txt does not say %s", v)
			}
			if !strings.Contains(all, "RunPodSandbox for "+strings.ReplaceAll(w.meta, `\\`, `\`)) {
				t.Errorf("no RunPodSandbox line with metadata %s", w.meta)
			}
			for _, f := range b.truth.Facts {
				switch f.Kind {
				case facts.ContainerExit:
					mine := having(ctrd, f.ContainerID)
					if w.exit == "" {
						if f.PID != 0 || len(grep(mine, `exit event`)) != 0 {
							t.Errorf("exit of %s: pid %d in the truth, lines %q; this release logs exits at debug", f.ContainerID, f.PID, grep(mine, `exit event`))
						}
						continue
					}
					re := wordingRe(w.exit, f.ContainerID, "", itoa(f.PID))
					if n := len(grep(mine, re.String())); n != 1 || f.PID == 0 {
						t.Errorf("exit of %s (pid %d): %d lines like %s", f.ContainerID, f.PID, n, re)
					}
					copies := grep(mine, `msg="TaskExit event in podsandbox handler container_id:\\"`+f.ContainerID+`\\"`)
					if (len(copies) == 1) != w.copies {
						t.Errorf("exit of %s: %d podsandbox handler copies, want them %v", f.ContainerID, len(copies), w.copies)
					}
				case facts.TaskOOM:
					if re := wordingRe(w.oom, f.ContainerID, "", ""); len(grep(ctrd, re.String())) != 1 {
						t.Errorf("no TaskOOM like %s", re)
					}
				}
			}
			stopped := 0
			for _, line := range ctrd {
				m := sandboxStoppedRe.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				stopped++
				mine := having(ctrd, m[1])
				for _, pat := range w.sandboxExits {
					if re := wordingRe(pat, "", m[1], `\d+`); len(grep(mine, re.String())) != 1 {
						t.Errorf("sandbox %s: no line like %s", m[1], re)
					}
				}
				if n := len(grep(mine, exitLineRe.String())); n != len(w.sandboxExits) {
					t.Errorf("sandbox %s: %d exit lines, want %d", m[1], n, len(w.sandboxExits))
				}
				if copies := grep(mine, `in podsandbox handler`); (len(copies) == 1) != w.copies {
					t.Errorf("sandbox %s: %d podsandbox handler copies, want them %v", m[1], len(copies), w.copies)
				}
			}
			if stopped == 0 {
				t.Error("no finished pod's sandbox was stopped")
			}
			execCopies := regexp.MustCompile(`level=info msg="TaskExit event in podsandbox handler container_id:\\"([0-9a-f]{64})\\"  ?id:\\"([0-9a-f]{64})\\"`)
			execs := 0
			for _, line := range ctrd {
				if m := execCopies.FindStringSubmatch(line); m != nil && m[1] != m[2] {
					execs++
				}
			}
			if (execs > 0) != w.copies {
				t.Errorf("%d exec exits from the podsandbox handler, want them %v", execs, w.copies)
			}
			cleanups := grep(ctrd, `msg="cleaning up after shim disconnected"`)
			if w.cleanup == "" {
				if len(cleanups) != 0 {
					t.Errorf("%d shim cleanups, want none", len(cleanups))
				}
			} else if len(cleanups) == 0 || len(grep(cleanups, "level="+w.cleanup+" ")) != len(cleanups) {
				t.Errorf("shim cleanups not all at %s: %q", w.cleanup, cleanups[:min(2, len(cleanups))])
			}
		})
	}
}

func TestParseContainerd(t *testing.T) {
	for _, v := range append(ContainerdReleases(), "2.1.4+bottlerocket", "v1.7.2", "1.6.99") {
		if _, err := parseContainerd(v); err != nil {
			t.Errorf("parseContainerd(%q): %v", v, err)
		}
	}
	for _, v := range []string{"", "1.7", "1.5.18", "1.3.9", "2.3.0", "3.0.0", "x.y.z", "1.7.-1"} {
		if _, err := parseContainerd(v); err == nil {
			t.Errorf("parseContainerd(%q) accepted it", v)
		}
	}
	s, _ := Lookup("segfault")
	if _, err := Write(t.TempDir(), s, AL2, Options{Containerd: "1.5.18"}); err == nil {
		t.Error("Write accepted an unmodelled containerd release")
	}
}
