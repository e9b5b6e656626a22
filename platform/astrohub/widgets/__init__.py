"""astrohub.widgets: query-then-classify panels for notebooks, the UI on :mod:`astrohub.pipeline`
(whose plain functions ``actions`` re-exports, for notebooks that import them from here).

>>> from astrohub.widgets import Explorer
>>> Explorer()

Names load on first use, so ``import astrohub.widgets.bokehjs`` (e.g. at kernel start) costs no panels.
"""

from __future__ import annotations

import importlib

__all__ = ["actions", "QueryPanel", "ClassifyPanel", "Explorer"]
_PANELS = {"QueryPanel", "ClassifyPanel", "Explorer"}


def __getattr__(name: str):
    if name in _PANELS:
        return getattr(importlib.import_module(".panels", __name__), name)
    if name in ("actions", "bokehjs", "gallery", "panels", "plots", "state"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
