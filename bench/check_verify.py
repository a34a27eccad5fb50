#!/usr/bin/env python3
"""Judge `sqlite2pg verify --json` output for the benchmark.

usage: check_verify.py VERIFY.json full|clean
Every source row must be in the target or counted as a reject; the two clean
tables must have no rejects and equal checksums; exactly the expected tables
must be there. Prints a one-line verdict; exit 0 when it holds.
"""
import json, sys

path, which = sys.argv[1], sys.argv[2]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"no verify JSON ({e})")
    sys.exit(1)
want = {"workflow_processes", "workflow_stages"} | ({"messy"} if which == "full" else set())
seen, bad, rej = set(), [], 0
for t in r.get("tables", []):
    name = t["source_table"]
    seen.add(name)
    src, tgt, rj = t["source_rows"], t["target_rows"], t.get("rejected_rows") or 0
    rej += rj
    if tgt is None or tgt + rj != src:
        bad.append(f"{name}: {src} source != {tgt} target + {rj} rejected")
    if name != "messy" and (rj or t.get("checksum_match") is not True):
        bad.append(f"{name}: {rj} rejected, checksum_match={t.get('checksum_match')}")
if seen != want:
    bad.append(f"verified tables {sorted(seen)}, expected {sorted(want)}")
if bad:
    print("; ".join(bad))
    sys.exit(1)
print(f"{rej} rejected rows" + (" (messy)" if rej else "") + ", clean tables checksum-equal")
