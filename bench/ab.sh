#!/usr/bin/env bash
# A/B of two sqlite2pg binaries on the bench database: `run` then `verify`
# of bench/bench.toml into a fresh database each time, the binaries
# alternating, medians of ROUNDS. For "did this change move the window?"
# (a refactor, an optimisation), not for the comparison with other tools
# (that is bench/run.sh).
#
# usage: bench/ab.sh BIN_A BIN_B [ROUNDS]
#   bench/out/bench.db must exist (bench/run.sh 1.0 makes it, or
#   python3 bench/gen_bench_db.py bench/out/bench.db 1.0).
# Environment: PGHOST PGPORT PGUSER (default 127.0.0.1 5432 postgres).
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 BIN_A BIN_B [ROUNDS]" >&2
    exit 2
fi
A=$(realpath "$1") B=$(realpath "$2") ROUNDS=${3:-3}
cd "$(dirname "$0")/.."
[[ -f bench/out/bench.db ]] || { echo "bench/out/bench.db missing: see usage" >&2; exit 2; }
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PGOPTIONS="-c timezone=UTC"
DB=s2p_ab_$$
trap 'dropdb --if-exists --force "$DB" 2>/dev/null || true' EXIT
now() { date +%s.%N; }
declare -A RUN VERIFY
for r in $(seq 1 "$ROUNDS"); do
    for side in A B; do
        bin=${!side}
        dropdb --if-exists --force "$DB" 2>/dev/null
        createdb "$DB"
        url="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
        t0=$(now)
        run_rc=0 verify_rc=0
        "$bin" run bench/bench.toml --target "$url" --no-progress >/dev/null 2>&1 || run_rc=$?
        t1=$(now)
        "$bin" verify bench/bench.toml --target "$url" >/dev/null 2>&1 || verify_rc=$?
        t2=$(now)
        RUN[$side]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') "
        VERIFY[$side]+="$(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.2f", b-a}') "
        echo "round $r $side: run $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, verify $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.2f", b-a}') s (exit codes: run $run_rc, verify $verify_rc; the messy table's rejects make run 3)"
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for side in A B; do
    echo "$side (${!side}): run median $(echo "${RUN[$side]}" | median) s [${RUN[$side]% }], verify median $(echo "${VERIFY[$side]}" | median) s [${VERIFY[$side]% }]"
done
