package facts

import (
	"bytes"
	"strings"
	"time"
	"unsafe"
)

// The helpers below read fields by plain byte search. Extractors run on every line a rule
// matched, and the most frequent of those lines (PLEG "container finished") is several percent of
// a kubelet journal, so they avoid regexes and allocate only the strings a Fact keeps. Every
// string kept is a copy: the indexer reuses the line buffer.

// bs views a string as bytes without copying. Only for read-only search needles.
func bs(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func index(b []byte, s string) int { return bytes.Index(b, bs(s)) }

func has(b []byte, s string) bool { return bytes.Contains(b, bs(s)) }

// isKeyByte reports whether c can be part of a key name: a key found right after such a byte is
// the tail of a longer key ("podID=" inside "xpodID="), not the key itself.
func isKeyByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// keyAt returns the offset just past the first occurrence of key that starts a token, or -1.
func keyAt(b []byte, key string) int {
	off := 0
	for off <= len(b) {
		i := index(b[off:], key)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || !isKeyByte(b[i-1]) {
			return i + len(key)
		}
		off = i + 1
	}
	return -1
}

// value returns the value that follows key (given with its '=' or ':'): the inside of a quoted
// string with its escapes kept, or a bare token. ok is false when the key is absent.
func value(b []byte, key string) (v []byte, ok bool) {
	i := keyAt(b, key)
	if i < 0 {
		return nil, false
	}
	return readValue(b[i:]), true
}

// readValue reads a value at the start of b. Values quoted as \"…\" occur when the whole
// key=value sits inside another quoted string (containerd's msg="…", kubelet's err="…").
func readValue(b []byte) []byte {
	switch {
	case len(b) >= 2 && b[0] == '\\' && b[1] == '"':
		b = b[2:]
		if j := index(b, `\"`); j >= 0 {
			return b[:j]
		}
		return b
	case len(b) > 0 && b[0] == '"':
		return unquotedPrefix(b[1:])
	}
	return bareToken(b)
}

// bareToken reads up to the first byte that ends an unquoted value.
func bareToken(b []byte) []byte {
	for j, c := range b {
		switch c {
		case ' ', '\t', '"', '\\', ',', '}':
			return b[:j]
		}
	}
	return b
}

// quotedAfter reads a name written as "x", \"x\" or \\\"x\\\" (quoting depth depends on how many
// log layers wrapped the message) right at the start of b, and returns it with the rest of b.
func quotedAfter(b []byte) (name, rest []byte, ok bool) {
	i := 0
	for i < len(b) && (b[i] == '\\' || b[i] == '"') {
		i++
	}
	if i == 0 {
		return nil, b, false
	}
	j := i
	for j < len(b) && b[j] != '\\' && b[j] != '"' {
		j++
	}
	if j == len(b) {
		return nil, b, false
	}
	k := j
	for k < len(b) && (b[k] == '\\' || b[k] == '"') {
		k++
	}
	return b[i:j], b[k:], true
}

// unescape undoes Go/logfmt string escaping, repeatedly, because a kubelet error quoted inside a
// kubelet error arrives escaped twice.
func unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	s := string(b)
	for range 3 {
		if !strings.Contains(s, `\`) {
			break
		}
		var sb strings.Builder
		sb.Grow(len(s))
		changed := false
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				switch s[i+1] {
				case '"', '\\':
					sb.WriteByte(s[i+1])
					i++
					changed = true
					continue
				case 'n':
					sb.WriteByte('\n')
					i++
					changed = true
					continue
				case 't':
					sb.WriteByte('\t')
					i++
					changed = true
					continue
				}
			}
			sb.WriteByte(c)
		}
		s = sb.String()
		if !changed {
			break
		}
	}
	return s
}

// maxMessage caps a Message: it is a short human detail, and error chains can run to kilobytes.
const maxMessage = 512

func message(b []byte) string { return capped(unescape(b)) }

func capped(s string) string {
	if len(s) > maxMessage {
		cut := maxMessage
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// atoi parses an optionally negative decimal integer that fills b; ok is false otherwise.
func atoi(b []byte) (int, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) (int64, bool) {
	j := 0
	for j < len(b) && j < 18 && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	if j == 0 {
		return 0, false
	}
	n, _ := atoi(b[:j])
	return int64(n), true
}

// smallInts backs the *int fields (exit code, attempt, grace period) for common values, so the
// most frequent facts cost no allocation for them. The pointers are shared: treat them as read-only.
var smallInts = func() (a [256]int) {
	for i := range a {
		a[i] = i
	}
	return
}()

func intp(n int) *int {
	if 0 <= n && n < len(smallInts) {
		return &smallInts[n]
	}
	p := new(int) // not &n: that would move n to the heap on every call
	*p = n
	return p
}

// signalOf maps an exit code to the signal that caused it: shells and runtimes report death by
// signal N as 128+N. Codes above 128+64 (no such signal, e.g. 255) are ordinary exit statuses.
func signalOf(code int) int {
	if code > 128 && code <= 128+64 {
		return code - 128
	}
	return 0
}

func setExit(f *Fact, code int) {
	f.ExitCode = intp(code)
	f.Signal = signalOf(code)
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// lowerHexString copies b (already checked to be hex) as a lowercase string.
func lowerHexString(b []byte) string {
	upper := false
	for _, c := range b {
		if 'A' <= c && c <= 'F' {
			upper = true
			break
		}
	}
	if !upper {
		return string(b)
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return unsafe.String(unsafe.SliceData(out), len(out)) // out is ours and never written again
}

// normContainerID returns a full container ID without runtime scheme, lowercase; "" unless b
// holds exactly 64 hex digits (a short ID cannot be joined safely).
func normContainerID(b []byte) string {
	for _, scheme := range [...]string{"containerd://", "docker://", "cri-o://"} {
		if bytes.HasPrefix(b, bs(scheme)) {
			b = b[len(scheme):]
			break
		}
	}
	if !isHexID(b) {
		return ""
	}
	return lowerHexString(b)
}

func isHexID(b []byte) bool {
	if len(b) != 64 {
		return false
	}
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// podUIDLen returns the length of the pod UID at the start of b: 36 for a UUID written with '-'
// or with systemd's '_', 32 for a static pod's config hash; 0 if there is none.
func podUIDLen(b []byte) int {
	if len(b) >= 36 {
		ok := true
		for i := 0; i < 36; i++ {
			c := b[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if c != '-' && c != '_' {
					ok = false
					break
				}
			} else if !isHex(c) {
				ok = false
				break
			}
		}
		if ok && (len(b) == 36 || !isHex(b[36])) {
			return 36
		}
	}
	if len(b) >= 32 {
		for i := 0; i < 32; i++ {
			if !isHex(b[i]) {
				return 0
			}
		}
		if len(b) == 32 || !isHex(b[32]) && b[32] != '-' && b[32] != '_' {
			return 32
		}
	}
	return 0
}

// normPodUID returns the dashed, lowercase pod UID that fills b, or "".
func normPodUID(b []byte) string {
	if n := podUIDLen(b); n == 0 || n != len(b) {
		return ""
	}
	out := make([]byte, len(b))
	for i, c := range b {
		switch {
		case c == '_':
			c = '-'
		case 'A' <= c && c <= 'F':
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return unsafe.String(unsafe.SliceData(out), len(out)) // out is ours and never written again
}

// nsName splits kubelet's klog.KObj rendering "namespace/name".
func nsName(b []byte) (ns, name string) {
	i := bytes.IndexByte(b, '/')
	if i <= 0 || i == len(b)-1 {
		return "", ""
	}
	return string(b[:i]), string(b[i+1:])
}

// formatPod parses kubelet's format.Pod rendering "name_namespace(uid)". Neither names nor
// namespaces may contain '_', so the first '_' splits them.
func formatPod(b []byte) (name, ns, uid string, ok bool) {
	open := bytes.IndexByte(b, '(')
	if open <= 0 {
		return "", "", "", false
	}
	end := bytes.IndexByte(b[open:], ')')
	if end < 0 {
		return "", "", "", false
	}
	uid = normPodUID(b[open+1 : open+end])
	if uid == "" {
		return "", "", "", false
	}
	nn := b[:open]
	if i := bytes.IndexByte(nn, '_'); i > 0 && i < len(nn)-1 {
		return string(nn[:i]), string(nn[i+1:]), uid, true
	}
	return string(nn), "", uid, true
}

// fillPodKeys reads the pod identity keys kubelet's structured logs share: pod="ns/name" (klog.KObj)
// and podUID= (quoted or not), without overwriting what the caller already found.
func fillPodKeys(f *Fact, line []byte) {
	// The first pod= may be the format.Pod rendering inside an err string; keep looking.
	for off := 0; f.Pod == "" && off < len(line); {
		i := keyAt(line[off:], "pod=")
		if i < 0 {
			break
		}
		off += i
		if ns, name := nsName(readValue(line[off:])); name != "" {
			f.Namespace, f.Pod = ns, name
		}
	}
	if f.PodUID == "" {
		if v, ok := value(line, "podUID="); ok {
			f.PodUID = normPodUID(v)
		}
	}
}

// parseDuration reads a Go duration as kubelet prints it ("40s", "1m20s", "5m0s").
func parseDuration(b []byte) (time.Duration, bool) {
	if len(b) == 0 || len(b) > 32 {
		return 0, false
	}
	d, err := time.ParseDuration(string(b))
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}
