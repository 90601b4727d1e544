#!/usr/bin/env bash
# Benchmarks nodediag's import and index on the shared 1 GiB bundle against tar, gzip and ripgrep,
# and checks that the index holds the incident written to expected.json.
#
#   bench/run.sh [--size-mb N] [--dir DIR]
#
# Needs python3, ripgrep (apt-get install ripgrep) and GNU time (apt-get install time).
# The bundle is generated once into DIR (default /tmp/nodediag-bench) and reused.
set -euo pipefail
size=1024
dir=/tmp/nodediag-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "usage: $0 [--size-mb N] [--dir DIR]" >&2; exit 2 ;;
  esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
for tool in python3 rg /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install ripgrep time)" >&2; exit 2; }
done

mkdir -p "$dir"
if [ ! -f "$dir/expected.json" ] || [ "$(python3 -c "import json;print(json.load(open('$dir/expected.json'))['bytes']//(1<<20))")" -lt $((size * 9 / 10)) ]; then
  echo "== generating a ${size} MiB bundle in $dir"
  rm -rf "$dir"/eks_* "$dir/expected.json"
  python3 "$shared/bench/mkbundle.py" --out "$dir" --size-mb "$size" --tar >/dev/null
fi
archive=$(ls "$dir"/eks_*.tar.gz)
folder=${archive%.tar.gz}
bytes=$(python3 -c "import json;print(json.load(open('$dir/expected.json'))['bytes'])")
mib=$(python3 -c "print(round($bytes/(1<<20)))")

bin=$(mktemp -d)/nodediag
(cd "$repo" && go build -o "$bin" ./cmd/nodediag)
work=$(mktemp -d)
trap 'rm -rf "$work" "$(dirname "$bin")"' EXIT

# t CMD… : wall seconds and peak RSS (MiB) of one run, page cache warm.
t() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  read -r secs kb <"$work/time"
  echo "$secs $((kb / 1024))"
}
cat "$archive" >/dev/null; find "$folder" -type f -exec cat {} + >/dev/null

echo "== bundle: $mib MiB uncompressed, $(du -m "$archive" | cut -f1) MiB archive"
read -r gz_s _ < <(t sh -c "gzip -dc '$archive' >/dev/null")
mkdir -p "$work/x"; read -r tar_s _ < <(t tar xzf "$archive" -C "$work/x"); rm -rf "$work/x"
echo "gzip -dc:                 ${gz_s}s"
echo "tar xzf:                  ${tar_s}s"

read -r imp_s imp_rss < <(t "$bin" --store "$work/store" import "$archive")
echo "nodediag import (.tar.gz): ${imp_s}s, peak RSS ${imp_rss} MiB, $(python3 -c "print(f'{$imp_s/$tar_s:.2f}')")x tar xzf"

bundle=$("$bin" --store "$work/store" bundles -o json | python3 -c "import json,sys;print(json.load(sys.stdin)[0]['bundleID'])")
read -r idx1_s idx1_rss < <(t env GOMAXPROCS=1 "$bin" --store "$work/store" index --force --bundle "$bundle")
read -r idx2_s idx2_rss < <(t "$bin" --store "$work/store" index --force --bundle "$bundle")
echo "nodediag index, 1 core:   ${idx1_s}s = $(python3 -c "print(f'{$mib/$idx1_s:.0f}')") MB/s, peak RSS ${idx1_rss} MiB"
echo "nodediag index, 2 cores:  ${idx2_s}s = $(python3 -c "print(f'{$mib/$idx2_s:.0f}')") MB/s, peak RSS ${idx2_rss} MiB"

"$bin" rules --patterns >"$work/patterns"
npat=$(wc -l <"$work/patterns")
read -r rg_s _ < <(t rg -j1 -c -f "$work/patterns" "$folder")
echo "rg -j1 with the catalog's $npat patterns: ${rg_s}s = $(python3 -c "print(f'{$mib/$rg_s:.0f}')") MB/s"
echo "nodediag index / ripgrep (1 core): $(python3 -c "print(f'{$rg_s/$idx1_s:.2f}')")x ripgrep's throughput"

echo "== search: the K3 SOP's OOM query, one core, against rg -i"
sop='oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score'
read -r s1 _ < <(t env GOMAXPROCS=1 "$bin" --store "$work/store" search --bundle "$bundle" "$sop" -o json)
read -r rgs _ < <(t rg -j1 -i -c "$sop" "$folder")
echo "nodediag search (1 core): ${s1}s   rg -j1 -i: ${rgs}s   ratio $(python3 -c "print(f'{$s1/$rgs:.2f}')")x rg's time"
read -r s2 _ < <(t env GOMAXPROCS=1 "$bin" --store "$work/store" search --bundle "$bundle" "$sop" --incident-time "2026-11-20 08:20" -o json)
echo "nodediag search ±5 min around the incident (1 core): ${s2}s   ratio $(python3 -c "print(f'{$s2/$rgs:.2f}')")x rg's time (rg cannot skip by time)"

echo "== incident check against expected.json"
"$bin" --store "$work/store" facts --bundle "$bundle" -o json >"$work/facts.json"
python3 "$repo/bench/check_incident.py" "$dir/expected.json" "$work/facts.json"
