#!/usr/bin/env bash
# Installs the interpreter-side dependencies of the hologram-python
# compatibility suite into tests/compat/.deps (idempotent).
#
# hologram-python 0.10.3 only imports on CPython 3.9 (its dependency
# python-sdk-auth ships .pyc files compiled for 3.9), so we use the pyenv
# interpreter /root/.pyenv/versions/3.9.18 (override with COMPAT_PYTHON).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${COMPAT_PYTHON:-/root/.pyenv/versions/3.9.18/bin/python}"
DEPS="$HERE/.deps"
REQ="$HERE/requirements.txt"
STAMP="$DEPS/.installed-requirements"

if [ ! -x "$PY" ]; then
    echo "tests/compat/setup.sh: Python 3.9 interpreter not found at $PY" >&2
    echo "  hologram-python 0.10.3 imports only on CPython 3.9 (python-sdk-auth ships 3.9 .pyc files)." >&2
    echo "  Install it with 'pyenv install 3.9.18' or set COMPAT_PYTHON=/path/to/python3.9." >&2
    exit 2
fi

ver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$ver" != "3.9" ]; then
    echo "tests/compat/setup.sh: $PY is Python $ver, but hologram-python 0.10.3 needs 3.9" >&2
    exit 2
fi

# Idempotent: skip the install when the same requirements are already in place
# and the modules import.
if [ -f "$STAMP" ] && cmp -s "$REQ" "$STAMP" \
   && PYTHONPATH="$DEPS" "$PY" -c 'import Hologram.HologramCloud, Hologram.CustomCloud, pytest, pytest_timeout' >/dev/null 2>&1; then
    echo "tests/compat/setup.sh: dependencies already installed in $DEPS"
    exit 0
fi

if ! command -v gcc >/dev/null 2>&1; then
    echo "tests/compat/setup.sh: gcc not found; psutil and pycryptodome (hologram-python deps) build from source" >&2
    exit 2
fi

rm -rf "$DEPS"
mkdir -p "$DEPS"
"$PY" -m pip install --disable-pip-version-check --no-input --quiet \
    --target "$DEPS" -r "$REQ"

PYTHONPATH="$DEPS" "$PY" -c 'import Hologram.HologramCloud, Hologram.CustomCloud, pytest, pytest_timeout' || {
    echo "tests/compat/setup.sh: installed packages do not import" >&2
    exit 1
}
cp "$REQ" "$STAMP"
echo "tests/compat/setup.sh: installed into $DEPS"
