// Package search answers the two questions an agent asks of a bundle after the index pointed it
// somewhere: "where else does this appear?" (Search: a regular expression over every line of
// every text file, grouped by file, each hit with its file:line, byte offset and time) and "what
// is around it?" (Read: a range of lines or bytes of one file).
//
// Both are built to be cheap enough to call many times in one diagnosis. Search derives from the
// regular expression a set of literals that every match must contain and lets the block
// prefilter of internal/detect/literal find candidate lines, so the regex runs on a few lines
// instead of millions. The index's per-block checkpoints let it skip what lies outside a time
// window and the blocks that lack every word the query needs (skip.go); the blocks left are read
// in parallel, those whose lines can rank nearest the incident first, and reading stops once the
// page the answer lists is certain (order.go), the total then given as a range. Read seeks to the
// checkpoint before the line it wants instead of counting lines from the top.
//
// An answer too small for every match is cut incident first (incident.go, rank.go): the lines
// around the newest crash loop of the index's crash facts (or the moment or window the caller
// gave) are chosen before older ones, listed in file and line order; the healthy repetitions of a
// node's life — containers that start, containers that exit 0 — are counted with one example each
// (routine.go); and the answer names the requests that get the rest (an offset into the same
// order, the window before the incident, the routine lines listed).
package search
