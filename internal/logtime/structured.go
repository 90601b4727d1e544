package logtime

import (
	"bytes"
	"time"
)

var (
	timeKey = []byte("time=")
	tsKey   = []byte("ts=")
)

// logfmtTime returns the value of the first time= (logrus: containerd, dockerd) or ts=
// (go-kit) field of a logfmt line. A key counts only at the start of the line or after a blank,
// so that "runtime=" or an escaped time=\"…\" inside a quoted msg is not taken for it.
func logfmtTime(b []byte) ([]byte, bool) {
	if v, ok := logfmtValue(b, timeKey); ok {
		return v, true
	}
	return logfmtValue(b, tsKey)
}

func logfmtValue(b, key []byte) ([]byte, bool) {
	for i := 0; i < len(b); {
		j := bytes.Index(b[i:], key)
		if j < 0 {
			return nil, false
		}
		p := i + j
		i = p + 1
		if p > 0 && b[p-1] != ' ' && b[p-1] != '\t' {
			continue
		}
		v := b[p+len(key):]
		if len(v) > 0 && v[0] == '"' {
			end := bytes.IndexByte(v[1:], '"')
			if end < 0 {
				continue
			}
			return v[1 : 1+end], true
		}
		if end := bytes.IndexByte(v, ' '); end >= 0 {
			v = v[:end]
		}
		if len(v) > 0 {
			return v, true
		}
	}
	return nil, false
}

// parseLogfmt reads a containerd/dockerd log line: logfmt with time=, or the JSON lines the same
// daemons write when configured for JSON output.
func (c *Context) parseLogfmt(line []byte) Stamp {
	if len(line) > 0 && line[0] == '{' {
		if t, ok := c.jsonTime(line); ok {
			return Stamp{t, Exact}
		}
		return none()
	}
	v, ok := logfmtTime(line)
	if !ok {
		return none()
	}
	var is isoStamp
	if !is.parse(v) || is.n != len(v) {
		return none()
	}
	return Stamp{is.time(c.loc()), Exact}
}

// jsonTime reads the top-level "ts", "time" or "timestamp" member of the JSON object at the
// start of b, as an ISO string (zap's "2006-01-02T15:04:05.000Z0700", containerd's RFC 3339) or
// as an epoch number (nodeadm's float seconds). It walks the object without decoding it, so a
// line costs no allocation, nested objects and strings that merely contain "ts" are skipped,
// and a line cut after the time member still yields its time.
func (c *Context) jsonTime(b []byte) (time.Time, bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return time.Time{}, false
	}
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] != '"' {
			return time.Time{}, false
		}
		end, ok := stringEnd(b, i+1)
		if !ok {
			return time.Time{}, false
		}
		key := b[i+1 : end]
		i = skipWS(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return time.Time{}, false
		}
		i = skipWS(b, i+1)
		if isTimeKey(key) {
			if t, ok := c.jsonValueTime(b[i:]); ok {
				return t, true
			}
		}
		if i, ok = skipValue(b, i); !ok {
			return time.Time{}, false
		}
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ',' {
			return time.Time{}, false
		}
		i++
	}
}

func isTimeKey(k []byte) bool {
	return string(k) == "ts" || string(k) == "time" || string(k) == "timestamp"
}

// jsonValueTime reads a time from the JSON value at the start of v.
func (c *Context) jsonValueTime(v []byte) (time.Time, bool) {
	if len(v) == 0 {
		return time.Time{}, false
	}
	if v[0] == '"' {
		end, ok := stringEnd(v, 1)
		if !ok {
			return time.Time{}, false
		}
		s := v[1:end]
		var is isoStamp
		if is.parse(s) && is.n == len(s) {
			return is.time(c.loc()), true
		}
		if t, n, ok := parseEpoch(s); ok && n == len(s) {
			return t, true
		}
		return time.Time{}, false
	}
	t, n, ok := parseEpoch(v)
	if !ok || (n < len(v) && !isJSONDelim(v[n])) {
		return time.Time{}, false
	}
	return t, true
}

func isJSONDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

var pow10 = [...]uint64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// parseEpoch reads an unsigned decimal epoch at the start of b. The unit follows from the
// number of integer digits (seconds up to 11, then milli-, micro-, nanoseconds), because
// producers differ and all of them mean "since 1970". Integer arithmetic keeps the nanoseconds
// that a float64 would round away.
func parseEpoch(b []byte) (time.Time, int, bool) {
	i := 0
	var ip uint64
	for i < len(b) && isDigit(b[i]) {
		if i == 19 {
			return time.Time{}, 0, false
		}
		ip = ip*10 + uint64(b[i]-'0')
		i++
	}
	nd := i
	if nd == 0 {
		return time.Time{}, 0, false
	}
	fr := 0
	if i < len(b) && b[i] == '.' {
		var ok bool
		if fr, i, ok = frac(b, i+1); !ok {
			return time.Time{}, 0, false
		}
	}
	var k int // decimal digits of the unit below a second
	switch {
	case nd <= 11:
		k = 0
	case nd <= 14:
		k = 3
	case nd <= 17:
		k = 6
	default:
		k = 9
	}
	unit := pow10[k]
	sec := ip / unit
	nsec := (ip%unit)*pow10[9-k] + uint64(fr)/unit
	return time.Unix(int64(sec), int64(nsec)).UTC(), i, true
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index of the quote closing the JSON string whose contents start at i.
func stringEnd(b []byte, i int) (int, bool) {
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
		case '"':
			return i, true
		default:
			i++
		}
	}
	return 0, false
}

// skipValue returns the index just past the JSON value at b[i:]. Nesting is counted, not
// recursed into, so a hostile line of brackets costs no stack.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		end, ok := stringEnd(b, i+1)
		return end + 1, ok
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := stringEnd(b, i+1)
				if !ok {
					return 0, false
				}
				i = end
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	}
	j := i
	for j < len(b) && !isJSONDelim(b[j]) {
		j++
	}
	return j, j > i
}
