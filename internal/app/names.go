package app

import (
	"regexp"
	"strings"
)

// Rename rewrites the request field names an error of a library speaks in (maxTotal, startLine)
// into the names the face's reader types (--max-results, maxResults), keeping the error's chain
// for errors.Is. names maps field to face name; a nil error stays nil.
func Rename(err error, names map[string]string) error {
	if err == nil || len(names) == 0 {
		return err
	}
	words := make([]string, 0, len(names))
	for w := range names {
		words = append(words, regexp.QuoteMeta(w))
	}
	re := regexp.MustCompile(`\b(` + strings.Join(words, "|") + `)\b`)
	msg := re.ReplaceAllStringFunc(err.Error(), func(w string) string { return names[w] })
	if msg == err.Error() {
		return err
	}
	return &renamedError{msg: msg, err: err}
}

type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

// The library names of search and read requests, as each face spells them.
var (
	CLISearchNames = map[string]string{"maxTotal": "--max-results", "maxPerFile": "--max-per-file", "context": "--context",
		"offset": "--offset", "countOnly": "--count", "listRoutine": "--list-routine", "exclude": "--exclude"}
	MCPSearchNames = map[string]string{"maxTotal": "maxResults"}
	CLIReadNames   = map[string]string{"startLine": "--start-line", "lineCount": "--line-count", "startByte": "--start-byte",
		"endByte": "--end-byte", "logKey": "LOGKEY"}
)
