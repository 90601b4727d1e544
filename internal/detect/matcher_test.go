package detect

import (
	"bytes"
	"errors"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nodediag/nodediag/internal/detect/literal"
)

// miniRule is a valid rule in YAML; tests splice fields into it to make it invalid.
const miniHead = "version: \"t1\"\nrules:\n"

func miniRule(id, extra string) string {
	return `  - id: ` + id + `
    title: Test rule
    severity: high
    category: crash
    logTypes: [kubelet]
    description: Test.
    sops: [K3]
    pattern: 'segfault at \d+'
    literals: ['segfault at']
    examples: [{row: kernel-segfault-x86, line: 'x segfault at 1'}, {row: kernel-segfault-x86, line: 'y segfault at 22'}]
    nearMisses: ['segfault at zero']
    guards: Digits required.
` + extra
}

func TestParseValid(t *testing.T) {
	c, err := Parse([]byte(miniHead + miniRule("a-rule", "") + miniRule("b-rule", "")))
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "t1" || len(c.Rules) != 2 || c.Rules[1].ID != "b-rule" || c.Rules[1].Index != 1 {
		t.Errorf("got version %q, %d rules", c.Version, len(c.Rules))
	}
}

func TestParseErrorsNameRuleAndField(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown field", miniHead + miniRule("a", "    colour: red\n"), []string{"colour"}},
		{"missing version", "rules:\n" + miniRule("a", ""), []string{"version"}},
		{"duplicate id", miniHead + miniRule("dup", "") + miniRule("dup", ""), []string{"rule dup: id", "duplicate"}},
		{"not kebab-case", miniHead + miniRule("Bad_ID", ""), []string{"rule Bad_ID: id"}},
		{"bad severity", miniHead + strings.Replace(miniRule("a", ""), "severity: high", "severity: urgent", 1), []string{"rule a: severity", "urgent"}},
		{"bad category", miniHead + strings.Replace(miniRule("a", ""), "category: crash", "category: weather", 1), []string{"rule a: category"}},
		{"bad log type", miniHead + strings.Replace(miniRule("a", ""), "[kubelet]", "[kublet]", 1), []string{"rule a: logTypes", "kublet"}},
		{"bad sop", miniHead + strings.Replace(miniRule("a", ""), "[K3]", "[Q9]", 1), []string{"rule a: sops", "Q9"}},
		{"bad pattern", miniHead + strings.Replace(miniRule("a", ""), `'segfault at \d+'`, `'segfault at (\d+'`, 1), []string{"rule a: pattern"}},
		{"bad exclude", miniHead + miniRule("a", "    exclude: '[z'\n"), []string{"rule a: exclude"}},
		{"short literal", miniHead + strings.Replace(miniRule("a", ""), "['segfault at']", "['segf']", 1), []string{"rule a: literals", "shorter"}},
		{"no literal", miniHead + strings.Replace(miniRule("a", ""), "    literals: ['segfault at']\n", "", 1), []string{"rule a: literals", "missing"}},
		{"unknown extractor", miniHead + miniRule("a", "    extract: kernel-magic\n"), []string{"rule a: extract", "kernel-magic"}},
		{"one example", miniHead + strings.Replace(miniRule("a", ""), "[{row: kernel-segfault-x86, line: 'x segfault at 1'}, {row: kernel-segfault-x86, line: 'y segfault at 22'}]", "[{row: kernel-segfault-x86, line: 'x segfault at 1'}]", 1), []string{"rule a: examples", "at least 2"}},
		{"no near miss", miniHead + strings.Replace(miniRule("a", ""), "    nearMisses: ['segfault at zero']\n", "", 1), []string{"rule a: nearMisses"}},
		{"example does not match", miniHead + strings.Replace(miniRule("a", ""), "'y segfault at 22'", "'y segfault at x'", 1), []string{"rule a: examples[1]", "does not match"}},
		{"example without a row", miniHead + strings.Replace(miniRule("a", ""), "{row: kernel-segfault-x86, line: 'y segfault at 22'}", "{line: 'y segfault at 22'}", 1), []string{"rule a: examples[1]", "no format-matrix row"}},
		{"example lacks literal", miniHead + strings.Replace(miniRule("a", ""), "'y segfault at 22'", "'y SEGFAULT AT 22'", 1), []string{"rule a: examples[1]", "none of the literals"}},
		{"near miss matches", miniHead + strings.Replace(miniRule("a", ""), "['segfault at zero']", "['segfault at 0']", 1), []string{"rule a: nearMisses[0]", "matches"}},
		{"missing guards", miniHead + strings.Replace(miniRule("a", ""), "    guards: Digits required.\n", "", 1), []string{"rule a: guards"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse succeeded, want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFieldErrorUnwraps(t *testing.T) {
	_, err := Parse([]byte(miniHead + strings.Replace(miniRule("a", ""), "severity: high", "severity: urgent", 1)))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Rule != "a" || fe.Field != "severity" {
		t.Errorf("errors.As FieldError: %v (%+v)", err, fe)
	}
}

func TestLineSource(t *testing.T) {
	tests := []struct{ line, want string }{
		{"Feb 18 12:46:09 ip-10-0-1-229.us-west-2.compute.internal kubelet[4015]: I0218 12:46:09.118312    4015 kubelet_node_status.go:79] x", "kubelet"},
		{`Apr  8 08:29:24 ip-10-110-50-88 containerd: time="2022-04-08T08:29:24.848888499Z" level=error msg="copy shim log"`, "containerd"},
		{"Jun 21 19:22:58 ip-10-0-12-209 kernel: oom-kill:constraint=CONSTRAINT_MEMCG", "dmesg"},
		{"Mar 14 10:12:31.545053 localhost kernel: x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT", "dmesg"},
		{"2025-02-12T06:25:29.149489+0000 ip-10-0-1-1 containerd[2954]: time=x", "containerd"},
		{"2023-09-08T17:20:30+02:00 tarta dockerd[20911]: level=error", "docker"},
		{`Apr 04 08:57:17 ip-10-0-3-248.eu-west-1.compute.internal nodeadm[1918]: {"level":"info"}`, "nodeadm"},
		{"Nov 20 08:17:02 ip-10-0-37-142 kubelet-eks.daemon[881]: I1120 x", "kubelet"},
		{"Nov 20 08:17:02 ip-10-0-37-142 systemd[1]: kubelet.service: Main process exited", ""},
		{"[  139.201482] Memory cgroup out of memory: Killed process 7788 (bash)", "dmesg"},
		{"Memory cgroup out of memory: Killed process 7788 (bash)", ""},
		{"-- Logs begin at Tue 2021-12-28 10:38:54 UTC, end at Tue 2021-12-28 10:53:57 UTC. --", ""},
		{`I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished"`, "kubelet"},
		{`time="2024-11-29T18:13:10.764041708Z" level=info msg="x"`, "containerd"},
		{"Nov 20 08:17:02 ip-10-0-37-142 k3s[1636]: E1008 16:23:14.139967    1636 kubelet.go:1846] skipping pod synchronization", "kubelet"},
		{"12月 12 11:44:22 k8s-node-1 kubelet[11778]: E1212 11:44:22.849805   11778 controller.go:170] x", "kubelet"},
		{"<6>1 2026-11-20T10:26:17.475118+00:00 ip-10-0-37-142 kernel - - - Memory cgroup out of memory", "dmesg"},
		{`containerd[951]: time="2019-03-25T12:05:25Z" level=info msg="StopContainer for x"`, "containerd"},
		{"Dec 12 21:55:45 kubernetes-node5 docker[641]: I1212 21:55:45.064032     683 kubelet.go:1820] skipping pod synchronization", "kubelet"},
		{`Dec 12 21:55:45 kubernetes-node5 dockerd[641]: time="2019-03-25T12:05:25Z" level=info msg="x"`, "docker"},
		{"Nov 20 08:17:02 host", ""},
		{"Nov 20 08:17:02 host kubelet", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := LineSource([]byte(tt.line)); got != tt.want {
			t.Errorf("LineSource(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// testMatcher compiles a small catalog whose rules differ only in log types, to test routing.
func testMatcher(t *testing.T) *Matcher {
	t.Helper()
	y := miniHead +
		strings.Replace(miniRule("kubelet-only", ""), "logTypes: [kubelet]", "logTypes: [kubelet]", 1) +
		strings.Replace(miniRule("dmesg-only", ""), "logTypes: [kubelet]", "logTypes: [dmesg]", 1) +
		strings.Replace(miniRule("everywhere", ""), "    logTypes: [kubelet]\n", "", 1) +
		strings.Replace(strings.Replace(miniRule("overlap", ""), "'segfault at \\d+'", "'at \\d+ segfault at'", 1),
			"    examples: [{row: kernel-segfault-x86, line: 'x segfault at 1'}, {row: kernel-segfault-x86, line: 'y segfault at 22'}]\n    nearMisses: ['segfault at zero']\n",
			"    examples: [{row: kernel-segfault-x86, line: 'at 1 segfault at'}, {row: kernel-segfault-x86, line: 'at 22 segfault at'}]\n    nearMisses: ['segfault at 1']\n", 1)
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScanRouting(t *testing.T) {
	m := testMatcher(t)
	kubeletLine := "Nov 20 08:17:02 ip-10-0-37-142 kubelet[3187]: segfault at 1"
	kernelLine := "Nov 20 08:17:02 ip-10-0-37-142 kernel: app[1]: segfault at 7"
	otherLine := "Nov 20 08:17:02 ip-10-0-37-142 sshd[1]: segfault at 9"
	tests := []struct {
		name, fileType, line string
		want                 []string
	}{
		{"kubelet file", "kubelet", kubeletLine, []string{"kubelet-only", "everywhere"}},
		{"dmesg file", "dmesg", "[  1.0] app[1]: segfault at 7", []string{"dmesg-only", "everywhere"}},
		{"messages: kubelet line", "messages", kubeletLine, []string{"kubelet-only", "everywhere"}},
		{"messages: kernel line maps to dmesg", "messages", kernelLine, []string{"dmesg-only", "everywhere"}},
		{"journal: kernel line", "journal", kernelLine, []string{"dmesg-only", "everywhere"}},
		{"messages: other program", "messages", otherLine, []string{"everywhere"}},
		{"non-mixed file ignores the line's source", "containerd", kubeletLine, []string{"everywhere"}},
		{"empty type applies every rule", "", otherLine, []string{"kubelet-only", "dmesg-only", "everywhere"}},
		{"unknown type applies only universal rules", "weird", kubeletLine, []string{"everywhere"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, h := range scanHits(m, tt.line, tt.fileType) {
				got = append(got, h.Rule)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanOrderAndBounds(t *testing.T) {
	m := testMatcher(t)
	lines := []string{
		"noise",
		"at 5 segfault at 6", // overlap and everywhere (and kubelet-only with "" type)
		"",
		"segfault at zero",    // near miss for all
		"tail segfault at 42", // no newline at the end
	}
	block := strings.Join(lines, "\n")
	start2 := len("noise\n")
	end2 := start2 + len(lines[1])
	start5 := len(block) - len(lines[4])
	want := []hitRec{
		{"kubelet-only", start2, end2}, {"dmesg-only", start2, end2}, {"everywhere", start2, end2}, {"overlap", start2, end2},
		{"kubelet-only", start5, len(block)}, {"dmesg-only", start5, len(block)}, {"everywhere", start5, len(block)},
	}
	if diff := cmp.Diff(want, scanHits(m, block, "")); diff != "" {
		t.Errorf("hits (-want +got):\n%s", diff)
	}
}

func TestScanLongLine(t *testing.T) {
	_, m := catalog(t)
	const mib = 1 << 20
	tail := " segfault at 7f797fe00000 ip 00007f7c7ac69996 sp 00007f7c12fd7c30 error 4 in libnccl.so.2[7f7c7ac00000+d3d3000]"
	head := "[Thu Oct 10 03:06:53 2024] pt_main_thread[2536443]:"
	long := head + strings.Repeat("x", mib-len(head)-len(tail)) + tail
	if len(long) != mib {
		t.Fatalf("built %d bytes", len(long))
	}
	// The segfault pattern needs "comm[pid]: segfault at" adjacent, so the padded line must not
	// match, while the same line without padding does.
	if got := scanHits(m, long, "dmesg"); hasHit(got, "kernel-segfault") {
		t.Errorf("padded line matched kernel-segfault")
	}
	exact := head + tail
	block := strings.Repeat("y", mib) + "\n" + exact
	got := scanHits(m, block, "dmesg")
	want := []hitRec{{"kernel-segfault", mib + 1, len(block)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A 1 MiB line with a hit at its very end and no newline.
	oom := "Out of memory: Killed process 4242 (java)"
	block = strings.Repeat("z", mib-len(oom)-1) + " " + oom
	got = scanHits(m, block, "dmesg")
	want = []hitRec{{"kernel-oom-killed-process-global", 0, mib}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A 1 MiB line of nothing.
	if got := scanHits(m, strings.Repeat("a", mib), "dmesg"); len(got) != 0 {
		t.Errorf("hits in a line of 'a': %v", got)
	}
}

func TestScanDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	c, m := catalog(t)
	var b bytes.Buffer
	for i := range c.Rules {
		for _, ex := range c.Rules[i].Examples {
			b.WriteString(ex)
			b.WriteByte('\n')
		}
		b.WriteString("plain noise line without anything of interest in it at all\n")
	}
	block := b.Bytes()
	hits := 0
	fn := func(*Rule, int, int, int) { hits++ }
	m.Scan(block, "messages", fn) // warm the pools and regexp machines
	allocs := testing.AllocsPerRun(10, func() { m.Scan(block, "messages", fn) })
	if allocs != 0 {
		t.Errorf("Scan allocates %v times per block, want 0", allocs)
	}
	if hits == 0 {
		t.Error("no hits")
	}
}

func TestPatternIsLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		fold    bool
		lits    []string
		want    bool
	}{
		{"Nameserver limits exceeded", false, []string{"Nameserver limits exceeded"}, true},
		{"TaskOOM event|&TaskOOM\\{", false, []string{"TaskOOM event", "&TaskOOM{"}, true},
		{"foo bar|foo baz", false, []string{"foo bar", "foo baz"}, true},
		{"foo bar|foo baz", false, []string{"foo bar"}, false},
		{"Nameserver limits exceeded", true, []string{"nameserver LIMITS exceeded"}, true},
		{"Nameserver limits exceeded", false, []string{"nameserver limits exceeded"}, false},
		{"segfault at \\d+", false, []string{"segfault at"}, false},
		{"^anchored literal", false, []string{"anchored literal"}, false},
		{"x509: certificate has expired or is not yet valid|x509: certificate has expired", false, []string{"x509: certificate has expired"}, false},
	}
	for _, tt := range tests {
		if got := patternIsLiterals(tt.pattern, tt.fold, tt.lits); got != tt.want {
			t.Errorf("patternIsLiterals(%q, %v, %q) = %v, want %v", tt.pattern, tt.fold, tt.lits, got, tt.want)
		}
	}
}

func TestSeverityRank(t *testing.T) {
	if !(Critical.Rank() > High.Rank() && High.Rank() > Medium.Rank() && Medium.Rank() > Low.Rank() && Low.Rank() > Info.Rank() && Info.Rank() == 0) {
		t.Errorf("ranks out of order: %d %d %d %d %d", Critical.Rank(), High.Rank(), Medium.Rank(), Low.Rank(), Info.Rank())
	}
	if Severity("urgent").Rank() != -1 {
		t.Error("unknown severity must rank -1")
	}
}

func TestNewSplit(t *testing.T) {
	tests := []struct {
		expr, head string // head "" means no split
		fold       bool
	}{
		{`Generic \(PLEG\): container finished".* exitCode=(?:[1-9]|-\d)`, `Generic (PLEG): container finished"`, false},
		{`Killing container .*grace period`, `Killing container `, false},
		{`SyncLoop \(PLEG\).*ContainerDied\b`, `SyncLoop (PLEG)`, false},
		{`abc.*\bdef`, "", false},      // head ends in a word byte and rest asserts a boundary
		{`abc .*\bdef`, "abc ", false}, // head ends in a space: the boundary means the same
		{`abc.*def$`, "", false},       // anchors in rest
		{`abc.*def`, "", true},         // case folding
		{`abc|.*def`, "", false},       // not a concatenation
		{`abc\d.*def`, "", false},      // head is not a finite set of strings
		{`abc.*`, "", false},           // nothing after ".*"
		{`abc.+def`, "", false},        // not ".*"
	}
	if s := newSplit(`(?:TaskExit event|received exit event) .*\bexit_status:[1-9]`, false); s == nil || len(s.heads) != 2 {
		t.Errorf("alternation head: %+v, want two heads", s)
	}
	if s := newSplit(`(?:ab|cd)x.*\bz`, false); s != nil {
		t.Errorf("heads ending in word bytes before \\b: %+v, want no split", s)
	}
	for _, tt := range tests {
		s := newSplit(tt.expr, tt.fold)
		switch {
		case tt.head == "" && s != nil:
			t.Errorf("newSplit(%q) = heads %q, want no split", tt.expr, s.heads)
		case tt.head != "" && (s == nil || len(s.heads) != 1 || string(s.heads[0]) != tt.head):
			t.Errorf("newSplit(%q) = %v, want head %q", tt.expr, s, tt.head)
		}
	}
}

// TestSplitAgreesWithRegexp checks the split form against the full regexp on every catalog
// line and on each line cut at every position, so that heads without rests, rests before
// heads and boundary contexts all occur.
func TestSplitAgreesWithRegexp(t *testing.T) {
	c, m := catalog(t)
	var lines []string
	for i := range c.Rules {
		lines = append(lines, c.Rules[i].Examples...)
		lines = append(lines, c.Rules[i].NearMisses...)
	}
	splits := 0
	for i := range m.rules {
		cr := &m.rules[i]
		if cr.split == nil {
			continue
		}
		splits++
		for _, l := range lines {
			for _, cut := range []int{0, len(l) / 3, len(l) / 2, len(l) - 1} {
				for _, v := range []string{l, l[cut:], l[:max(cut, 0)], strings.Replace(l, " ", "", 1)} {
					if got, want := cr.split.Match([]byte(v)), cr.re.Match([]byte(v)); got != want {
						t.Errorf("%s: split %v, regexp %v on %q", cr.rule.ID, got, want, v)
					}
				}
			}
		}
	}
	if splits < 5 {
		t.Errorf("only %d rules use the split form", splits)
	}
}

// TestScanConcurrent runs one Matcher from several goroutines, as the indexer does with files
// in parallel; every goroutine must see the same hits (run with -race to check sharing).
func TestScanConcurrent(t *testing.T) {
	c, m := catalog(t)
	var b strings.Builder
	for i := range c.Rules {
		for _, l := range c.Rules[i].Examples {
			b.WriteString(l + "\nfiller line\n")
		}
	}
	block := b.String()
	want := scanHits(m, block, "messages")
	if len(want) == 0 {
		t.Fatal("no hits")
	}
	const workers = 4
	results := make(chan []hitRec, workers)
	for range workers {
		go func() {
			var got []hitRec
			for range 3 {
				got = scanHits(m, block, "messages")
			}
			results <- got
		}()
	}
	for range workers {
		if diff := cmp.Diff(want, <-results); diff != "" {
			t.Errorf("concurrent scan differs (-want +got):\n%s", diff)
		}
	}
}

func TestRequiredAny(t *testing.T) {
	tests := []struct {
		expr string
		want []string // nil: cannot tell
	}{
		{`cleanup warnings|failed to remove runc container`, []string{"cleanup warnings", "failed to remove runc container"}},
		{`msg="copy shim log" error="read /proc/self/fd/\d+: file already closed"`, []string{`msg="copy shim log" error="read /proc/self/fd/`}},
		{`in podsandbox handler|exit_status:[1-9]|ExitStatus:[1-9]`, []string{"in podsandbox handler", "exit_status:", "ExitStatus:"}},
		{`(?i)oom`, nil},
		{`a|bcdef`, nil}, // one branch has no selective literal
		{`\d+ (?:apples|pears)`, []string{"apples", "pears"}}, // the parser factors the shared space out
	}
	for _, tc := range tests {
		re, err := syntax.Parse(tc.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := requiredAny(re.Simplify())
		if tc.want == nil {
			if ok {
				t.Errorf("%s: got %q, want cannot tell", tc.expr, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q %v, want %q", tc.expr, got, ok, tc.want)
		}
	}
}

// TestLiteralsAreSelective: a rule whose literal is common in healthy logs makes the matcher run
// its regex on lines it then rejects, which costs more than the whole prefilter (a literal
// "ExecSync for " once put every exec probe's line through a backtracking regex and halved index
// throughput). noise.txt is a sample of healthy-node lines: no rule may run its regex for
// nothing on more than one of them.
func TestLiteralsAreSelective(t *testing.T) {
	_, m := catalog(t)
	for i := range m.rules {
		cr := &m.rules[i]
		var wasted []string
		for _, l := range bytes.Split(noise, []byte("\n")) {
			if len(l) == 0 || !HasLiteral(cr.rule, string(l)) {
				continue
			}
			if _, msg, _ := splitLine(l); !cr.matches(msg) {
				wasted = append(wasted, string(l))
			}
		}
		if len(wasted) > 1 {
			t.Errorf("%s: its literals send %d healthy lines to its regex for nothing:\n%s", cr.rule.ID, len(wasted), strings.Join(wasted, "\n"))
		}
	}
}

// TestScanPresence: the vocabulary's bits say which words a block holds, in any ASCII case
// when they fold, a word that is also a rule literal included; rules still fire as without a
// vocabulary.
func TestScanPresence(t *testing.T) {
	c, _ := catalog(t)
	vocab := []literal.Literal{{Text: "zebra crossing", Fold: true}, {Text: "Out of memory", Fold: true}, {Text: "CaseSensitive", Fold: false}}
	m, err := c.CompileWith(vocab)
	if err != nil {
		t.Fatal(err)
	}
	block := []byte("first line\nA ZEBRA Crossing here\n[ 12.3] Out of memory: Killed process 4242 (java) total-vm:1kB, anon-rss:1kB, file-rss:0kB\ncasesensitive is not it\n")
	present := make([]uint64, 1)
	var rules []string
	m.ScanPresence(block, "dmesg", func(r *Rule, _, _, _ int) { rules = append(rules, r.ID) }, present)
	if want := uint64(0b011); present[0] != want {
		t.Errorf("present = %03b, want %03b", present[0], want)
	}
	var plain []string
	m.Scan(block, "dmesg", func(r *Rule, _, _, _ int) { plain = append(plain, r.ID) })
	if len(rules) == 0 || strings.Join(rules, ",") != strings.Join(plain, ",") {
		t.Errorf("rules with presence %v, without %v", rules, plain)
	}
}
