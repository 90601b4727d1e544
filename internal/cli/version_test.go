package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"runtime/debug"
	"strings"
	"testing"
)

// TestCurrentBuild: the -X stamps win; without them a clone's `go build` reports the VCS
// revision, time and dirty flag, and `go install …@vX` the module version.
func TestCurrentBuild(t *testing.T) {
	vcs := func(rev, tm, mod string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: tm}, {Key: "vcs.modified", Value: mod}}
	}
	for _, tc := range []struct {
		name                 string
		version, commit, dat string // the -X stamps
		info                 *debug.BuildInfo
		want                 build
		line                 string
	}{
		{name: "release build, stamped", version: "v1.2.3", commit: "abc123", dat: "2026-12-06T10:00:00Z",
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("fff", "2026-01-01T00:00:00Z", "true")},
			want: build{Version: "v1.2.3", Commit: "abc123", Date: "2026-12-06T10:00:00Z"},
			line: "v1.2.3, commit abc123, built 2026-12-06T10:00:00Z"},
		{name: "go build in a clean clone", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef", "2026-12-05T09:08:07Z", "false")},
			want: build{Version: "dev", Commit: "0123456789abcdef", Date: "2026-12-05T09:08:07Z"},
			line: "dev, commit 0123456789abcdef, built 2026-12-05T09:08:07Z"},
		{name: "go build in a dirty clone", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1-0.20261205090807-0123456789ab+dirty"}, Settings: vcs("0123456789abcdef", "2026-12-05T09:08:07Z", "true")},
			want: build{Version: "v0.3.1-0.20261205090807-0123456789ab+dirty", Commit: "0123456789abcdef", Date: "2026-12-05T09:08:07Z", Modified: true},
			line: "v0.3.1-0.20261205090807-0123456789ab+dirty, commit 0123456789abcdef (modified), built 2026-12-05T09:08:07Z"},
		{name: "go install @v0.4.0: module version, no VCS", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Path: "github.com/nodediag/nodediag", Version: "v0.4.0", Sum: "h1:x"}},
			want: build{Version: "v0.4.0"}, line: "v0.4.0"},
		{name: "-buildvcs=false, no stamps", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: build{Version: "dev"}, line: "dev"},
		{name: "no build info at all", version: "dev", want: build{Version: "dev"}, line: "dev"},
		{name: "version stamped, commit from VCS", version: "v1.0.0",
			info: &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: vcs("beef", "2026-12-05T09:08:07Z", "false")},
			want: build{Version: "v1.0.0", Commit: "beef", Date: "2026-12-05T09:08:07Z"},
			line: "v1.0.0, commit beef, built 2026-12-05T09:08:07Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setBuild(t, tc.version, tc.commit, tc.dat, tc.info)
			if got := currentBuild(); got != tc.want {
				t.Errorf("currentBuild() = %+v, want %+v", got, tc.want)
			}
			if got := versionLine(); got != tc.line {
				t.Errorf("versionLine() = %q, want %q", got, tc.line)
			}
		})
	}
}

// setBuild replaces the stamps and the build info reader for one test.
func setBuild(t *testing.T, version, commit, date string, info *debug.BuildInfo) {
	t.Helper()
	oldV, oldC, oldD, oldR := Version, Commit, Date, readBuildInfo
	t.Cleanup(func() { Version, Commit, Date, readBuildInfo = oldV, oldC, oldD, oldR })
	Version, Commit, Date = version, commit, date
	readBuildInfo = func() (*debug.BuildInfo, bool) { return info, info != nil }
}

// TestVersionCommand: `version` and `--version` print the version, commit and date; -o json
// has them as fields.
func TestVersionCommand(t *testing.T) {
	setBuild(t, "v1.2.3", "abc123", "2026-12-06T10:00:00Z", nil)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, e, code := run(t, args...)
		if code != 0 || !strings.HasPrefix(out, "nodediag v1.2.3, commit abc123, built 2026-12-06T10:00:00Z") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, e)
		}
	}
	out, e, code := run(t, "version", "-o", "json")
	var v struct{ Version, Commit, Date string }
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version != "v1.2.3" || v.Commit != "abc123" || v.Date != "2026-12-06T10:00:00Z" {
		t.Errorf("version -o json: exit %d, %v, %q, stderr %q", code, err, out, e)
	}
}

// TestServeVersion: the MCP server reports the same version as `nodediag version` in its
// initialize answer, so a client sees which release it talks to.
func TestServeVersion(t *testing.T) {
	setBuild(t, "dev", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var e strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- MainIO(context.Background(), []string{"--store", t.TempDir(), "serve"}, inR, outW, &e)
		outW.Close()
	}()
	go func() {
		_, _ = io.WriteString(inW, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`+"\n")
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	inW.Close()
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	if code := <-done; err != nil || code != 0 {
		t.Fatalf("serve: %v, exit %d: %s", err, code, e.String())
	}
	var m struct {
		Result struct {
			ServerInfo struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil || m.Result.ServerInfo.Version != "v0.4.0" {
		t.Errorf("initialize: %v, serverInfo %+v; want version v0.4.0\n%s", err, m.Result.ServerInfo, line)
	}
}
