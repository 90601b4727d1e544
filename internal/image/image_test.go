package image

import (
	"archive/tar"
	"bufio"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildBinary builds a linux binary of the module's cmd/NAME for the host's arch, static, as the
// Dockerfile does. Without -trimpath, so that where CGO_ENABLED=0 is already set (.ci/run) the
// build reuses the packages `go test ./...` compiled and costs only the link.
func buildBinary(t *testing.T, name string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary runs on linux only")
	}
	if testing.Short() {
		t.Skip("builds the nodediag binaries")
	}
	bin := filepath.Join(t.TempDir(), name)
	start := time.Now()
	cmd := exec.Command("go", "build", "-ldflags", "-s -w -X github.com/nodediag/nodediag/internal/buildinfo.Version=v0.0.0-imagetest", "-o", bin, "github.com/nodediag/nodediag/cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("go build %s: %s", name, time.Since(start).Round(time.Millisecond))
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary is dynamically linked: an image on an empty base cannot run it")
		}
	}
	return bin
}

type entry struct {
	hdr  *tar.Header
	data []byte
}

// layerFiles reads a layer's tar, keeping the contents of regular files.
func layerFiles(t *testing.T, l v1.Layer) map[string]entry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = entry{h, data}
	}
	return files
}

func TestImage(t *testing.T) {
	bin, agentBin := buildBinary(t, "nodediag"), buildBinary(t, "nodediag-agent")
	certs := filepath.Join(t.TempDir(), "ca.pem")
	pem := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	if err := os.WriteFile(certs, []byte(pem), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Binary: bin, AgentBinary: agentBin, Arch: runtime.GOARCH, Version: "v0.0.0-imagetest", Revision: "abc123", CACerts: certs}
	img, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(dir, img, "nodediag:test"); err != nil {
		t.Fatal(err)
	}

	// Read the image back from the layout, as a runtime would.
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(im.Manifests))
	}
	desc := im.Manifests[0]
	if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != runtime.GOARCH {
		t.Errorf("index platform = %+v, want linux/%s", desc.Platform, runtime.GOARCH)
	}
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != "nodediag:test" {
		t.Errorf("ref.name = %q", got)
	}
	back, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := back.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("config platform = %s/%s", cf.OS, cf.Architecture)
	}
	c := cf.Config
	if diff := cmp.Diff([]string{"/nodediag"}, c.Entrypoint); diff != "" {
		t.Errorf("Entrypoint (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"serve", "--listen", "0.0.0.0:8080", "--auth-token-file", "/var/run/nodediag/token"}, c.Cmd); diff != "" {
		t.Errorf("Cmd (-want +got):\n%s", diff)
	}
	if c.User != "65532:65532" {
		t.Errorf("User = %q, want non-root 65532:65532", c.User)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts = %v, want 8080/tcp", c.ExposedPorts)
	}
	if !slices.Contains(c.Env, "XDG_CACHE_HOME=/var/lib/nodediag") {
		t.Errorf("Env = %q: the store (XDG_CACHE_HOME) is not under /var/lib/nodediag", c.Env)
	}
	if c.WorkingDir != "/var/lib/nodediag" {
		t.Errorf("WorkingDir = %q", c.WorkingDir)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.source":   "https://github.com/nodediag/nodediag",
		"org.opencontainers.image.version":  "v0.0.0-imagetest",
		"org.opencontainers.image.revision": "abc123",
	} {
		if got := c.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	layers, err := back.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	files := layerFiles(t, layers[0])
	for name, want := range map[string]struct {
		typ  byte
		mode int64
		uid  int
	}{
		"nodediag":         {tar.TypeReg, 0o755, 65532},
		"nodediag-agent":   {tar.TypeReg, 0o755, 65532},
		"var/lib/nodediag": {tar.TypeDir, 0o755, 65532},
		"tmp":              {tar.TypeDir, 0o1777, 0},
		"var":              {tar.TypeDir, 0o755, 0},
		"var/lib":          {tar.TypeDir, 0o755, 0},
	} {
		e, ok := files[name]
		if !ok {
			t.Errorf("layer has no %s", name)
			continue
		}
		if e.hdr.Typeflag != want.typ || e.hdr.Mode != want.mode || e.hdr.Uid != want.uid || e.hdr.Gid != want.uid {
			t.Errorf("%s: type %c mode %o uid %d gid %d, want type %c mode %o owner %d", name, e.hdr.Typeflag, e.hdr.Mode, e.hdr.Uid, e.hdr.Gid, want.typ, want.mode, want.uid)
		}
	}
	if len(files) != 10 {
		t.Errorf("layer holds %d entries, want 10", len(files))
	}
	if got := string(files["etc/ssl/certs/ca-certificates.crt"].data); got != pem {
		t.Errorf("CA certificates = %q, want %q", got, pem)
	}
	size, _ := layers[0].Size()
	t.Logf("layer: %d bytes compressed, binaries %d and %d bytes", size, len(files["nodediag"].data), len(files["nodediag-agent"].data))

	// The binary out of the layer runs: it is static, so the host runs it.
	out := filepath.Join(t.TempDir(), "nodediag")
	if err := os.WriteFile(out, files["nodediag"].data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"version"}, {"serve", "--help"}} {
		cmd := exec.Command(out, args...)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
		got, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nodediag %s: %v\n%s", strings.Join(args, " "), err, got)
		}
		switch args[0] {
		case "version":
			if !strings.Contains(string(got), "v0.0.0-imagetest") {
				t.Errorf("nodediag version = %q, want the version the build set", got)
			}
		case "serve":
			for _, flag := range []string{"--listen", "--auth-token-file"} {
				if !strings.Contains(string(got), flag) {
					t.Errorf("serve --help has no %s, which the image's Cmd passes:\n%s", flag, got)
				}
			}
		}
	}

	// The agent's binary out of the layer runs too: the chart's DaemonSet runs it as its command.
	agentOut := filepath.Join(t.TempDir(), "nodediag-agent")
	if err := os.WriteFile(agentOut, files["nodediag-agent"].data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agentOut, "--help")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	if got, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(got), "--node") || !strings.Contains(string(got), "--store") {
		t.Errorf("nodediag-agent --help: %v, want its flags --node and --store:\n%s", err, got)
	}
	cmd = exec.Command(agentOut, "--version")
	if got, err := cmd.Output(); err != nil || !strings.HasPrefix(string(got), "nodediag-agent v0.0.0-imagetest") {
		t.Errorf("nodediag-agent --version: %v, %q; want the stamped v0.0.0-imagetest", err, got)
	}

	serveAsImage(t, out, c)

	// The same binary makes the same image.
	again, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 || d1 != desc.Digest {
		t.Errorf("digests differ: %s, %s, layout %s", d1, d2, desc.Digest)
	}

	// A tarball for `docker load` holds the same image.
	tb := filepath.Join(t.TempDir(), "nodediag.tar")
	if err := WriteTarball(tb, img, "nodediag:test"); err != nil {
		t.Fatal(err)
	}
	loaded, err := tarball.ImageFromPath(tb, nil)
	if err != nil {
		t.Fatal(err)
	}
	lcf, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cf.Config, lcf.Config); diff != "" {
		t.Errorf("tarball's config differs from the layout's (-layout +tarball):\n%s", diff)
	}
}

// dockerfile reads the final stage of the Dockerfile: each instruction's keyword and its
// arguments, continuation lines joined.
func dockerfile(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	stage := map[string][]string{}
	for _, l := range lines {
		kw, args, _ := strings.Cut(l, " ")
		kw = strings.ToUpper(kw)
		if kw == "FROM" {
			stage = map[string][]string{}
		}
		stage[kw] = append(stage[kw], strings.TrimSpace(args))
	}
	return stage
}

// TestDockerfileMatches holds the Dockerfile to what Build puts in the image's config.
func TestDockerfileMatches(t *testing.T) {
	df := dockerfile(t)
	one := func(kw string) string {
		t.Helper()
		if len(df[kw]) != 1 {
			t.Fatalf("the Dockerfile's last stage has %d %s lines, want 1", len(df[kw]), kw)
		}
		return df[kw][0]
	}
	exec := func(kw string) []string {
		t.Helper()
		var v []string
		if err := json.Unmarshal([]byte(one(kw)), &v); err != nil {
			t.Fatalf("%s %s: not the exec (JSON) form: %v", kw, one(kw), err)
		}
		return v
	}
	if diff := cmp.Diff([]string{Entrypoint}, exec("ENTRYPOINT")); diff != "" {
		t.Errorf("ENTRYPOINT (-image +Dockerfile):\n%s", diff)
	}
	if diff := cmp.Diff(Cmd, exec("CMD")); diff != "" {
		t.Errorf("CMD (-image +Dockerfile):\n%s", diff)
	}
	if got := one("USER"); got != User {
		t.Errorf("USER %s, image %s", got, User)
	}
	if got := one("EXPOSE"); got != Port {
		t.Errorf("EXPOSE %s, image %s", got, Port)
	}
	if got := one("WORKDIR"); got != StateDir {
		t.Errorf("WORKDIR %s, image %s", got, StateDir)
	}
	if got := one("VOLUME"); got != StateDir {
		t.Errorf("VOLUME %s, image %s", got, StateDir)
	}
	if diff := cmp.Diff(Env, strings.Fields(one("ENV"))); diff != "" {
		t.Errorf("ENV (-image +Dockerfile):\n%s", diff)
	}
	if got := one("FROM"); !strings.HasSuffix(got, ":nonroot") && got != "scratch" {
		t.Errorf("FROM %s: want a non-root base", got)
	}
	var copies []string
	for _, c := range df["COPY"] {
		if strings.HasSuffix(c, " "+Entrypoint) || strings.HasSuffix(c, " "+AgentPath) || strings.HasSuffix(c, " "+StateDir) {
			copies = append(copies, c)
			if !strings.Contains(c, "--chown=65532:65532") {
				t.Errorf("COPY %s: not owned by 65532 as in the image", c)
			}
		}
	}
	if len(copies) != 3 {
		t.Errorf("the last stage copies %q, want the binaries to %s and %s and the store to %s", copies, Entrypoint, AgentPath, StateDir)
	}
	labels := strings.Join(df["LABEL"], " ")
	for k, v := range Labels(Options{Version: "${VERSION}", Revision: "${REVISION}"}) {
		if want := k + "=" + strconvQuote(v); !strings.Contains(labels, want) {
			t.Errorf("LABEL has no %s", want)
		}
	}
}

func strconvQuote(s string) string { return `"` + s + `"` }

// serveAsImage starts the binary as the image's config says — its environment, its command —
// with a temporary directory standing for the store volume, the listen address on loopback and
// the token in a temporary file, and waits for /healthz.
func serveAsImage(t *testing.T, bin string, c v1.Config) {
	t.Helper()
	state := t.TempDir()
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("s3cret-image-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := slices.Clone(c.Cmd)
	for i := range args {
		switch args[i] {
		case "0.0.0.0:" + Port:
			args[i] = "127.0.0.1:0"
		case TokenFile:
			args[i] = token
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = state
	cmd.Env = []string{"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}
	for _, kv := range c.Env {
		cmd.Env = append(cmd.Env, strings.ReplaceAll(kv, StateDir, state))
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	url := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			l := sc.Text()
			log.WriteString(l + "\n")
			if _, rest, ok := strings.Cut(l, "url=http://"); ok {
				u, _, _ := strings.Cut(rest, " ")
				select {
				case url <- "http://" + strings.TrimSuffix(u, "/mcp"):
				default:
				}
			}
		}
		done <- cmd.Wait()
	}()
	var base string
	select {
	case base = <-url:
	case err := <-done:
		t.Fatalf("serve ended before listening: %v\n%s", err, log.String())
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("serve did not listen within 20 s:\n%s", log.String())
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %s", resp.Status)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics without the token: %s, want 401", resp.Status)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Errorf("serve did not end within 20 s of SIGTERM:\n%s", log.String())
	}
}

func TestBuildRefuses(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "nodediag")
	notPEM := filepath.Join(dir, "certs")
	for _, f := range []string{bin, notPEM} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range map[string]struct {
		o    Options
		want string
	}{
		"arch":             {Options{Binary: bin, AgentBinary: bin, Arch: "386"}, "arch"},
		"no binary":        {Options{Binary: filepath.Join(dir, "missing"), AgentBinary: bin, Arch: "amd64"}, "nodediag binary"},
		"a folder":         {Options{Binary: dir, AgentBinary: bin, Arch: "amd64"}, "not a regular file"},
		"no agent binary":  {Options{Binary: bin, Arch: "amd64"}, "no nodediag-agent binary"},
		"agent a folder":   {Options{Binary: bin, AgentBinary: dir, Arch: "amd64"}, "nodediag-agent binary"},
		"agent is missing": {Options{Binary: bin, AgentBinary: filepath.Join(dir, "missing"), Arch: "amd64"}, "nodediag-agent binary"},
		"not PEM":          {Options{Binary: bin, AgentBinary: bin, Arch: "amd64", CACerts: notPEM}, "no PEM"},
	} {
		if _, err := Build(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Build(%+v) = %v, want an error naming %q", name, tc.o, err, tc.want)
		}
	}
}
