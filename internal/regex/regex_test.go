package regex

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// exprs covers what the DFA has to get right: classes, repeats, alternations, anchors, word
// boundaries, case folding beyond ASCII, (?s), empty matches, Unicode classes.
var exprs = []string{
	``, `a`, `abc`, `a*`, `a+`, `a?`, `a{3}`, `a{2,4}`, `a{2,}b`, `(?:ab)+c`, `[0-9a-f]{64}`,
	`\d{3,}ms`, `(?i)error`, `(?i)(oom|out of memory)`, `[a-z]+-[0-9a-f]{8,}`, `x|y|z`, `(a|ab)(c|bcd)`,
	`[^a]`, `[^\n]`, `.`, `(?s).`, `(?s)a.b`, `a.b`, `.*`, `.+`, `^`, `$`, `^$`, `^a`, `a$`, `^abc$`,
	`(?m)^a`, `(?m)a$`, `(?m)^$`, `(?m)^b$`, `\A`, `\z`, `\Aa`, `a\z`, `\Aa*\z`, `(?m)\Aa$`,
	`\b`, `\B`, `\ba`, `a\b`, `\bfoo\b`, `\Bo\B`, `\b\B`, `(?:\b)*x`, `\b.\b`, `^\b`, `\B$`,
	`(?i)straße`, `(?i)ſ`, `(?i)k`, `(?i)Σ`, `(?i)[a-zα-ω]+`, `(?i)ǅ`, `\pL+`, `\p{Greek}`, `\PL`,
	`\p{Han}{2}`, `[\p{Lu}\d]`, `€`, `[€-₿]`, `\x{10FFFF}`, `\x{FFFD}`, `[\x{FFFD}x]`, `[^\x00-\x7F]`,
	`[\x{80}-\x{7FF}]`, `[\x{800}-\x{FFFF}]`, `[\x{10000}-\x{10FFFF}]`, `a\x{FFFD}b`, `.\z`, `^.$`,
	`(?:)`, `()`, `(|a)`, `(?:a*)*`, `(a*)*b`, `(?U)a+?b`, `x*y*z*$`, `[[:alpha:]]+\d`, `[[:^space:]]{3}`,
	`\Qa.b\E`, `[^\x00-\x{10FFFF}]`, `\S+@\S+`, `\w+\s+\w+`, `\W`, `(?i)ERROR|warn(ing)?`,
	`kubelet\[\d+\]:`, `\A\PC`, `^\pN`, `\A[^a]`, `\Aa[^a]`, `oom-kill|OOMKilled|Out of memory`, `(?i)\bpanic\b`, `\d+\.\d+s\b`,
}

var inputs = []string{
	"", "a", "b", "ab", "abc", "aab", "aaa", "aaaa", "\n", "a\n", "\na", "a\nb", "b\na\n", "\n\n",
	"foo", "a foo b", "foofoo", "_foo_", "x", "xyz", "zyx", "abcd", "abbcd", "ac", "a.b", "a\nb",
	"Nov 10 10:30:00 ip-10-0-37-142 kubelet[3187]: E1110 pod_workers.go:1301] \"Error syncing pod\" latency=1234ms",
	"containerd: id=3f4e5d6c7b8a99001122334455667788aabbccddeeff00112233445566778899 exited",
	"kernel: Out of memory: Killed process 4242 (java) total-vm:1234kB, anon-rss:999kB",
	"memory cgroup out of memory: OOM victim", "OOM", "oom", "Oom-Kill", "error", "ERROR", "Error:",
	"warn", "WARNING:", "panic: runtime error", "panicked", "took 12.5s to sync", "took 12.5sec",
	"user@example.com", "STRASSE", "straße", "STRAẞE", "ſ", "s", "S", "K", "k", "\u212a", "σς", "ΣΑ",
	"αβγ", "Ǆ", "ǅ", "ǆ", "日本語", "日", "€100", "₿", "a€b", "\U0010FFFF", "\U0010FFFFa", "\uFFFD",
	"a\uFFFDb", "\x80", "a\x80b", "\xff", "\xe2\x82", "a\xe2\x82", "\xe2\x82a", "\xe2\x82\xac",
	"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf4", "x\xf4\x8f", "\xc0\xaf", "\xe0\x80\xaf", "ab\xffcd", "foo\xfe", "\xc3",
	"\xc3\xa9", "é", "\x00", "a\x00b", "\t \r", "deadbeef-0123abcd", "pod-7f9c8d6b5-xk2lp", "x-12345678",
	"123ms", "12ms", "9999ms and 10ms", strings.Repeat("0123456789abcdef", 4), strings.Repeat("f", 63),
	strings.Repeat("ab", 300), strings.Repeat("é", 50) + "a", "a b\tc\nd", "AbC", "kubelet[12]:",
}

// TestMatchAgreesWithStdlib checks every expression on every input against regexp.Match.
func TestMatchAgreesWithStdlib(t *testing.T) {
	for _, expr := range exprs {
		re := regexp.MustCompile(expr)
		m := MustCompile(expr)
		sc := m.Scanner()
		for _, in := range inputs {
			want := re.Match([]byte(in))
			if got := m.Match([]byte(in)); got != want {
				t.Errorf("Match(%q, %q) = %v, want %v", expr, in, got, want)
			}
			if got := sc.Match([]byte(in)); got != want {
				t.Errorf("Scanner.Match(%q, %q) = %v, want %v", expr, in, got, want)
			}
		}
	}
}

// TestDFAAnswersValidUTF8 checks that the DFA, not the fallback, answers valid UTF-8, and that
// it hands only text it cannot decode as the stdlib does to the fallback.
func TestDFAAnswersValidUTF8(t *testing.T) {
	tests := []struct {
		expr, in string
		want     int
	}{
		{`[0-9a-f]{4}`, "id=beef", isMatch},
		{`[0-9a-f]{4}`, "id=bee", noMatch},
		{`\pL+z`, "日本語z", isMatch},
		{`(?i)σ`, "ΣΑ", isMatch},
		{`\B`, "a€b", noMatch},                // no position between whole runes is \B
		{`\B`, "a€", isMatch},                 // the end, after €
		{`a.b`, "a\xffb", useStdlib},          // . matches the invalid byte as U+FFFD
		{`x`, "\xe2\x82", useStdlib},          // ends inside an encoding
		{`a`, "a\xff", isMatch},               // the match ends before the invalid byte
		{`\Aab`, "x\xff", noMatch},            // anchored and dead before the invalid byte
		{`^.$`, "\xe2\x82\xac", isMatch},      // one whole rune
		{`\x{FFFD}`, "\xef\xbf\xbd", isMatch}, // the encoded replacement character itself
	}
	for _, tt := range tests {
		c := newCache(MustCompile(tt.expr).p, defaultMaxMem)
		if got := c.run([]byte(tt.in)); got != tt.want {
			t.Errorf("run(%q, %q) = %d, want %d", tt.expr, tt.in, got, tt.want)
		}
	}
}

// TestSmallCache fills a tiny cache again and again: the answers stay the stdlib's whether the
// DFA starts over or gives the expression to the stdlib.
func TestSmallCache(t *testing.T) {
	defer func(mem, clears int) { defaultMaxMem, minClears = mem, clears }(defaultMaxMem, minClears)
	for _, mem := range []int{1 << 10, 4 << 10, 64 << 10} {
		defaultMaxMem = mem
		for _, expr := range []string{`(a|b)*a(a|b){6}c`, `[0-9a-f]{64}`, `\pL{3}\d`, `(?i)\b(oom|out of memory)\b`} {
			re := regexp.MustCompile(expr)
			m := MustCompile(expr)
			for _, in := range append(inputs, strings.Repeat("abba", 100)+"c", strings.Repeat("ab", 1000)) {
				if got, want := m.Match([]byte(in)), re.Match([]byte(in)); got != want {
					t.Errorf("maxMem %d: Match(%q, %q) = %v, want %v", mem, expr, in, got, want)
				}
			}
		}
	}
}

// TestThrashGivesUp checks that an expression whose DFA states outnumber any small cache ends in
// the stdlib's hands.
func TestThrashGivesUp(t *testing.T) {
	defer func(mem int) { defaultMaxMem = mem }(defaultMaxMem)
	defaultMaxMem = 2 << 10
	expr := `(a|b)*a(a|b){12}c`
	m, re := MustCompile(expr), regexp.MustCompile(expr)
	in := []byte(strings.Repeat("aababbbaabbbabaabbabbbaaab", 40))
	for range 20 {
		if got, want := m.Match(in), re.Match(in); got != want {
			t.Fatalf("Match = %v, want %v", got, want)
		}
	}
	if !m.stdlib.Load() {
		t.Errorf("the Matcher still uses its DFA after thrashing a %d-byte cache", defaultMaxMem)
	}
}

// TestTooBig checks that an expression whose NFA would pass maxNodes is the stdlib's from the
// start, with the stdlib's answers.
func TestTooBig(t *testing.T) {
	expr := `\pL{100}`
	m, re := MustCompile(expr), regexp.MustCompile(expr)
	if !m.stdlib.Load() {
		t.Fatalf("%s kept its DFA", expr)
	}
	for _, in := range []string{strings.Repeat("ä", 100), strings.Repeat("ä", 99) + "1", strings.Repeat("x", 120)} {
		if got, want := m.Scanner().Match([]byte(in)), re.MatchString(in); got != want {
			t.Errorf("Match(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestCompileErrors checks that what the stdlib rejects is rejected with its error.
func TestCompileErrors(t *testing.T) {
	for _, expr := range []string{`(`, `a{1001}`, `(?<=a)b`, `\1`, `[z-a]`, `x**+`} {
		_, want := regexp.Compile(expr)
		_, err := Compile(expr)
		if want == nil || err == nil || err.Error() != want.Error() {
			t.Errorf("Compile(%q) error = %v, want %v", expr, err, want)
		}
	}
}

// TestConcurrentMatch shares one Matcher between goroutines (run with -race).
func TestConcurrentMatch(t *testing.T) {
	expr := `(?i)\b(oom|out of memory)\b|[0-9a-f]{64}`
	m, re := MustCompile(expr), regexp.MustCompile(expr)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for _, in := range inputs {
					if got, want := m.Match([]byte(in)), re.Match([]byte(in)); got != want {
						t.Errorf("Match(%q) = %v, want %v", in, got, want)
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestLanes runs the lane-splitting reader directly, with two and four lanes, on every input
// long enough to split and on log lines with a needle slid across every position, so that
// matches, runes, invalid bytes and word boundaries fall on each side of every lane boundary.
func TestLanes(t *testing.T) {
	base := "Nov 10 10:30:00 ip-10-0-37-142 kubelet[3187]: I1110 generic.go:334] \"container finished\" exitCode=0 took 12 s"
	needles := []string{"foo", "€", "日本", "\xff", "\xe2\x82", "123ms", "ERROR", "\n", "Out of memory", "a-deadbeef12",
		strings.Repeat("c0ffee", 11), "ſ", "_", " "}
	var texts []string
	for _, in := range inputs {
		if len(in) >= 16 {
			texts = append(texts, in)
		}
	}
	// No position between whole runes is \B here, while every position inside a € is.
	for n := 15; n < 25; n++ {
		texts = append(texts, strings.Repeat("a€", n)+"a")
	}
	for _, nd := range needles {
		for p := 0; p <= len(base); p += 3 {
			texts = append(texts, base[:p]+nd+base[p:])
		}
	}
	for _, expr := range exprs {
		m, re := MustCompile(expr), regexp.MustCompile(expr)
		if m.p.n.anchored {
			continue
		}
		c := newCache(m.p, defaultMaxMem)
		for _, text := range texts {
			want := re.MatchString(text)
			for _, k := range []int{2, 4} {
				v := c.runSplit([]byte(text), c.startOrBuild(), k)
				if v != useStdlib && (v == isMatch) != want {
					t.Errorf("%d lanes: %q on %q = %v, want %v", k, expr, text, v == isMatch, want)
				}
				if v == useStdlib && utf8.ValidString(text) {
					t.Errorf("%d lanes: %q on %q left valid UTF-8 to the stdlib", k, expr, text)
				}
			}
			if got := m.Match([]byte(text)); got != want {
				t.Errorf("Match(%q, %q) = %v, want %v", expr, text, got, want)
			}
		}
	}
}

// startOrBuild is the start state, built if the cache has none.
func (c *cache) startOrBuild() uint32 {
	if c.start == unknown {
		return c.startState()
	}
	return c.start
}
