#!/usr/bin/env bash
# The release builds of .goreleaser.yaml with plain `go build`, for machines without goreleaser:
# static binaries (CGO_ENABLED=0, -trimpath, -s -w, version/commit/date stamped) for
# linux/darwin × amd64/arm64 and windows/amd64, one archive each (tar.gz; zip for windows) with
# the binary and the README (and LICENSE when there is one), the same of nodediag-agent (the
# capture agent's own binary) for the linux targets, dist/checksums.txt (sha256), and
# dist/plugins/nodediag.yaml, the krew manifest of these archives with their real sha256.
#
# Usage: bench/release.sh [VERSION]   (default: git describe --tags --always --dirty)
# Env:   RELEASE_URL  where the archives will be downloaded from (for the krew manifest);
#                     default https://github.com/nodediag/nodediag/releases/download/VERSION
#        TARGETS      a subset of the targets, e.g. TARGETS=linux/amd64
# Every target compiles client-go and the AWS SDK from scratch: minutes each on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-$(git describe --tags --always --dirty)}
commit=$(git rev-parse HEAD)
# The commit's time, not the clock's, as goreleaser's {{ .CommitDate }}: the same commit builds
# the same bytes.
date=$(TZ=UTC git log -1 --date=iso-strict-local --format=%cd | sed 's/+00:00$/Z/')
url=${RELEASE_URL:-https://github.com/nodediag/nodediag/releases/download/$version}
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64}
# A release tag must be the version server.json (the MCP registry entry) announces.
if [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  announced=$(python3 -c 'import json; print(json.load(open("server.json"))["version"])')
  if [ "v$announced" != "$version" ]; then
    echo "release.sh: server.json says version $announced; set it (and its packages' versions) to ${version#v} first" >&2
    exit 1
  fi
fi
pkg=github.com/nodediag/nodediag/internal/buildinfo
ldflags="-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit -X $pkg.Date=$date"

sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }

rm -rf dist
mkdir -p dist
for t in $targets; do
  os=${t%/*} arch=${t#*/}
  name=nodediag_${version}_${os}_${arch}
  exe=nodediag
  [ "$os" = windows ] && exe=nodediag.exe
  echo "== $t"
  mkdir -p "dist/$name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "dist/$name/$exe" ./cmd/nodediag
  cp README.md "dist/$name/"
  [ -f LICENSE ] && cp LICENSE "dist/$name/"
  if [ "$os" = windows ]; then
    (cd "dist/$name" && python3 -m zipfile -c "../$name.zip" ./*)
  else
    tar -C "dist/$name" -czf "dist/$name.tar.gz" .
  fi
  # The capture agent runs on worker nodes only: linux. Its packages are nodediag's, already
  # compiled for this target, so this is a link.
  if [ "$os" = linux ]; then
    agent=nodediag-agent_${version}_${os}_${arch}
    mkdir -p "dist/$agent"
    CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "dist/$agent/nodediag-agent" ./cmd/nodediag-agent
    cp README.md "dist/$agent/"
    [ -f LICENSE ] && cp LICENSE "dist/$agent/"
    tar -C "dist/$agent" -czf "dist/$agent.tar.gz" .
  fi
done

# nullglob: a TARGETS subset may have no zip (windows) or no agent archive (linux).
(cd dist && shopt -s nullglob && sha256 nodediag_*.tar.gz nodediag_*.zip nodediag-agent_*.tar.gz > checksums.txt)
cat dist/checksums.txt

# The krew manifest, as the krew-index repository holds it (plugins/nodediag.yaml).
sum() { awk -v f="$1" '$2 == f { print $1 }' dist/checksums.txt; }
mkdir -p dist/plugins
{
  cat <<YAML
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: nodediag
spec:
  version: $version
  homepage: https://github.com/nodediag/nodediag
  shortDescription: Explain why a pod crash-loops from its worker node's logs
  description: |
    nodediag reads every line of a worker-node log bundle (EKS log collector, node
    monitoring agent, Bottlerocket logdog) and explains why a container crash-loops,
    with the file:line of every piece of evidence: exit code, OOM level, segfaults,
    exec and config failures, back-off ladder.
      kubectl nodediag diagnose my-pod -n shop --bundle BUNDLE
  platforms:
YAML
  for t in $targets; do
    os=${t%/*} arch=${t#*/}
    file=nodediag_${version}_${os}_${arch}.tar.gz bin=nodediag
    [ "$os" = windows ] && file=nodediag_${version}_${os}_${arch}.zip bin=nodediag.exe
    cat <<YAML
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $url/$file
    sha256: $(sum "$file")
    bin: $bin
YAML
  done
} > dist/plugins/nodediag.yaml
echo "dist/plugins/nodediag.yaml: the krew manifest for $url"
