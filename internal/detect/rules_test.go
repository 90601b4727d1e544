package detect

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	loadOnce   sync.Once
	loadedCat  *Catalog
	loadedM    *Matcher
	loadErr    error
	mixedTypes = []string{"messages", "journal"}
)

// catalog loads and compiles the embedded catalog once per test binary.
func catalog(t testing.TB) (*Catalog, *Matcher) {
	t.Helper()
	loadOnce.Do(func() {
		loadedCat, loadErr = Load()
		if loadErr == nil {
			loadedM, loadErr = loadedCat.Compile()
		}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loadedCat, loadedM
}

type hitRec struct {
	Rule       string
	Start, End int
}

func scanHits(m *Matcher, block, fileType string) []hitRec {
	var out []hitRec
	m.Scan([]byte(block), fileType, func(r *Rule, s, e, _ int) { out = append(out, hitRec{r.ID, s, e}) })
	return out
}

func hasHit(hits []hitRec, id string) bool {
	return slices.ContainsFunc(hits, func(h hitRec) bool { return h.Rule == id })
}

// TestRuleExamples runs every rule's examples and near-misses through the compiled
// Matcher.Scan, the same path the indexer uses.
func TestRuleExamples(t *testing.T) {
	c, m := catalog(t)
	for i := range c.Rules {
		r := &c.Rules[i]
		t.Run(r.ID, func(t *testing.T) {
			ft := ExampleFileType(r)
			for _, ex := range r.Examples {
				if !HasLiteral(r, ex) {
					t.Errorf("example contains none of the literals %q:\n%s", r.Literals, ex)
				}
				hits := scanHits(m, ex, ft)
				found := false
				for _, h := range hits {
					if h.Rule == r.ID {
						found = true
						if h.Start != 0 || h.End != len(ex) {
							t.Errorf("hit bounds [%d,%d), want [0,%d) for %s", h.Start, h.End, len(ex), ex)
						}
					}
				}
				if !found {
					t.Errorf("example does not match when scanned as %q:\n%s", ft, ex)
				}
				// Lines with a syslog prefix also turn up in mixed files; there the rule must fire
				// exactly when the file type or the line's own source is one of its log types.
				if src := LineSource([]byte(ex)); src != "" {
					for _, mt := range mixedTypes {
						want := r.AppliesTo(mt) || r.AppliesTo(src)
						if got := hasHit(scanHits(m, ex, mt), r.ID); got != want {
							t.Errorf("in a %s file (line source %q): matched=%v, want %v:\n%s", mt, src, got, want, ex)
						}
					}
				}
			}
			for _, nm := range r.NearMisses {
				if hasHit(scanHits(m, nm, ft), r.ID) {
					t.Errorf("near miss matches when scanned as %q:\n%s", ft, nm)
				}
				if hasHit(scanHits(m, nm, ""), r.ID) {
					t.Errorf("near miss matches when every rule applies:\n%s", nm)
				}
			}
		})
	}
}

// TestCatalogLint checks the catalog's vocabulary and conventions beyond what Parse enforces.
func TestCatalogLint(t *testing.T) {
	c, _ := catalog(t)
	ids := map[string]bool{}
	usedExtractors := map[string]bool{}
	cats := map[string]int{}
	for i := range c.Rules {
		r := &c.Rules[i]
		if ids[r.ID] {
			t.Errorf("%s: duplicate id", r.ID)
		}
		ids[r.ID] = true
		if !idRE.MatchString(r.ID) {
			t.Errorf("%s: id is not kebab-case", r.ID)
		}
		if r.Severity.Rank() < 0 {
			t.Errorf("%s: unknown severity %q", r.ID, r.Severity)
		}
		if !slices.Contains(Categories, r.Category) {
			t.Errorf("%s: unknown category %q", r.ID, r.Category)
		}
		cats[r.Category]++
		for _, lt := range r.LogTypes {
			if !slices.Contains(LogTypes, lt) {
				t.Errorf("%s: unknown log type %q", r.ID, lt)
			}
		}
		if len(r.SOPs) == 0 {
			t.Errorf("%s: no runbook", r.ID)
		}
		for _, s := range r.SOPs {
			if _, ok := SOPs[s]; !ok {
				t.Errorf("%s: unknown runbook %q", r.ID, s)
			}
		}
		for _, expr := range []string{r.Pattern, r.Exclude} {
			if expr == "" {
				continue
			}
			if _, err := regexp.Compile(expr); err != nil {
				t.Errorf("%s: %v", r.ID, err)
			}
		}
		if r.Extract != "" {
			if !slices.Contains(ExtractorNames, r.Extract) {
				t.Errorf("%s: unknown extractor %q", r.ID, r.Extract)
			}
			usedExtractors[r.Extract] = true
		}
		if len(r.Examples) < 2 {
			t.Errorf("%s: %d examples, want ≥2", r.ID, len(r.Examples))
		}
		if len(r.NearMisses) < 1 {
			t.Errorf("%s: no near-miss", r.ID)
		}
		for _, l := range r.Literals {
			if len(l) < MinLiteralLen {
				t.Errorf("%s: literal %q shorter than %d", r.ID, l, MinLiteralLen)
			}
		}
		if strings.TrimSpace(r.Guards) == "" || strings.TrimSpace(r.Description) == "" || strings.TrimSpace(r.Title) == "" {
			t.Errorf("%s: title, description and guards are required", r.ID)
		}
		// A join rule (info) that feeds no extractor would be pure noise.
		if r.Severity == Info && r.Extract == "" && r.Category == "lifecycle" {
			t.Errorf("%s: info lifecycle rule without extractor", r.ID)
		}
	}
	for _, e := range ExtractorNames {
		if !usedExtractors[e] {
			t.Errorf("extractor %q is named by no rule, so internal/facts would never see its lines", e)
		}
	}
	if len(c.Rules) < 80 {
		t.Errorf("%d rules, want at least 80", len(c.Rules))
	}
	seenSOP := map[string]bool{}
	for i := range c.Rules {
		for _, s := range c.Rules[i].SOPs {
			seenSOP[s] = true
		}
	}
	for id := range SOPs {
		if !seenSOP[id] {
			t.Errorf("runbook %s is named by no rule", id)
		}
	}
}

// TestSeverityHonesty pins the severities the SOPs depend on, so a careless edit cannot demote an
// OOM kill or promote resolver noise.
func TestSeverityHonesty(t *testing.T) {
	c, _ := catalog(t)
	tests := []struct {
		id      string
		atLeast Severity
		atMost  Severity
	}{
		{"kernel-oom-kill-memcg", High, Critical},
		{"kernel-oom-kill-global", Critical, Critical},
		{"kernel-oom-killed-process-memcg", High, Critical},
		{"kernel-oom-killed-process-global", Critical, Critical},
		{"containerd-task-oom", High, Critical},
		{"kernel-segfault", High, Critical},
		{"kubelet-crashloop-backoff", High, Critical},
		{"kernel-panic", Critical, Critical},
		{"kubelet-nameserver-limits-exceeded", Low, Low},
		{"kubelet-container-exit-zero", Info, Info},
		{"containerd-task-exit-zero", Info, Info},
		{"containerd-sandbox-created", Info, Info},
		{"containerd-container-created", Info, Info},
	}
	for _, tt := range tests {
		r := c.Rule(tt.id)
		if r == nil {
			t.Errorf("rule %s missing", tt.id)
			continue
		}
		if r.Severity.Rank() < tt.atLeast.Rank() || r.Severity.Rank() > tt.atMost.Rank() {
			t.Errorf("%s: severity %s, want between %s and %s", tt.id, r.Severity, tt.atLeast, tt.atMost)
		}
	}
}

// TestK3Coverage checks that the lines the K3 runbook searches for, in the formats of the
// reference, are each caught by the intended rule.
func TestK3Coverage(t *testing.T) {
	_, m := catalog(t)
	tests := []struct {
		name, fileType, line, rule string
	}{
		{"cgroup v2 OOM kill (raw dmesg)", "dmesg", "[  139.201465] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope,mems_allowed=0,oom_memcg=/kubepods.slice,task_memcg=/kubepods.slice/x.scope,task=bash,pid=7788,uid=0", "kernel-oom-kill-memcg"},
		{"OOM kill in syslog messages", "messages", "Jun 21 19:22:58 ip-10-0-12-209 kernel: Memory cgroup out of memory: Killed process 23311 (java) total-vm:2621440kB, anon-rss:523800kB, file-rss:21000kB, shmem-rss:0kB, UID:1000 pgtables:2000kB oom_score_adj:985", "kernel-oom-killed-process-memcg"},
		{"OOM kill in a logdog journal", "journal", "Nov 20 08:17:02.118312 localhost kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-ab.scope,mems_allowed=0,oom_memcg=/kubepods.slice,task_memcg=/kubepods.slice/ab.scope,task=java,pid=1,uid=0", "kernel-oom-kill-memcg"},
		{"global OOM (dmesg --ctime)", "dmesg", "[Thu Nov 20 08:17:02 2026] Out of memory: Killed process 4242 (java) total-vm:9311232kB, anon-rss:7340032kB, file-rss:1024kB, shmem-rss:0kB, UID:1000 pgtables:15112kB oom_score_adj:969", "kernel-oom-killed-process-global"},
		{"segfault with printk caller", "dmesg", "[   32.298491][  T896] kexec[896]: segfault at 0 ip 0000000000000000 sp 00007ffeaf0ff420 error 14 in dash[561ac3c57000+4000]", "kernel-segfault"},
		{"CrashLoopBackOff via messages", "messages", `Nov 20 08:17:02 ip-10-0-37-142 kubelet: E1120 08:17:02.118312    3187 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"api\" with CrashLoopBackOff: \"back-off 1m20s restarting failed container=api pod=api-7d9f8b6c4d-x2x9k_shop(5da5612b-9738-493c-af51-a213072997f6)\"" pod="shop/api-7d9f8b6c4d-x2x9k" podUID="5da5612b-9738-493c-af51-a213072997f6"`, "kubelet-crashloop-backoff"},
		{"exit 137 in PLEG", "kubelet", `Nov 20 08:17:02 ip-10-0-37-142.us-west-2.compute.internal kubelet[3187]: I1120 08:17:02.668292    3187 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" exitCode=137`, "kubelet-container-exit-nonzero"},
		{"containerd exit 137", "containerd", `Nov 20 08:17:02 ip-10-0-37-142 containerd[2954]: time="2026-11-20T08:17:02.764041708Z" level=info msg="received exit event container_id:\"9192cb33\" id:\"9192cb33\" pid:7620 exit_status:137 exited_at:{seconds:1747649683 nanos:725415123}"`, "containerd-task-exit-nonzero"},
		{"containerd lifecycle: sandbox", "containerd", `Nov 20 08:17:02 ip-10-0-37-142 containerd[2954]: time="2026-11-20T08:17:02.764041708Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:api,Uid:5da5612b-9738-493c-af51-a213072997f6,Namespace:shop,Attempt:0,} returns sandbox id \"3cfe7b00\""`, "containerd-sandbox-created"},
		{"exec not found (exit 127)", "containerd", `Nov 20 08:17:02 ip-10-0-37-142 containerd[2954]: time="2026-11-20T08:17:02.764041708Z" level=error msg="StartContainer for \"4b6f\" failed" error="failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/app/run\": executable file not found in $PATH: unknown"`, "runtime-exec-not-found"},
		{"configmap not found", "kubelet", `Nov 20 08:17:02 ip-10-0-37-142 kubelet[3187]: E1120 08:17:02.118312    3187 kuberuntime_manager.go:1256] "Error syncing pod" err="CreateContainerConfigError: configmap \"app-settings\" not found"`, "kubelet-configmap-not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := scanHits(m, tt.line, tt.fileType)
			if !hasHit(hits, tt.rule) {
				t.Errorf("rule %s did not fire; hits: %v", tt.rule, hits)
			}
		})
	}
}

// TestPatternsArePortable keeps every pattern readable by ripgrep, which `nodediag rules
// --patterns` feeds them to (and bench/run.sh measures against): Go's regexp accepts an escaped
// quote or slash, Rust's regex before 1.8 (ripgrep 13, Debian's) rejects any escape of a
// character that is not a regex metacharacter.
func TestPatternsArePortable(t *testing.T) {
	c, _ := catalog(t)
	const metas = `\.+*?()|[]{}^$#&-~`
	const classes = "dDsSwWbBpPAzxtnr"
	for _, r := range c.Rules {
		for field, p := range map[string]string{"pattern": r.Pattern, "exclude": r.Exclude} {
			for i := 0; i < len(p); i++ {
				if p[i] != '\\' {
					continue
				}
				if i+1 == len(p) {
					t.Errorf("rule %s %s ends in a backslash", r.ID, field)
					break
				}
				c := p[i+1]
				if !strings.ContainsRune(metas, rune(c)) && !strings.ContainsRune(classes, rune(c)) {
					t.Errorf("rule %s %s escapes %q at %d, which ripgrep rejects: write it without the backslash (or as \\x%02x)", r.ID, field, c, i, c)
				}
				i++
			}
		}
	}
}
