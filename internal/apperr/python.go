package apperr

import (
	"regexp"
	"strings"
)

const pyHeader = "Traceback (most recent call last):"

// pyFrame matches a traceback frame's location, also when a paste cut the line before "File".
var pyFrame = regexp.MustCompile(`(?:^|\s)File "([^"]*)", line \d+|^[^\s"]*\.py", line \d+, in `)

// pyExc is the line a traceback ends with: the exception's type, optionally module-qualified,
// and its message.
var pyExc = regexp.MustCompile(`^([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)(?::(?:\s.*)?)?$`)

// pyChainWords are the sentences Python prints between the tracebacks of a chain.
var pyChainWords = map[string]string{
	"During handling of the above exception, another exception occurred:":  "during handling of",
	"The above exception was the direct cause of the following exception:": "caused by",
}

// pyTrace is one traceback of a chain.
type pyTrace struct {
	header int   // the "Traceback" line, or -1 when the log starts mid-traceback
	first  int   // its first record
	frames []int // "File …" lines
	exc    int   // the exception line
}

// parsePython reads a traceback — or a chain of them — from its header, or from a first frame
// when the log was cut above the header (a SyntaxError report has no header either).
func parsePython(recs []record, i, from int) (block, int, bool) {
	t := recs[i].text
	if strings.HasPrefix(t, "Fatal Python error: ") {
		return block{runtime: Python, kind: kindCrash, first: i, last: i, cite: []int{i}, summary: t}, i + 1, true
	}
	headed := strings.HasPrefix(t, pyHeader)
	if !headed && !isPyFrame(t) {
		return block{}, 0, false
	}
	var chain []pyTrace
	var rels []string
	j := i
	for {
		tr, next, ok := pyOne(recs, j, headed)
		if !ok {
			if len(chain) == 0 {
				j = next
			}
			break
		}
		chain = append(chain, tr)
		j = next
		k, rel, ok := pyChainNext(recs, j)
		if !ok {
			break
		}
		rels = append(rels, rel)
		j, headed = k, true
	}
	if len(chain) == 0 {
		return block{}, j, false // j: where the failed read stopped, none of it starts a report
	}
	if warnLed(recs, i, from) {
		return block{}, j, false // a warning's traceback: none of its lines starts a report
	}
	return pyBlock(recs, chain, rels), j, true
}

// pyOne reads one traceback: indented frame and source lines up to the exception line, and the
// exception message's continuation lines.
func pyOne(recs []record, j int, headed bool) (pyTrace, int, bool) {
	tr := pyTrace{header: -1, first: j, exc: -1}
	k := j
	if headed {
		tr.header, k = j, j+1
	}
	for ; k < len(recs); k++ {
		t := recs[k].text
		if !indented(t) && !(k == j && !headed) {
			break
		}
		if isPyFrame(t) {
			tr.frames = append(tr.frames, k)
		}
	}
	if k >= len(recs) || len(tr.frames) == 0 || !isPyExc(recs[k].text) {
		return tr, k, false
	}
	tr.exc = k
	m := k + 1
	for m < len(recs) && pyExcCont(recs[m].text) {
		m++
	}
	return tr, m, true
}

// isPyFrame tests the cheap part of a frame's shape before the expression: most lines of a
// log are not frames, and this runs on every line.
func isPyFrame(t string) bool {
	return strings.Contains(t, `", line `) && pyFrame.MatchString(t)
}

func isPyExc(t string) bool {
	m := pyExc.FindStringSubmatch(t)
	if m == nil {
		return false
	}
	if strings.Contains(t, ":") || strings.Contains(m[1], ".") {
		return true
	}
	for _, suf := range []string{"Error", "Exception", "Exit", "Interrupt", "Iteration", "Warning"} {
		if strings.HasSuffix(m[1], suf) {
			return true
		}
	}
	return false
}

// pyExcCont reports whether t continues an exception's message: indented lines, and the SQL and
// documentation-link lines SQLAlchemy appends.
func pyExcCont(t string) bool {
	return indented(t) || strings.HasPrefix(t, "(Background on this error at:") ||
		strings.HasPrefix(t, "[SQL:") || strings.HasPrefix(t, "[parameters:")
}

// pyChainNext finds the next traceback of a chain after record j: blank lines, the chain
// sentence, blank lines, a header.
func pyChainNext(recs []record, j int) (int, string, bool) {
	k := skipBlank(recs, j)
	if k >= len(recs) {
		return 0, "", false
	}
	rel, ok := pyChainWords[strings.TrimSpace(recs[k].text)]
	if !ok {
		return 0, "", false
	}
	k = skipBlank(recs, k+1)
	if k >= len(recs) || !strings.HasPrefix(recs[k].text, pyHeader) {
		return 0, "", false
	}
	return k, rel, true
}

func skipBlank(recs []record, k int) int {
	for k < len(recs) && strings.TrimSpace(recs[k].text) == "" {
		k++
	}
	return k
}

// pyBlock cites the final traceback's exception and header, the application frame nearest the
// error, and the earlier exceptions of the chain; the summary names the final exception and the
// chain it ended.
func pyBlock(recs []record, chain []pyTrace, rels []string) block {
	last := chain[len(chain)-1]
	b := block{runtime: Python, kind: kindCrash, first: chain[0].first, last: last.exc}
	if chain[0].header >= 0 {
		b.first = chain[0].header
	}
	b.cite = []int{last.exc}
	if last.header >= 0 {
		b.cite = append(b.cite, last.header)
	} else {
		b.cite = append(b.cite, last.first)
	}
	if f := pyAppFrame(recs, last.frames); f >= 0 {
		b.cite = append(b.cite, f)
	}
	b.summary = strings.TrimSpace(recs[last.exc].text)
	if len(chain) > 1 {
		var parts []string
		for n, tr := range chain[:len(chain)-1] {
			b.cite = append(b.cite, tr.exc)
			parts = append(parts, rels[n]+" "+strings.TrimSpace(recs[tr.exc].text))
		}
		b.summary += " (" + strings.Join(parts, "; ") + ")"
	}
	return b
}

// pyAppFrame returns the frame nearest the error whose file is not the standard library or an
// installed package.
func pyAppFrame(recs []record, frames []int) int {
	for n := len(frames) - 1; n >= 0; n-- {
		m := pyFrame.FindStringSubmatch(recs[frames[n]].text)
		path := ""
		if m != nil {
			path = m[1]
		}
		if path != "" && !pyLibPath(path) {
			return frames[n]
		}
	}
	return -1
}

func pyLibPath(p string) bool {
	for _, s := range []string{"site-packages", "dist-packages", "/lib/python", `\lib\`, `\Lib\`, "<frozen", "<string>", "/usr/lib/"} {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}
