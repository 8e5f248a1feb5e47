#!/usr/bin/env bash
# Installs the interpreter-side dependencies of the exp-sdk 5.0.0
# compatibility suite into tests/compat/exp/.deps (idempotent).
#
# exp-sdk 5.0.0 is Python 2 code (iteritems, basestring, urllib.quote,
# str-based JWT signing), so we use the pyenv interpreter
# /root/.pyenv/versions/2.7.18 (override with COMPAT_PYTHON2).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${COMPAT_PYTHON2:-/root/.pyenv/versions/2.7.18/bin/python}"
DEPS="$HERE/.deps"
REQ="$HERE/requirements.txt"
STAMP="$DEPS/.installed-requirements"
IMPORTS='import exp_sdk, socketIO_client, requests, websocket, pytest, pytest_timeout'

if [ ! -x "$PY" ]; then
    echo "tests/compat/exp/setup.sh: Python 2.7 interpreter not found at $PY" >&2
    echo "  exp-sdk 5.0.0 is Python 2 code and runs unmodified only on CPython 2.7." >&2
    echo "  Install it with 'pyenv install 2.7.18' or set COMPAT_PYTHON2=/path/to/python2.7." >&2
    exit 2
fi

ver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$ver" != "2.7" ]; then
    echo "tests/compat/exp/setup.sh: $PY is Python $ver, but exp-sdk 5.0.0 needs 2.7" >&2
    exit 2
fi

# Idempotent: skip the install when the same requirements are already in place
# and the modules import.
if [ -f "$STAMP" ] && cmp -s "$REQ" "$STAMP" \
   && PYTHONPATH="$DEPS" "$PY" -c "$IMPORTS" >/dev/null 2>&1; then
    echo "tests/compat/exp/setup.sh: dependencies already installed in $DEPS"
    exit 0
fi

rm -rf "$DEPS"
mkdir -p "$DEPS"
"$PY" -m pip install --disable-pip-version-check --no-input --quiet \
    --target "$DEPS" -r "$REQ"

PYTHONPATH="$DEPS" "$PY" -c "$IMPORTS" || {
    echo "tests/compat/exp/setup.sh: installed packages do not import" >&2
    exit 1
}
cp "$REQ" "$STAMP"
echo "tests/compat/exp/setup.sh: installed into $DEPS"
