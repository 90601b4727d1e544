package apperr

import "strings"

// kind ranks what a block proves about the end of the process.
type kind int

const (
	kindError kind = iota + 1 // an error-level line: the process complained
	kindFatal                 // a fatal-level line: the process said it was giving up
	kindCrash                 // a runtime's crash report: the process died of it
)

// block is one recognised report in the log.
type block struct {
	runtime     string
	kind        kind
	first, last int   // record indices the report spans
	cite        []int // record indices to cite, most important first
	summary     string
	thread      string // a JVM uncaught exception's thread; "" otherwise
}

// crashParser recognises a crash report starting at recs[i]. It returns the block and the index
// of the first record after it, or ok=false; with ok=false, a next beyond i says the parser read
// that far and found no report starting before it, so it need not run again until then.
type crashParser func(recs []record, i, from int) (b block, next int, ok bool)

// crashParsers run in order on each record not inside a report already; the first that
// recognises one wins.
var crashParsers = []crashParser{
	parsePython,
	parseJavaThread,
	parseSpringFailure,
	parseGoPanic,
	parseNodeThrow,
	parseNodeHeap,
	parseRuby,
	parseDotNet,
	parseRust,
	parseFrames, // a stack of "at …" frames under an exception line: JVM, Node.js or .NET
	parseJavaOOM,
}

// scan walks the records once and returns every report it recognises, in log order, with the
// index of the last record a crash report consumed (-1 for none).
func scan(recs []record) ([]block, int) {
	var out []block
	consumed := -1
	skip := make([]int, len(crashParsers))
	for i := 0; i < len(recs); i++ {
		if b, next, ok := crashAt(recs, i, consumed+1, skip); ok {
			out = append(out, b)
			consumed = next - 1
			i = next - 1
			continue
		}
		if b, ok := lineAt(recs, i); ok {
			out = append(out, b)
		}
	}
	return out, consumed
}

// crashAt runs the parsers on recs[i]. skip[n] is the first record parser n may run on again:
// a parser that read a long run of lines and found no complete report there is not run on each
// of them, which keeps the scan linear.
func crashAt(recs []record, i, from int, skip []int) (block, int, bool) {
	for n, p := range crashParsers {
		if i < skip[n] {
			continue
		}
		b, next, ok := p(recs, i, from)
		if !ok {
			skip[n] = max(skip[n], next)
			continue
		}
		if next <= i {
			next = i + 1
		}
		return b, next, true
	}
	return block{}, 0, false
}

// lineAt recognises a one-line report: a structured, klog or levelled text line, or a shell's
// failure to run a command.
func lineAt(recs []record, i int) (block, bool) {
	t := recs[i].text
	if strings.TrimSpace(t) == "" {
		return block{}, false
	}
	if b, ok := shellLine(t); ok {
		b.first, b.last, b.cite = i, i, []int{i}
		return b, true
	}
	lv, rt, summary := lineLevel(t)
	if lv < lvError {
		return block{}, false
	}
	k := kindError
	if lv == lvFatal {
		k = kindFatal
	}
	return block{runtime: rt, kind: k, first: i, last: i, cite: []int{i}, summary: summary}, true
}

// nearEnd is how many non-blank lines may follow a crash report before a later error-level line
// is taken as the newer trouble: a supervisor's "exited with code 1" or a restart banner fit in
// it, an hour of request logs does not.
const nearEnd = 10

// choose picks the report that ended the process. The last crash report wins, unless a fatal
// line follows it, or it is far from the end and an error line follows it. Without a crash
// report the last fatal line wins, then the last error line.
func choose(blocks []block, recs []record) *block {
	var crash, fatal, errl *block
	for i := range blocks {
		switch b := &blocks[i]; b.kind {
		case kindCrash:
			crash = b
		case kindFatal:
			fatal = b
		case kindError:
			errl = b
		}
	}
	if crash != nil {
		crash = preferMainThread(blocks, crash)
		switch {
		case fatal != nil && fatal.first > crash.last:
			return fatal
		case errl != nil && errl.first > crash.last && nonBlankAfter(recs, crash.last) > nearEnd:
			return errl
		}
		return crash
	}
	if fatal != nil {
		return fatal
	}
	return errl
}

// preferMainThread: when the JVM's last reports are uncaught exceptions of other threads, the
// main thread's own uncaught exception among them is what ended the program.
func preferMainThread(blocks []block, crash *block) *block {
	if crash.thread == "" || crash.thread == "main" {
		return crash
	}
	for i := len(blocks) - 1; i >= 0; i-- {
		b := &blocks[i]
		if b.kind != kindCrash {
			continue
		}
		if b.runtime != Java || b.thread == "" {
			return crash
		}
		if b.thread == "main" {
			return b
		}
	}
	return crash
}

func nonBlankAfter(recs []record, i int) int {
	n := 0
	for j := i + 1; j < len(recs); j++ {
		if strings.TrimSpace(recs[j].text) != "" {
			n++
		}
	}
	return n
}

// lastNonBlank returns the index of the last non-blank record, or -1.
func lastNonBlank(recs []record) int {
	for i := len(recs) - 1; i >= 0; i-- {
		if strings.TrimSpace(recs[i].text) != "" {
			return i
		}
	}
	return -1
}

// tailBlocks recognises what only the end of a log can show: a Go log.Fatal line, the error a
// program's main returned, and a `set -e` script stopped after its last traced command.
func tailBlocks(recs []record, consumed int) []block {
	last := lastNonBlank(recs)
	if last < 0 || last <= consumed {
		return nil
	}
	var out []block
	t := strings.TrimSpace(recs[last].text)
	switch {
	case goStdLog.MatchString(t):
		out = append(out, block{runtime: Go, kind: kindError, first: last, last: last, cite: []int{last},
			summary: goStdLog.ReplaceAllString(t, "")})
	}
	if b, ok := mainError(recs, last, consumed); ok {
		out = append(out, b)
	}
	if b, ok := setEExit(recs, last, consumed); ok {
		out = append(out, b)
	}
	return out
}

// maxGap is how many blank lines may separate a report from the line that leads it.
const maxGap = 8

// mainError finds the error a program's main returned, printed as its last words: "Error: …",
// with the "Caused by:" list Rust's anyhow puts under it. Rust prints the error's Debug form
// ("Error: Os { code: 2, … }"); a plain message on one line is what Go's cobra prints when a
// command fails.
func mainError(recs []record, last, consumed int) (block, bool) {
	causes := false
	for j := last; j > consumed && j > last-20; j-- {
		t := strings.TrimSpace(recs[j].text)
		switch {
		case strings.HasPrefix(t, "Error: "):
			b := block{runtime: Go, kind: kindFatal, first: j, last: last, cite: []int{j}, summary: t}
			if causes || rustDebug(t) {
				b.runtime = Rust
			}
			if causes {
				if c := nextNonBlank(recs, j+1); c >= 0 && c+1 <= last {
					b.cite = append(b.cite, c+1)
					b.summary += " (caused by: " + strings.TrimSpace(recs[c+1].text) + ")"
				}
			}
			return b, true
		case t == "Caused by:":
			causes = true
		case t != "" && !indented(recs[j].text):
			return block{}, false
		}
	}
	return block{}, false
}

// rustDebug reports whether an "Error: " line shows a Rust Debug value: a struct or a quoted
// string.
func rustDebug(t string) bool {
	v := strings.TrimPrefix(t, "Error: ")
	return strings.HasPrefix(v, `"`) || (strings.Contains(v, " { ") && strings.HasSuffix(v, "}"))
}

// lookBack returns the index of the nearest non-blank record before i, not before from and at
// most maxGap blank lines back, or -1.
func lookBack(recs []record, i, from int) int {
	for j := i - 1; j >= from && j >= 0 && j >= i-1-maxGap; j-- {
		if strings.TrimSpace(recs[j].text) != "" {
			return j
		}
	}
	return -1
}

// warnLed reports whether the record before a report is a warning-level log line: a report the
// process logged as a warning is one it survived.
func warnLed(recs []record, i, from int) bool {
	j := lookBack(recs, i, from)
	if j < 0 {
		return false
	}
	lv, _, _ := lineLevel(recs[j].text)
	return lv == lvWarn
}

func indented(t string) bool {
	return t != "" && (t[0] == ' ' || t[0] == '\t')
}
