"""astrohub.widgets: query-then-classify panels for notebooks (composing vo, compute and models).

>>> from astrohub.widgets import Explorer
>>> Explorer()
"""

from . import actions
from .panels import ClassifyPanel, Explorer, QueryPanel

__all__ = ["actions", "QueryPanel", "ClassifyPanel", "Explorer"]
