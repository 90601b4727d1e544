package regex

import "unicode/utf8"

// byteRange is an inclusive range of byte values.
type byteRange struct{ lo, hi byte }

// byteSeq is a sequence of one to four byte ranges: the byte strings it accepts are every choice
// of one byte from each range, in order.
type byteSeq struct {
	n int
	r [utf8.UTFMax]byteRange
}

// utf8Sequences calls emit with byte sequences whose accepted strings are exactly the UTF-8
// encodings of the runes in [lo, hi], each encoding accepted by one sequence only. Surrogates
// (U+D800–U+DFFF) have no valid encoding and are left out, so every accepted string is one that
// utf8.DecodeRune decodes whole.
//
// A range is cut until each piece has one encoded length and, at every continuation position,
// spans either one value or all 64: such a piece is the product of its first and last
// encodings' bytes.
func utf8Sequences(lo, hi rune, emit func(byteSeq)) {
	if hi > utf8.MaxRune {
		hi = utf8.MaxRune
	}
	type span struct{ lo, hi rune }
	stack := []span{{lo, hi}}
next:
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.lo < 0 {
			s.lo = 0
		}
		if s.lo > s.hi {
			continue
		}
		// Leave out the surrogates.
		if s.lo < 0xD800 && s.hi > 0xDFFF {
			stack = append(stack, span{0xE000, s.hi}, span{s.lo, 0xD7FF})
			continue
		}
		if s.lo >= 0xD800 && s.lo <= 0xDFFF {
			s.lo = 0xE000
		}
		if s.hi >= 0xD800 && s.hi <= 0xDFFF {
			s.hi = 0xD7FF
		}
		if s.lo > s.hi {
			continue
		}
		// One encoded length per piece.
		for _, max := range [...]rune{0x7F, 0x7FF, 0xFFFF} {
			if s.lo <= max && s.hi > max {
				stack = append(stack, span{max + 1, s.hi}, span{s.lo, max})
				continue next
			}
		}
		if s.hi < utf8.RuneSelf {
			emit(byteSeq{n: 1, r: [4]byteRange{{byte(s.lo), byte(s.hi)}}})
			continue
		}
		// Each continuation position spans one value or all of them.
		for i := 1; i < utf8.UTFMax; i++ {
			m := rune(1)<<(6*i) - 1
			if s.lo&^m == s.hi&^m {
				continue
			}
			if s.lo&m != 0 {
				stack = append(stack, span{(s.lo | m) + 1, s.hi}, span{s.lo, s.lo | m})
				continue next
			}
			if s.hi&m != m {
				stack = append(stack, span{s.hi &^ m, s.hi}, span{s.lo, s.hi&^m - 1})
				continue next
			}
		}
		var a, b [utf8.UTFMax]byte
		n := utf8.EncodeRune(a[:], s.lo)
		utf8.EncodeRune(b[:], s.hi)
		seq := byteSeq{n: n}
		for i := range n {
			seq.r[i] = byteRange{a[i], b[i]}
		}
		emit(seq)
	}
}
