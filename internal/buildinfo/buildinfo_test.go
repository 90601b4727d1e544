package buildinfo

import (
	"runtime/debug"
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
		want                 Build
		line                 string
	}{
		{name: "release build, stamped", version: "v1.2.3", commit: "abc123", dat: "2026-12-06T10:00:00Z",
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("fff", "2026-01-01T00:00:00Z", "true")},
			want: Build{Version: "v1.2.3", Commit: "abc123", Date: "2026-12-06T10:00:00Z"},
			line: "v1.2.3, commit abc123, built 2026-12-06T10:00:00Z"},
		{name: "go build in a clean clone", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef", "2026-12-05T09:08:07Z", "false")},
			want: Build{Version: "dev", Commit: "0123456789abcdef", Date: "2026-12-05T09:08:07Z"},
			line: "dev, commit 0123456789abcdef, built 2026-12-05T09:08:07Z"},
		{name: "go build in a dirty clone", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1-0.20261205090807-0123456789ab+dirty"}, Settings: vcs("0123456789abcdef", "2026-12-05T09:08:07Z", "true")},
			want: Build{Version: "v0.3.1-0.20261205090807-0123456789ab+dirty", Commit: "0123456789abcdef", Date: "2026-12-05T09:08:07Z", Modified: true},
			line: "v0.3.1-0.20261205090807-0123456789ab+dirty, commit 0123456789abcdef (modified), built 2026-12-05T09:08:07Z"},
		{name: "go install @v0.4.0: module version, no VCS", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Path: "github.com/nodediag/nodediag", Version: "v0.4.0", Sum: "h1:x"}},
			want: Build{Version: "v0.4.0"}, line: "v0.4.0"},
		{name: "-buildvcs=false, no stamps", version: "dev",
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: Build{Version: "dev"}, line: "dev"},
		{name: "no build info at all", version: "dev", want: Build{Version: "dev"}, line: "dev"},
		{name: "version stamped, commit from VCS", version: "v1.0.0",
			info: &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: vcs("beef", "2026-12-05T09:08:07Z", "false")},
			want: Build{Version: "v1.0.0", Commit: "beef", Date: "2026-12-05T09:08:07Z"},
			line: "v1.0.0, commit beef, built 2026-12-05T09:08:07Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setBuild(t, tc.version, tc.commit, tc.dat, tc.info)
			if got := Current(); got != tc.want {
				t.Errorf("Current() = %+v, want %+v", got, tc.want)
			}
			if got := Current().String(); got != tc.line {
				t.Errorf("String() = %q, want %q", got, tc.line)
			}
		})
	}
}

// setBuild replaces the stamps and the build info reader for one test.
func setBuild(t *testing.T, version, commit, date string, info *debug.BuildInfo) {
	t.Helper()
	oldV, oldC, oldD, oldR := Version, Commit, Date, ReadBuildInfo
	t.Cleanup(func() { Version, Commit, Date, ReadBuildInfo = oldV, oldC, oldD, oldR })
	Version, Commit, Date = version, commit, date
	ReadBuildInfo = func() (*debug.BuildInfo, bool) { return info, info != nil }
}
