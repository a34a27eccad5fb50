#!/usr/bin/env python3
"""Summarize bench/out/raw-<scale>.tsv: medians per contender, one table on
stdout and the same as Markdown in bench/out/results-<scale>.md.

usage: report.py RAW.tsv RESULTS.md SCALE REPEATS N_PROCESSES N_STAGES N_MESSY
"""
import csv, datetime, os, statistics, sys

raw, out, scale, repeats, n_wp, n_ws, n_messy = sys.argv[1:]
n_wp, n_ws, n_messy = int(n_wp), int(n_ws), int(n_messy)
rows_clean = n_wp + n_ws
recs = list(csv.DictReader(open(raw, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))

ORDER = ["floor", "sqlite2pg-clean", "sqlite2pg", "pipe", "pgloader"]
LABEL = {
    "floor": "floor: server COPY csv + keys",
    "sqlite2pg-clean": "sqlite2pg, 2 clean tables",
    "sqlite2pg": "sqlite2pg, all 3 tables",
    "pipe": "pipe: sqlite3|psql, no keys",
    "pgloader": "pgloader, 2 clean tables",
}
ROWS = {"sqlite2pg": rows_clean + n_messy}


def med(xs):
    return statistics.median(xs) if xs else None


res = {}
for c in ORDER:
    rs = [r for r in recs if r["contender"] == c]
    if not rs:
        continue
    ok = [r for r in rs if r["status"] == "ok"]
    if len(ok) == len(rs):
        status = "ok"
    elif all(r["status"] == "skip" for r in rs):
        status = "skipped"
    else:
        status = f"{sum(r['status'] == 'FAIL' for r in rs)}/{len(rs)} failed"
    f = lambda k: med([float(r[k]) for r in ok if r[k]])
    res[c] = dict(
        secs=f("seconds"),
        # Peak over the rounds that succeeded.
        rss=max((int(r["rss_kb"]) for r in ok if r["rss_kb"].isdigit()), default=0),
        status=status,
        note=rs[-1]["note"],
        init=f("init_s"), run=f("run_s"), verify=f("verify_s"),
    )

floor = res.get("floor", {}).get("secs")
hdr = ["contender", "seconds", "rows", "rows/s", "peak RSS MB", "x floor", "status"]
table = []
for c, r in res.items():
    rows = ROWS.get(c, rows_clean)
    if r["secs"] is None:
        table.append([LABEL[c], "-", f"{rows:,}", "-", "-", "-", r["status"]])
        continue
    table.append([
        LABEL[c], f"{r['secs']:.2f}", f"{rows:,}", f"{rows / r['secs']:,.0f}",
        f"{r['rss'] / 1024:.1f}" if r["rss"] else "n/a",
        f"{r['secs'] / floor:.2f}" if floor else "-", r["status"],
    ])

width = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(hdr)]
def line(row):
    return "  ".join(x.ljust(width[i]) if i == 0 else x.rjust(width[i]) for i, x in enumerate(row))

head = (f"scale {scale}: workflow_processes {n_wp:,}, workflow_stages {n_ws:,}, messy {n_messy:,} rows; "
        f"median of {repeats} round(s), contenders alternated")
breakdown = []
for c in ("sqlite2pg", "sqlite2pg-clean"):
    r = res.get(c)
    if r and r["secs"] is not None:
        v = lambda x: "-" if x is None else f"{x:.2f}"
        breakdown.append(f"- {LABEL[c]}: init {v(r['init'])} s, run {v(r['run'])} s, verify {v(r['verify'])} s")
notes = [f"- {LABEL[c]}: {r['note']}" for c, r in res.items() if r["note"]]

print()
print(head)
print(line(hdr))
for row in table:
    print(line(row))
if breakdown:
    print("\nsqlite2pg medians by step:")
    print("\n".join(breakdown))

md = [f"# sqlite2pg benchmark, scale {scale}", "",
      f"{datetime.datetime.now().isoformat(timespec='seconds')}, {os.cpu_count()} CPUs. {head}.", "",
      "| " + " | ".join(hdr) + " |",
      "|" + "|".join([" --- "] + [" ---: "] * (len(hdr) - 2) + [" --- "]) + "|"]
md += ["| " + " | ".join(x.replace("|", "\\|") for x in row) + " |" for row in table]
md += ["", "seconds: median wall time of the successful rounds; rows/s: source rows of the tables "
       "that contender loads / seconds; peak RSS: largest max-RSS of the client-side processes "
       "(not the PostgreSQL server); x floor: seconds / floor seconds. See bench/README.md."]
if breakdown:
    md += ["", "sqlite2pg medians by step (init = `init` or the fallback mapping; run = prepare, copy, "
           "finalize, count check — these two are the timed seconds; verify = `verify --json`, counts and checksums, "
           "run after the clock as the correctness gate):", ""] + breakdown
md += ["", "Notes (last round):", ""] + notes
md += ["", f"Per-round figures: `bench/out/{os.path.basename(raw)}`.", ""]
with open(out, "w") as fh:
    fh.write("\n".join(md))
