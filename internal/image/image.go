// Package image builds nodediag's container image without Docker, the way ko does: one layer on
// an empty base holding the static binaries (nodediag, and nodediag-agent, which the chart's
// capture agent DaemonSet runs), the store directory, /tmp and optionally the CA certificates,
// and a config saying how to run nodediag. The Dockerfile at the module's root builds the same image with Docker; the package's
// test parses that Dockerfile so the two cannot drift.
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image runs, as the Dockerfile says it too.
const (
	// Entrypoint is where the binary sits in the image, and what it runs.
	Entrypoint = "/nodediag"
	// AgentPath is where the capture agent's own binary sits, beside nodediag: the chart's
	// DaemonSet runs it as its command.
	AgentPath = "/nodediag-agent"
	// UID is the non-root user and group the server runs as (distroless's "nonroot"); numeric,
	// because the image has no /etc/passwd.
	UID = 65532
	// User is the config's User: UID:UID.
	User = "65532:65532"
	// Port is the port serve listens on, exposed as Port/tcp.
	Port = "8080"
	// StateDir is the only directory the server writes (its store of imported bundles), owned by
	// UID, so that the root filesystem can be read-only with a volume mounted here.
	StateDir = "/var/lib/nodediag"
	// TokenFile is where Cmd reads the bearer token: mount the token file here.
	TokenFile = "/var/run/nodediag/token"
	// CACertsPath is where Options.CACerts goes, as in distroless.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// Source is the repository the image's labels point at.
	Source = "https://github.com/nodediag/nodediag"
)

// Cmd is the image's default arguments: the MCP server over HTTP on every interface, with a token.
var Cmd = []string{"serve", "--listen", "0.0.0.0:" + Port, "--auth-token-file", TokenFile}

// Env puts the store (DefaultRoot: $XDG_CACHE_HOME/nodediag) and the home directory under
// StateDir, since the image has no home directory of its own.
var Env = []string{
	"PATH=/",
	"HOME=" + StateDir,
	"XDG_CACHE_HOME=" + StateDir,
}

// Options says what to put in the image.
type Options struct {
	// Binary is a static linux nodediag binary (CGO_ENABLED=0) for Arch.
	Binary string
	// AgentBinary is the static linux nodediag-agent binary (cmd/nodediag-agent) for Arch.
	AgentBinary string
	// Arch is its GOARCH: amd64 or arm64.
	Arch string
	// Version and Revision go into the labels (org.opencontainers.image.version, .revision).
	Version, Revision string
	// CACerts, when set, is a PEM bundle of CA certificates (the build machine's
	// /etc/ssl/certs/ca-certificates.crt) put at CACertsPath, where Go's crypto/x509 looks first
	// on linux: without it the server cannot verify AWS's and the cluster's TLS certificates.
	CACerts string
	// Created is the image's creation time and every file's modification time; zero is the Unix
	// epoch, so that the same binary always makes the same image.
	Created time.Time
}

// Labels are the image's OCI annotations as config labels.
func Labels(o Options) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "nodediag",
		"org.opencontainers.image.description": "Diagnoses Kubernetes crash loops from worker-node log bundles; serves MCP over HTTP",
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
	}
}

// Build makes the image: an empty base, one layer, the config.
func Build(o Options) (v1.Image, error) {
	switch o.Arch {
	case "amd64", "arm64":
	default:
		return nil, fmt.Errorf("image: arch %q: want amd64 or arm64", o.Arch)
	}
	for _, b := range []struct{ what, path string }{{"nodediag binary", o.Binary}, {"nodediag-agent binary", o.AgentBinary}} {
		if b.path == "" {
			return nil, fmt.Errorf("image: no %s", b.what)
		}
		fi, err := os.Stat(b.path)
		if err != nil {
			return nil, fmt.Errorf("image: %s: %w", b.what, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("image: %s %s is not a regular file", b.what, b.path)
		}
	}
	created := o.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	created = created.UTC()
	var certs []byte
	var err error
	if o.CACerts != "" {
		if certs, err = os.ReadFile(o.CACerts); err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, fmt.Errorf("image: %s holds no PEM certificate", o.CACerts)
		}
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return layerTar([]binary{{o.Binary, Entrypoint}, {o.AgentBinary, AgentPath}}, certs, created)
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: "nodediag internal/image", Comment: "nodediag and nodediag-agent binaries, " + StateDir + ", /tmp, CA certificates if given"},
	})
	if err != nil {
		return nil, fmt.Errorf("image: append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image: config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = o.Arch, "linux", v1.Time{Time: created}
	cf.Author = Source
	cf.Config = v1.Config{
		Entrypoint:   []string{Entrypoint},
		Cmd:          append([]string(nil), Cmd...),
		User:         User,
		Env:          append([]string(nil), Env...),
		WorkingDir:   StateDir,
		ExposedPorts: map[string]struct{}{Port + "/tcp": {}},
		Volumes:      map[string]struct{}{StateDir: {}},
		Labels:       Labels(o),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image: set config: %w", err)
	}
	return img, nil
}

// binary is a file of the build machine and where the layer puts it.
type binary struct{ src, dst string }

// layerTar streams the layer: the directories, the CA certificates if any, then the binaries.
func layerTar(bins []binary, certs []byte, mtime time.Time) (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		dir := func(name string, mode int64, uid int) error {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: uid, Gid: uid, ModTime: mtime, Format: tar.FormatPAX})
		}
		err := func() error {
			for _, d := range []struct {
				name string
				mode int64
				uid  int
			}{
				{"tmp/", 0o1777, 0},
				{"var/", 0o755, 0},
				{"var/lib/", 0o755, 0},
				{StateDir[1:] + "/", 0o755, UID},
			} {
				if err := dir(d.name, d.mode, d.uid); err != nil {
					return err
				}
			}
			if certs != nil {
				for _, d := range []string{"etc/", "etc/ssl/", "etc/ssl/certs/"} {
					if err := dir(d, 0o755, 0); err != nil {
						return err
					}
				}
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: CACertsPath[1:], Mode: 0o644, Size: int64(len(certs)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
					return err
				}
				if _, err := tw.Write(certs); err != nil {
					return err
				}
			}
			for _, b := range bins {
				if err := addFile(tw, b.src, b.dst[1:], mtime); err != nil {
					return err
				}
			}
			return tw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// addFile writes the file at src into tw as the executable name, owned by UID.
func addFile(tw *tar.Writer, src, name string, mtime time.Time) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Uid: UID, Gid: UID, Size: fi.Size(), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.Copy(tw, f)
	if err != nil {
		return err
	}
	if n != fi.Size() {
		return fmt.Errorf("%s changed while read: %d bytes, not %d", src, n, fi.Size())
	}
	return nil
}

// WriteLayout writes img as an OCI image layout in dir (created, or appended to), with its
// platform and the annotation org.opencontainers.image.ref.name = ref when ref is not empty.
func WriteLayout(dir string, img v1.Image, ref string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("image: layout %s: %w", dir, err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	opts := []layout.Option{layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture})}
	if ref != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return fmt.Errorf("image: layout %s: %w", dir, err)
	}
	return nil
}

// WriteTarball writes img as a tarball `docker load -i` reads, tagged ref (e.g. nodediag:dev).
func WriteTarball(path string, img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image: tag %q: %w", ref, err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("image: tarball %s: %w", path, err)
	}
	return nil
}
