package cli

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/nodediag/nodediag/internal/buildinfo"
)

// releaseTargets are the platforms a release ships, in .goreleaser.yaml and bench/release.sh.
var releaseTargets = []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64"}

// stamps are the variables release builds set with -X; the map only compiles while they exist.
var stamps = map[string]*string{"Version": &buildinfo.Version, "Commit": &buildinfo.Commit, "Date": &buildinfo.Date}

const stampPkg = "github.com/nodediag/nodediag/internal/buildinfo"

type goreleaserConfig struct {
	Version int `yaml:"version"`
	Builds  []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
		Ignore  []struct {
			Goos   string `yaml:"goos"`
			Goarch string `yaml:"goarch"`
		} `yaml:"ignore"`
	} `yaml:"builds"`
	Archives []struct {
		ID              string   `yaml:"id"`
		IDs             []string `yaml:"ids"`
		NameTemplate    string   `yaml:"name_template"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		Files []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	Krews []struct {
		Name       string   `yaml:"name"`
		IDs        []string `yaml:"ids"`
		SkipUpload bool     `yaml:"skip_upload"`
	} `yaml:"krews"`
}

// xFlags returns the variable names of the -X flags in ldflags, failing on any -X that does
// not name one of this package's stamps.
func xFlags(t *testing.T, where, ldflags string) []string {
	t.Helper()
	var names []string
	for _, m := range regexp.MustCompile(`-X[ =]([^ =]+)=`).FindAllStringSubmatch(ldflags, -1) {
		name, ok := strings.CutPrefix(m[1], stampPkg+".")
		if !ok {
			t.Errorf("%s: -X %s names no variable of %s", where, m[1], stampPkg)
			continue
		}
		if stamps[name] == nil {
			t.Errorf("%s: -X %s: %s has no variable %s", where, m[1], stampPkg, name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestGoreleaserConfig: .goreleaser.yaml builds static, trimmed, stamped binaries for exactly
// the release targets, archives them (zip for windows) with the README, and writes checksums.
func TestGoreleaserConfig(t *testing.T) {
	raw, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if c.Version != 2 || len(c.Builds) != 2 || len(c.Archives) != 2 {
		t.Fatalf(".goreleaser.yaml: version %d, %d builds, %d archives; want the v2 schema, two of each (nodediag, nodediag-agent)", c.Version, len(c.Builds), len(c.Archives))
	}
	checkAgentRelease(t, c)
	b := c.Builds[0]
	if b.Main != "./cmd/nodediag" || b.Binary != "nodediag" {
		t.Errorf("build main %q binary %q", b.Main, b.Binary)
	}
	if _, err := os.Stat(filepath.Join("../..", b.Main, "main.go")); err != nil {
		t.Errorf("build main: %v", err)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("build env %q: want CGO_ENABLED=0 (a static binary)", b.Env)
	}
	if !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build flags %q: want -trimpath", b.Flags)
	}
	ld := strings.Join(b.Ldflags, " ")
	if !strings.Contains(ld, "-s -w") {
		t.Errorf("ldflags %q: want -s -w", ld)
	}
	if got := xFlags(t, ".goreleaser.yaml", ld); !slices.Equal(got, []string{"Commit", "Date", "Version"}) {
		t.Errorf(".goreleaser.yaml stamps %q; want Commit, Date, Version", got)
	}
	var targets []string
	for _, os := range b.Goos {
		for _, arch := range b.Goarch {
			if !slices.ContainsFunc(b.Ignore, func(i struct {
				Goos   string `yaml:"goos"`
				Goarch string `yaml:"goarch"`
			}) bool {
				return i.Goos == os && i.Goarch == arch
			}) {
				targets = append(targets, os+"/"+arch)
			}
		}
	}
	slices.Sort(targets)
	if !slices.Equal(targets, releaseTargets) {
		t.Errorf(".goreleaser.yaml builds %q; want %q", targets, releaseTargets)
	}
	a := c.Archives[0]
	if a.ID != "nodediag" || !slices.Equal(a.IDs, []string{"nodediag"}) {
		t.Errorf("the first archive is %q of builds %q; want nodediag's", a.ID, a.IDs)
	}
	if !slices.Equal(a.Formats, []string{"tar.gz"}) || len(a.FormatOverrides) != 1 || a.FormatOverrides[0].Goos != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archives: formats %q, overrides %+v; want tar.gz, zip for windows", a.Formats, a.FormatOverrides)
	}
	if !slices.Contains(a.Files, "README.md") {
		t.Errorf("archive files %q: want README.md", a.Files)
	}
	if c.Checksum.Algorithm != "sha256" || c.Checksum.NameTemplate == "" {
		t.Errorf("checksum %+v: want a sha256 checksums file", c.Checksum)
	}
	// The krew manifest is generated from the archives, never committed with made-up hashes;
	// it is written to dist/ for a pull request to the krew index, not pushed anywhere.
	if len(c.Krews) != 1 || c.Krews[0].Name != "nodediag" || !slices.Equal(c.Krews[0].IDs, []string{"nodediag"}) || !c.Krews[0].SkipUpload {
		t.Errorf("krews %+v: want one nodediag manifest of the nodediag archives, not uploaded", c.Krews)
	}
}

// checkAgentRelease: the second build is nodediag-agent — static, trimmed, for the linux
// targets only (it runs on worker nodes) — in archives of its own, which the krew manifest of
// nodediag's archives leaves out.
func checkAgentRelease(t *testing.T, c goreleaserConfig) {
	t.Helper()
	b := c.Builds[1]
	if b.ID != "nodediag-agent" || b.Main != "./cmd/nodediag-agent" || b.Binary != "nodediag-agent" {
		t.Errorf("second build id %q main %q binary %q; want nodediag-agent", b.ID, b.Main, b.Binary)
	}
	if _, err := os.Stat(filepath.Join("../..", b.Main, "main.go")); err != nil {
		t.Errorf("agent build main: %v", err)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") || !strings.Contains(strings.Join(b.Ldflags, " "), "-s -w") {
		t.Errorf("agent build env %q flags %q ldflags %q: want a static, trimmed, stripped binary", b.Env, b.Flags, b.Ldflags)
	}
	if got := xFlags(t, ".goreleaser.yaml (nodediag-agent)", strings.Join(b.Ldflags, " ")); !slices.Equal(got, []string{"Commit", "Date", "Version"}) {
		t.Errorf(".goreleaser.yaml stamps the agent with %q; want Commit, Date, Version", got)
	}
	if !slices.Equal(b.Goos, []string{"linux"}) || !slices.Equal(b.Goarch, []string{"amd64", "arm64"}) {
		t.Errorf("agent build for %q × %q; want linux × amd64, arm64", b.Goos, b.Goarch)
	}
	a := c.Archives[1]
	if a.ID != "nodediag-agent" || !slices.Equal(a.IDs, []string{"nodediag-agent"}) || !strings.HasPrefix(a.NameTemplate, "nodediag-agent_") {
		t.Errorf("second archive %q of builds %q named %q; want nodediag-agent's own", a.ID, a.IDs, a.NameTemplate)
	}
}

// TestReleaseScript: bench/release.sh, the goreleaser-less path, builds the same targets with
// the same flags.
func TestReleaseScript(t *testing.T) {
	raw, err := os.ReadFile("../../bench/release.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	m := regexp.MustCompile(`(?m)^targets=\$\{TARGETS:-([^}]*)\}`).FindStringSubmatch(s)
	if m == nil {
		t.Fatal("bench/release.sh: no targets=${TARGETS:-…} line")
	}
	targets := strings.Fields(m[1])
	slices.Sort(targets)
	if !slices.Equal(targets, releaseTargets) {
		t.Errorf("bench/release.sh builds %q; want %q", targets, releaseTargets)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `ldflags="-s -w `, "pkg=" + stampPkg + "\n",
		`-ldflags "$ldflags" -o "dist/$agent/nodediag-agent" ./cmd/nodediag-agent`, "nodediag-agent_*.tar.gz"} {
		if !strings.Contains(s, want) {
			t.Errorf("bench/release.sh does not say %q", want)
		}
	}
	ld := regexp.MustCompile(`(?m)^ldflags="([^"]*)"`).FindStringSubmatch(s)
	if ld == nil {
		t.Fatal(`bench/release.sh: no ldflags="…" line`)
	}
	if got := xFlags(t, "bench/release.sh", strings.ReplaceAll(ld[1], "$pkg", stampPkg)); !slices.Equal(got, []string{"Commit", "Date", "Version"}) {
		t.Errorf("bench/release.sh stamps %q; want Commit, Date, Version", got)
	}
}

// TestReleaseBuild builds nodediag as a release does (CGO_ENABLED=0, -trimpath, the ldflags
// of .goreleaser.yaml), runs `version` and checks the stamps, and on linux that the binary is
// static: no program interpreter, no shared libraries. It compiles client-go and the AWS SDK
// again with those flags, minutes on a cold cache, so it runs only with
// NODEDIAG_RELEASE_BUILD=1.
func TestReleaseBuild(t *testing.T) {
	if os.Getenv("NODEDIAG_RELEASE_BUILD") != "1" {
		t.Skip("set NODEDIAG_RELEASE_BUILD=1 to build a release binary (minutes on a cold build cache)")
	}
	raw, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	b := c.Builds[0]
	ld := strings.NewReplacer("{{ .Version }}", "1.2.3", "{{ .FullCommit }}", "0123456789abcdef0123456789abcdef01234567",
		"{{ .CommitDate }}", "2026-12-06T10:00:00Z").Replace(strings.Join(b.Ldflags, " "))
	if strings.Contains(ld, "{{") {
		t.Fatalf("ldflags %q: a template this test does not fill", ld)
	}
	bin := filepath.Join(t.TempDir(), "nodediag")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	args := append([]string{"build"}, b.Flags...)
	cmd := exec.Command("go", append(args, "-ldflags", ld, "-o", bin, "."+strings.TrimPrefix(b.Main, "."))...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), b.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if want := "nodediag v1.2.3, commit 0123456789abcdef0123456789abcdef01234567, built 2026-12-06T10:00:00Z ("; err != nil || !bytes.HasPrefix(out, []byte(want)) {
		t.Errorf("%s version: %v, %q; want it to start %q", bin, err, out, want)
	}
	if runtime.GOOS != "linux" {
		return
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: it is not static", bin)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s needs shared libraries %q (%v): it is not static", bin, libs, err)
	}
}
