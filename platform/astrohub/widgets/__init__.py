"""astrohub.widgets: query-then-classify panels for notebooks, the UI on :mod:`astrohub.pipeline`
(whose plain functions ``actions`` re-exports, for notebooks that import them from here).

>>> from astrohub.widgets import Explorer
>>> Explorer()
"""

from . import actions
from .panels import ClassifyPanel, Explorer, QueryPanel

__all__ = ["actions", "QueryPanel", "ClassifyPanel", "Explorer"]
