#!/usr/bin/env bash
# Remakes the test journals and their golden outputs with the real systemd tools (Debian 12's
# systemd 252: apt-get install systemd systemd-journal-remote). See README.md.
# Usage (from the repository root): internal/journal/testdata/make.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=internal/journal/testdata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
remote=/lib/systemd/systemd-journal-remote
export TZ=UTC LC_ALL=C

go run ./$out/mkexport >"$work/all.export"

# name  environment                                        journal-remote options
variants=(
  "default|"                                              # systemd 252's defaults: compact, keyed hash, zstd
  "regular|SYSTEMD_JOURNAL_COMPACT=0 SYSTEMD_JOURNAL_KEYED_HASH=0"
  "plain|SYSTEMD_JOURNAL_COMPACT=1 SYSTEMD_JOURNAL_KEYED_HASH=0|--compress=no"
  "keyed-regular|SYSTEMD_JOURNAL_COMPACT=0 SYSTEMD_JOURNAL_KEYED_HASH=1|--compress=no"
)
for v in "${variants[@]}"; do
  IFS='|' read -r name envs opts <<<"$v"
  env $envs $remote $opts --output="$work/$name.journal" - <"$work/all.export" 2>/dev/null
done

# A file still being written: journal-remote is killed (SIGKILL) while its input is open, after
# the first 70 entries, so the file stays in state ONLINE as a crashed journald leaves it.
go run ./$out/mkexport 0 70 >"$work/first.export"
mkfifo "$work/fifo"
$remote --output="$work/online.journal" - <"$work/fifo" 2>/dev/null &
rpid=$!
exec 3>"$work/fifo"
cat "$work/first.export" >&3
sleep 3
kill -KILL "$rpid"
wait "$rpid" || true
exec 3>&-

# One journal in two files, the older archived by its rotated name: read together, merged.
mkdir -p "$work/dir/3d1219c7c4c5404aaa1f6d2a48adfda4"
go run ./$out/mkexport 0 50 >"$work/a.export"
go run ./$out/mkexport 50 >"$work/b.export"
$remote --output="$work/dir/3d1219c7c4c5404aaa1f6d2a48adfda4/system@2b6fb1a1c2e34b0c9d6a1f2e3d4c5b6a-0000000000000001-00062810f7bd5e87.journal" - <"$work/a.export" 2>/dev/null
$remote --output="$work/dir/3d1219c7c4c5404aaa1f6d2a48adfda4/system.journal" - <"$work/b.export" 2>/dev/null

golden() { # name, journalctl source arguments
  local name=$1; shift
  journalctl "$@" -o short-iso-precise --no-pager >"$out/$name.all.golden" || true
  journalctl "$@" -u kubelet -o short-iso-precise --no-pager >"$out/$name.kubelet.golden" || true
  journalctl "$@" -u containerd -o short-iso-precise --no-pager >"$out/$name.containerd.golden" || true
  journalctl "$@" -k -o short-iso-precise --no-pager >"$out/$name.kernel.golden" || true
  journalctl "$@" -u kubelet --since "2024-11-29 18:01:00" -o short-iso-precise --no-pager >"$out/$name.kubelet-since.golden" || true
}
rm -f "$out"/*.journal.zst "$out"/*.golden "$out"/dir.tar.zst
golden default --file "$work/default.journal"
golden online --file "$work/online.journal"
# Every variant, and the two-file directory, must print exactly what the default file prints:
# their goldens are default's, so they are checked here rather than stored again.
for name in regular plain keyed-regular dir; do
  src=(--file "$work/$name.journal")
  [ "$name" = dir ] && src=(--directory "$work/dir/3d1219c7c4c5404aaa1f6d2a48adfda4")
  golden "check-$name" "${src[@]}"
  for g in all kubelet containerd kernel kubelet-since; do
    cmp "$out/default.$g.golden" "$out/check-$name.$g.golden"
  done
  rm "$out"/check-"$name".*.golden
done
for name in default regular plain keyed-regular online; do
  # The files are mostly preallocated zeros (8 MiB): stored compressed, unpacked by the tests.
  zstd -q -19 "$work/$name.journal" -o "$out/$name.journal.zst"
done
tar -C "$work/dir" -cf - . | zstd -q -19 -o "$out/dir.tar.zst"
journalctl --version | head -1 >"$out/systemd-version.txt"
journalctl --file "$work/online.journal" --header | grep -q '^State: ONLINE'

# XZ and LZ4 (which systemd 252 does not write): a long field compressed by the xz tool with the
# settings of systemd's compress_blob_xz (an .xz stream without integrity check, LZMA2 with a
# 1 MiB dictionary, fast mode, nice 128, hc3 match finder, depth 4).
grep -m1 nestedpendingoperations "$out/default.all.golden" | cut -d' ' -f4- | sed 's/^/MESSAGE=/' | tr -d '\n' >"$out/long-message.txt"
xz --format=xz --check=none --lzma2=dict=1MiB,mode=fast,nice=128,mf=hc3,depth=4 -c "$out/long-message.txt" >"$out/long-message.xz"
