package facts

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nodediag/nodediag/internal/evidence"
)

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isDashedUID accepts a UUID in lowercase with '-' separators, or a static pod's 32-hex hash.
func isDashedUID(s string) bool {
	switch len(s) {
	case 32:
		return isLowerHex64(s + s)
	case 36:
		for i := 0; i < 36; i++ {
			c := s[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if c != '-' {
					return false
				}
			} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
		return true
	}
	return false
}

// checkFact asserts what every fact must satisfy whatever line it came from.
func checkFact(t *testing.T, where string, f Fact, lineValidUTF8 bool) {
	t.Helper()
	if f.Kind == "" || f.Source == "" {
		t.Errorf("%s: fact without kind or source: %+v", where, f)
	}
	for name, id := range map[string]string{"containerID": f.ContainerID, "sandboxID": f.SandboxID} {
		if id != "" && !isLowerHex64(id) {
			t.Errorf("%s: %s %q is not 64 lowercase hex", where, name, id)
		}
	}
	if f.PodUID != "" && !isDashedUID(f.PodUID) {
		t.Errorf("%s: pod UID %q is not a dashed lowercase UID", where, f.PodUID)
	}
	if f.ExitCode != nil && f.Signal != signalOf(*f.ExitCode) {
		t.Errorf("%s: exit %d with signal %d", where, *f.ExitCode, f.Signal)
	}
	if len(f.Message) > maxMessage+len("…") {
		t.Errorf("%s: message of %d bytes", where, len(f.Message))
	}
	if lineValidUTF8 && !utf8.ValidString(f.Message) {
		t.Errorf("%s: message %q cut inside a character", where, f.Message)
	}
}

func FuzzExtract(f *testing.F) {
	for _, tb := range extractTables() {
		for _, c := range tb.cases {
			f.Add(c.line)
			f.Add(tb.prefixes[len(tb.prefixes)-1] + c.line)
		}
	}
	for _, l := range aksBlock(true) {
		f.Add(l.text)
	}
	f.Add(`"pod=" podUID= containerID="containerd://" exitCode=- \"\\\" exec: \" Back-off  restarting failed container=`)
	f.Fuzz(func(t *testing.T, line string) {
		names := Names()
		valid := utf8.ValidString(line)
		a := NewAssembler("messages")
		for i, name := range names {
			got, ok := Extract(name, []byte(line))
			if ok {
				checkFact(t, name, got, valid)
			}
			a.Add(name, evidence.LineRef{File: "f", Line: i + 1}, []byte(line))
		}
		out := a.Finish()
		for _, f := range out {
			checkFact(t, "assembler", f, valid)
			if f.Kind == OOMPart {
				t.Errorf("assembler emitted a fragment: %+v", f)
			}
		}
		// The cross-file steps must take whatever the extractors produce.
		Sort(Join(Dedupe(append(out, out...))))
	})
}

func FuzzDecodeCgroup(f *testing.F) {
	for _, s := range []string{
		"/kubepods/burstable/pod1e0f2b7c-3a4d-4e5f-8a9b-0c1d2e3f4a5b/" + cidAKSNginx,
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/cri-containerd-" + cidAKSOOM + ".scope",
		"docker-" + strings.ToUpper(cidGKE) + ".scope",
		"/podruntime.slice/kubelet.service",
		"pod9054a5d7b5befa0bad21882ce0905d05",
		"/", "", "pod", "pod-", ".scope",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		uid, cid, ok := DecodeCgroup(path)
		if ok != (uid != "" || cid != "") {
			t.Errorf("DecodeCgroup(%q) = %q, %q, %v: ok must say whether anything was found", path, uid, cid, ok)
		}
		if cid != "" && !isLowerHex64(cid) {
			t.Errorf("DecodeCgroup(%q): container ID %q", path, cid)
		}
		if uid != "" && !isDashedUID(uid) {
			t.Errorf("DecodeCgroup(%q): pod UID %q", path, uid)
		}
	})
}
