#!/usr/bin/env bash
# Install everything astrohub needs, idempotently and without questions:
# Debian packages (apt-get), configurable-http-proxy (npm, into .node/),
# the local archive (scripts/install_archive.sh), and the virtualenv .venv
# (torch==2.13.0 first, then the package, editable). `install.sh test` adds the test tools.
# Every install (pip's, uv's) is constrained by constraints.txt: a fresh install gets the versions CI tested.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-demo}
export DEBIAN_FRONTEND=noninteractive
say() { printf '\033[1m[astrohub install]\033[0m %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  say "run as root (or with sudo): the platform creates Unix accounts for its users"; exit 1
fi

# --- Debian packages ---------------------------------------------------------
APT_PKGS=(python3 python3-venv python3-dev build-essential git libpam0g passwd ca-certificates procps)
[ "$MODE" = test ] && APT_PKGS+=(chromium fonts-dejavu-core stilts topcat)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere (e.g. NodeSource, which bundles npm): check the commands
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- the local VO archive (DaCHS on PostgreSQL) ------------------------------
if [ -x scripts/install_archive.sh ] || [ -f scripts/install_archive.sh ]; then
  bash scripts/install_archive.sh
fi

# --- configurable-http-proxy -------------------------------------------------
CHP_VERSION=5.3.0
if [ ! -x .node/node_modules/.bin/configurable-http-proxy ]; then
  say "npm install configurable-http-proxy@$CHP_VERSION (into .node/)"
  mkdir -p .node
  [ -f .node/package.json ] || echo '{"private": true}' > .node/package.json
  npm install --prefix .node --no-audit --no-fund --loglevel=error "configurable-http-proxy@$CHP_VERSION" >/dev/null
fi
# Aladin Lite for the Explorer's sky view (astrohub.widgets.sky sends this bundle to the browser: no CDN)
ALADIN_VERSION=3.8.2
if ! grep -q "\"version\": \"$ALADIN_VERSION\"" .node/node_modules/aladin-lite/package.json 2>/dev/null; then
  say "npm install aladin-lite@$ALADIN_VERSION (into .node/)"
  npm install --prefix .node --no-audit --no-fund --loglevel=error "aladin-lite@$ALADIN_VERSION" >/dev/null
fi

# --- the virtualenv ----------------------------------------------------------
# Built from Debian's /usr/bin/python3: other Unix users (each hub user's server)
# must be able to run it, which a private interpreter tree would forbid.
PY=/usr/bin/python3
if [ ! -x .venv/bin/python ]; then
  say "creating .venv from $PY"
  $PY -m venv .venv
fi
PIP() { .venv/bin/pip "$@" 2>&1 | grep -v -e '^WARNING: Location' -e 'BuildBackendWarning' || true; return "${PIPESTATUS[0]}"; }
# pip installs torch (it alone finds the machine's CPU build; uv would fetch a CUDA one), then uv the rest:
# uv fetches the ~240 index pages and wheels in parallel and compiles their bytecode on both cores (26 s where
# pip took 89 s); torch's bytecode is compiled on both cores too (compileall's status ignored: one of torch's
# test files, torch/testing/_internal/py312_intrinsics.py, is Python 3.12 syntax). Both held to constraints.txt.
if ! .venv/bin/python -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  say "pip install torch==2.13.0 (before the package, so no CUDA build is pulled)"
  PIP install -q --no-compile -c constraints.txt torch==2.13.0
  .venv/bin/python -m compileall -q -j 0 .venv/lib/python3*/site-packages/torch >/dev/null || true
fi
[ "uv==$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" = "$(grep '^uv==' constraints.txt)" ] \
  || PIP install -q -c constraints.txt uv
# Re-run the package install only when pyproject.toml or constraints.txt changed (or the test tools are newly wanted).
EXTRAS=""; [ "$MODE" = test ] && EXTRAS="[test]"
STAMP=.venv/.astrohub-installed
HASH=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if ! grep -qx -e "test $HASH" -e "$MODE $HASH" "$STAMP" 2>/dev/null; then
  say "uv pip install -c constraints.txt -e .$EXTRAS"
  .venv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode -c constraints.txt -e ".$EXTRAS"
  echo "$MODE $HASH" > "$STAMP"
fi
.venv/bin/jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1 || true
# JupyterLab defaults for every user: render all cells (widget panels stay live), no news fetching
mkdir -p .venv/share/jupyter/lab/settings
cp hub_config/lab-overrides.json .venv/share/jupyter/lab/settings/overrides.json
.venv/bin/astrohub kernels install >/dev/null
# BokehJS once per page through the @astrohub/bokehjs lab extension (views survive reloads and shares)
.venv/bin/python -m astrohub.widgets.bokehjs >/dev/null

# --- every hub user must be able to run the environment ----------------------
if ! su -s /bin/sh nobody -c "test -x '$ROOT/.venv/bin/jupyterhub-singleuser' && test -r '$ROOT/platform/astrohub/__init__.py'" 2>/dev/null; then
  say "ERROR: other Unix users cannot read $ROOT (each user's server runs as that user)."
  say "       Make every parent folder world-traversable (chmod o+rx) or clone astrohub elsewhere, e.g. /opt/astrohub."
  exit 1
fi
say "ready"
