package apperr

import (
	"strings"
)

// record is one logical line of the log.
type record struct {
	no   int    // 1-based number of the record's first physical line
	raw  string // the line as the log shows it: CRI prefix removed, P partials joined
	text string // raw without a display prefix: what recognition reads
}

// splitRecords cuts the log into records in one pass. CRI lines ("<RFC3339> <stream> <F|P>
// <text>") lose their prefix; P partials of a stream are joined to the F line that ends them.
func splitRecords(log string) []record {
	recs := make([]record, 0, strings.Count(log, "\n")+1)
	var pend [2]partial
	no := 0
	for len(log) > 0 {
		line := log
		if i := strings.IndexByte(log, '\n'); i >= 0 {
			line, log = log[:i], log[i+1:]
		} else {
			log = ""
		}
		no++
		line = strings.TrimSuffix(line, "\r")
		stream, tag, content, ok := cutCRI(line)
		if !ok {
			recs = append(recs, record{no: no, raw: line})
			continue
		}
		p := &pend[stream]
		if tag == 'P' {
			p.add(no, content)
			continue
		}
		if p.no == 0 {
			recs = append(recs, record{no: no, raw: content})
			continue
		}
		p.add(no, content)
		recs = append(recs, p.flush())
	}
	for s := range pend { // a log cut inside a partial line still shows what was written
		if pend[s].no != 0 {
			recs = append(recs, pend[s].flush())
		}
	}
	for i := range recs {
		recs[i].text = recs[i].raw
	}
	return recs
}

// partial collects the P pieces of one stream.
type partial struct {
	no int
	b  strings.Builder
}

func (p *partial) add(no int, s string) {
	if p.no == 0 {
		p.no = no
	}
	p.b.WriteString(s)
}

func (p *partial) flush() record {
	r := record{no: p.no, raw: p.b.String()}
	p.no = 0
	p.b.Reset()
	return r
}

// cutCRI splits a CRI log line: stream 0 is stdout, 1 is stderr.
func cutCRI(line string) (stream int, tag byte, content string, ok bool) {
	if len(line) < 28 || line[4] != '-' || line[7] != '-' || line[10] != 'T' || line[0] < '0' || line[0] > '9' {
		return 0, 0, "", false
	}
	sp := strings.IndexByte(line, ' ')
	if sp < 19 || sp > 40 {
		return 0, 0, "", false
	}
	rest := line[sp+1:]
	switch {
	case strings.HasPrefix(rest, "stdout "):
		stream = 0
	case strings.HasPrefix(rest, "stderr "):
		stream = 1
	default:
		return 0, 0, "", false
	}
	rest = rest[len("stdout "):]
	if rest == "" || (rest[0] != 'F' && rest[0] != 'P') {
		return 0, 0, "", false
	}
	tag = rest[0]
	end := strings.IndexByte(rest, ' ')
	if end < 0 {
		return stream, tag, "", true // an empty line: "… stderr F"
	}
	return stream, tag, rest[end+1:], true
}

// stripPrefixes sets each record's text: the raw line without the display prefix a log viewer
// or a supervisor put in front of it, so that "web_1  | Traceback …" reads as a traceback.
func stripPrefixes(recs []record) {
	for i := range recs {
		recs[i].text = stripLinePrefix(recs[i].raw)
	}
	p := learnPrefix(recs)
	if p == "" {
		return
	}
	for i := range recs {
		t := recs[i].text
		switch {
		case len(t) >= len(p) && digitFold(t[:len(p)], p):
			recs[i].text = t[len(p):]
		case len(t) == len(p)-1 && digitFold(t+" ", p):
			recs[i].text = ""
		}
	}
}

// stripLinePrefix removes the per-line prefixes whose shape says what they are: kubectl
// --prefix "[pod/name/container] ", tkn's "[task : step] ", and the "name  | " column of docker
// compose, honcho and foreman.
func stripLinePrefix(t string) string {
	if strings.HasPrefix(t, "[") {
		if end := strings.IndexByte(t, ']'); end > 0 && end < 120 && len(t) > end+1 && t[end+1] == ' ' &&
			(strings.HasPrefix(t, "[pod/") || strings.Contains(t[:end], " : ")) {
			return t[end+2:]
		}
	}
	bar := strings.IndexByte(t, '|')
	if bar <= 0 || bar > 64 || !composeName(t[:bar]) {
		return t
	}
	if bar+1 == len(t) {
		return ""
	}
	if t[bar+1] == ' ' {
		return t[bar+2:]
	}
	return t
}

// composeName reports whether p looks like a service column: it starts with a visible
// character and holds only name, time and padding characters.
func composeName(p string) bool {
	if p[0] == ' ' || p[0] == '\t' {
		return false
	}
	alnum := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			alnum = true
		case c == '_' || c == '.' || c == ':' || c == '/' || c == '-' || c == ' ':
		default:
			return false
		}
	}
	return alnum
}

// sampleSize is how many leading non-blank lines learnPrefix looks at.
const sampleSize = 64

// learnPrefix finds a prefix most lines of the log share once digits are ignored — a timestamp
// a viewer added, a pod name stern or a sidecar put in front of every line — so that runtimes'
// reports read the same under it. It needs 80% of the sampled lines to share it and prefers the
// longest prefix that loses no line the shorter one kept.
func learnPrefix(recs []record) string {
	var sample []string
	for i := 0; i < len(recs) && len(sample) < sampleSize; i++ {
		if strings.TrimSpace(recs[i].text) != "" {
			sample = append(sample, recs[i].text)
		}
	}
	if len(sample) < 3 {
		return ""
	}
	best, bestN := "", 0
	for k := 1; k <= 5; k++ {
		p, n := commonPrefix(sample, k)
		if n*5 < len(sample)*4 {
			break
		}
		if n >= bestN && validPrefix(p) {
			best, bestN = p, n
		}
	}
	return best
}

// commonPrefix returns the most frequent digit-folded prefix made of the first k space-ended
// tokens, and how many sampled lines carry it.
func commonPrefix(sample []string, k int) (string, int) {
	counts := map[string]int{}
	for _, t := range sample {
		if p, ok := tokensUpTo(t, k); ok {
			counts[foldDigits(p)]++
		}
	}
	best, n := "", 0
	for p, c := range counts {
		if c > n || (c == n && p < best) {
			best, n = p, c
		}
	}
	return best, n
}

// tokensUpTo returns t up to and including the first space after its k-th token. A line that
// ends with its k-th token (a prefix whose message is empty: "manager") counts as carrying it.
func tokensUpTo(t string, k int) (string, bool) {
	i := 0
	for tok := 0; tok < k; tok++ {
		for i < len(t) && t[i] == ' ' {
			i++
		}
		sp := strings.IndexByte(t[i:], ' ')
		switch {
		case sp < 0 && tok == k-1 && i < len(t):
			return t + " ", true
		case sp <= 0:
			return "", false
		}
		i += sp + 1
	}
	return t[:i], true
}

func validPrefix(p string) bool {
	if p == "" || p[0] == ' ' || p[0] == '\t' || strings.ContainsAny(p, `={}"`) {
		return false
	}
	f := strings.Fields(p)
	switch f[len(f)-1] {
	case "at", "from", "File":
		return false // a frame's own keyword, not a prefix
	}
	return true
}

func foldDigits(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '0'
		}
	}
	return string(b)
}

// digitFold reports whether s equals the digit-folded prefix p, digits matching digits.
func digitFold(s, p string) bool {
	for i := 0; i < len(p); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			c = '0'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}
