#!/usr/bin/env bash
# Runs the iots 0.5.0 compatibility suite (after setup.sh).
# Extra arguments are passed to pytest (e.g. -k revoke -x -v).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
PY="$HERE/.venv/bin/python"

if [ ! -x "$PY" ] || ! "$PY" -c 'import iots' >/dev/null 2>&1; then
    echo "tests/compat/iots/run.sh: dependencies missing; run 'bash tests/compat/iots/setup.sh' first" >&2
    exit 2
fi

if [ -z "${THINGSTEAD_BIN:-}" ]; then
    TARGET_DIR="$(bash "$REPO/scripts/target-dir")" || {
        echo "tests/compat/iots/run.sh: cannot ask cargo for the target directory" >&2
        exit 1
    }
    export THINGSTEAD_BIN="$TARGET_DIR/debug/thingstead"
    if [ ! -x "$THINGSTEAD_BIN" ] || [ -n "${COMPAT_BUILD:-}" ]; then
        echo "tests/compat/iots/run.sh: building thingstead (cargo build --locked -p thingstead-cli)"
        (cd "$REPO" && cargo build --locked -p thingstead-cli) || {
            echo "tests/compat/iots/run.sh: cargo build failed" >&2
            exit 1
        }
    fi
fi
if [ ! -x "$THINGSTEAD_BIN" ]; then
    echo "tests/compat/iots/run.sh: thingstead binary not found at $THINGSTEAD_BIN" >&2
    exit 1
fi

# tests/compat holds the shared server start-up (thingstead_compat.py,
# pgcluster.py); --confcutdir keeps the hologram suite's conftest.py out.
cd "$HERE"
PYTHONPATH="$COMPAT${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
    "$PY" -m pytest -c "$HERE/pytest.ini" --rootdir "$HERE" --confcutdir "$HERE" "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "tests/compat/iots/run.sh: pytest collected no tests; treating as failure" >&2
    exit 1
fi
exit "$rc"
