package formats

import (
	"bytes"
	"fmt"
	"strings"
)

//go:generate go test -run ^TestDocIsCurrent$ -update .

// DocsPath is where the generated matrix lives, relative to the repository root.
const DocsPath = "docs/formats.md"

// RenderMarkdown writes docs/formats.md: one section per producer with a table of its rows
// (event, versions, wording, upstream source, what nodediag does with it) and the example line
// of each row. It depends only on the matrix, so a test can tell whether the file is current.
func RenderMarkdown(m *Matrix) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Format matrix\n\n")
	w("<!-- Generated from internal/formats/matrix/*.yaml by `go generate ./internal/formats/`. Do not edit by hand. -->\n\n")
	w("The exact wording of every node log line nodediag detects or extracts, and of the benign\n")
	w("look-alikes it must not alarm on, per producer and release line, with the upstream file and\n")
	w("version each wording was read from. `go test ./internal/formats/` runs every example below\n")
	w("through the indexer: the rules a row names must fire, its extractor must yield a fact, and a\n")
	w("benign row must raise no crash fact and no high or critical finding. Every example line of\n")
	w("the rule catalog ([rules.md](rules.md)) names the row it covers.\n\n")
	w("An example is `format` when it was built from the wording at that version, else the link\n")
	w("is where that very line was published.\n\n")
	rows := 0
	for _, p := range m.Producers {
		rows += len(p.Rows)
	}
	w("%d rows from %d producers:\n\n", rows, len(m.Producers))
	for _, p := range m.Producers {
		unit := "rows"
		if len(p.Rows) == 1 {
			unit = "row"
		}
		w("- [%s](#%s) (%d %s; %s)\n", p.Producer, anchor(p.Producer), len(p.Rows), unit, strings.Join(p.Versions, ", "))
	}
	for _, p := range m.Producers {
		w("\n## %s\n\n", p.Producer)
		w("Upstream: [%s](https://github.com/%s). Versions: %s.\n\n", p.Repo, p.Repo, strings.Join(p.Versions, ", "))
		if p.Notes != "" {
			w("%s\n\n", strings.TrimSpace(p.Notes))
		}
		w("| row | event | versions | wording | upstream | nodediag |\n| --- | --- | --- | --- | --- | --- |\n")
		for i := range p.Rows {
			r := &p.Rows[i]
			w("| <a id=\"%s\"></a>`%s` | %s | %s | %s | %s | %s |\n", r.ID, r.ID, cell(r.Event), cell(r.Versions),
				code(r.Wording), cell(r.Upstream), cell(verdict(r)))
		}
		w("\nExamples:\n\n")
		for i := range p.Rows {
			r := &p.Rows[i]
			src := "format"
			if r.ExampleSource != "format" {
				src = "[published](" + r.ExampleSource + ")"
			}
			w("- `%s` (%s, %s): %s\n", r.ID, r.LogType, src, code(r.Example))
			if r.Notes != "" {
				w("  — %s\n", cell(strings.TrimSpace(r.Notes)))
			}
		}
	}
	return b.Bytes()
}

func verdict(r *Row) string {
	var parts []string
	if r.Benign {
		parts = append(parts, "benign")
	}
	for _, id := range r.Rules {
		parts = append(parts, "["+id+"](rules.md#"+id+")")
	}
	if r.Extract != "" {
		parts = append(parts, "extract "+r.Extract)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func anchor(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "-", ".", "", "/", "").Replace(s))
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// code renders s as inline code that survives a table cell, whatever backticks it holds.
func code(s string) string {
	s = cell(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}
