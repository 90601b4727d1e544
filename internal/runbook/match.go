package runbook

import (
	"cmp"
	"slices"
	"strings"
)

// Match is a runbook whose triggers matched some of the texts given to Catalog.Match.
type Match struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	// Triggers are the runbook's triggers that matched at least one text, in front-matter order.
	Triggers []string `json:"triggers"`
	// Lines are the texts that matched, in input order, each with the triggers it matched.
	Lines []MatchedLine `json:"lines"`
}

// MatchedLine is one input text that matched, by its index in the input.
type MatchedLine struct {
	Index    int      `json:"index"`
	Text     string   `json:"text"`
	Triggers []string `json:"triggers"`
}

// Match ranks the catalog's runbooks by their front-matter triggers against texts (log lines,
// finding titles, finding samples). A runbook with more distinct triggers matched ranks first,
// then one with more matched lines, then the more severe, then by id; the catch-all (Z1) ranks
// after every other match because its triggers are meant to match what nothing else claims.
// Runbooks that match nothing are left out.
func (c *Catalog) Match(texts []string) []Match {
	// Lower-case each ASCII text once for the literal prefilter; "" marks a text with non-ASCII
	// bytes, on which every regex runs because ToLower does not fold as (?i) does.
	lower := make([]string, len(texts))
	for i, t := range texts {
		if isASCII(t) {
			lower[i] = strings.ToLower(t)
		}
	}
	var out []Match
	for _, rb := range c.List() {
		ts := c.triggers[rb.ID]
		hit := make([]bool, len(ts))
		m := Match{ID: rb.ID, Title: rb.Title, Severity: rb.Severity}
		for i, text := range texts {
			var trig []string
			for j, tr := range ts {
				if tr.may(text, lower[i]) && tr.re.MatchString(text) {
					trig = append(trig, tr.src)
					hit[j] = true
				}
			}
			if trig != nil {
				m.Lines = append(m.Lines, MatchedLine{Index: i, Text: text, Triggers: trig})
			}
		}
		if len(m.Lines) == 0 {
			continue
		}
		for j, tr := range ts {
			if hit[j] {
				m.Triggers = append(m.Triggers, tr.src)
			}
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		return cmp.Or(
			cmp.Compare(boolRank(a.ID == CatchAll), boolRank(b.ID == CatchAll)),
			cmp.Compare(len(b.Triggers), len(a.Triggers)),
			cmp.Compare(len(b.Lines), len(a.Lines)),
			cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)),
			cmp.Compare(a.ID, b.ID),
		)
	})
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// severityRank orders severities most severe first; an unknown one sorts last.
func severityRank(s string) int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}

// may reports whether text can match the trigger: false only when text is ASCII (lower is its
// lower-case form, non-empty) and holds none of the trigger's required literals.
func (t trigger) may(text, lower string) bool {
	if t.lits == nil || (lower == "" && text != "") {
		return true
	}
	for _, l := range t.lits {
		if strings.Contains(lower, l) {
			return true
		}
	}
	return false
}
