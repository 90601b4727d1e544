package apperr

import (
	"regexp"
	"strings"
)

// nodeThrowSite is the first line Node.js prints for an uncaught exception: the file and line of
// the throw, alone on its line ("node:internal/modules/cjs/loader:1228", "events.js:85",
// "/app/server.js:12").
var nodeThrowSite = regexp.MustCompile(`^(?:node:[\w/]+|[\w./\\:-]*\.(?:m?js|cjs|ts)):\d+$`)

// nodeErr is an error line as Node.js prints it: "TypeError: msg", "Error [ERR_X]: msg",
// "[UnhandledPromiseRejection: msg] {".
var nodeErr = regexp.MustCompile(`^(?:Uncaught |Unhandled [Rr]ejection:? )?\[?[A-Z][\w$]*(?: \[[\w]+\])?: \S`)

// nodeFrameEnd matches the end of a V8 frame: file:line:column, optionally in parentheses.
var nodeFrameEnd = regexp.MustCompile(`:\d+:\d+\)?$`)

// parseNodeThrow reads Node.js's uncaught-exception report: throw site, source line, caret,
// error line, "at" frames, the error's own properties, and the "Node.js vX" footer.
func parseNodeThrow(recs []record, i, from int) (block, int, bool) {
	if !throwSite(strings.TrimSpace(recs[i].text)) {
		return block{}, 0, false
	}
	for j := i + 2; j < len(recs) && j <= i+6; j++ {
		if t := strings.TrimSpace(recs[j].text); nodeErr.MatchString(t) {
			b, next := nodeStack(recs, j)
			b.first = i
			b.cite = append(b.cite, i)
			return b, next, true
		}
	}
	return block{}, 0, false
}

// throwSite tests the cheap part of a throw site's shape — one token ending in a digit — before
// the expression: this runs on every line.
func throwSite(t string) bool {
	if t == "" || t[len(t)-1] < '0' || t[len(t)-1] > '9' || strings.ContainsAny(t, " \t") {
		return false
	}
	return nodeThrowSite.MatchString(t)
}

// nodeStack reads an error line at recs[h] and what Node.js prints under it.
func nodeStack(recs []record, h int) (block, int) {
	b := block{runtime: Node, kind: kindCrash, first: h, cite: []int{h}}
	summary := nodeSummary(recs[h].text)
	app := -1
	k := h + 1
	for ; k < len(recs); k++ {
		t := strings.TrimSpace(recs[k].text)
		switch {
		case strings.HasPrefix(t, "at "):
			if app < 0 && nodeAppFrame(t) {
				app = k
			}
		case strings.HasPrefix(t, "code: "):
			summary += " (" + strings.TrimSuffix(t, ",") + ")"
		case t == "" || t == "}" || t == "{" || strings.HasPrefix(t, "Node.js v") || nodeProp(recs[k].text):
		default:
			b.last = k - 1
			b.summary = summary
			if app >= 0 {
				b.cite = append(b.cite, app)
			}
			return b, k
		}
	}
	b.last, b.summary = k-1, summary
	if app >= 0 {
		b.cite = append(b.cite, app)
	}
	return b, k
}

// nodeProp reports an indented "key: value" line of the error object Node.js prints after the
// stack.
func nodeProp(t string) bool {
	if !indented(t) {
		return false
	}
	t = strings.TrimSpace(t)
	c := strings.Index(t, ": ")
	return c > 0 && !strings.ContainsAny(t[:c], " ()")
}

func nodeSummary(t string) string {
	t = strings.TrimSpace(t)
	t = strings.TrimSuffix(t, "{")
	t = strings.TrimSpace(t)
	if strings.HasPrefix(t, "[") {
		t = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	}
	return t
}

// nodeAppFrame reports whether a frame is in the application's files: a path, outside
// node_modules and Node.js's own modules.
func nodeAppFrame(t string) bool {
	if !strings.ContainsAny(t, `/\`) {
		return false
	}
	for _, s := range []string{"node_modules", "node:", "(internal/", "at internal/"} {
		if strings.Contains(t, s) {
			return false
		}
	}
	return true
}

func nodeFrame(t string) bool {
	return strings.HasPrefix(t, "at ") && (nodeFrameEnd.MatchString(t) || strings.HasSuffix(t, "(<anonymous>)") ||
		strings.HasSuffix(t, "(native)") || strings.Contains(t, "(node:"))
}

// parseNodeHeap reads V8's out-of-memory abort: "FATAL ERROR: … JavaScript heap out of memory"
// with its native stack.
func parseNodeHeap(recs []record, i, from int) (block, int, bool) {
	t := strings.TrimSpace(recs[i].text)
	if !strings.HasPrefix(t, "FATAL ERROR: ") {
		return block{}, 0, false
	}
	if !strings.Contains(t, "heap") && !strings.Contains(t, "Allocation failed") && !v8NativeStack(recs, i+1) {
		return block{}, 0, false
	}
	k := i + 1
	for k < len(recs) && v8StackLine(recs[k].text) {
		k++
	}
	return block{runtime: Node, kind: kindCrash, first: i, last: k - 1, cite: []int{i}, summary: t}, k, true
}

func v8NativeStack(recs []record, k int) bool {
	return k < len(recs) && v8StackLine(recs[k].text) && strings.TrimSpace(recs[k].text) != ""
}

// v8StackLine matches the native stack V8 prints after a fatal error (" 1: 0xa04200 node::Abort()").
func v8StackLine(t string) bool {
	t = strings.TrimSpace(t)
	if t == "" || t == "----- Native stack trace -----" {
		return true
	}
	c := strings.Index(t, ": 0x")
	if c <= 0 {
		return false
	}
	for _, r := range t[:c] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
