#!/usr/bin/env bash
# Installs everything the tests need and runs lint, type checks and the tests:
#   1. yflink with its test extras into ./.venv; ruff; mypy; unit and integration tests (real JobManager and
#      TaskManager processes on loopback);
#   2. the Hadoop/ZooKeeper/Kerberos stack (Debian packages, Maven jars, Python clients: yarn/setup.sh) and its
#      tests on a real HDFS, YARN, ZooKeeper ensemble and MIT KDC (tests/hadoop). YFLINK_SKIP_HADOOP=1 skips this.
# Usage: bash scripts/test.sh [pytest args for step 1...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
echo "== ruff"
.venv/bin/ruff check yflink tests examples bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest: unit and integration"
.venv/bin/python -m pytest -q "$@"
if [ "${YFLINK_SKIP_HADOOP:-0}" != "1" ]; then
  echo "== Hadoop, ZooKeeper and Kerberos stack"
  PYTHON=.venv/bin/python bash yarn/setup.sh
  .venv/bin/python -m pytest -q tests/hadoop -m hadoop
fi
