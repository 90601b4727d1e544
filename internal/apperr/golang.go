package apperr

import (
	"regexp"
	"strings"
)

// goStdLog is the standard library logger's prefix ("2026/11/20 10:00:00 "): log.Fatal's line is
// the last one such a program prints.
var goStdLog = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? `)

// parseGoPanic reads a Go runtime crash: "panic: msg" (with "[recovered]" re-panics and the
// "[signal …]" line) or "fatal error: msg", and the goroutine dump after it.
func parseGoPanic(recs []record, i, from int) (block, int, bool) {
	t := recs[i].text
	var summary string
	switch {
	case strings.HasPrefix(t, "panic: "):
		summary = "panic: " + strings.TrimSuffix(strings.TrimPrefix(t, "panic: "), " [recovered]")
	case strings.HasPrefix(t, "fatal error: "):
		summary = t
	default:
		return block{}, 0, false
	}
	b := block{runtime: Go, kind: kindCrash, first: i, cite: []int{i}}
	k := i + 1
	for k < len(recs) && indented(recs[k].text) && strings.HasPrefix(strings.TrimSpace(recs[k].text), "panic: ") {
		k++ // the re-panic of a recovered panic repeats the message
	}
	if k < len(recs) && strings.HasPrefix(recs[k].text, "[signal ") {
		b.cite = append(b.cite, k)
		summary += " " + strings.TrimSpace(recs[k].text)
		k++
	}
	g, frame, end := goDump(recs, k)
	if g >= 0 {
		b.cite = append(b.cite, g)
	}
	if frame >= 0 {
		b.cite = append(b.cite, frame)
		if frame+1 < len(recs) && indented(recs[frame+1].text) {
			b.cite = append(b.cite, frame+1)
		}
	}
	b.summary, b.last = summary, end-1
	return b, end, true
}

// goDump reads the goroutine dump starting at or after recs[k]. It returns the first goroutine's
// header, the frame where the crash happened in it (the first frame after the last panic(…)
// call, runtime frames skipped), and the index after the dump.
func goDump(recs []record, k int) (header, frame, end int) {
	header, frame = -1, -1
	var frames []int
	inFirst := false
	for ; k < len(recs); k++ {
		t := recs[k].text
		switch {
		case strings.TrimSpace(t) == "", indented(t), strings.HasPrefix(t, "created by "),
			strings.HasPrefix(t, "exit status "), strings.HasPrefix(t, "[signal "):
		case strings.HasPrefix(t, "goroutine ") && strings.HasSuffix(t, ":"):
			if header < 0 {
				header, inFirst = k, true
			} else {
				inFirst = false
			}
		case goFuncLine(t):
			if inFirst {
				frames = append(frames, k)
			}
		default:
			return header, goCrashFrame(recs, frames), k
		}
	}
	return header, goCrashFrame(recs, frames), k
}

func goCrashFrame(recs []record, frames []int) int {
	start := 0
	for n, f := range frames {
		if strings.HasPrefix(recs[f].text, "panic(") {
			start = n + 1
		}
	}
	for _, f := range frames[start:] {
		if !strings.HasPrefix(recs[f].text, "runtime.") {
			return f
		}
	}
	return -1
}

// goFuncLine matches a goroutine frame's function line: "main.main()",
// "github.com/x/y.(*T).Run(0xc0, {…})", "panic({0x19d8600, 0x2f6e3…})".
func goFuncLine(t string) bool {
	p := strings.IndexByte(t, '(')
	if p <= 0 || strings.ContainsAny(t[:p], " \t") || !strings.HasSuffix(t, ")") {
		return false
	}
	c := t[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
