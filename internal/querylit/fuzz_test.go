package querylit

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/detect/literal"
)

// oomQuery is the K3 runbook's OOM search.
const oomQuery = "oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score"

// FuzzRequiredLiterals checks the prefilter's promise on arbitrary regexes and lines: when the
// regex matches a line, the literal scanner reports that line.
func FuzzRequiredLiterals(f *testing.F) {
	f.Add(oomQuery, "kernel: java invoked oom-killer: gfp_mask=0xcc0", false)
	f.Add(`pid=\d{5}\b|\bE\d{4} `, "E1120 10:00:00 pid=12345 x", true)
	f.Add("x{0,3}yz", "xxyz", true)
	f.Add("(?i)ks", "\u212as", true)
	f.Add("sessions kick", "SESSIONS KICK", false)
	f.Add("na(ï|i)ve", "NAÏVE", false)
	f.Fuzz(func(t *testing.T, q, line string, cs bool) {
		tree, re, ok := parseBoth(q, line, cs)
		if !ok || !re.MatchString(line) {
			return
		}
		lits := Required(tree)
		if lits == nil {
			return
		}
		if !scanHits(t, lits, q, line) {
			t.Fatalf("%q (caseSensitive=%v) matches %q but none of %v is found in it", q, cs, line, lits)
		}
	})
}

// FuzzQueryLiteralsExact checks the promise that lets a search skip the regex: when queryLiterals
// says its literals decide a match, a line holds one of them exactly when the regex matches it.
func FuzzQueryLiteralsExact(f *testing.F) {
	f.Add(oomQuery, "kernel: java invoked oom-killer: gfp_mask=0xcc0", false)
	f.Add("oom-kill|oom_score", "x oom_score_adj=-999", true)
	f.Add("cat|bat", "a Bat sat", false)
	f.Add("(?i)ks", "\u212as", true)
	f.Add("[0-9]error", "x 7ERROR y", false)
	f.Add("sessions kick", "SESSIONS KICK", false)
	f.Fuzz(func(t *testing.T, q, line string, cs bool) {
		tree, re, ok := parseBoth(q, line, cs)
		if !ok {
			return
		}
		lits, exact := Query(tree)
		if !exact {
			return
		}
		hit := scanHits(t, lits, q, line)
		if want := re.MatchString(line); hit != want {
			t.Fatalf("%q (caseSensitive=%v) on %q: the literals %v say %v, the regex %v", q, cs, line, lits, hit, want)
		}
	})
}

// parseBoth parses a fuzzed query as search does, for the literal analysis and for the
// reference match; ok is false for inputs the fuzzers do not try (long queries, multi-line
// text, invalid regexes).
func parseBoth(q, line string, caseSensitive bool) (*syntax.Regexp, *regexp.Regexp, bool) {
	if len(q) > 64 || strings.ContainsRune(line, '\n') {
		return nil, nil, false
	}
	flags := syntax.Perl
	pattern := q
	if !caseSensitive {
		flags |= syntax.FoldCase
		pattern = "(?i)" + q
	}
	tree, err := syntax.Parse(q, flags)
	if err != nil {
		return nil, nil, false
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, nil, false
	}
	return tree, re, true
}

// scanHits reports whether the literal scanner finds one of lits (the literals of query q) in line.
func scanHits(t *testing.T, lits []literal.Literal, q, line string) bool {
	t.Helper()
	set, err := literal.New(lits)
	if err != nil {
		t.Fatalf("literals %v of %q: %v", lits, q, err)
	}
	sc := set.NewScanner()
	sc.Reset([]byte(line))
	_, _, _, ok := sc.Next()
	return ok
}
