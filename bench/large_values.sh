#!/usr/bin/env bash
# Peak memory of `run` and `verify` on a table of large values, against
# verify's target: 256 MB + 2 x the largest value.
#
# usage: bench/large_values.sh [MB]     (each value's size, default 300)
#
# Builds bench/out/large-MB.db (two random blobs and one text of MB
# megabytes each), loads it into a fresh database (PGHOST/PGPORT/PGUSER,
# default 127.0.0.1 5432 postgres) and measures each command's maximum
# resident set with GNU time. Exits 1 when verify is over its target.
set -euo pipefail
MB=${1:-300}
[[ $MB =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [MB]" >&2; exit 2; }
cd "$(dirname "$0")/.."
OUT=$PWD/bench/out
mkdir -p "$OUT"
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
BYTES=$((MB * 1000000))
DB=$OUT/large-$MB.db
if [[ ! -f $DB ]]; then
    sqlite3 "$DB.tmp" "CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB, t TEXT);
        INSERT INTO b VALUES (1, randomblob($BYTES), 'x');
        INSERT INTO b VALUES (2, randomblob($BYTES), 'y');
        INSERT INTO b VALUES (3, NULL, hex(randomblob($BYTES / 2)));"
    mv "$DB.tmp" "$DB"
fi
cargo build --release -q
BIN=$PWD/target/release/sqlite2pg
TOML=$OUT/large-$MB.toml
"$BIN" init "$DB" -o "$TOML" --force >/dev/null 2>&1
NAME=s2p_bench_large_$$
dropdb --if-exists "$NAME"; createdb "$NAME"
trap 'dropdb --if-exists "$NAME" >/dev/null 2>&1 || true' EXIT
URL="postgres://$PGUSER@$PGHOST:$PGPORT/$NAME"
kb() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
RUN_KB=$(kb "$BIN" run "$TOML" --target "$URL" --no-progress -q)
VERIFY_KB=$(kb "$BIN" verify "$TOML" --target "$URL")
TARGET_KB=$(( (256 + 2 * MB) * 1000 ))
echo "values of $MB MB: run peak $((RUN_KB / 1024)) MiB, verify peak $((VERIFY_KB / 1024)) MiB (target $((TARGET_KB / 1024)) MiB = 256 MB + 2 x $MB MB)"
(( VERIFY_KB <= TARGET_KB )) || { echo "verify is over its memory target" >&2; exit 1; }
