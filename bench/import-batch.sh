#!/usr/bin/env bash
# Measures `nodediag import DIR --jobs N` on a folder of generated bundles: wall time, throughput
# and the process's peak RSS for each N, then a second run that finds every bundle indexed.
#
#   bench/import-batch.sh [--bundles N] [--noise LINES] [--jobs "1 2 4"] [--dir DIR]
#
# The bundles are written once by internal/scenario/mkscenario (every scenario in turn, each
# under an instance id of its own so that each is a bundle of its own) into DIR and reused.
# Needs GNU time (apt-get install time). Results go to stdout as a Markdown table.
set -euo pipefail
bundles=40
noise=40000
jobs="1 2 4"
dir=
while [ $# -gt 0 ]; do
  case "$1" in
    --bundles) bundles=$2; shift 2 ;;
    --noise) noise=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "usage: $0 [--bundles N] [--noise LINES] [--jobs \"1 2 4\"] [--dir DIR]" >&2; exit 2 ;;
  esac
done
dir=${dir:-${TMPDIR:-/tmp}/nodediag-batch-$bundles-$noise}
repo=$(cd "$(dirname "$0")/.." && pwd)
command -v /usr/bin/time >/dev/null || { echo "missing GNU time (apt-get install time)" >&2; exit 2; }
bin=$dir/bin
mkdir -p "$bin" "$dir/bundles"
(cd "$repo" && CGO_ENABLED=0 go build -o "$bin/nodediag" ./cmd/nodediag && go build -o "$bin/mkscenario" ./internal/scenario/mkscenario)

if [ "$(ls "$dir/bundles" | wc -l)" -ne "$bundles" ]; then
  rm -rf "$dir/bundles" && mkdir -p "$dir/bundles"
  mapfile -t scenarios < <("$bin/mkscenario" -list | awk 'NR > 1 {print $1}')
  for i in $(seq 0 $((bundles - 1))); do
    s=${scenarios[$((i % ${#scenarios[@]}))]}
    out=$dir/gen/$i
    rm -rf "$out" && mkdir -p "$out"
    "$bin/mkscenario" -archive -scenario "$s" -noise "$noise" -seed $((i + 1)) -out "$out" >/dev/null
    shopt -s nullglob
    found=("$out"/*.tar.gz "$out"/*.tgz "$out"/*.zip)
    shopt -u nullglob
    a=${found[0]}
    # eks_<instance>_<rest>: a distinct instance per bundle; other producers' names are kept
    # with a prefix, since their id comes from name and size.
    base=$(basename "$a")
    case "$base" in
      eks_i-*) name=$(printf 'eks_i-%017x_%s' $((i + 1)) "${base#eks_i-*_}") ;;
      *) name=$(printf 'n%03d-%s' "$i" "$base") ;;
    esac
    mv "$a" "$dir/bundles/$name"
  done
  rm -rf "$dir/gen"
fi
total=$(du -cb "$dir/bundles"/* | tail -1 | cut -f1)
echo "$bundles bundles, $(( total / 1048576 )) MiB compressed, on $(nproc) cores ($(uname -m)), GOMAXPROCS default"
echo
echo "| jobs | GOMEMLIMIT | wall | bundles/s | MiB/s (compressed) | peak RSS | second run (all skipped) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
measure() { # jobs, GOMEMLIMIT ("" for nodediag's own, scaled by --jobs)
  local j=$1 lim=$2 st=$dir/store-$1
  rm -rf "$st"
  local envs=()
  [ -n "$lim" ] && envs=(GOMEMLIMIT="$lim")
  env "${envs[@]}" /usr/bin/time -f '%e %M' -o "$dir/time" "$bin/nodediag" --store "$st" import "$dir/bundles" --jobs "$j" -o json >"$dir/out.json" || true
  read -r wall rss <"$dir/time"
  local imported
  imported=$(grep -c '"status": "imported"' "$dir/out.json" || true)
  [ "$imported" -eq "$bundles" ] || { echo "jobs $j: only $imported of $bundles imported" >&2; exit 1; }
  /usr/bin/time -f '%e' -o "$dir/time2" "$bin/nodediag" --store "$st" import "$dir/bundles" --jobs "$j" -o json >/dev/null
  printf '| %s | %s | %.1f s | %.1f | %.1f | %d MiB | %.2f s |\n' "$j" "${lim:-128 MiB × jobs}" "$wall" \
    "$(echo "$bundles / $wall" | bc -l)" "$(echo "$total / 1048576 / $wall" | bc -l)" $((rss / 1024)) "$(cat "$dir/time2")"
}
for j in $jobs; do
  measure "$j" ""
done
for j in $jobs; do
  [ "$j" -gt 1 ] && measure "$j" 128MiB
done
rm -rf "$dir"/store-*
