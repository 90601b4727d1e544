#!/usr/bin/env bash
# Remakes the agent test's real journal file from scenario container-oom-v2's node journal with
# systemd's own writer (Debian 12: apt-get install systemd-journal-remote; systemd 252).
# Usage (from the repository root): internal/agent/testdata/make.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=internal/agent/testdata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go run ./$out/mkexport container-oom-v2 >"$work/entries.export"
/lib/systemd/systemd-journal-remote --output="$work/system.journal" - <"$work/entries.export"
# 8 MiB of mostly preallocated zeros: stored compressed, unpacked by the test.
zstd -q -19 -f "$work/system.journal" -o "$out/container-oom-v2.journal.zst"
