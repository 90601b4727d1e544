#!/usr/bin/env bash
# The capture agent's idle cost (issue 18): the release build of nodediag runs `agent` for
# DURATION against a fake API server on loopback serving a node of PODS pods where nothing
# crashes (bench/agent-idle), then gets SIGTERM. Prints the agent's CPU as % of one core and its
# peak RSS (getrusage), with the anonymous and file-backed parts.
#
#   DURATION=10m PODS=110 bash bench/agent-idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0
# The image's build flags (Dockerfile), so the binary's pages in RSS are the shipped binary's.
go build -trimpath -ldflags "-s -w" -o "$work/nodediag" ./cmd/nodediag
go build -o "$work/agent-idle" ./bench/agent-idle
"$work/agent-idle" -nodediag "$work/nodediag" -for "${DURATION:-10m}" -pods "${PODS:-110}"
