#!/usr/bin/env bash
# The fleet benchmark of issue 17: N simulated nodes' archives in a bucket (file://, or S3 over
# loopback with BACKEND=s3), indexed by W `nodediag index-job` workers at once — the pods of an
# Indexed Job, here processes — for each W in WORKERS; then `fleet` over the store, checked
# against the multi-node incidents the generator planted (fleet.json).
#
#   N=1000 WORKERS="1 2 4" BACKEND=file bash bench/fleet.sh
#
# Prints, per W: wall time, bundles/s, the largest worker's peak RSS, and fleet's time cold (the
# store mirrored and every summary built) and warm.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
WORKERS=${WORKERS:-"1 2 4"}
NOISE=${NOISE:-20000}
BACKEND=${BACKEND:-file}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
echo "work folder $work" >&2

export CGO_ENABLED=0
go build -o "$work/nodediag" ./cmd/nodediag
go build -o "$work/mkscenario" ./internal/scenario/mkscenario
go build -o "$work/s3fake" ./bench/s3fake

if [ ! -f "$work/src/fleet.json" ]; then
  t0=$(date +%s.%N)
  "$work/mkscenario" -fleet "$N" -noise "$NOISE" -out "$work/src" >/dev/null
  echo "generated $N archives ($(du -sh "$work/src" | cut -f1)) in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
fi

fake_pid=""
trap '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true' EXIT
urls() { # $1: W → sets SRC and STORE
  if [ "$BACKEND" = s3 ]; then
    if [ -n "$fake_pid" ]; then kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fi
    rm -f "$work/s3fake.addr"
    "$work/s3fake" -load "$work/src" -buckets "source,store" > "$work/s3fake.addr" 2>"$work/s3fake.log" &
    fake_pid=$!
    until grep -q '^http://' "$work/s3fake.addr" 2>/dev/null; do sleep 0.2; done
    ep=$(head -1 "$work/s3fake.addr")
    q="endpoint=$ep&use_path_style=true&disable_https=true&region=us-east-1"
    SRC="s3://source?$q"
    STORE="s3://store?$q"
    export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench AWS_EC2_METADATA_DISABLED=true
  else
    rm -rf "$work/store-$1"
    mkdir -p "$work/store-$1"
    SRC="file://$work/src"
    STORE="file://$work/store-$1"
  fi
}

printf "%-8s %-8s %10s %10s %14s %12s %12s %s\n" backend workers wall_s bundles/s max_rss_MiB fleet_cold_s fleet_warm_s signatures
for W in $WORKERS; do
  urls "$W"
  rm -rf "$work"/cache-* "$work"/reader-*
  t0=$(date +%s.%N)
  pids=()
  for i in $(seq 0 $((W - 1))); do
    /usr/bin/time -f "%M" -o "$work/rss-$W-$i" "$work/nodediag" index-job --source "$SRC" --store "$STORE" \
      --cache "$work/cache-$W-$i" --shard "$i" --shards "$W" -o json > "$work/out-$W-$i.json" &
    pids+=($!)
  done
  wait "${pids[@]}" # not the S3 stand-in
  wall=$(echo "$(date +%s.%N) - $t0" | bc)
  rss=$(cat "$work"/rss-"$W"-* | sort -n | tail -1)
  t1=$(date +%s.%N)
  "$work/nodediag" --store "$STORE" --cache "$work/reader-$W" fleet --min-nodes 2 -o json > "$work/fleet-$W.json"
  cold=$(echo "$(date +%s.%N) - $t1" | bc)
  t2=$(date +%s.%N)
  "$work/nodediag" --store "$STORE" --cache "$work/reader-$W" fleet --min-nodes 2 -o json > /dev/null
  warm=$(echo "$(date +%s.%N) - $t2" | bc)
  check=$(python3 - "$work/src/fleet.json" "$work/fleet-$W.json" "$work"/out-"$W"-*.json <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
sigs = got["signatures"] if isinstance(got, dict) else got
indexed = failed = 0
for p in sys.argv[3:]:
    for a in json.load(open(p))["archives"]:
        indexed += a["status"] in ("indexed", "partial")
        failed += a["status"] == "failed"
want = {frozenset(s["Instances"]) for s in plan["Shared"]}
have = {frozenset(s["nodes"]) for s in sigs if len(s["nodes"]) > 1}
ok = want == have
print(f"{'exact' if ok else 'WRONG'} ({len(have)} multi-node, {len(want)} planted; {indexed} indexed, {failed} failed)")
PY
)
  printf "%-8s %-8s %10.1f %10.1f %14d %12.2f %12.2f %s\n" "$BACKEND" "$W" "$wall" "$(echo "$N / $wall" | bc -l)" $((rss / 1024)) "$cold" "$warm" "$check"
  # A store holds the bundles unpacked, about ten times the archives: keep one at a time.
  rm -rf "$work/store-$W" "$work"/cache-* "$work/reader-$W"
done
