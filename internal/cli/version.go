package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Version, Commit and Date are stamped by release builds (.goreleaser.yaml, bench/release.sh):
//
//	-ldflags "-X github.com/nodediag/nodediag/internal/cli.Version=v1.2.3
//	          -X github.com/nodediag/nodediag/internal/cli.Commit=<sha>
//	          -X github.com/nodediag/nodediag/internal/cli.Date=<RFC 3339>"
//
// Without them, currentBuild fills what it can from the build info the go command records: the
// module version for `go install …@vX`, the VCS revision, time and dirty flag for a `go build`
// in a clone.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// readBuildInfo is debug.ReadBuildInfo, replaced in tests.
var readBuildInfo = debug.ReadBuildInfo

// build is what `nodediag version` reports about the binary itself.
type build struct {
	Version  string
	Commit   string
	Date     string
	Modified bool // built from a work tree with uncommitted changes
}

func (b build) String() string {
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

// currentBuild: the -X stamps win; build info fills what they left empty.
func currentBuild() build {
	b := build{Version: Version, Commit: Commit, Date: Date}
	bi, ok := readBuildInfo()
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

// versionLine is what --version prints after "nodediag ".
func versionLine() string { return fmt.Sprint(currentBuild()) }

// programName is the name the binary was run as, replaced in tests.
var programName = func() string { return filepath.Base(os.Args[0]) }

// asKubectlPlugin: kubectl runs a plugin `kubectl nodediag` as kubectl-nodediag on PATH (krew
// links it so); it is nodediag, and its help says how it was called.
func asKubectlPlugin() bool {
	n := strings.TrimSuffix(strings.ToLower(programName()), ".exe")
	return n == "kubectl-nodediag"
}
