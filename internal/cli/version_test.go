package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/buildinfo"
)

// setBuild replaces the stamps and the build info reader for one test.
func setBuild(t *testing.T, version, commit, date string, info *debug.BuildInfo) {
	t.Helper()
	oldV, oldC, oldD, oldR := buildinfo.Version, buildinfo.Commit, buildinfo.Date, buildinfo.ReadBuildInfo
	t.Cleanup(func() {
		buildinfo.Version, buildinfo.Commit, buildinfo.Date, buildinfo.ReadBuildInfo = oldV, oldC, oldD, oldR
	})
	buildinfo.Version, buildinfo.Commit, buildinfo.Date = version, commit, date
	buildinfo.ReadBuildInfo = func() (*debug.BuildInfo, bool) { return info, info != nil }
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
