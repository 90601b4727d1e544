#!/usr/bin/env python3
"""Checks nodediag's crash facts against the incident that mkbundle.py planted (expected.json).

Every restart of the incident must appear as an OOM kill of its pid in its container, a containerd
or kubelet exit with code 137 for its container id, and the facts must name the pod and container.
Exits 1 with the missing items listed.
"""
import json
import sys

exp = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))["facts"]
missing = []
for r in exp["restarts"]:
    cid, pid = r["container_id"], r["pid"]
    ooms = [f for f in got if f["kind"] == "OOMKill" and f.get("pid") == pid]
    if not ooms:
        missing.append(f"OOMKill of pid {pid}")
    elif ooms[0].get("containerID") != cid:
        missing.append(f"OOMKill of pid {pid} joined to container {cid[:12]} (got {ooms[0].get('containerID', '')[:12]})")
    exits = [f for f in got if f["kind"] == "ContainerExit" and f.get("containerID") == cid and f.get("exitCode") == r["exit_code"]]
    if not exits:
        missing.append(f"exit {r['exit_code']} of container {cid[:12]}")
    for f in ooms[:1] + exits:
        if f.get("pod") != exp["pod"] or f.get("namespace") != exp["namespace"] or f.get("container") != exp["container"]:
            missing.append(f"{f['kind']} at {f['ref']['file']}:{f['ref']['line']} not joined to {exp['namespace']}/{exp['pod']}/{exp['container']}")
n = len(exp["restarts"])
if missing:
    print(f"incident: {len(missing)} problems over {n} restarts:")
    for m in missing:
        print("  -", m)
    sys.exit(1)
print(f"incident: all {n} OOM kills and exits found and joined to {exp['namespace']}/{exp['pod']}/{exp['container']}")
