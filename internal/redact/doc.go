// Package redact keeps secrets that node logs carry (cloud keys, tokens, private keys,
// passwords) out of everything nodediag prints or serves, and keeps bundle text from driving a
// terminal. It rewrites text, never references: a redacted line still cites its file:line, and
// read on that line shows the same redaction.
//
// The rules are one catalog (catalog.go), each with the lines it must redact and the lines it
// must leave alone, tested in a table and written out to docs/redaction.md.
package redact
