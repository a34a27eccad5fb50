#!/usr/bin/env bash
# Benchmark sqlite2pg against a floor (server-side COPY of CSV files), a
# `sqlite3 | psql \copy` pipe, and pgloader. See bench/README.md.
#
# usage: bench/run.sh SCALE [REPEATS]      (SCALE 1.0 = 1M + 3M + 200k rows)
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER   server to load into (default 127.0.0.1 5432 postgres)
#   BENCH_CSV_DIR          where the floor's CSV files go; must be readable by
#                          the server's OS user (default /tmp/s2p-bench-csv)
#   BENCH_CONTENDERS       space-separated subset of
#                          "sqlite2pg sqlite2pg-clean floor pipe pgloader"
#   BENCH_PGLOADER_MEM     pgloader --dynamic-space-size in MB (default 8192)
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 SCALE [REPEATS]" >&2
    exit 2
fi
SCALE=$1
REPEATS=${2:-3}
if ! [[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || ! [[ $REPEATS =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 SCALE [REPEATS]   (SCALE a positive number, REPEATS >= 1)" >&2
    exit 2
fi

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
mkdir -p "$OUT"

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
# Naive source timestamps are UTC for every contender (sqlite2pg's default
# `timezone = "UTC"`); the CSV-based loaders get the same through the session.
export PGOPTIONS="-c timezone=UTC"
CSV_DIR=${BENCH_CSV_DIR:-/tmp/s2p-bench-csv}
read -r -a CONTENDERS <<<"${BENCH_CONTENDERS:-sqlite2pg sqlite2pg-clean floor pipe pgloader}"
PGLOADER_MEM=${BENCH_PGLOADER_MEM:-8192}
DB=$OUT/bench.db
BIN=$ROOT/target/release/sqlite2pg
TIME=/usr/bin/time
RAW=$OUT/raw-$SCALE.tsv
RESULTS=$OUT/results-$SCALE.md
LOG=$OUT/run-$SCALE.log
RES=$OUT/.result
: >"$LOG"
CLEAN_TABLES=(workflow_processes workflow_stages)
ALL_TABLES=(workflow_processes workflow_stages messy)

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$LOG" >&2; }
die() {
    say "FATAL: $*"
    exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
url() { echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1"; }

# ---------------------------------------------------------------- cleanup
CREATED_DBS=()
CUR="" # pid of the contender subshell running now
kill_tree() { # kill_tree PID: that process and its descendants, by pid
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        kill_tree "$c"
    done
    kill "$1" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $CUR ]]; then
        kill_tree "$CUR"
        wait "$CUR" 2>/dev/null || true
    fi
    local d
    for d in "${CREATED_DBS[@]}"; do
        dropdb --if-exists --force "$d" >>"$LOG" 2>&1 || true
    done
    rm -f "$OUT"/.time.* "$RES" "$OUT/.verify.json"
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

fresh_db() { # fresh_db NAME: drop and create; dropped again on exit
    [[ " ${CREATED_DBS[*]} " == *" $1 "* ]] || CREATED_DBS+=("$1")
    dropdb --if-exists --force "$1" >>"$LOG" 2>&1
    createdb "$1" >>"$LOG" 2>&1
}

# ---------------------------------------------------------------- tools
for t in psql createdb dropdb pg_isready sqlite3 python3 cargo awk; do
    command -v "$t" >/dev/null || die "$t not found on PATH"
done
if [[ ! -x $TIME ]]; then
    say "installing GNU time (/usr/bin/time) for peak RSS"
    apt-get install -y time >>"$LOG" 2>&1 || die "/usr/bin/time missing and 'apt-get install -y time' failed"
fi
pg_isready -q || die "PostgreSQL at $PGHOST:$PGPORT is not accepting connections"
if [[ " ${CONTENDERS[*]} " == *" pgloader "* ]] && ! command -v pgloader >/dev/null; then
    say "pgloader not on PATH; trying 'apt-get install -y pgloader' once"
    apt-get install -y pgloader >>"$LOG" 2>&1 || say "could not install pgloader: its rows will say skip"
fi
HAVE_PGLOADER=0
command -v pgloader >/dev/null && HAVE_PGLOADER=1

# ---------------------------------------------------------------- source DB
if [[ -f $DB && -f $DB.scale && $(cat "$DB.scale") == "$SCALE" ]]; then
    say "reusing $DB (scale $SCALE)"
else
    say "generating $DB at scale $SCALE"
    rm -f "$DB" "$DB.scale" "$DB.tmp"
    python3 bench/gen_bench_db.py "$DB.tmp" "$SCALE" >>"$LOG" 2>&1
    mv "$DB.tmp" "$DB"
    echo "$SCALE" >"$DB.scale"
fi
declare -A ROWS
for t in "${ALL_TABLES[@]}"; do
    ROWS[$t]=$(sqlite3 "$DB" "SELECT count(*) FROM $t")
done
ROWS_CLEAN=$((ROWS[workflow_processes] + ROWS[workflow_stages]))
ROWS_ALL=$((ROWS_CLEAN + ROWS[messy]))
say "source rows: workflow_processes=${ROWS[workflow_processes]} workflow_stages=${ROWS[workflow_stages]} messy=${ROWS[messy]}"

# ---------------------------------------------------------------- build
say "cargo build --release (log: bench/out/build.log)"
cargo build --release >"$OUT/build.log" 2>&1 || die "cargo build --release failed; see bench/out/build.log"

# ---------------------------------------------------------------- shared SQL
# Column types as in bench/bench.toml; no keys until after the data.
WP_COLS="id,workflow_name,message,max_turns,session_name,git_branch,repository_url,created_at,updated_at,status,result,error_message,execution_time,total_cost,started_at,completed_at"
WS_COLS="stage_id,run_id,stage_name,tier,skipped,skip_reason,cost,duration_ms,input_tokens,output_tokens"
declare -A COLS=([workflow_processes]=$WP_COLS [workflow_stages]=$WS_COLS)
CREATE_SQL="
CREATE TABLE workflow_processes (
    id text NOT NULL, workflow_name text NOT NULL, message text NOT NULL,
    max_turns bigint DEFAULT 30, session_name text, git_branch text, repository_url text,
    created_at timestamptz DEFAULT CURRENT_TIMESTAMP, updated_at timestamptz DEFAULT CURRENT_TIMESTAMP,
    status text DEFAULT 'pending', result text, error_message text,
    execution_time bigint, total_cost double precision,
    started_at timestamptz, completed_at timestamptz);
CREATE TABLE workflow_stages (
    stage_id bigint NOT NULL, run_id text NOT NULL, stage_name text NOT NULL, tier text NOT NULL,
    skipped bigint NOT NULL DEFAULT 0, skip_reason text,
    cost double precision NOT NULL DEFAULT 0.0, duration_ms bigint NOT NULL DEFAULT 0,
    input_tokens bigint DEFAULT 0, output_tokens bigint DEFAULT 0);"
declare -A KEYS_SQL=(
    [workflow_processes]="ALTER TABLE workflow_processes ADD PRIMARY KEY (id); CREATE INDEX idx_wp_status ON workflow_processes (status); ANALYZE workflow_processes;"
    [workflow_stages]="ALTER TABLE workflow_stages ADD PRIMARY KEY (stage_id); CREATE INDEX idx_run_stages ON workflow_stages (run_id); ANALYZE workflow_stages;"
)
FK_SQL="ALTER TABLE workflow_stages ADD CONSTRAINT workflow_stages_run_id_fkey FOREIGN KEY (run_id) REFERENCES workflow_processes (id);"

# ---------------------------------------------------------------- helpers
timed() { # timed TAG CMD...: run under GNU time, wall and max RSS to $OUT/.time.TAG
    "$TIME" -f '%e %M' -o "$OUT/.time.$1" "${@:2}"
}
max_rss_kb() { # over every process timed in this round of this contender
    local m=0 f v
    for f in "$OUT"/.time.*; do
        [[ -s $f ]] || continue
        v=$(tail -n1 "$f" | awk '{print $2}')
        if [[ $v =~ ^[0-9]+$ ]] && ((v > m)); then m=$v; fi
    done
    echo "$m"
}
wait_all() { # wait for each pid; non-zero if any failed
    local p bad=0
    for p in "$@"; do
        wait "$p" || bad=1
    done
    return $bad
}
check_counts() { # check_counts DB TABLE...: target row counts equal the source's
    local d=$1 t n ok=0
    shift
    for t in "$@"; do
        n=$(psql -X -qAt -d "$d" -c "SELECT count(*) FROM $t" 2>>"$LOG") || n=missing
        if [[ $n != "${ROWS[$t]}" ]]; then
            say "  $t in $d: $n rows, source has ${ROWS[$t]}"
            ok=1
        fi
    done
    return $ok
}
check_keys() { # check_keys DB: 2 primary keys and 1 foreign key on the clean tables
    local n
    n=$(psql -X -qAt -d "$1" -c "SELECT count(*) FROM pg_constraint WHERE conrelid IN ('workflow_processes'::regclass, 'workflow_stages'::regclass) AND contype IN ('p', 'f')" 2>>"$LOG") || n=0
    [[ $n == 3 ]] || {
        say "  $1: expected 2 primary keys + 1 foreign key, found $n"
        return 1
    }
}

# ---------------------------------------------------------------- contenders
# run_<contender> DB [ARG] loads into an existing empty database; it runs in a
# subshell under `set -e`, between the two clock readings. check_<contender>
# runs afterwards, outside the clock. Both log to bench/out/<contender>.log and
# report through "key=value" lines in $RES (fail=, skip=, note=, ...).

MAPPING_SOURCE=""
s2p_prepare_mappings() { # $1 = log; writes $OUT/bench.toml and $OUT/bench-clean.toml
    local log=$1
    rm -f "$OUT/bench.toml" "$OUT/bench-clean.toml" "$OUT/bench-init.toml"
    if timed s2p-init "$BIN" init "$DB" -o "$OUT/bench-init.toml" >>"$log" 2>&1 \
        && [[ -s $OUT/bench-init.toml ]]; then
        MAPPING_SOURCE=init
        # The messy table must produce rejects, not a failed run.
        python3 bench/patch_mapping.py "$OUT/bench-init.toml" "$OUT/bench.toml" \
            --reject-limit 1000000 >>"$log" 2>&1
    else
        MAPPING_SOURCE="fallback bench/bench.toml (init failed)"
        echo "init failed or wrote nothing: using bench/bench.toml" >>"$log"
        python3 bench/patch_mapping.py bench/bench.toml "$OUT/bench.toml" >>"$log" 2>&1
    fi
    python3 bench/patch_mapping.py "$OUT/bench.toml" "$OUT/bench-clean.toml" --exclude messy >>"$log" 2>&1
}

run_sqlite2pg() { # $1 = database, $2 = full|clean
    local d=$1 which=$2 log=$OUT/sqlite2pg-$2.log mapping=$OUT/bench.toml
    [[ $which == clean ]] && mapping=$OUT/bench-clean.toml
    echo "=== round $ROUND $(date -Is)" >>"$log"
    local t0 t1 t2 rc=0
    t0=$(now)
    s2p_prepare_mappings "$log"
    t1=$(now)
    timed s2p-run "$BIN" run "$mapping" --target "$(url "$d")" --no-progress >>"$log" 2>&1 || rc=$?
    t2=$(now)
    {
        echo "init_s=$(elapsed "$t0" "$t1")"
        echo "run_s=$(elapsed "$t1" "$t2")"
        echo "mapping=$MAPPING_SOURCE"
        echo "run_rc=$rc"
    } >>"$RES"
    # 3 = finished with rejected rows (expected: the messy table).
    if [[ $rc != 0 && $rc != 3 ]]; then
        echo "fail=$(grep '^error:' "$log" | tail -n1 | cut -c1-200)" >>"$RES"
        return 0
    fi
}
check_sqlite2pg() { # $1 = database, $2 = full|clean
    local d=$1 which=$2 log=$OUT/sqlite2pg-$2.log vnote mapping=$OUT/bench.toml t2 t3 vrc=0
    [[ $which == clean ]] && mapping=$OUT/bench-clean.toml
    # Not timed: issue 5 times init + run (whose verify stage checks counts);
    # the full verify (checksums, FKs, sequences) is the correctness gate.
    t2=$(now)
    timed s2p-verify "$BIN" verify "$mapping" --target "$(url "$d")" --json \
        >"$OUT/.verify.json" 2>>"$log" || vrc=$?
    t3=$(now)
    echo "verify_s=$(elapsed "$t2" "$t3")" >>"$RES"
    echo "verify_rc=$vrc" >>"$RES"
    {
        cat "$OUT/.verify.json" 2>/dev/null || true
        echo
    } >>"$log"
    # Every source row is in the target or a reject; the clean tables have no
    # rejects and equal checksums.
    if vnote=$(python3 bench/check_verify.py "$OUT/.verify.json" "$which" 2>>"$log"); then
        echo "note=$vnote" >>"$RES"
    else
        echo "fail=verify: $vnote" >>"$RES"
    fi
    check_counts "$d" "${CLEAN_TABLES[@]}" || echo "fail=target counts differ" >>"$RES"
    check_keys "$d" || echo "fail=keys missing" >>"$RES"
}

export_csv() { # once per invocation, not timed: the floor's input files
    mkdir -p "$CSV_DIR"
    chmod 755 "$CSV_DIR"
    local t f
    for t in "${CLEAN_TABLES[@]}"; do
        f=$CSV_DIR/$t.csv
        if [[ ! -s $f || $f -ot $DB ]]; then
            say "exporting $t to $f (not timed)"
            sqlite3 -csv "$DB" "SELECT ${COLS[$t]} FROM $t" >"$f.tmp"
            mv "$f.tmp" "$f"
        fi
        chmod a+r "$f"
    done
}

run_floor() {
    local d=$1 log=$OUT/floor.log t pids=()
    echo "=== round $ROUND $(date -Is)" >>"$log"
    timed floor-create psql -X -q -v ON_ERROR_STOP=1 -d "$d" -c "$CREATE_SQL" >>"$log" 2>&1
    for t in "${CLEAN_TABLES[@]}"; do
        timed "floor-copy-$t" psql -X -q -v ON_ERROR_STOP=1 -d "$d" \
            -c "COPY $t (${COLS[$t]}) FROM '$CSV_DIR/$t.csv' (FORMAT csv)" >>"$log" 2>&1 &
        pids+=($!)
    done
    if ! wait_all "${pids[@]}"; then
        echo "fail=COPY failed" >>"$RES"
        return 0
    fi
    pids=()
    for t in "${CLEAN_TABLES[@]}"; do
        timed "floor-keys-$t" psql -X -q -v ON_ERROR_STOP=1 -d "$d" -c "${KEYS_SQL[$t]}" >>"$log" 2>&1 &
        pids+=($!)
    done
    if ! wait_all "${pids[@]}"; then
        echo "fail=keys failed" >>"$RES"
        return 0
    fi
    if ! timed floor-fk psql -X -q -v ON_ERROR_STOP=1 -d "$d" -c "$FK_SQL" >>"$log" 2>&1; then
        echo "fail=FK failed" >>"$RES"
        return 0
    fi
    echo "note=server-side COPY of CSV (export not timed), tables in parallel; PK+index+ANALYZE per table in parallel; then the FK; RSS = max over the psql clients" >>"$RES"
}
check_floor() {
    check_counts "$1" "${CLEAN_TABLES[@]}" || echo "fail=target counts differ" >>"$RES"
    check_keys "$1" || echo "fail=keys missing" >>"$RES"
}

run_pipe() {
    local d=$1 log=$OUT/pipe.log t pids=()
    echo "=== round $ROUND $(date -Is)" >>"$log"
    timed pipe-create psql -X -q -v ON_ERROR_STOP=1 -d "$d" -c "$CREATE_SQL" >>"$log" 2>&1
    for t in "${CLEAN_TABLES[@]}"; do
        (
            set -o pipefail
            timed "pipe-sqlite3-$t" sqlite3 -csv "$DB" "SELECT ${COLS[$t]} FROM $t" 2>>"$log" \
                | timed "pipe-psql-$t" psql -X -q -v ON_ERROR_STOP=1 -d "$d" \
                    -c "\\copy $t (${COLS[$t]}) FROM STDIN (FORMAT csv)" >>"$log" 2>&1
        ) &
        pids+=($!)
    done
    if ! wait_all "${pids[@]}"; then
        echo "fail=pipe failed" >>"$RES"
        return 0
    fi
    echo "note=data only, no keys; tables in parallel; RSS = max over the sqlite3 and psql processes" >>"$RES"
}
check_pipe() {
    check_counts "$1" "${CLEAN_TABLES[@]}" || echo "fail=target counts differ" >>"$RES"
}

run_pgloader() {
    local d=$1 log=$OUT/pgloader.log load=$OUT/pgloader.load rc=0
    if [[ $HAVE_PGLOADER == 0 ]]; then
        echo "skip=pgloader not installed and 'apt-get install -y pgloader' failed" >>"$RES"
        return 0
    fi
    echo "=== round $ROUND $(date -Is)" >>"$log"
    printf '%s\n' "LOAD DATABASE" \
        "    FROM sqlite://$DB" \
        "    INTO $(url "$d")" \
        "    WITH include drop, create tables, create indexes, foreign keys, reset sequences" \
        "    INCLUDING ONLY TABLE NAMES LIKE 'workflow_processes', 'workflow_stages';" >"$load"
    timed pgloader pgloader --dynamic-space-size "$PGLOADER_MEM" \
        --root-dir "$OUT/pgloader-root" --logfile "$OUT/pgloader-internal.log" \
        "$load" >>"$log" 2>&1 || rc=$?
    if [[ $rc != 0 ]]; then
        echo "fail=pgloader exit $rc" >>"$RES"
        return 0
    fi
    echo "note=pgloader's own type casts; creates tables, indexes, foreign keys; RSS of the pgloader process" >>"$RES"
}
check_pgloader() {
    check_counts "$1" "${CLEAN_TABLES[@]}" || echo "fail=target counts differ" >>"$RES"
    check_keys "$1" || echo "fail=keys missing" >>"$RES"
}

# ---------------------------------------------------------------- rounds
for c in "${CONTENDERS[@]}"; do
    case $c in
    sqlite2pg | sqlite2pg-clean | floor | pipe | pgloader) ;;
    *) die "unknown contender '$c' in BENCH_CONTENDERS" ;;
    esac
done
if [[ " ${CONTENDERS[*]} " == *" floor "* ]]; then export_csv; fi

get() { sed -n "s/^$1=//p" "$RES" | tail -n1; }
printf 'contender\tround\tseconds\trss_kb\tstatus\tnote\tinit_s\trun_s\tverify_s\n' >"$RAW"
n=${#CONTENDERS[@]}
for ((ROUND = 1; ROUND <= REPEATS; ROUND++)); do
    # Rotate the order each round so no contender is always first or last.
    order=()
    for ((i = 0; i < n; i++)); do
        order+=("${CONTENDERS[$(((i + ROUND - 1) % n))]}")
    done
    say "round $ROUND/$REPEATS: ${order[*]}"
    for c in "${order[@]}"; do
        d=s2p_bench_$$_${c//-/_}
        fn=${c%%-*}
        args=("$d")
        [[ $c == sqlite2pg ]] && args+=(full)
        [[ $c == sqlite2pg-clean ]] && args+=(clean)
        rm -f "$OUT"/.time.* "$OUT/.verify.json"
        : >"$RES"
        fresh_db "$d" # not timed
        sync
        t0=$(now)
        (
            set -e
            "run_$fn" "${args[@]}"
        ) &
        CUR=$!
        sub=0
        wait "$CUR" || sub=$?
        CUR=""
        t1=$(now)
        if [[ $sub != 0 ]]; then echo "fail=aborted (exit $sub), see bench/out/$c*.log" >>"$RES"; fi
        if ! grep -q '^\(fail\|skip\)=' "$RES"; then "check_$fn" "${args[@]}"; fi # not timed
        dropdb --if-exists --force "$d" >>"$LOG" 2>&1 || true
        secs=$(elapsed "$t0" "$t1")
        status=ok
        note=$(get note)
        if grep -q '^skip=' "$RES"; then status=skip note=$(get skip); fi
        if grep -q '^fail=' "$RES"; then status=FAIL note=$(sed -n 's/^fail=//p' "$RES" | paste -sd';'); fi
        mapping=$(get mapping)
        if [[ -n $mapping ]]; then
            note="mapping: $mapping; run exit $(get run_rc), verify exit $(get verify_rc || true); $note"
            note=${note//verify exit ;/no verify;}
        fi
        rss=$(max_rss_kb)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$ROUND" "$secs" "$rss" "$status" "${note//$'\t'/ }" \
            "$(get init_s)" "$(get run_s)" "$(get verify_s)" >>"$RAW"
        say "  $c: ${secs}s, $status${note:+ ($note)}"
    done
done

# ---------------------------------------------------------------- report
python3 bench/report.py "$RAW" "$RESULTS" "$SCALE" "$REPEATS" \
    "${ROWS[workflow_processes]}" "${ROWS[workflow_stages]}" "${ROWS[messy]}"
say "results written to bench/out/results-$SCALE.md (raw rounds: bench/out/raw-$SCALE.tsv)"
if awk -F'\t' 'NR > 1 && $5 == "FAIL" { bad = 1 } END { exit !bad }' "$RAW"; then
    say "some rounds FAILED; see bench/out/*.log"
    exit 1
fi
