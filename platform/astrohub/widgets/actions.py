"""What the panels do, as plain functions a notebook can call directly: the names of
:mod:`astrohub.pipeline`, re-exported here so ``from astrohub.widgets import actions`` keeps working.
New code: ``from astrohub import pipeline`` (no UI imported).

>>> from astrohub.vo import Archive
>>> from astrohub.widgets import actions
>>> rows = actions.run_query(Archive.local(), actions.TEMPLATES["morphology cutouts"])
>>> result = actions.classify(rows, "galaxy_morphology", Archive.local())
>>> actions.filter_rows(result.table, "spiral-disk", 0.9)
"""

from __future__ import annotations

import sys
import types

from astrohub.pipeline import *  # noqa: F403 - this module is the pipeline's names
from astrohub.pipeline import __all__ as _PIPELINE
from astrohub.pipeline import classification as _classification
from astrohub.pipeline.classification import SHARD_ABOVE

__all__ = [*_PIPELINE, "SHARD_ABOVE"]


class _Actions(types.ModuleType):
    """Setting ``actions.SHARD_ABOVE`` sets the threshold classify reads (as before the move)."""

    def __setattr__(self, name, value):
        if name == "SHARD_ABOVE":
            setattr(_classification, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Actions
