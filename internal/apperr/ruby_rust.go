package apperr

import (
	"regexp"
	"strings"
)

// rubyHead is Ruby's uncaught-exception line: "app.rb:12:in 'method': message (ErrorClass)";
// Ruby before 3.4 quotes the method `like this'.
var rubyHead = regexp.MustCompile("^(.+?):(\\d+):in [`'](.*?)': (.*) \\(([A-Z][\\w:]*)\\)$")

// rubyExc is the exception line rake and Rails print after "rake aborted!": "NameError:
// uninitialized constant X (NameError)".
var rubyExc = regexp.MustCompile(`^([A-Z][\w:]*): (.*) \(([A-Z][\w:]*)\)$`)

// parseRuby reads Ruby's report of an uncaught exception and its "from" lines, or rake's
// "rake aborted!" report.
func parseRuby(recs []record, i, from int) (block, int, bool) {
	t := strings.TrimSpace(recs[i].text)
	if !(strings.HasSuffix(t, ")") && strings.Contains(t, ":in ")) && t != "rake aborted!" {
		return block{}, 0, false // the cheap test first: this runs on every line
	}
	if m := rubyHead.FindStringSubmatch(t); m != nil {
		b := block{runtime: Ruby, kind: kindCrash, first: i, cite: []int{i}, summary: m[5] + ": " + m[4]}
		k := rubySkipTrace(recs, i+1)
		b.last = k - 1
		return b, k, true
	}
	if t != "rake aborted!" {
		return block{}, 0, false
	}
	j := nextNonBlank(recs, i+1)
	if j < 0 {
		return block{}, 0, false
	}
	m := rubyExc.FindStringSubmatch(strings.TrimSpace(recs[j].text))
	if m == nil || m[1] != m[3] {
		return block{}, 0, false
	}
	b := block{runtime: Ruby, kind: kindCrash, first: i, cite: []int{j, i}, summary: m[1] + ": " + m[2]}
	if j+1 < len(recs) && rubyFrame(recs[j+1].text) {
		b.cite = append(b.cite, j+1)
	}
	k := rubySkipTrace(recs, j+1)
	b.last = k - 1
	return b, k, true
}

// rubySkipTrace skips the backtrace: "from file:line:in …" lines, bare "file:line:in …" frames
// (rake), "Did you mean?" suggestions and rake's "Tasks: TOP => …" line.
func rubySkipTrace(recs []record, k int) int {
	for ; k < len(recs); k++ {
		t := strings.TrimSpace(recs[k].text)
		if !(strings.HasPrefix(t, "from ") || rubyFrame(t) || strings.HasPrefix(t, "Did you mean?") || strings.HasPrefix(t, "Tasks: ")) {
			break
		}
	}
	return k
}

func rubyFrame(t string) bool {
	t = strings.TrimSpace(t)
	return (strings.HasPrefix(t, "/") || strings.HasPrefix(t, "<internal:") || strings.HasPrefix(t, "bin/")) &&
		(strings.Contains(t, ":in `") || strings.Contains(t, ":in '"))
}

// rustPanicNew is Rust 1.73+'s panic line, the message on the lines after it; a thread id may
// follow the name (Rust 1.89+).
var rustPanicNew = regexp.MustCompile(`^thread '([^']*)'(?: \(\d+\))? panicked at (\S+):$`)

// rustPanicOld is the form before 1.73: "thread 'main' panicked at 'msg', src/main.rs:5:5".
var rustPanicOld = regexp.MustCompile(`^thread '([^']*)'(?: \(\d+\))? panicked at '(.*)', (\S+)$`)

// parseRust reads a Rust panic: the panicked line, its message, the RUST_BACKTRACE note and any
// backtrace.
func parseRust(recs []record, i, from int) (block, int, bool) {
	t := strings.TrimSpace(recs[i].text)
	if !strings.HasPrefix(t, "thread '") {
		return block{}, 0, false
	}
	b := block{runtime: Rust, kind: kindCrash, first: i, cite: []int{i}}
	k := i + 1
	if m := rustPanicOld.FindStringSubmatch(t); m != nil {
		b.summary = "thread '" + m[1] + "' panicked at " + m[3] + ": " + m[2]
	} else if m := rustPanicNew.FindStringSubmatch(t); m != nil {
		b.summary = "thread '" + m[1] + "' panicked at " + m[2]
		if k < len(recs) && !rustTrailer(recs[k].text) {
			b.summary += ": " + strings.TrimSpace(recs[k].text)
			b.cite = append(b.cite, k)
			k++
		}
	} else {
		return block{}, 0, false
	}
	for k < len(recs) && (rustTrailer(recs[k].text) || indented(recs[k].text)) {
		k++
	}
	b.last = k - 1
	return b, k, true
}

func rustTrailer(t string) bool {
	t = strings.TrimSpace(t)
	return strings.HasPrefix(t, "note: ") || t == "stack backtrace:"
}

// shellFail matches a shell's report that it could not run a command: bash's "script: line 3:
// cmd: command not found", dash's "/bin/sh: 1: cmd: not found", busybox's "/bin/sh: cmd: not
// found", and "exec: cmd: not found".
var shellFail = regexp.MustCompile(`(?:^|\s)((?:\S*/)?(?:sh|bash|ash|dash|zsh|ksh|[\w.-]+\.sh)(: line \d+|: \d+)?: (?:exec: )?(.+?): (command not found|not found|Permission denied|No such file or directory))\s*$`)

// execFail is the runtime's report, on the container's own stderr, that the entrypoint could not
// be executed.
var execFail = regexp.MustCompile(`^exec (\S+): (exec format error|no such file or directory|permission denied)$`)

// shellEnds are the endings shellFail can match; testing them first keeps the expression off
// most lines.
var shellEnds = []string{"not found", "Permission denied", "No such file or directory"}

func shellLine(t string) (block, bool) {
	s := strings.TrimSpace(t)
	if strings.HasPrefix(s, "exec ") && execFail.MatchString(s) {
		return block{runtime: Shell, kind: kindFatal, summary: s}, true
	}
	ends := false
	for _, e := range shellEnds {
		ends = ends || strings.HasSuffix(s, e)
	}
	if !ends {
		return block{}, false
	}
	if m := shellFail.FindStringSubmatch(t); m != nil {
		if (m[4] == "Permission denied" || m[4] == "No such file or directory") && m[2] == "" {
			return block{}, false // without a line number, any program could print it
		}
		return block{runtime: Shell, kind: kindFatal, summary: m[1]}, true
	}
	return block{}, false
}

// setEExit recognises a shell script stopped by `set -e` under `set -x`: the last traced
// command ("+ cmd") near the end, followed by its output and nothing else.
func setEExit(recs []record, last, consumed int) (block, bool) {
	for j, n := last, 0; j > consumed && n < nearEnd; j-- {
		t := recs[j].text
		if strings.TrimSpace(t) == "" {
			continue
		}
		n++
		if !strings.HasPrefix(t, "+ ") && !strings.HasPrefix(t, "++ ") {
			continue
		}
		if j == last {
			return block{}, false // the trace ends on a command: nothing failed visibly
		}
		cmd := strings.TrimSpace(strings.TrimLeft(t, "+"))
		return block{runtime: Shell, kind: kindError, first: j, last: last, cite: []int{j, last},
			summary: "set -e: `" + cmd + "` failed: " + strings.TrimSpace(recs[last].text)}, true
	}
	return block{}, false
}
