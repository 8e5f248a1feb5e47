#!/usr/bin/env bash
# Installs the iots 0.5.0 compatibility suite's packages into a virtualenv,
# tests/compat/iots/.venv (idempotent: once installed, later runs need no
# network).
#
# iots 0.5.0 needs Python >=3.8,<4 and pydantic 1; we use the pyenv
# interpreter /root/.pyenv/versions/3.11.7 (override with COMPAT_PYTHON3).
# A virtualenv keeps the machine's own site-packages (pydantic 2 there)
# out of the suite.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${COMPAT_PYTHON3:-/root/.pyenv/versions/3.11.7/bin/python}"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.installed-requirements"
IMPORTS='import iots, pydantic, requests, pytest, pytest_timeout, aiosmtpd; assert pydantic.VERSION.startswith("1.")'

if [ ! -x "$PY" ]; then
    echo "tests/compat/iots/setup.sh: Python 3 interpreter not found at $PY" >&2
    echo "  iots 0.5.0 runs on CPython 3.8 to 3.13. Install one with 'pyenv install 3.11.7'" >&2
    echo "  or set COMPAT_PYTHON3=/path/to/python3." >&2
    exit 2
fi

if ! "$PY" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] < (4, 0) else 1)'; then
    echo "tests/compat/iots/setup.sh: $PY is not Python >=3.8,<4 (iots 0.5.0's requirement)" >&2
    exit 2
fi

# Idempotent: skip the install when the same requirements are already in
# place and the modules import.
if [ -f "$STAMP" ] && cmp -s "$REQ" "$STAMP" \
   && "$VENV/bin/python" -c "$IMPORTS" >/dev/null 2>&1; then
    echo "tests/compat/iots/setup.sh: dependencies already installed in $VENV"
    exit 0
fi

rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r "$REQ"

"$VENV/bin/python" -c "$IMPORTS" || {
    echo "tests/compat/iots/setup.sh: installed packages do not import" >&2
    exit 1
}
cp "$REQ" "$STAMP"
echo "tests/compat/iots/setup.sh: installed into $VENV"
