#!/bin/sh
# Re-pin constraints.txt after a change to pyproject.toml: install the project
# with its [dev] extra into a throw-away virtual environment, keeping every pin
# that still fits (delete a line of constraints.txt to let pip choose that
# package anew), and write the exact result back with the header kept.
#
# Usage: scripts/freeze-constraints.sh [PYTHON]
set -eu

python=${1:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
{
    sed -n '/^#/p' constraints.txt
    "$tmp/venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check
} > "$tmp/constraints.txt"
mv "$tmp/constraints.txt" constraints.txt
git diff --stat -- constraints.txt 2>/dev/null || true
