package literal

import (
	"encoding/binary"
	"math/bits"
)

// lastNewline is bytes.LastIndexByte(b, '\n') eight bytes at a time: the standard library's is
// a byte loop on every architecture, and the scanners call it on each hit to find the start of
// its line, which took 8% of a search for `error` (docs/performance.md).
func lastNewline(b []byte) int {
	const ones, highs, nl = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080, 0x0a0a0a0a0a0a0a0a
	i := len(b)
	for i >= 8 {
		x := binary.LittleEndian.Uint64(b[i-8:]) ^ nl
		// The high bit of each byte of m is set exactly where x has a zero byte.
		if m := ^((x&ones + ones) | x) & highs; m != 0 {
			return i - 8 + (bits.Len64(m)-1)/8
		}
		i -= 8
	}
	for i > 0 {
		i--
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}
