#!/usr/bin/env bash
# The Python environment the app-framework tests use (real Django,
# SQLAlchemy 2 and Alembic from PyPI, psycopg 3): made once at target/pyenv,
# reused after (a new marker, .ready-vN, when the list changes remakes it).
# Safe to run from several tests at once (flock). Prints the venv's python
# on success; fails loudly.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${SQLITE2PG_PYENV:-$root/target/pyenv}"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.ready-v2" ]; then
    command -v python3 >/dev/null 2>&1 || { echo "python3 is required for the Django and SQLAlchemy tests (not found on PATH)" >&2; exit 1; }
    rm -rf "$venv"
    echo "== creating the test venv at $venv (Django, psycopg, SQLAlchemy, Alembic)" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "Django>=5,<6" "psycopg[binary]>=3" "SQLAlchemy>=2,<3" "alembic>=1.13,<2" >&2
    touch "$venv/.ready-v2"
fi
echo "$venv/bin/python"
