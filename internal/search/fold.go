package search

import (
	"slices"
	"time"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/logtime"
)

// Record is one line of the node as a folded page lists it: a listed match, and the copies of
// the same line that other files of the page hold.
type Record struct {
	ID     string        `json:"id" yaml:"id"`
	Ref    string        `json:"ref" yaml:"ref"` // file:line
	Time   time.Time     `json:"time,omitzero" yaml:"time,omitempty"`
	Text   string        `json:"text" yaml:"text"`
	Cut    bool          `json:"cut,omitempty" yaml:"cut,omitempty"`
	Copies []string      `json:"copies,omitempty" yaml:"copies,omitempty"` // file:line of the same line elsewhere
	Before []ContextLine `json:"before,omitempty" yaml:"before,omitempty"`
	After  []ContextLine `json:"after,omitempty" yaml:"after,omitempty"`
}

const (
	// copySkew is how far apart two files may stamp one line: a raw dmesg record is placed by
	// the boot time (estimated to within a second), dmesg -T and syslog print whole seconds.
	copySkew = 2 * time.Second
	// copyKeyBytes of the message identify a line: enough to tell two OOM reports apart by
	// their container id, short enough to survive the cut of a long line.
	copyKeyBytes = 160
)

// Fold lists the page's matches once per line of the node. A kernel record is written to
// kernel/dmesg.current, kernel/dmesg.human.current and var_log/messages, and a kubelet line to
// kubelet.log and messages: the same message, stamped within copySkew, in another file, is a
// copy and is named in the first match's Copies instead of listed again. Nothing is dropped:
// every listed match is a record or a copy of one, so the page costs a reader a third of the
// bytes when the incident is in the kernel. Lines without a time are never folded (two equal
// untimed lines may be two events), nor are two matches of one file.
func (r *Result) Fold() []Record {
	var recs []Record
	byKey := map[string][]*copied{}
	for _, fm := range r.Files {
		for _, m := range fm.Matches {
			key := copyKey(m.Text, m.Cut)
			foldable := key != "" && !m.Time.IsZero()
			if c := firstCopy(byKey[key], m.Time, m.File); foldable && c != nil {
				recs[c.rec].Copies = append(recs[c.rec].Copies, m.LineRef.String())
				c.files = append(c.files, m.File)
				continue
			}
			if foldable {
				byKey[key] = append(byKey[key], &copied{rec: len(recs), time: m.Time, files: []string{m.File}})
			}
			recs = append(recs, Record{ID: m.ID, Ref: m.LineRef.String(), Time: m.Time, Text: m.Text, Cut: m.Cut,
				Before: m.Before, After: m.After})
		}
	}
	return recs
}

// copied is a record Fold may add copies to: its time and the files it is already in.
type copied struct {
	rec   int
	time  time.Time
	files []string
}

// firstCopy is the record among cands that a line of file stamped t copies, or nil.
func firstCopy(cands []*copied, t time.Time, file string) *copied {
	for _, c := range cands {
		if d := c.time.Sub(t); d <= copySkew && d >= -copySkew && !slices.Contains(c.files, file) {
			return c
		}
	}
	return nil
}

// copyKey is what two copies of a line share: the start of its message without any syslog,
// journal or dmesg prefix. It is empty for a line that cannot be folded (no time is checked
// here; the caller does).
func copyKey(text string, cut bool) string {
	if cut {
		text = evidence.Unquote(text)
	}
	msg := logtime.Message([]byte(text))
	return string(msg[:min(len(msg), copyKeyBytes)])
}
