// Command image builds nodediag's container image from the static linux binaries (nodediag and
// nodediag-agent) without Docker (internal/image), into an OCI image layout or a tarball
// `docker load -i` reads. bench/image.sh builds the binaries and runs it.
//
//	go run ./bench/image --binary nodediag --agent-binary nodediag-agent --arch amd64 --version v1.2.3 --revision abc --oci out/oci --tar out/nodediag.tar --tag nodediag:v1.2.3
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/nodediag/nodediag/internal/image"
)

func main() {
	var o image.Options
	var oci, tarPath, tag string
	var epoch int64
	flag.StringVar(&o.Binary, "binary", "", "static linux nodediag binary (CGO_ENABLED=0) for --arch")
	flag.StringVar(&o.AgentBinary, "agent-binary", "", "static linux nodediag-agent binary (cmd/nodediag-agent) for --arch")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "the binary's GOARCH: amd64 or arm64")
	flag.StringVar(&o.Version, "version", "dev", "org.opencontainers.image.version")
	flag.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision (a git commit)")
	flag.StringVar(&o.CACerts, "ca-certs", "", "PEM bundle of CA certificates to put at "+image.CACertsPath+" (e.g. that path on this machine)")
	flag.Int64Var(&epoch, "created", 0, "creation time, Unix seconds (default the epoch, so the same binary makes the same image)")
	flag.StringVar(&oci, "oci", "", "write an OCI image layout to this directory (appended to if it is one)")
	flag.StringVar(&tarPath, "tar", "", "write a tarball for `docker load -i` to this file")
	flag.StringVar(&tag, "tag", "nodediag:dev", "the image's name: the tarball's tag, the layout's ref.name")
	flag.Parse()
	if o.Binary == "" || o.AgentBinary == "" || (oci == "" && tarPath == "") || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: image --binary FILE --agent-binary FILE [--arch A] [--ca-certs PEM] [--version V] [--revision R] [--tag T] (--oci DIR | --tar FILE)")
		os.Exit(2)
	}
	if epoch != 0 {
		o.Created = time.Unix(epoch, 0)
	}
	if err := run(o, oci, tarPath, tag); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(o image.Options, oci, tarPath, tag string) error {
	img, err := image.Build(o)
	if err != nil {
		return err
	}
	if oci != "" {
		if err := image.WriteLayout(oci, img, tag); err != nil {
			return err
		}
		fmt.Printf("OCI layout: %s\n", oci)
	}
	if tarPath != "" {
		if err := image.WriteTarball(tarPath, img, tag); err != nil {
			return err
		}
		fmt.Printf("docker load -i %s\n", tarPath)
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var size int64
	for _, l := range layers {
		s, err := l.Size()
		if err != nil {
			return err
		}
		size += s
	}
	fmt.Printf("%s linux/%s %s, layer %.1f MB compressed\n", tag, o.Arch, d, float64(size)/1e6)
	return nil
}
