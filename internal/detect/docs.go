package detect

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:generate go test -run ^TestRulesDocIsCurrent$ -update .

// DocsPath is where the generated rule reference lives, relative to the repository root.
const DocsPath = "docs/rules.md"

// RenderMarkdown writes the rule reference (docs/rules.md) for a catalog: a table of contents
// by category, then one section per rule with its severity, log types, runbooks, description,
// guards, pattern, literals and example lines. The output depends only on the catalog, so a
// test can tell whether the committed file is current.
func RenderMarkdown(c *Catalog) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# Detection rules\n\n")
	w("<!-- Generated from internal/detect/rules.yaml by `go generate ./internal/detect/`. Do not edit by hand. -->\n\n")
	w("Catalog version `%s`: %d rules.", c.Version, len(c.Rules))
	counts := map[Severity]int{}
	for i := range c.Rules {
		counts[c.Rules[i].Severity]++
	}
	var parts []string
	for _, s := range Severities {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	w(" By severity: %s.\n\n", strings.Join(parts, ", "))
	w("Every line of every file in a bundle is checked against these rules. A rule fires on a line\n")
	w("when the line contains one of its literals (the prefilter, searched in whole blocks at once),\n")
	w("its RE2 pattern matches the line's message — the line without its syslog, journal or CRI\n")
	w("prefix and, for kernel records, without the kernel's stamps — and its exclude pattern (if\n")
	w("any) does not. A rule applies to files of its log types (all files when it lists none);\n")
	w("in mixed files (`messages`, `journal`) it also applies to lines whose syslog identifier maps\n")
	w("to one of its log types (`kubelet:` → kubelet, `containerd:` → containerd, `kernel:` → dmesg).\n")
	w("Rules that name an extractor feed the crash-fact extractor of that name with each matched line.\n")
	w("Every example below matches its rule and every near miss does not; `go test ./internal/detect/`\n")
	w("checks both through the real matcher.\n\n")

	byCat := map[string][]*Rule{}
	for i := range c.Rules {
		r := &c.Rules[i]
		byCat[r.Category] = append(byCat[r.Category], r)
	}
	cats := orderedCategories(byCat)

	w("## Contents\n\n")
	for _, cat := range cats {
		w("- **%s**\n", cat)
		for _, r := range byCat[cat] {
			w("  - [%s](#%s) (%s): %s\n", r.ID, r.ID, r.Severity, r.Title)
		}
	}
	w("\n## Runbooks\n\n")
	w("| id | covers |\n| --- | --- |\n")
	ids := make([]string, 0, len(SOPs))
	for id := range SOPs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		w("| %s | %s |\n", id, SOPs[id])
	}

	for _, cat := range cats {
		w("\n## %s\n", cat)
		for _, r := range byCat[cat] {
			w("\n### %s\n\n", r.ID)
			w("**%s**\n\n", r.Title)
			w("| | |\n| --- | --- |\n")
			w("| Severity | %s |\n", r.Severity)
			lt := "all"
			if len(r.LogTypes) > 0 {
				lt = strings.Join(r.LogTypes, ", ")
			}
			w("| Log types | %s |\n", lt)
			w("| Runbooks | %s |\n", strings.Join(r.SOPs, ", "))
			if r.Extract != "" {
				w("| Extractor | `%s` |\n", r.Extract)
			}
			if r.CaseInsensitive {
				w("| Case | insensitive |\n")
			}
			if r.StartMarker {
				w("| Marks | a kubelet start |\n")
			}
			if st := r.Startup; st != nil {
				w("| Within %s of a kubelet start | counts as [%s](#%s) |\n", st.Within, st.Rule, st.Rule)
			}
			if r.Sandbox != "" {
				w("| On a pod sandbox's container | counts as [%s](#%s) |\n", r.Sandbox, r.Sandbox)
			}
			w("\n%s\n\n", strings.TrimSpace(r.Description))
			w("Guards: %s\n\n", strings.TrimSpace(r.Guards))
			w("Pattern:\n\n```re2\n%s\n```\n\n", r.Pattern)
			if r.Exclude != "" {
				w("Exclude:\n\n```re2\n%s\n```\n\n", r.Exclude)
			}
			w("Literals: %s\n\n", codeList(r.Literals))
			w("Examples:\n\n```text\n%s\n```\n\n", strings.Join(r.Examples, "\n"))
			w("Their wordings, in order: %s.\n\n", rowLinks(r.ExampleRows))
			w("Near misses:\n\n```text\n%s\n```\n", strings.Join(r.NearMisses, "\n"))
		}
	}
	return b.Bytes()
}

// rowLinks links each example's format-matrix row in docs/formats.md.
func rowLinks(rows []string) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("[%s](formats.md#%s)", r, r)
	}
	return strings.Join(parts, ", ")
}

// orderedCategories lists the categories that have rules: known ones in Categories order.
func orderedCategories(byCat map[string][]*Rule) []string {
	var out []string
	for _, c := range Categories {
		if len(byCat[c]) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// codeList renders strings as Go-quoted Markdown code spans, so leading and trailing spaces
// of a literal stay visible.
func codeList(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		q := strconv.Quote(s)
		fence := "`"
		for strings.Contains(q, fence) {
			fence += "`"
		}
		parts[i] = fence + q + fence
	}
	return strings.Join(parts, ", ")
}
