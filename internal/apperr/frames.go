package apperr

import "strings"

// parseFrames recognises a stack of "at …" frames under an exception line that no runtime
// banner introduced — an exception a logger printed, or an uncaught error whose first lines were
// cut — and reads it as the runtime its frames and exception line show: JVM, Node.js or .NET.
func parseFrames(recs []record, i, from int) (block, int, bool) {
	f := strings.TrimSpace(recs[i].text)
	if !strings.HasPrefix(f, "at ") {
		return block{}, 0, false
	}
	h := frameHeader(recs, i, from)
	if h < 0 {
		return block{}, 0, false
	}
	ht := strings.TrimSpace(recs[h].text)
	if warnLed(recs, h, from) || headLevel(ht) == lvWarn {
		return block{}, 0, false
	}
	switch {
	case dotnetFrame(f) || dotnetHead(ht):
		b, next := dotnetStack(recs, h, ht)
		return b, next, true
	case nodeFrame(f) && !javaFrame(f):
		b, next := nodeStack(recs, h)
		return b, next, true
	case javaType.MatchString(ht):
		b, next := javaStack(recs, h)
		return b, next, true
	}
	return block{}, 0, false
}

// frameHeader finds the exception line above a first frame: the line just above it, or, when a
// long message wrapped, one of the two lines above that.
func frameHeader(recs []record, i, from int) int {
	j := i
	for n := 0; n < 3; n++ {
		j = lookBack(recs, j, from)
		if j < 0 {
			return -1
		}
		t := strings.TrimSpace(recs[j].text)
		if strings.HasPrefix(t, "at ") {
			return -1 // frames above: a stack whose start another parser declined
		}
		if javaType.MatchString(t) || nodeErr.MatchString(t) || dotnetHead(t) {
			return j
		}
	}
	return -1
}

// headLevel is the level a logger wrote on the exception line itself, if any.
func headLevel(t string) level {
	lv, _ := textLevel(t)
	return lv
}

func javaFrame(t string) bool {
	for _, s := range []string{".java:", "(Native Method)", "(Unknown Source)", ".kt:", ".scala:", ".groovy:", "(<generated>)", "~["} {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}
