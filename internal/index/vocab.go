package index

import (
	"bytes"
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/detect/literal"
	"github.com/nodediag/nodediag/internal/querylit"
	"github.com/nodediag/nodediag/internal/runbook"
)

// The search vocabulary is what the index records, per block of each file, so that a search can
// skip the blocks its query cannot match in: the literals of the runbooks' own searches, the
// queries agents send most. A word's bit is set when the block holds it in any ASCII case.
//
// A per-block trigram set, as code-search engines keep, would answer any query; measured on the
// 1 GiB benchmark bundle it costs 1.4 ns a byte to build, more than the whole index pass (1.15
// ns a byte), against the budget of a tenth of it. The vocabulary rides on the prefilter scan the
// index already runs, so it costs what its extra literals cost that scan.
//
// Case folding: a word folds in ASCII only, but RE2's (?i) also matches the long s ſ for s and
// the Kelvin sign K for k. A block holding either is marked (the bit after the last word), and a
// search treats it as holding every word.

// minWordLen keeps the prefilter's stride: the catalog's own literals are at least this long.
const minWordLen = 7

var searchVocabulary = sync.OnceValues(func() ([]literal.Literal, error) {
	rbs, err := runbook.Builtin()
	if err != nil {
		return nil, fmt.Errorf("search vocabulary: %w", err)
	}
	cat, err := detect.Load()
	if err != nil {
		return nil, fmt.Errorf("search vocabulary: %w", err)
	}
	healthy := bytes.ToLower(cat.HealthySample())
	var words []literal.Literal
	for _, rb := range rbs.List() {
		if rb.ID != "K3" {
			continue
		}
		for _, call := range runbook.AllCalls(rb) {
			if call.Tool != "search" {
				continue
			}
			for _, p := range call.Params {
				if p.Name == "query" {
					words = append(words, queryWords(p.Value, healthy)...)
				}
			}
		}
	}
	slices.SortFunc(words, func(a, b literal.Literal) int { return strings.Compare(a.Text, b.Text) })
	return slices.Compact(words), nil
})

// queryWords returns the literals a search of expr (case-insensitive, as searches run by
// default) looks for, as vocabulary words (ASCII, lower case, folding), when indexing them lets
// that search skip blocks: every literal of the query is long enough and rare, absent from the
// healthy sample. One common or short literal makes every block a candidate, so its query's other
// words would cost the index scan for nothing; every word costs it (more grams in its filter).
func queryWords(expr string, healthy []byte) []literal.Literal {
	if strings.ContainsAny(expr, "<>") {
		return nil // a placeholder such as <container-name> for the agent to fill in
	}
	re, err := syntax.Parse(expr, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return nil
	}
	lits, _ := querylit.Query(re)
	var out []literal.Literal
	for _, l := range lits {
		if !isASCII(l.Text) {
			continue // a spelling with ſ or K: the exotic mark covers it
		}
		w := strings.ToLower(l.Text)
		if len(w) < minWordLen || bytes.Contains(healthy, []byte(w)) {
			return nil
		}
		out = append(out, literal.Literal{Text: w, Fold: true})
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// SearchVocabulary returns the words the index records per block, in bit order.
func SearchVocabulary() ([]literal.Literal, error) { return searchVocabulary() }

// matchers caches the compiled matcher with the vocabulary per catalog: compiling the catalog's
// regexes and prefilter costs more than indexing a small bundle.
var matchers struct {
	sync.Mutex
	m map[*detect.Catalog]*detect.Matcher
}

func matcherFor(cat *detect.Catalog) (*detect.Matcher, error) {
	vocab, err := SearchVocabulary()
	if err != nil {
		return nil, err
	}
	matchers.Lock()
	defer matchers.Unlock()
	if m, ok := matchers.m[cat]; ok {
		return m, nil
	}
	m, err := cat.CompileWith(vocab)
	if err != nil {
		return nil, err
	}
	if matchers.m == nil {
		matchers.m = map[*detect.Catalog]*detect.Matcher{}
	}
	matchers.m[cat] = m
	return m, nil
}

// Exotic fold characters: RE2's (?i) folds them onto ASCII s and k, the prefilter does not.
var exoticFolds = [][]byte{[]byte("\u017f"), []byte("\u212a")} // ſ (long s), K (Kelvin sign)

// presenceWords is the length of a block's presence set: one bit per word and the exotic mark.
func presenceWords(vocab int) int { return (vocab + 1 + 63) / 64 }

// markExotic sets the exotic bit when block holds a character RE2 folds onto an ASCII letter.
func markExotic(block []byte, present []uint64, vocab int) {
	for _, e := range exoticFolds {
		if bytes.Contains(block, e) {
			present[vocab>>6] |= 1 << (uint(vocab) & 63)
			return
		}
	}
}
