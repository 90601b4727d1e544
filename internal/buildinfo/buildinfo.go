// Package buildinfo says which build a binary is: the release stamps, else what the go command
// recorded. It is its own package so that both binaries, nodediag and nodediag-agent, report
// their version from the same stamps without the agent linking nodediag's command line.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Version, Commit and Date are stamped by release builds (.goreleaser.yaml, bench/release.sh,
// the Dockerfile), for both binaries:
//
//	-ldflags "-X github.com/nodediag/nodediag/internal/buildinfo.Version=v1.2.3
//	          -X github.com/nodediag/nodediag/internal/buildinfo.Commit=<sha>
//	          -X github.com/nodediag/nodediag/internal/buildinfo.Date=<RFC 3339>"
//
// Without them, Current fills what it can from the build info the go command records: the
// module version for `go install …@vX`, the VCS revision, time and dirty flag for a `go build`
// in a clone.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// ReadBuildInfo is debug.ReadBuildInfo, replaced in tests.
var ReadBuildInfo = debug.ReadBuildInfo

// Build is what a binary reports about itself.
type Build struct {
	Version  string
	Commit   string
	Date     string
	Modified bool // built from a work tree with uncommitted changes
}

// String is the version line: "v1.2.3, commit abc, built 2026-12-06T10:00:00Z".
func (b Build) String() string {
	s := b.Version
	var more []string
	if b.Commit != "" {
		c := "commit " + b.Commit
		if b.Modified {
			c += " (modified)"
		}
		more = append(more, c)
	}
	if b.Date != "" {
		more = append(more, "built "+b.Date)
	}
	if len(more) > 0 {
		s += ", " + strings.Join(more, ", ")
	}
	return s
}

// Current is this binary's build: the -X stamps win; build info fills what they left empty.
func Current() Build {
	b := Build{Version: Version, Commit: Commit, Date: Date}
	bi, ok := ReadBuildInfo()
	if !ok || bi == nil {
		return b
	}
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	stamped := b.Commit != ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if !stamped {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			if !stamped {
				b.Modified = s.Value == "true"
			}
		}
	}
	return b
}
