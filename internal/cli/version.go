package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/nodediag/nodediag/internal/buildinfo"
)

// versionLine is what --version prints after "nodediag ".
func versionLine() string { return buildinfo.Current().String() }

// programName is the name the binary was run as, replaced in tests.
var programName = func() string { return filepath.Base(os.Args[0]) }

// asKubectlPlugin: kubectl runs a plugin `kubectl nodediag` as kubectl-nodediag on PATH (krew
// links it so); it is nodediag, and its help says how it was called.
func asKubectlPlugin() bool {
	n := strings.TrimSuffix(strings.ToLower(programName()), ".exe")
	return n == "kubectl-nodediag"
}
