package evidence

import (
	"fmt"
	"unicode/utf8"
)

// QuoteBytes is how much of a line an answer quotes by default: enough for any kubelet,
// containerd or kernel message's meaning; the LineRef gets the rest with a read.
const QuoteBytes = 320

// Quote cuts line to at most max bytes at a UTF-8 boundary, marking how much was left out, and
// says whether it cut.
func Quote(line []byte, max int) (string, bool) {
	if len(line) <= max {
		return string(line), false
	}
	n := max
	for n > 0 && !utf8.RuneStart(line[n]) {
		n--
	}
	return string(line[:n]) + fmt.Sprintf(" …[cut: %d more bytes]", len(line)-n), true
}
