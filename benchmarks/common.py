"""Shared helpers for benchmarks: where results go, machine facts."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S")}


def arch_overrides(ap, text: str | None, arch: dict) -> dict:
    """``--arch JSON``: keys of a recipe's network (``arch``) to override, as a dict ({} without it); anything
    else (not JSON, not an object, an unknown key) ends the program through ``ap.error`` with a message."""
    try:
        over = json.loads(text) if text else {}
    except json.JSONDecodeError as e:
        ap.error(f"--arch takes a JSON object, got {text!r}: {e}")
    if not isinstance(over, dict) or (unknown := sorted(set(over) - set(arch))):
        ap.error(f"--arch: the network has no key {', '.join(unknown) if isinstance(over, dict) else text} "
                 f"(it has {', '.join(sorted(arch))})")
    return over


def same_period(found, true, tol: float = 0.01):
    """[N] bool: a period search's ``found`` periods within ``tol`` (relative) of the ``true`` ones, their half or
    their double (the transit benchmarks' "BLS found the period")."""
    import numpy as np

    ratio = np.asarray(found, np.float64) / np.asarray(true, np.float64)
    return np.any([np.abs(ratio / k - 1) < tol for k in (0.5, 1.0, 2.0)], axis=0)


def archive_base(tap_url: str | None):
    """(base URL, server to stop afterwards or None): ``tap_url``'s service, a LocalArchive already
    running on port 18490, or one started now from .astrohub/bench-archive."""
    if tap_url:
        return tap_url.rsplit("/tap", 1)[0], None
    from astrohub.archive.server import LocalArchive

    live = LocalArchive(Path(__file__).resolve().parents[1] / ".astrohub" / "bench-archive", port=18490)
    if live.is_running():
        return "http://127.0.0.1:18490", None  # someone else's server: leave it running
    live.start()
    return live.base_url, live


def write(name: str, figures: dict) -> Path:
    """Write ``results/<name>.json`` and return its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **figures}, indent=1))
    print(json.dumps(figures, indent=1))
    print(f"-> {path}")
    return path
