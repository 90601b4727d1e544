// Package runbooks holds nodediag's built-in SOP catalog: one Markdown file with YAML front
// matter per runbook, embedded so that the binary needs no files beside it. internal/runbook
// parses and lints them.
package runbooks

import "embed"

// FS holds every built-in runbook, one *.md file each, named after its id.
//
//go:embed *.md
var FS embed.FS
