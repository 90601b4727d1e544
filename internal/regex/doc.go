// Package regex answers one question fast: does this line contain a match of an RE2
// expression? It gives exactly regexp.Regexp.Match's answer, for every expression and every
// input, in linear time and bounded memory.
//
// # Why it exists
//
// Search runs its expression over every line of a bundle when the expression yields no literal
// for a prefilter ([0-9a-f]{64}, \d{3,}ms, (?i)[a-z]+ failed). Go's regexp then costs 18–20 s
// per GiB against ripgrep's 1.7–1.8 s: on the first 100 MiB of the benchmark bundle's kubelet log it
// reads 45–77 MB/s per line. The target is ripgrep's time, about 1 GB/s on one core.
//
// # How it was chosen
//
// Measured on that cut, per line: the stdlib 55 MB/s on [0-9a-f]{64} and 79 MB/s on (?i)error;
// github.com/wasilibs/go-re2 (RE2 in WebAssembly) 247 and 771 MB/s, 373 and 996 MB/s on the
// whole buffer, which is still short of the target and a dependency with a WebAssembly runtime
// behind it. A lazy DFA, the engine RE2 and Rust's regex run when they only need to know
// whether a text matches, reads one table entry per byte whatever the expression; written here
// in Go over the program regexp/syntax compiles, it reads 1.2–1.6 GB/s per line on the same
// cut with those two and \d{3,}ms, (?i)(oom|out of memory) and [a-z]+-[0-9a-f]{8,}
// (BenchmarkMatch, medians of 3 on a shared 2-core machine), 18–24 times the stdlib.
//
// # How it works
//
// nfa.go turns the syntax.Prog into an NFA over bytes: each rune instruction becomes the
// automaton of the UTF-8 encodings of its runes (utf8seq.go), case-folded runes included. In
// front of the pattern runs a validator, a loop over every valid UTF-8 encoding that starts the
// pattern after each rune: the .*? prefix of an unanchored search, which keeps every thread on
// rune boundaries. The DFA (dfa.go) builds its states from sets of NFA nodes as the text needs
// them and keeps them in a cache with a memory cap; its inner loop is one byte-class lookup and
// one transition lookup per byte, and it stops at the first match.
//
// Empty-width conditions (^ $ \A \z \b \B, multi-line or not) are decided as RE2 decides them:
// a state keeps the context of its position (beginning of text, after a newline, after a word
// byte) and tests its pending conditions when the next byte (or the end of the text) is known,
// so a match is seen one byte late. Go's \b is ASCII-only and a newline is one byte, so bytes
// suffice.
//
// Text that is not valid UTF-8 goes to the stdlib, line by line: Go reads an invalid byte as
// U+FFFD, which . and negated classes match, and a byte-level DFA cannot tell an invalid byte
// from the start of a valid encoding until later bytes arrive. Invalid bytes kill the
// validator, so the DFA notices them where they are; a match found before them stands, since
// the stdlib reads that part of the text the same way.
//
// The cache is cleared when it fills, as RE2 does; an expression that fills it again and again
// while reading fewer than 10 bytes per new state goes to the stdlib for good, and one whose
// NFA passes maxNodes (a big Unicode class repeated many times) goes there from the start.
//
// split.go reads a long line in two or four lanes at once, because one lane waits on the
// latency of each table load; the lanes after the first start from a guess that the true run
// then meets, so the answer stays exact.
package regex
