package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/nodediag/nodediag/internal/redact"
)

// emit prints what ptr points to as JSON or YAML, or calls table for the human layout. It first
// replaces the value with a copy whose secrets are redacted (unless --no-redact) and, for the
// table, whose terminal controls are escaped: table reads the same variable, which is why it
// takes the variable's address.
func emit[T any](g *globals, ptr *T, table func(w io.Writer)) error {
	return emitWith(g, ptr, table, g.cleaner(tableEscape(g, redact.Terminal)))
}

// emitText is emit for documents whose line breaks are their layout (a runbook's Markdown, not
// bundle text): a table keeps their lines and tabs and escapes every other control.
func emitText[T any](g *globals, ptr *T, table func(w io.Writer)) error {
	return emitWith(g, ptr, table, g.cleaner(tableEscape(g, redact.TerminalText)))
}

// tableEscape is escape for table output; JSON and YAML escape control characters themselves.
func tableEscape(g *globals, escape func(string) string) func(string) string {
	if g.output == "table" {
		return escape
	}
	return nil
}

func emitWith[T any](g *globals, ptr *T, table func(w io.Writer), clean func(string) string) error {
	// JSON and YAML escape control characters themselves; a table prints them raw.
	if clean != nil {
		v, err := redact.Apply(*ptr, clean)
		if err != nil {
			return err
		}
		*ptr = v
	}
	v := *ptr
	switch g.output {
	case "json":
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		enc := yaml.NewEncoder(g.stdout)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return enc.Close()
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// stamp renders a time compactly for tables; the zone is always UTC and said once in headers.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// stampPrecise keeps sub-seconds: OOM → exit → PLEG happen within a second.
func stampPrecise(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func fprintf(w io.Writer, format string, args ...any) { fmt.Fprintf(w, format, args...) }

// clean is text from a bundle as this run may print it on a terminal.
func (g *globals) clean(s string) string { return g.cleaner(redact.Terminal)(s) }

// cleaner is what this run does to bundle text before printing it: redact secrets unless
// --no-redact, then escape (nil: none, where the output escapes controls itself); nil when neither.
func (g *globals) cleaner(escape func(string) string) func(string) string {
	switch {
	case !g.noRedact && escape != nil:
		return func(s string) string { return escape(redact.String(s)) }
	case !g.noRedact:
		return redact.String
	}
	return escape
}
