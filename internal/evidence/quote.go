package evidence

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// QuoteBytes is how much of a line an answer quotes by default: enough for any kubelet,
// containerd or kernel message's meaning; the LineRef gets the rest with a read.
const QuoteBytes = 320

// cutMarker starts what Quote appends to a line it cut: " …[cut: N more bytes]".
const cutMarker = " …[cut: "

// Quote cuts line to at most max bytes at a UTF-8 boundary, marking how much was left out, and
// says whether it cut.
func Quote(line []byte, max int) (string, bool) {
	if len(line) <= max {
		return string(line), false
	}
	b, _ := AppendQuote(make([]byte, 0, max+len(cutMarker)+24), line, max)
	return string(b), true
}

// AppendQuote appends line to dst as Quote writes it, without allocating when dst has room (a
// search ranks many lines before it lists any).
func AppendQuote(dst, line []byte, max int) ([]byte, bool) {
	if len(line) <= max {
		return append(dst, line...), false
	}
	n := max
	for n > 0 && !utf8.RuneStart(line[n]) {
		n--
	}
	dst = append(append(dst, line[:n]...), cutMarker...)
	dst = strconv.AppendInt(dst, int64(len(line)-n), 10)
	return append(dst, " more bytes]"...), true
}

// Unquote is the quoted part of a text Quote cut, without its marker; other text as it is.
func Unquote(text string) string {
	if i := strings.LastIndex(text, cutMarker); i >= 0 {
		return text[:i]
	}
	return text
}
