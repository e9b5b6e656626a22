#!/usr/bin/env bash
# Regenerate constraints.txt from the virtualenv CI tested (.venv): every installed distribution pinned
# to its exact version, astrohub itself (editable) left out, local version labels (+cpu) dropped
# (the index picks the build; scripts/install.sh installs torch first so no CUDA build is pulled).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Versions CI tested: scripts/install.sh installs with 'pip/uv pip install -c constraints.txt'."
  echo "# Regenerate after changing pyproject.toml's dependencies: bash scripts/freeze_constraints.sh"
  .venv/bin/pip freeze --exclude-editable 2>/dev/null \
    | grep -v -E '^(pip|setuptools|wheel)==' | sed -E 's/\+[A-Za-z0-9.]+$//' | LC_ALL=C sort -f
} > constraints.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) pins"
