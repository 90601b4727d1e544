package journal

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The rules below are journalctl's for `-o short-iso-precise` with --no-pager to a pipe (full
// width, no colour), from systemd's src/shared/logs-show.c (output_short, print_multiline,
// get_dual_timestamp, shall_print) and journalctl.c (boot markers, "-- No entries --").

// printThreshold is PRINT_CHAR_THRESHOLD: a hostname, identifier or pid this long is not shown.
const printThreshold = 300

// isoPrecise is strftime's "%Y-%m-%dT%H:%M:%S.xxxxxx%z" with the microseconds filled in.
const isoPrecise = "2006-01-02T15:04:05.000000-0700"

// Writer prints entries as journalctl -o short-iso-precise does.
type Writer struct {
	w        *bufio.Writer
	loc      *time.Location
	lastBoot [16]byte
	n        int // entries seen
	line     []byte
}

// NewWriter prints to w with times in loc (nil: UTC, as the agent runs).
func NewWriter(w io.Writer, loc *time.Location) *Writer {
	if loc == nil {
		loc = time.UTC
	}
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), loc: loc}
}

// Entry prints one entry, preceded by journalctl's "-- Boot <id> --" line when its boot differs
// from the previous entry's. An entry without MESSAGE prints nothing, as in journalctl, but
// still counts as the previous entry for the boot marker.
func (w *Writer) Entry(e *Entry) error {
	if w.n > 0 && e.BootID != w.lastBoot {
		fmt.Fprintf(w.w, "-- Boot %s --\n", BootString(e.BootID))
	}
	w.n++
	w.lastBoot = e.BootID
	w.line = appendShort(w.line[:0], e, w.loc)
	_, err := w.w.Write(w.line)
	return err
}

// Close ends the output: "-- No entries --" when there were none, as journalctl prints.
func (w *Writer) Close() error {
	if w.n == 0 {
		w.w.WriteString("-- No entries --\n")
	}
	return w.w.Flush()
}

// Count is the number of entries printed.
func (w *Writer) Count() int { return w.n }

// WriteShort prints the entries of seq to out and returns how many; it stops at seq's first
// error.
func WriteShort(out io.Writer, seq iter.Seq2[*Entry, error], loc *time.Location) (int, error) {
	w := NewWriter(out, loc)
	for e, err := range seq {
		if err != nil {
			w.w.Flush()
			return w.n, err
		}
		if err := w.Entry(e); err != nil {
			return w.n, err
		}
	}
	return w.n, w.Close()
}

// appendShort appends one entry's lines (newline-terminated) to dst.
func appendShort(dst []byte, e *Entry, loc *time.Location) []byte {
	msg, ok := e.Value("MESSAGE")
	if !ok {
		return dst
	}
	start := len(dst)
	dst = time.UnixMicro(int64(displayTime(e))).In(loc).AppendFormat(dst, isoPrecise)
	if h, ok := e.Value("_HOSTNAME"); ok && printable(h) {
		dst = append(append(dst, ' '), h...)
	}
	if id, ok := e.Value("SYSLOG_IDENTIFIER"); ok && printable(id) {
		dst = append(append(dst, ' '), id...)
	} else if comm, ok := e.Value("_COMM"); ok && printable(comm) {
		dst = append(append(dst, ' '), comm...)
	} else {
		// journalctl does not count this word in the indent of later lines.
		dst = append(dst, " unknown"...)
		start += len(" unknown")
	}
	if pid, ok := e.Value("_PID"); ok && printable(pid) {
		dst = append(append(append(dst, '['), pid...), ']')
	} else if pid, ok := e.Value("SYSLOG_PID"); ok && printable(pid) {
		dst = append(append(append(dst, '['), pid...), ']')
	}
	indent := len(dst) - start + 2
	dst = append(dst, ": "...)
	msg = stripTabANSI(msg)
	if !utf8Printable(msg) {
		return append(dst, "["+formatBytes(uint64(len(msg)))+" blob data]\n"...)
	}
	if msg == "" {
		return append(dst, '\n')
	}
	for line := 0; msg != ""; line++ {
		part, rest, _ := strings.Cut(msg, "\n")
		if line > 0 {
			dst = append(dst, strings.Repeat(" ", indent)...)
		}
		dst = append(append(dst, part...), '\n')
		msg = rest
	}
	return dst
}

// displayTime is the sender's own time when it gave a valid one, else the reception time.
func displayTime(e *Entry) uint64 {
	if s, ok := e.Value("_SOURCE_REALTIME_TIMESTAMP"); ok {
		if t, err := strconv.ParseUint(s, 10, 64); err == nil && t > 0 && t < 1<<63 {
			return t
		}
	}
	return e.Realtime
}

// printable is shall_print: shorter than the threshold and printable UTF-8.
func printable(s string) bool { return len(s) < printThreshold && utf8Printable(s) }

// utf8Printable is systemd's utf8_is_printable: valid UTF-8 with no control character other
// than tab and newline.
func utf8Printable(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		if r < ' ' && r != '\t' && r != '\n' || r >= 0x7f && r <= 0x9f || !validUnichar(r) {
			return false
		}
		i += n
	}
	return true
}

// validUnichar is systemd's unichar_is_valid: no surrogates, no non-characters.
func validUnichar(r rune) bool {
	return r < 0x110000 && uint32(r)&0xFFFFF800 != 0xD800 && !(r >= 0xFDD0 && r <= 0xFDEF) && r&0xFFFE != 0xFFFE
}

// stripTabANSI is strip_tab_ansi: a tab becomes eight spaces and SGR colour sequences
// (ESC [ digits and separators m) are removed; other escape sequences are kept.
func stripTabANSI(s string) string {
	if !strings.ContainsAny(s, "\t\x1b") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\t':
			b.WriteString("        ")
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			j := i + 2
			for j < len(s) && strings.IndexByte("0123456789:;", s[j]) >= 0 {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// formatBytes is systemd's format_bytes: 1024-based with one decimal, "B" below 1 KiB.
func formatBytes(n uint64) string {
	units := []struct {
		suffix string
		factor uint64
	}{{"E", 1 << 60}, {"P", 1 << 50}, {"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}}
	for _, u := range units {
		if n >= u.factor {
			return fmt.Sprintf("%d.%d%s", n/u.factor, n/(u.factor/1024)*10/1024%10, u.suffix)
		}
	}
	return fmt.Sprintf("%dB", n)
}
