#!/usr/bin/env bash
# The capture agent's idle cost (issue 18): the release build of the agent runs for DURATION
# against a fake API server on loopback serving a node of PODS pods where nothing crashes
# (bench/agent-idle), then gets SIGTERM. Prints the agent's CPU as % of one core and its peak RSS
# (getrusage), with the anonymous and file-backed parts.
#
#   DURATION=10m PODS=110 bash bench/agent-idle.sh            # nodediag-agent, what the chart runs
#   AGENT=nodediag DURATION=10m bash bench/agent-idle.sh      # `nodediag agent`, the full binary
#   CRASH_LOG=8 DURATION=1m bash bench/agent-idle.sh          # one pod crashes at 20 s with an 8 MiB
#                                                             # log: the peak includes a snapshot
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0
agent=${AGENT:-nodediag-agent}
go build -o "$work/agent-idle" ./bench/agent-idle
# The image's build flags (Dockerfile), so the binary's pages in RSS are the shipped binary's.
case $agent in
nodediag-agent)
  go build -trimpath -ldflags "-s -w" -o "$work/nodediag-agent" ./cmd/nodediag-agent
  "$work/agent-idle" -agent "$work/nodediag-agent" -for "${DURATION:-10m}" -pods "${PODS:-110}" -crash-log "${CRASH_LOG:-0}" ;;
nodediag)
  go build -trimpath -ldflags "-s -w" -o "$work/nodediag" ./cmd/nodediag
  "$work/agent-idle" -nodediag "$work/nodediag" -for "${DURATION:-10m}" -pods "${PODS:-110}" -crash-log "${CRASH_LOG:-0}" ;;
*)
  echo "AGENT=$agent: want nodediag-agent or nodediag" >&2
  exit 2 ;;
esac
