#!/usr/bin/env bash
# Benchmarks nodediag's import and index on the shared 1 GiB bundle against tar, gzip and ripgrep,
# and checks that the index holds the incident written to expected.json.
#
#   bench/run.sh [--size-mb N] [--dir DIR]
#
# Needs python3, ripgrep (apt-get install ripgrep) and GNU time (apt-get install time).
# The bundle is generated once into DIR and reused: by default $TMPDIR/nodediag-bench for 1 GiB
# and $TMPDIR/nodediag-bench-<N>m for other sizes, where the Go benchmarks (internal/benchdata)
# look for it too.
set -euo pipefail
size=1024
dir=
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "usage: $0 [--size-mb N] [--dir DIR]" >&2; exit 2 ;;
  esac
done
if [ -z "$dir" ]; then
  dir=${NODEDIAG_BENCH_DIR:-${TMPDIR:-/tmp}}/nodediag-bench
  [ "$size" = 1024 ] || dir=$dir-${size}m
fi
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
# Writing a GiB to disk varies by ±40% on a shared machine: tar and import take medians of three.
tars=()
for i in 1 2 3; do
  sync # the previous run's write-back must not land in this one's time
  mkdir -p "$work/x$i"; read -r secs _ < <(t tar xzf "$archive" -C "$work/x$i"); tars+=("$secs"); rm -rf "$work/x$i"
done
tar_s=$(printf '%s\n' "${tars[@]}" | sort -g | sed -n 2p)
echo "gzip -dc:                 ${gz_s}s"
echo "tar xzf:                  ${tar_s}s (runs: ${tars[*]})"

imps=(); imp_rss=0
for i in 3 2 1; do
  store="$work/store"; [ "$i" = 1 ] || store="$work/store$i"
  sync
  read -r secs rss < <(t "$bin" --store "$store" import "$archive"); imps+=("$secs")
  [ "$rss" -gt "$imp_rss" ] && imp_rss=$rss
  [ "$i" = 1 ] || rm -rf "$store"
done
imp_s=$(printf '%s\n' "${imps[@]}" | sort -g | sed -n 2p)
echo "nodediag import (.tar.gz): ${imp_s}s (runs: ${imps[*]}), peak RSS ${imp_rss} MiB, $(python3 -c "print(f'{$imp_s/$tar_s:.2f}')")x tar xzf"

bundle=$("$bin" --store "$work/store" bundles -o json | python3 -c "import json,sys;print(json.load(sys.stdin)[0]['bundleId'])")
idx_bytes=$(find "$work/store" -path '*/index/*' -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
echo "index on disk: $(python3 -c "print(f'{$idx_bytes/1e6:.2f} MB = {100*$idx_bytes/$bytes:.3f}% of the bundle')")"
read -r idx1_s idx1_rss < <(t env GOMAXPROCS=1 "$bin" --store "$work/store" index --force --bundle "$bundle")
read -r idx2_s idx2_rss < <(t "$bin" --store "$work/store" index --force --bundle "$bundle")
echo "nodediag index, 1 core:   ${idx1_s}s = $(python3 -c "print(f'{$mib/$idx1_s:.0f}')") MB/s, peak RSS ${idx1_rss} MiB"
echo "nodediag index, 2 cores:  ${idx2_s}s = $(python3 -c "print(f'{$mib/$idx2_s:.0f}')") MB/s, peak RSS ${idx2_rss} MiB"

"$bin" rules --patterns >"$work/patterns"
npat=$(wc -l <"$work/patterns")
read -r rg_s _ < <(t rg -j1 -c -f "$work/patterns" "$folder")
echo "rg -j1 with the catalog's $npat patterns: ${rg_s}s = $(python3 -c "print(f'{$mib/$rg_s:.0f}')") MB/s"
echo "nodediag index / ripgrep (1 core): $(python3 -c "print(f'{$rg_s/$idx1_s:.2f}')")x ripgrep's throughput"

# med3 CMD… : the median wall seconds of three runs.
med3() {
  local a b c
  read -r a _ < <(t "$@"); read -r b _ < <(t "$@"); read -r c _ < <(t "$@")
  printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -g | sed -n 2p
}
# total: nodediag's total in the last search's output, and whether it is exact.
total() {
  python3 -c "import json,sys;r=json.load(open('$work/out'));print(r['total'], 'exact' if r['totalExact'] else 'at most %s' % r.get('totalAtMost'))"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

# The import left a bundle's worth of dirty pages: let the kernel write them back first, or the
# searches below share the disk with it and rg, reading the extracted folder, does not.
sync
echo "== search, one core, page cache warm, medians of 3, against rg -j1 -c on the same files"
echo "| query | rg | rg lines | count (--count) | ratio | full search (--exact-total) | ratio | total | page of 50 (--max-results 50) | ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
sop='oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score'
search_row() { # NAME RGFLAGS QUERY [nodediag flags…]
  local name=$1 rgflags=$2 q=$3; shift 3
  local rgs rgn count full page tot
  rgs=$(med3 rg -j1 $rgflags -c -- "$q" "$folder")
  rgn=$(rg -j1 $rgflags -c -- "$q" "$folder" | awk -F: '{s+=$NF} END {print s+0}')
  count=$(med3 env GOMAXPROCS=1 "$bin" --store "$work/store" search --bundle "$bundle" "$q" --count -o json "$@")
  [ "$(total)" = "$rgn exact" ] || { echo "--count says $(total), rg $rgn" >&2; exit 1; }
  full=$(med3 env GOMAXPROCS=1 "$bin" --store "$work/store" search --bundle "$bundle" "$q" --exact-total -o json "$@")
  tot=$(total)
  page=$(med3 env GOMAXPROCS=1 "$bin" --store "$work/store" search --bundle "$bundle" "$q" --max-results 50 -o json "$@")
  echo "| $name | ${rgs}s | $rgn | ${count}s | $(ratio "$count" "$rgs")x | ${full}s | $(ratio "$full" "$rgs")x | $tot | ${page}s | $(ratio "$page" "$rgs")x |"
}
search_row "the runbook's OOM search" -i "$sop"
search_row "error" -i error
search_row '[0-9a-f]{64} (case-sensitive)' "" '[0-9a-f]{64}' --case-sensitive
# The incident's last OOM kill, as an agent would pass it from the pod's last termination.
incident=$(python3 -c "import json;print(json.load(open('$dir/expected.json'))['restarts'][-1]['time'][:19].replace('T',' '))")
rgs=$(med3 rg -j1 -i -c -- "$sop" "$folder")
w=$(med3 env GOMAXPROCS=1 "$bin" --store "$work/store" search --bundle "$bundle" "$sop" --incident-time "$incident" --exact-total -o json)
wc=$(med3 env GOMAXPROCS=1 "$bin" --store "$work/store" search --bundle "$bundle" "$sop" --incident-time "$incident" --count -o json)
echo "| the OOM search ±5 min around $incident (rg cannot skip by time) | ${rgs}s | | ${wc}s | $(ratio "$wc" "$rgs")x | ${w}s | $(ratio "$w" "$rgs")x | $(total) | | |"

echo "== incident check against expected.json"
"$bin" --store "$work/store" facts --bundle "$bundle" -o json >"$work/facts.json"
python3 "$repo/bench/check_incident.py" "$dir/expected.json" "$work/facts.json"
