#!/usr/bin/env bash
# Runs the hologram-python 0.10.3 compatibility suite (after setup.sh).
# Extra arguments are passed to pytest (e.g. -k inbound -x -v).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${COMPAT_PYTHON:-/root/.pyenv/versions/3.9.18/bin/python}"
DEPS="$HERE/.deps"

if [ ! -x "$PY" ]; then
    echo "tests/compat/run.sh: Python 3.9 interpreter not found at $PY (see tests/compat/README.md)" >&2
    exit 2
fi
if [ ! -d "$DEPS/Hologram" ]; then
    echo "tests/compat/run.sh: dependencies missing; run 'bash tests/compat/setup.sh' first" >&2
    exit 2
fi

if [ -z "${THINGSTEAD_BIN:-}" ]; then
    TARGET_DIR="$(bash "$REPO/scripts/target-dir")" || {
        echo "tests/compat/run.sh: cannot ask cargo for the target directory" >&2
        exit 1
    }
    export THINGSTEAD_BIN="$TARGET_DIR/debug/thingstead"
    if [ ! -x "$THINGSTEAD_BIN" ] || [ -n "${COMPAT_BUILD:-}" ]; then
        echo "tests/compat/run.sh: building thingstead (cargo build --locked -p thingstead-cli)"
        (cd "$REPO" && cargo build --locked -p thingstead-cli) || {
            echo "tests/compat/run.sh: cargo build failed" >&2
            exit 1
        }
    fi
fi
if [ ! -x "$THINGSTEAD_BIN" ]; then
    echo "tests/compat/run.sh: thingstead binary not found at $THINGSTEAD_BIN" >&2
    exit 1
fi

cd "$HERE"
PYTHONPATH="$DEPS${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
    "$PY" -m pytest -c "$HERE/pytest.ini" --rootdir "$HERE" "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "tests/compat/run.sh: pytest collected no tests; treating as failure" >&2
    exit 1
fi
exit "$rc"
