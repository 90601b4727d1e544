#!/usr/bin/env bash
# internal/journal against a journal written by a real systemd-journald, not by
# systemd-journal-remote: journald adds its trusted fields (_PID, _UID, _COMM, _EXE, _CMDLINE,
# _CAP_EFFECTIVE, _SYSTEMD_*), takes stdout streams (_TRANSPORT=stdout, as the kubelet's and
# containerd's lines arrive on a node), compresses large fields, and reads the kernel's ring
# buffer from /dev/kmsg (_TRANSPORT=kernel). This script starts journald on this machine, feeds it
# the kubelet and containerd lines of a bundle through systemd-cat plus the awkward cases (a
# 1 KB line, a tab, colour codes, bytes that are not UTF-8, a multi-line native message), stops
# it, and compares journalctl's -o short-iso-precise output with bench/journalread's, all and
# filtered. systemd-cat's lines carry no _SYSTEMD_UNIT without systemd as PID 1, so `-u kubelet`
# prints none here; the unit matching is held by internal/journal's goldens. Intrusive: it runs journald as this machine's; for a throwaway machine or container
# where no journald runs (it refuses otherwise). Needs root and Debian's systemd.
#
#   sudo bash bench/journald-live.sh BUNDLE_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:?usage: bench/journald-live.sh BUNDLE_DIR (a bundle with kubelet/kubelet.log, e.g. ../shared/bench/mkbundle.py)}
journald=/lib/systemd/systemd-journald
[ -x "$journald" ] || { echo "journald-live: no $journald (apt-get install systemd)" >&2; exit 2; }
if pgrep -x systemd-journal >/dev/null || pgrep -f "$journald" >/dev/null; then
  echo "journald-live: a journald already runs here; this script starts its own and would disturb it" >&2
  exit 2
fi
[ -s /etc/machine-id ] || { echo "journald-live: no /etc/machine-id" >&2; exit 2; }
work=$(mktemp -d)
mkdir -p /run/systemd/journal
# journald keeps the kernel's sequence number it read up to; without it, it reads the whole ring
# buffer again: the kernel lines this machine booted with are the -k case.
rm -f /run/systemd/journal/kernel-seqnum
# Sockets a journald that is gone left behind would pass the wait below before ours listens.
rm -f /run/systemd/journal/stdout /run/systemd/journal/socket /run/systemd/journal/dev-log /run/systemd/journal/io.systemd.journal
"$journald" >"$work/journald.log" 2>&1 &
jpid=$!
trap 'kill "$jpid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.1; done
strip='s/^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [^ ]+ [^:]+: //'
head -2000 "$bundle/kubelet/kubelet.log" | sed -E "$strip" | systemd-cat -t kubelet
head -800 "$bundle/containerd/containerd-log.txt" | sed -E "$strip" | systemd-cat -t containerd
python3 -c "print('E1206 20:35:00.000000    3187 pod_workers.go:1301] \"Error syncing pod, skipping\" err=\"' + 'x'*1000 + '\"')" | systemd-cat -t kubelet -p err
printf 'tab\there\n\033[31mred\033[0m text\n' | systemd-cat -t special
printf 'bad utf8 \xff\xfe here\n' | systemd-cat -t badutf
python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
msg = b"first line\nsecond line\n  indented third"
s.sendto(b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg + b"\nSYSLOG_IDENTIFIER=multiline\nPRIORITY=3\n", "/run/systemd/journal/socket")
PY
sleep 1
kill "$jpid"; wait "$jpid" 2>/dev/null || true
mapfile -t files < <(ls /run/log/journal/*/*.journal /var/log/journal/*/*.journal 2>/dev/null)
[ "${#files[@]}" -gt 0 ] || { echo "journald-live: journald wrote no journal file" >&2; cat "$work/journald.log" >&2; exit 1; }
export TZ=UTC LC_ALL=C
go build -o "$work/journalread" ./bench/journalread
printf 'journal files: %s\n' "${files[*]}"
journalctl --no-pager -o export $(printf -- '--file=%s ' "${files[@]}") | grep -a '^_TRANSPORT=' | sort | uniq -c
fail=0
for f in "" "-u kubelet" "-k"; do
  fl=(); [ -n "$f" ] && read -r -a fl <<<"$f"
  journalctl "${fl[@]}" -o short-iso-precise --no-pager $(printf -- '--file=%s ' "${files[@]}") >"$work/jc.out"
  "$work/journalread" "${fl[@]}" "${files[@]}" >"$work/jr.out"
  if cmp -s "$work/jc.out" "$work/jr.out"; then same=identical; else same=DIFFERENT; fail=1; diff "$work/jc.out" "$work/jr.out" | head -5 >&2; fi
  printf '%-12s %6d lines  %s\n' "${f:-all}" "$(wc -l <"$work/jc.out")" "$same"
done
exit $fail
