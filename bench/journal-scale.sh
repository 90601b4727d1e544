#!/usr/bin/env bash
# internal/journal against the real journalctl at scale: the kubelet, containerd and kernel lines
# of the 50 MB benchmark bundle (../shared/bench/mkbundle.py) become journal entries, written into
# real journal files by systemd-journal-remote (systemd's defaults: compact, keyed hash, zstd for
# fields over 512 bytes); then journalctl and bench/journalread print them with
# -o short-iso-precise, all and filtered (-u kubelet, -u containerd, -k), and the outputs must be
# identical byte for byte. Prints both programs' wall time and the sizes.
#
#   bash bench/journal-scale.sh [BUNDLE_DIR]      (needs: apt-get install systemd systemd-journal-remote)
set -euo pipefail
cd "$(dirname "$0")/.."
remote=/lib/systemd/systemd-journal-remote
for need in "$remote" journalctl python3; do
  command -v "$need" >/dev/null || { echo "journal-scale: $need not found (apt-get install systemd systemd-journal-remote python3)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle=${1:-}
if [ -z "$bundle" ]; then
  python3 ../shared/bench/mkbundle.py --out "$work/b" --size-mb 50 >/dev/null
  bundle=$(ls -d "$work"/b/eks_*/ | head -1)
fi
export TZ=UTC LC_ALL=C
go build -o "$work/journalread" ./bench/journalread

# Export format (systemd's docs/JOURNAL_EXPORT_FORMATS.md): one entry per line of the bundle's
# logs, its message what follows "ident[pid]: " (or dmesg's "[  123.456] "), two boots, every
# 97th message continued on a second line (the binary-safe field form).
PYTHONHASHSEED=0 python3 - "$bundle" >"$work/all.export" <<'PY'
import os, re, struct, sys
b = sys.argv[1]
out = sys.stdout.buffer
syslog = re.compile(rb'^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ ([^:\s\[]+)\[(\d+)\]: (.*)$')
dmesg = re.compile(rb'^\[[^\]]*\] (.*)$')
srcs = [("kubelet/kubelet.log", b"kubelet.service", b"kubelet"), ("containerd/containerd-log.txt", b"containerd.service", b"containerd"),
        ("kernel/dmesg.current", None, b"kernel")]
msgs = []
for rel, unit, ident in srcs:
    p = os.path.join(b, rel)
    if not os.path.exists(p):
        continue
    for line in open(p, "rb"):
        line = line.rstrip(b"\n")
        m = syslog.match(line) if unit else dmesg.match(line)
        if m:
            msgs.append((unit, ident, m.group(3) if unit else m.group(1)))
# Interleave the sources as a node's journal does.
msgs.sort(key=lambda x: hash(x[2]) & 0xffff)
t, mono = 1763634600000000, 5000000
boots = [b"1b4c7c3e9a0d4f6e8a2b5c7d9e0f1a2b", b"6a1f0e2d3c4b5a69788796a5b4c3d2e1"]
def field(k, v):
    if b"\n" in v:
        out.write(k + b"\n" + struct.pack("<Q", len(v)) + v + b"\n")
    else:
        out.write(k + b"=" + v + b"\n")
for i, (unit, ident, msg) in enumerate(msgs):
    boot = boots[0] if i < len(msgs) // 5 else boots[1]
    if i == len(msgs) // 5:
        mono = 3000000
    t += 10007; mono += 10007
    if i % 97 == 0:
        msg = msg + b"\n  continued: " + msg[:40]
    field(b"__REALTIME_TIMESTAMP", str(t).encode())
    field(b"__MONOTONIC_TIMESTAMP", str(mono).encode())
    field(b"_BOOT_ID", boot)
    field(b"_HOSTNAME", b"ip-10-0-37-142.us-west-2.compute.internal")
    if unit:
        field(b"_TRANSPORT", b"stdout"); field(b"_SYSTEMD_UNIT", unit); field(b"SYSLOG_IDENTIFIER", ident)
        field(b"_PID", b"3187" if ident == b"kubelet" else b"2874"); field(b"PRIORITY", b"6")
    else:
        field(b"_TRANSPORT", b"kernel"); field(b"SYSLOG_IDENTIFIER", b"kernel"); field(b"PRIORITY", b"5")
    field(b"MESSAGE", msg)
    out.write(b"\n")
PY
mkdir -p "$work/j"
"$remote" --output="$work/j/system.journal" - <"$work/all.export" 2>"$work/remote.err" || { cat "$work/remote.err" >&2; exit 1; }
files=("$work"/j/*.journal)
printf 'export %s MB, %d journal file(s), %s MB\n' "$(( $(stat -c %s "$work/all.export") / 1000000 ))" "${#files[@]}" \
  "$(( $(du -cb "${files[@]}" | tail -1 | cut -f1) / 1000000 ))"
ms() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
fail=0
# The entries span 10:30:00 to 10:51:35 UTC: the last two minutes are what a snapshot's window
# reads of a long journal.
for f in "" "-u kubelet" "-u containerd" "-k" "since"; do
  fl=(); jl=()
  if [ "$f" = since ]; then
    jl=(--since "2025-11-20 10:49:35"); fl=(-since "2025-11-20 10:49:35")
  elif [ -n "$f" ]; then
    read -r -a fl <<<"$f"; jl=("${fl[@]}")
  fi
  a=$(ms sh -c 'journalctl "$@" -o short-iso-precise --no-pager >"'"$work"'/jc.out"' _ "${jl[@]}" $(printf -- '--file=%s ' "${files[@]}"))
  b=$(ms sh -c '"'"$work"'/journalread" "$@" >"'"$work"'/jr.out"' _ "${fl[@]}" "${files[@]}")
  if cmp -s "$work/jc.out" "$work/jr.out"; then same=identical; else same=DIFFERENT; fail=1; diff "$work/jc.out" "$work/jr.out" | head -5 >&2; fi
  printf '%-14s %8d lines %6d MB  journalctl %6d ms  internal/journal %6d ms  %s\n' "${f:-all}" \
    "$(wc -l <"$work/jc.out")" "$(( $(stat -c %s "$work/jc.out") / 1000000 ))" "$a" "$b" "$same"
done
exit $fail
