"""Where astrohub finds its own files: the repository, the venv, the proxy."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Editable installs keep the source at <repo>/platform/astrohub.
REPO_DIR = PACKAGE_DIR.parents[1]


def repo_dir() -> Path | None:
    """The source checkout (for hub_config/ and .node/), or None for a wheel install."""
    return REPO_DIR if (REPO_DIR / "hub_config").is_dir() else None


def hub_config_file() -> Path:
    """The embedded deployment's ``jupyterhub_config.py``."""
    env = os.environ.get("ASTROHUB_HUB_CONFIG")
    if env:
        return Path(env)
    repo = repo_dir()
    if repo is None:
        raise FileNotFoundError(
            "hub_config/jupyterhub_config.py not found: set ASTROHUB_HUB_CONFIG "
            "to its path (astrohub was not installed from a source checkout)"
        )
    return repo / "hub_config" / "jupyterhub_config.py"


def venv_bin() -> Path:
    """The bin/ directory of the environment astrohub runs in."""
    return Path(sys.prefix) / "bin"


def proxy_command() -> list[str]:
    """The configurable-http-proxy executable: $ASTROHUB_CHP, <repo>/.node, or PATH."""
    env = os.environ.get("ASTROHUB_CHP")
    if env:
        return [env]
    repo = repo_dir()
    if repo is not None:
        local = repo / ".node" / "node_modules" / ".bin" / "configurable-http-proxy"
        if local.exists():
            return [str(local)]
    found = shutil.which("configurable-http-proxy")
    if found:
        return [found]
    raise FileNotFoundError(
        "configurable-http-proxy not found: run `make demo` (it installs it with npm "
        "into .node/) or set ASTROHUB_CHP to its path"
    )
