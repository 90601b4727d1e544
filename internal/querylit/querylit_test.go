package querylit

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/detect/literal"
)

func parseFor(t *testing.T, q string, caseSensitive bool) *syntax.Regexp {
	t.Helper()
	flags := syntax.Perl
	if !caseSensitive {
		flags |= syntax.FoldCase
	}
	re, err := syntax.Parse(q, flags)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	return re
}

func TestRequiredLiterals(t *testing.T) {
	l := func(s string) literal.Literal { return literal.Literal{Text: s} }
	f := func(s string) literal.Literal { return literal.Literal{Text: s, Fold: true} }
	tests := []struct {
		name  string
		query string
		cs    bool
		want  []literal.Literal // sorted by text, as requiredLiterals returns them
	}{
		{"plain literal", "OOMKilled", true, []literal.Literal{l("OOMKilled")}},
		// Folded: 'k' and 's' also match the Kelvin sign and long s under RE2's (?i), which the
		// ASCII-folding prefilter cannot see, so each gets a second spelling.
		{"alternation folded", "oom-kill|OOMKilled", false, []literal.Literal{f("oom-kill"), f("oom-\u212aill"), f("oomkilled"), f("oom\u212ailled")}},
		{"too many spellings split", "sessions kick", false, []literal.Literal{f("ion")}},
		{"covered literal dropped", "out of memory|memory cgroup out of memory", false, []literal.Literal{f("out of memory")}},
		{"alternation exact", "oom-kill|OOMKilled", true, []literal.Literal{l("OOMKilled"), l("oom-kill")}},
		{"dot star keeps the longer side", "a.*bcd", true, []literal.Literal{l("bcd")}},
		{"fold split at s", "connection refused.*\\d+", false, []literal.Literal{f("connection refused"), f("connection refu\u017fed")}},
		{"no literal", `\d+`, true, nil},
		{"inline (?i) folds despite case-sensitive", "(?i)panic", true, []literal.Literal{f("panic")}},
		// The parser reads [Ee] as a folded 'e', and a concatenation with a folded part is folded.
		{"case pair class folds", "[Ee]rror", true, []literal.Literal{f("error")}},
		{"small class expands", "[ab]cde", true, []literal.Literal{l("acde"), l("bcde")}},
		{"large class is unknown", "[a-z]rror", true, []literal.Literal{l("rror")}},
		{"optional group", "foo(bar)?baz", true, []literal.Literal{l("foobarbaz"), l("foobaz")}},
		{"anchors and escapes", `^kubelet\[\d+\]: E`, true, []literal.Literal{l("kubelet[")}},
		{"plus requires one copy", "(abc)+x", true, []literal.Literal{l("abc")}},
		// x{0,3}yz matches yz, xyz, xxyz or xxxyz; every one contains yz.
		{"repeat min 0 is optional", "x{0,3}yz", true, []literal.Literal{l("yz")}},
		{"repeat min 2 requires the unit", "(?:abcd){2,}", true, []literal.Literal{l("abcd")}},
		{"star alone is unknown", "(abc)*", true, nil},
		{"branch without literal", `abc|\d`, true, nil},
		{"too short", "ab|c", true, nil},
		{"only unsafe fold runes", "ks", false, []literal.Literal{f("ks"), f("k\u017f"), f("\u212as"), f("\u212a\u017f")}},
		{"non-ASCII exact", "naïve", true, []literal.Literal{l("naïve")}},
		{"non-ASCII folded splits", "naïve", false, []literal.Literal{f("na")}},
		// \d{4} is a nested concatenation after Simplify; E and the first digit still join. Ten
		// five-byte spellings of pid=N are rarer than the four bytes pid= alone.
		{"digits after a letter", `pid=\d{5}\b|\bE\d{4} `, true, []literal.Literal{l("E0"), l("E1"), l("E2"), l("E3"), l("E4"), l("E5"), l("E6"), l("E7"), l("E8"), l("E9"),
			l("pid=0"), l("pid=1"), l("pid=2"), l("pid=3"), l("pid=4"), l("pid=5"), l("pid=6"), l("pid=7"), l("pid=8"), l("pid=9")}},
		{"capture of a concatenation", `x(ab)(cd)`, true, []literal.Literal{l("xabcd")}},
		{"word boundary", `\bOOM\b`, true, []literal.Literal{l("OOM")}},
		{"punctuation folded stays folded", "exit code: 137", false, []literal.Literal{f("exit code: 137")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Required(parseFor(t, tt.query, tt.cs))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Required(%q) (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

// TestRequiredLiteralsComplete checks the property the prefilter rests on: a line the regex
// matches contains at least one extracted literal, as the literal scanner sees it.
func TestRequiredLiteralsComplete(t *testing.T) {
	queries := []string{"oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score",
		"x{0,3}yz", "foo(bar)?baz", `^kubelet\[\d+\]: E`, "[Ee]rror", "(?:abcd){2,}", "connection refused.*\\d+"}
	lines := []string{
		"kernel: Memory cgroup out of memory: Killed process 11438 (java)",
		"kernel: java invoked oom-killer: gfp_mask=0xcc0, oom_score_adj=936",
		"OOM_SCORE adjusted", "reason=\"OOMKILLED\"", "oom-\u212Aill", "yz", "xxyz", "fooBARbaz", "foobaz",
		"kubelet[123]: E1120 boom", "an Error", "ERROR", "abcdabcd", "CONNECTION REFUSED port 80",
		"connection refu\u017Fed 443", "nothing here",
	}
	for _, cs := range []bool{true, false} {
		for _, q := range queries {
			lits := Required(parseFor(t, q, cs))
			if lits == nil {
				continue
			}
			set, err := literal.New(lits)
			if err != nil {
				t.Fatal(err)
			}
			sc := set.NewScanner()
			pattern := q
			if !cs {
				pattern = "(?i)" + q
			}
			re := regexp.MustCompile(pattern)
			for _, line := range lines {
				if !re.MatchString(line) {
					continue
				}
				sc.Reset([]byte(line + "\n"))
				if _, _, _, ok := sc.Next(); !ok {
					t.Errorf("query %q (caseSensitive=%v) matches %q but no literal of %v is found in it", q, cs, line, lits)
				}
			}
		}
	}
	// The lines above must exercise the property: at least the SOP query matches some of them.
	if !regexp.MustCompile("(?i)oom-kill|OOMKilled").MatchString(strings.Join(lines, "\n")) {
		t.Fatal("test lines do not match the SOP query")
	}
}

func TestQueryLiteralsExact(t *testing.T) {
	for _, tc := range []struct {
		expr string
		fold bool
		want bool
	}{
		{"error", true, true},
		{"oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score", true, true},
		{"oom-kill|oom_score", false, true}, // factored into oom(?:-kill|_score)
		{"cat|bat", false, true},            // factored into [bc]at
		{"(?:error|warn)ing", false, true},
		{"[0-9]error", false, true}, // ten exact strings
		{`\berror\b`, true, false},
		{"^error", false, false},
		{"error$", false, false},
		{"exitCode=1\\d\\d", false, false},
		{"errors?", false, false}, // a repeat: not enumerated
		{"a*b", false, false},
	} {
		flags := syntax.Perl
		if tc.fold {
			flags |= syntax.FoldCase
		}
		re, err := syntax.Parse(tc.expr, flags)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := Query(re); got != tc.want {
			t.Errorf("Query(%q) exact = %v, want %v", tc.expr, got, tc.want)
		}
	}
}
