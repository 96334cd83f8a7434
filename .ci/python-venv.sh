#!/usr/bin/env bash
# Creates the virtualenv the Python-services tests (tests/python.rs) run the real frameworks
# from: Alembic + SQLAlchemy and Django + psycopg, from PyPI. Its folder is
# MIGSAFE_TEST_PYTHON_VENV (default target/py-venv); an existing, complete venv is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MIGSAFE_TEST_PYTHON_VENV:-target/py-venv}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import alembic, sqlalchemy, django, psycopg" 2>/dev/null; then
    exit 0
fi
python=""
for candidate in python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import venv" 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    echo "Python 3 with the venv module is missing; installing it for the Python-services tests"
    apt-get update -qq && apt-get install -y -qq python3 python3-venv
    python=python3
fi
echo "Creating $venv with alembic, SQLAlchemy, Django and psycopg"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check \
    "alembic>=1.13" "sqlalchemy>=2.0" "django>=4.2" "psycopg[binary]>=3.1"
