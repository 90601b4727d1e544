package redact

import (
	"bytes"
	"fmt"
	"strings"
)

// DocsPath is where Markdown writes the catalog, from the module root.
const DocsPath = "docs/redaction.md"

// Markdown renders the catalog for docs/redaction.md: what each rule takes, where the form is
// defined, and the lines it must and must not redact, as the table test checks them.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Redaction\n\n")
	b.WriteString("Generated from `internal/redact/catalog.go` by `go test ./internal/redact -run Doc -update`; do not edit.\n\n")
	b.WriteString("Every answer nodediag prints or serves — CLI tables, JSON and YAML, MCP structured content, text and\n" +
		"errors — passes through these rules first. A secret becomes `[REDACTED:<rule>]`; the text around it and the\n" +
		"line's `file:line` stay, so a claim still cites its line. `--no-redact` shows a local CLI user the bundle as it\n" +
		"is; the MCP server always redacts. Table output also escapes control characters (`\\x1b`, `\\n`, bidi overrides)\n" +
		"so that bundle text cannot drive the terminal.\n\n")
	b.WriteString("| rule | what it takes |\n| --- | --- |\n")
	for _, r := range Catalog {
		fmt.Fprintf(&b, "| [%s](#%s) | %s |\n", r.ID, r.ID, r.What)
	}
	for _, r := range Catalog {
		fmt.Fprintf(&b, "\n## %s\n\n%s.\n\nSource: %s.\n\n", r.ID, capitalize(r.What), r.Source)
		where := ""
		if r.AtMessage {
			where = " (at the start of a line's message, after any syslog, journal or CRI prefix)"
		}
		fmt.Fprintf(&b, "Pattern%s:\n\n```\n%s\n```\n\nRedacted:\n\n", where, r.Pattern)
		for _, ex := range r.Examples {
			fmt.Fprintf(&b, "```\n%s\n→ %s\n```\n\n", ex, String(ex))
		}
		b.WriteString("Left alone:\n\n")
		for _, nm := range r.NearMisses {
			fmt.Fprintf(&b, "```\n%s\n```\n\n", nm)
		}
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
