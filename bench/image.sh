#!/usr/bin/env bash
# Builds nodediag's container image without Docker or a registry (internal/image, as ko does):
# the same image as the Dockerfile, into an OCI image layout and a tarball for `docker load -i`.
#
#   bench/image.sh [--arch amd64|arm64] [--version V] [--tag NAME:TAG] [--out DIR]
#
# Writes DIR/nodediag and DIR/nodediag-agent (the static binaries), DIR/oci (the layout, for skopeo, crane, podman) and
# DIR/nodediag-ARCH.tar; DIR defaults to $TMPDIR/nodediag-image. Needs only Go, and this
# machine's CA certificates (CA_CERTS, default /etc/ssl/certs/ca-certificates.crt), which the
# image carries where distroless has them.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(go env GOARCH)
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
revision=$(git rev-parse HEAD 2>/dev/null || true)
tag=
out=${TMPDIR:-/tmp}/nodediag-image
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--arch amd64|arm64] [--version V] [--tag NAME:TAG] [--out DIR]" >&2; exit 2 ;;
  esac
done
tag=${tag:-nodediag:$(printf %s "$version" | tr -c 'A-Za-z0-9_.\n-' _)}
mkdir -p "$out"
rm -rf "$out/oci"
echo "== go build linux/$arch, static"
CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X github.com/nodediag/nodediag/internal/buildinfo.Version=$version" \
  -o "$out/nodediag" ./cmd/nodediag
CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X github.com/nodediag/nodediag/internal/buildinfo.Version=$version" \
  -o "$out/nodediag-agent" ./cmd/nodediag-agent
echo "== image $tag"
created=$(git log -1 --format=%ct 2>/dev/null || echo 0)
certs=${CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -f "$certs" ]; then
  echo "no CA certificates at $certs (set CA_CERTS=FILE, apt-get install ca-certificates): the image could not verify AWS's or the cluster's TLS" >&2
  exit 2
fi
go run ./bench/image --binary "$out/nodediag" --agent-binary "$out/nodediag-agent" --arch "$arch" --version "$version" --revision "$revision" \
  --ca-certs "$certs" --created "$created" --tag "$tag" --oci "$out/oci" --tar "$out/nodediag-$arch.tar"
du -sh "$out/oci" "$out/nodediag-$arch.tar"
