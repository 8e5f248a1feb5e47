#!/usr/bin/env bash
# Runs the exp-sdk 5.0.0 compatibility suite (after setup.sh).
# Extra arguments are passed to pytest (e.g. -k channel -x -v).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
PY="${COMPAT_PYTHON2:-/root/.pyenv/versions/2.7.18/bin/python}"
DEPS="$HERE/.deps"

if [ ! -x "$PY" ]; then
    echo "tests/compat/exp/run.sh: Python 2.7 interpreter not found at $PY (see tests/compat/README.md)" >&2
    exit 2
fi
if [ ! -d "$DEPS/exp_sdk" ]; then
    echo "tests/compat/exp/run.sh: dependencies missing; run 'bash tests/compat/exp/setup.sh' first" >&2
    exit 2
fi

if [ -z "${THINGSTEAD_BIN:-}" ]; then
    TARGET_DIR="$(bash "$REPO/scripts/target-dir")" || {
        echo "tests/compat/exp/run.sh: cannot ask cargo for the target directory" >&2
        exit 1
    }
    export THINGSTEAD_BIN="$TARGET_DIR/debug/thingstead"
    if [ ! -x "$THINGSTEAD_BIN" ] || [ -n "${COMPAT_BUILD:-}" ]; then
        echo "tests/compat/exp/run.sh: building thingstead (cargo build --locked -p thingstead-cli)"
        (cd "$REPO" && cargo build --locked -p thingstead-cli) || {
            echo "tests/compat/exp/run.sh: cargo build failed" >&2
            exit 1
        }
    fi
fi
if [ ! -x "$THINGSTEAD_BIN" ]; then
    echo "tests/compat/exp/run.sh: thingstead binary not found at $THINGSTEAD_BIN" >&2
    exit 1
fi

# tests/compat holds the shared server start-up (thingstead_compat.py,
# pgcluster.py); --confcutdir keeps the hologram suite's Python 3 conftest.py
# out of this Python 2 session.
cd "$HERE"
PYTHONPATH="$DEPS:$COMPAT${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
    "$PY" -m pytest -c "$HERE/pytest.ini" --rootdir "$HERE" --confcutdir "$HERE" "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "tests/compat/exp/run.sh: pytest collected no tests; treating as failure" >&2
    exit 1
fi
exit "$rc"
