package redact

import (
	"regexp"
	"strings"

	"github.com/nodediag/nodediag/internal/logtime"
)

// Rule is one form of secret.
type Rule struct {
	ID     string // the marker says it: [REDACTED:<ID>]
	What   string
	Source string // where the form is defined
	// Pattern is RE2 with a group named "secret": only that span is replaced.
	Pattern string
	// Needs are lower-case literals one of which a line must hold for Pattern to be tried: most
	// lines hold none, and a substring test is far cheaper than a regexp.
	Needs []string
	// Maybe, when set, is a cheap test a line must pass for Pattern to be tried, for a rule
	// with no literal to need.
	Maybe func(s string) bool
	// Check, when set, must accept the secret too (a test a regexp cannot express).
	Check func(secret string) bool
	// AtMessage: the pattern's ^ is the start of the line's message, after whatever syslog,
	// journal, CRI or kernel prefix the line has (logtime.Message), so that a key file's body
	// line or a kubeconfig line a pod printed is caught in its pod log too.
	AtMessage bool
	// Examples must be redacted (their secret span gone); NearMisses must come out unchanged.
	Examples, NearMisses []string

	re     *regexp.Regexp
	secret int
}

func init() {
	for i := range Catalog {
		r := &Catalog[i]
		r.re = regexp.MustCompile(r.Pattern)
		r.secret = r.re.SubexpIndex("secret")
		if r.secret < 0 {
			panic("redact: rule " + r.ID + " has no (?P<secret>…) group")
		}
	}
}

// Marker is what a secret becomes.
func Marker(id string) string { return "[REDACTED:" + id + "]" }

// String returns s with every secret the catalog knows replaced by its marker.
func String(s string) string {
	if len(s) < 8 {
		return s
	}
	var want uint64 // rules whose needed literals s holds: one pass over s for all of them
	found := false
	msgOff := -1 // where the line's message starts (logtime.Message), read once and only if a rule needs it
	for i := range Catalog {
		r := &Catalog[i]
		if len(r.Needs) > 0 {
			if !found {
				want, found = needed(s), true
			}
			if want&(1<<i) == 0 {
				continue
			}
		}
		if r.Maybe != nil && !r.Maybe(s) {
			continue
		}
		before := s
		if r.AtMessage {
			if msgOff < 0 {
				msgOff = len(s) - len(logtime.Message([]byte(s)))
			}
			s = s[:msgOff] + r.apply(s[msgOff:])
		} else {
			s = r.apply(s)
		}
		if s != before {
			found, msgOff = false, -1 // the line changed: what it holds is read again
		}
	}
	return s
}

// needIndex maps the first two bytes (lower case) of every needed literal to the literals and
// their rules, so that one pass over a line finds which rules can match it.
var needIndex = func() (idx [1 << 16][]need) {
	for i, r := range Catalog {
		for _, n := range r.Needs {
			if len(n) < 2 || i >= 64 {
				panic("redact: rule " + r.ID + ": a needed literal is shorter than 2 bytes, or more than 64 rules")
			}
			k := uint16(n[0])<<8 | uint16(n[1])
			idx[k] = append(idx[k], need{lit: n, rule: uint64(1) << i})
		}
	}
	return idx
}()

type need struct {
	lit  string // lower case
	rule uint64
}

// needed is the set of rules whose needed literals s holds, compared without case.
func needed(s string) uint64 {
	var set uint64
	for i := 0; i+1 < len(s); i++ {
		cands := needIndex[uint16(lowerByte(s[i]))<<8|uint16(lowerByte(s[i+1]))]
		for _, n := range cands {
			if set&n.rule == 0 && hasPrefixFold(s[i:], n.lit) {
				set |= n.rule
			}
		}
	}
	return set
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold: s starts with lit (lower case) in any ASCII case.
func hasPrefixFold(s, lit string) bool {
	if len(s) < len(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		if lowerByte(s[i]) != lit[i] {
			return false
		}
	}
	return true
}

func (r *Rule) apply(s string) string {
	ms := r.re.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s
	}
	markers := markerSpans(s)
	var b strings.Builder
	last := 0
	for _, m := range ms {
		from, to := m[2*r.secret], m[2*r.secret+1]
		// A marker an earlier rule wrote is neither a value to redact again nor the context of
		// one: its rule name ("authorization") reads as a key, its ':' and ']' as separators.
		if from < 0 || from == to || overlaps(markers, m[0], m[1]) || (r.Check != nil && !r.Check(s[from:to])) {
			continue
		}
		b.WriteString(s[last:from])
		b.WriteString(Marker(r.ID))
		last = to
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// mixedBase64 tells a base64 body line (upper and lower case letters and digits) from hex and
// from words.
func mixedBase64(s string) bool {
	var upper, lower, digit bool
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

// Terminal escapes what would drive a terminal instead of being shown: C0 and C1 control
// characters (escape sequences, carriage returns and line feeds that forge lines, tabs that
// break columns), DEL, and the bidirectional overrides that reorder text. Each becomes a
// visible Go-style escape.
func Terminal(s string) string { return terminal(s, false) }

// TerminalText is Terminal for text whose lines and tabs are its layout (a runbook's Markdown):
// line feeds and tabs stay, every other control is escaped.
func TerminalText(s string) string { return terminal(s, true) }

func terminal(s string, text bool) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case text && (c == '\n' || c == '\t'):
			b.WriteRune(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case unsafeRune(c):
			if c < 0x100 {
				b.WriteString(`\x` + hex2(byte(c)))
			} else {
				b.WriteString(`\u` + hex2(byte(c>>8)) + hex2(byte(c)))
			}
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func needsEscape(s string) bool {
	for _, c := range s {
		if c == '\n' || c == '\r' || c == '\t' || unsafeRune(c) {
			return true
		}
	}
	return false
}

func unsafeRune(c rune) bool {
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// Secrets are the spans r's pattern takes for secrets in line (with Check applied), for tests
// that must look for each of them in an output.
func Secrets(r Rule, line string) []string {
	var out []string
	for _, m := range r.re.FindAllStringSubmatchIndex(line, -1) {
		if s := line[m[2*r.secret]:m[2*r.secret+1]]; s != "" && (r.Check == nil || r.Check(s)) {
			out = append(out, s)
		}
	}
	return out
}

// base64Run says whether s holds 60 base64 characters in a row, as a key's body line does.
func base64Run(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			if run++; run >= 60 {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

// markerSpans are the [from, to) spans of the markers already in s.
func markerSpans(s string) [][2]int {
	var spans [][2]int
	for off := 0; ; {
		i := strings.Index(s[off:], "[REDACTED:")
		if i < 0 {
			return spans
		}
		from := off + i
		j := strings.IndexByte(s[from:], ']')
		if j < 0 {
			return spans
		}
		spans = append(spans, [2]int{from, from + j + 1})
		off = from + j + 1
	}
}

func overlaps(spans [][2]int, from, to int) bool {
	for _, sp := range spans {
		if from < sp[1] && sp[0] < to {
			return true
		}
	}
	return false
}
