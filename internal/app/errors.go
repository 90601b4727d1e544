package app

import (
	"fmt"
	"slices"

	"github.com/nodediag/nodediag/internal/index"
)

// ErrorsRequest asks for the bundle's findings at or above a severity, within a window.
type ErrorsRequest struct {
	MinSeverity string // normalized (NormalizeSeverity)
	Window      Window
}

// ErrorsResult is the findings that pass, most severe first as the index orders them. With a
// window, each finding's Count is its hits inside it (to the minute) and its Samples are the
// ones inside it: a sample from ten days earlier is no evidence of what happened in the window.
type ErrorsResult struct {
	Total    int // findings in the bundle
	Findings []index.Finding
	Notes    []string
}

// Errors filters the index's findings.
func Errors(idx *index.Index, req ErrorsRequest) ErrorsResult {
	res := ErrorsResult{Total: len(idx.Findings), Findings: []index.Finding{}}
	w := req.Window
	for _, f := range idx.Findings {
		if index.SeverityRank(f.Severity) > index.SeverityRank(req.MinSeverity) {
			continue
		}
		if !w.Open() {
			if f.Count = f.CountBetween(w.From, w.To); f.Count == 0 {
				continue
			}
			f.Samples = slices.DeleteFunc(slices.Clone(f.Samples), func(s index.Sample) bool { return !w.Holds(s.Time) })
		}
		f.Minutes = nil // the index's own bookkeeping, not an answer
		res.Findings = append(res.Findings, f)
	}
	if !w.Open() {
		res.Notes = append(res.Notes, "counts are hits inside the window, to the minute; samples outside it are left out (search with the same window lists every line)")
	}
	if n := len(res.Findings); n < res.Total && req.MinSeverity != "info" {
		res.Notes = append(res.Notes, fmt.Sprintf("%d findings below %s or outside the window are not shown (severity info shows all)", res.Total-n, req.MinSeverity))
	}
	return res
}
