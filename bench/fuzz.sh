#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (CI: 2s), so a target that no
# longer builds, or an input the seed corpus and a few seconds of mutation break, fails the run.
# Usage: bench/fuzz.sh [FUZZTIME]   (default 2s)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-2s}
grep -rl --include='*_test.go' '^func Fuzz' internal | sort | while read -r file; do
  pkg=./$(dirname "$file")
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "== $pkg $target"
    # The whole output when it fails (the input and the message), the last lines otherwise.
    if ! out=$(go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" 2>&1); then
      echo "$out"; exit 1
    fi
    echo "$out" | tail -2
  done
done
