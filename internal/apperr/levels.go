package apperr

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// level is a log line's severity as its level field or word states it.
type level int

const (
	lvNone level = iota
	lvInfo
	lvWarn
	lvError
	lvFatal
)

// lineLevel reads a line's level, the runtime family that wrote it and a summary: a JSON or
// logfmt line by its level field (Structured), a klog/glog line by its letter (Go), else a level
// word among the first tokens (Text).
func lineLevel(t string) (level, string, string) {
	s := trimBlank(t)
	if strings.HasPrefix(s, "{") {
		if lv, sum, ok := jsonLevel(s); ok {
			return lv, Structured, sum
		}
	}
	if strings.Contains(s, "level=") || strings.Contains(s, "lvl=") || strings.Contains(s, "severity=") {
		if lv, sum, ok := logfmtLevel(s); ok {
			return lv, Structured, sum
		}
	}
	if klogShape(s) {
		if m := klogLine.FindStringSubmatch(s); m != nil {
			return klogLevels[m[1][0]], Go, m[2]
		}
	}
	lv, rest := textLevel(s)
	return lv, Text, rest
}

// klogLine is klog's and glog's header: level letter, MMDD, time, thread id, file:line].
var klogLine = regexp.MustCompile(`^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^ \]]+\] ?(.*)$`)

var klogLevels = map[byte]level{'I': lvInfo, 'W': lvWarn, 'E': lvError, 'F': lvFatal}

// klogShape tests a klog header's first bytes, "F1120 ", before the expression.
func klogShape(s string) bool {
	if len(s) < 6 || klogLevels[s[0]] == lvNone || s[5] != ' ' {
		return false
	}
	for _, c := range s[1:5] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// levelWords maps level words, as loggers spell them, to a level.
var levelWords = map[string]level{
	"fatal": lvFatal, "critical": lvFatal, "crit": lvFatal, "panic": lvFatal, "dpanic": lvFatal,
	"emerg": lvFatal, "emergency": lvFatal, "alert": lvFatal,
	"error": lvError, "err": lvError, "erro": lvError, "eror": lvError, "severe": lvError, "fail": lvError,
	"warn": lvWarn, "warning": lvWarn, "warni": lvWarn,
	"info": lvInfo, "debug": lvInfo, "debu": lvInfo, "trace": lvInfo, "notice": lvInfo, "verbose": lvInfo,
}

// wordLevel looks a word up case-insensitively without allocating: it runs on a token of every
// plain-text line.
func wordLevel(w string) level {
	if len(w) == 0 || len(w) > 9 {
		return lvNone
	}
	var buf [9]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return levelWords[string(buf[:len(w)])]
}

// textLevel finds a level word among the leading tokens of a plain-text line — after a
// timestamp, a pid or a bracketed thread name — and returns the line after it.
func textLevel(s string) (level, string) {
	rest := s
	for n := 0; n < 6; n++ {
		rest = trimBlank(rest)
		end := 0
		for end < len(rest) && rest[end] != ' ' && rest[end] != '\t' {
			end++
		}
		tok := rest[:end]
		if tok == "" {
			return lvNone, ""
		}
		if lv := tokenLevel(tok); lv != lvNone {
			after := rest[len(levelStem(tok)):]
			if strings.HasSuffix(levelStem(tok), "[") { // logrus: "ERRO[0000]msg"
				if k := strings.IndexByte(after, ']'); k >= 0 {
					after = after[k+1:]
				}
			}
			for after != "" && strings.IndexByte(" \t:-|]", after[0]) >= 0 {
				after = after[1:]
			}
			return lv, after
		}
		if !preamble(tok) {
			return lvNone, ""
		}
		rest = rest[end:]
	}
	return lvNone, ""
}

// tokenLevel reads one token as a level word: "ERROR", "[error]", "ERROR:", logrus's
// "ERRO[0000]", Python logging's "ERROR:root:msg".
func tokenLevel(tok string) level {
	w := levelStem(tok)
	for w != "" && isPunct(w[0]) {
		w = w[1:]
	}
	for w != "" && isPunct(w[len(w)-1]) {
		w = w[:len(w)-1]
	}
	return wordLevel(w)
}

func isPunct(c byte) bool {
	switch c {
	case '[', ']', '(', ')', '<', '>', ':', '|':
		return true
	}
	return false
}

func trimBlank(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// levelStem is the part of a token that can be a level word: up to a '[' that follows it (logrus)
// or a ':' that follows it (Python logging's default format).
func levelStem(tok string) string {
	start := 0
	for start < len(tok) && (tok[start] == '[' || tok[start] == '(' || tok[start] == '<') {
		start++
	}
	body := tok[start:]
	if i := strings.IndexAny(body, "[:]"); i > 0 {
		return tok[:start+i+1]
	}
	return tok
}

// preamble reports whether a token may come before a level word: a timestamp, a date, a pid, a
// bracketed thread or a separator.
func preamble(tok string) bool {
	switch {
	case tok == "-" || tok == "|":
		return true
	case tok[0] >= '0' && tok[0] <= '9':
		return true
	case tok[0] == '[' || tok[0] == '(':
		return true
	case len(tok) > 1 && tok[0] == '+' && tok[1] >= '0' && tok[1] <= '9':
		return true
	}
	switch strings.TrimRight(tok, ",") {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "AM", "PM", "UTC", "Z":
		return true
	}
	return false
}

// jsonKeys are the fields a structured logger writes its level, message and error under.
var (
	jsonLevelKeys = []string{"level", "severity", "lvl", "levelname", "log.level", "loglevel"}
	jsonMsgKeys   = []string{"msg", "message", "@message", "event"}
	jsonErrKeys   = []string{"error", "err", "exception", "error.message", "reason"}
)

// jsonLevel reads the level of a JSON log line without decoding the whole line: a line cut off by
// a viewer or wrapped by a paste still states its level and message first.
func jsonLevel(s string) (level, string, bool) {
	var lv level
	found := false
	for _, k := range jsonLevelKeys {
		if v, ok := jsonField(s, k); ok {
			lv, found = jsonLevelValue(v), true
			break
		}
	}
	if !found {
		return lvNone, "", false
	}
	if lv < lvError {
		return lv, "", true // only a line that can win needs its message decoded
	}
	msg := firstField(s, jsonMsgKeys)
	return lv, joinMsg(msg, firstField(s, jsonErrKeys)), true
}

func firstField(s string, keys []string) string {
	for _, k := range keys {
		if v, ok := jsonField(s, k); ok && v != "" {
			return v
		}
	}
	return ""
}

// jsonLevelValue maps a level value: a word, or pino and bunyan's numbers (60 fatal, 50 error,
// 40 warn).
func jsonLevelValue(v string) level {
	if v != "" && v[0] >= '0' && v[0] <= '9' {
		n, _ := strconv.Atoi(v)
		switch {
		case n >= 60:
			return lvFatal
		case n >= 50:
			return lvError
		case n >= 40:
			return lvWarn
		}
		return lvInfo
	}
	if lv := wordLevel(v); lv != lvNone {
		return lv
	}
	return lvInfo
}

// jsonField returns the value of "key": in s: a string (unescaped) or a bare scalar.
func jsonField(s, key string) (string, bool) {
	pat := `"` + key + `"`
	for off := 0; ; {
		i := strings.Index(s[off:], pat)
		if i < 0 {
			return "", false
		}
		j := off + i + len(pat)
		rest := strings.TrimLeft(s[j:], " ")
		if !strings.HasPrefix(rest, ":") {
			off = j
			continue
		}
		rest = strings.TrimLeft(rest[1:], " ")
		if strings.HasPrefix(rest, `"`) {
			return jsonString(rest), true
		}
		if strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, "[") {
			return "", false // an object is no message; its own fields are read where they stand
		}
		end := strings.IndexAny(rest, ",}")
		if end < 0 {
			end = len(rest)
		}
		return strings.TrimSpace(rest[:end]), true
	}
}

// jsonString decodes the JSON string at the start of s, or as much of it as the line holds.
func jsonString(s string) string {
	esc := false
	for i := 1; i < len(s); i++ {
		switch {
		case esc:
			esc = false
		case s[i] == '\\':
			esc = true
		case s[i] == '"' && strings.IndexByte(s[1:i], '\\') < 0:
			return s[1:i] // no escapes: the common case, without a decoder
		case s[i] == '"':
			var out string
			if json.Unmarshal([]byte(s[:i+1]), &out) == nil {
				return out
			}
			return s[1:i]
		}
	}
	return s[1:]
}

// logfmtLevel reads a logfmt line (key=value pairs, values optionally quoted) by its level key.
func logfmtLevel(s string) (level, string, bool) {
	fields := logfmtFields(s)
	if len(fields) < 2 {
		return lvNone, "", false
	}
	var lv level
	found := false
	for _, k := range []string{"level", "lvl", "severity"} {
		if v, ok := fields[k]; ok {
			lv, found = wordLevel(v), true
			break
		}
	}
	if !found {
		return lvNone, "", false
	}
	if lv == lvNone {
		lv = lvInfo
	}
	msg := fields["msg"]
	if msg == "" {
		msg = fields["message"]
	}
	e := fields["err"]
	if e == "" {
		e = fields["error"]
	}
	return lv, joinMsg(msg, e), true
}

// logfmtFields parses key=value pairs; tokens without '=' are skipped.
func logfmtFields(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t")
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " \t")
		if eq <= 0 || (sp >= 0 && sp < eq) {
			if sp < 0 {
				break
			}
			s = s[sp:]
			continue
		}
		key, rest := s[:eq], s[eq+1:]
		var val string
		val, s = logfmtValue(rest)
		out[key] = val
	}
	return out
}

func logfmtValue(rest string) (string, string) {
	if !strings.HasPrefix(rest, `"`) {
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			return rest, ""
		}
		return rest[:end], rest[end:]
	}
	esc := false
	for i := 1; i < len(rest); i++ {
		switch {
		case esc:
			esc = false
		case rest[i] == '\\':
			esc = true
		case rest[i] == '"':
			if v, err := strconv.Unquote(rest[:i+1]); err == nil {
				return v, rest[i+1:]
			}
			return rest[1:i], rest[i+1:]
		}
	}
	return rest[1:], ""
}

func joinMsg(msg, err string) string {
	switch {
	case msg == "":
		return err
	case err == "" || strings.Contains(msg, err):
		return msg
	}
	return msg + ": " + err
}
