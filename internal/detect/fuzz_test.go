package detect

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/logtime"
)

// FuzzScan feeds random blocks to the real matcher. Scan must not panic; every hit must be a
// whole line of the block whose message (logtime.Message: the line without its syslog prefix
// and kernel stamps) the rule's pattern matches on its own (and its exclude does not); and, since fileType "" applies every rule, every line a rule's regex matches must be
// reported, which proves the prefilter never drops a match (each pattern's literals really are
// required).
func FuzzScan(f *testing.F) {
	c, m := catalog(f)
	for i := range c.Rules {
		r := &c.Rules[i]
		f.Add([]byte(strings.Join(r.Examples, "\n")))
		f.Add([]byte(strings.Join(r.NearMisses, "\n") + "\n"))
	}
	f.Add([]byte("\n\n\n"))
	f.Add([]byte("Out of memory: Killed process 1 (a)\r\nsegfault at"))
	f.Fuzz(func(t *testing.T, block []byte) {
		// The completeness check runs every rule's regex on every line; keep inputs small
		// enough that the fuzzer explores instead of grinding through megabyte blocks.
		if len(block) > 1<<16 {
			block = block[:1<<16]
		}
		type key struct{ rule, start int }
		got := map[key]bool{}
		m.Scan(block, "", func(r *Rule, s, e, ms int) {
			if s < 0 || e > len(block) || s > e {
				t.Fatalf("%s: bounds [%d,%d) outside block of %d", r.ID, s, e, len(block))
			}
			if (s > 0 && block[s-1] != '\n') || (e < len(block) && block[e] != '\n') || bytes.IndexByte(block[s:e], '\n') >= 0 {
				t.Fatalf("%s: [%d,%d) is not a whole line of %q", r.ID, s, e, block)
			}
			cr := &m.rules[r.Index]
			line := block[s:e]
			msg := logtime.Message(line)
			if ms < s || ms > e || string(block[ms:e]) != string(msg) {
				t.Fatalf("%s: message at %d of line [%d,%d) is %q, want %q", r.ID, ms, s, e, block[ms:e], msg)
			}
			if !cr.re.Match(msg) || (cr.ex != nil && cr.ex.Match(msg)) {
				t.Fatalf("%s reported for a line its regexes reject: %q", r.ID, line)
			}
			if got[key{r.Index, s}] {
				t.Fatalf("%s reported twice for line at %d", r.ID, s)
			}
			got[key{r.Index, s}] = true
		})
		start := 0
		for start <= len(block) {
			end := bytes.IndexByte(block[start:], '\n')
			if end < 0 {
				end = len(block)
			} else {
				end += start
			}
			line := block[start:end]
			msg := logtime.Message(line)
			for i := range m.rules {
				cr := &m.rules[i]
				if cr.re.Match(msg) && (cr.ex == nil || !cr.ex.Match(msg)) && !got[key{i, start}] {
					t.Fatalf("%s matches line %q on its own but Scan missed it", cr.rule.ID, line)
				}
			}
			start = end + 1
		}
		// Mixed-file routing must not panic either, and can only report a subset.
		n := 0
		m.Scan(block, "messages", func(r *Rule, s, e, _ int) {
			n++
			if !got[key{r.Index, s}] {
				t.Fatalf("%s reported in a messages file but not with every rule applied", r.ID)
			}
		})
	})
}
