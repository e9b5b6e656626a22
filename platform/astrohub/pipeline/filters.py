"""Selecting classified rows: by predicted class and probability, or by a value range (regressors)."""

from __future__ import annotations

import numpy as np
from astropy.table import Table


def filter_rows(table: Table, cls: str | None = None, min_prob: float = 0.0) -> Table:
    """Classified rows of class ``cls`` (any when None) with probability >= ``min_prob``."""
    if "pred_class" not in table.colnames:
        raise ValueError("the table has no class predictions: classify it first with a classifier "
                         "(for values such as z_phot use filter_range)")
    if not 0 <= min_prob <= 1:
        raise ValueError(f"min_prob must be between 0 and 1, got {min_prob}")
    keep = np.asarray(table["pred_prob"]) >= min_prob
    if cls:
        names = set(np.asarray(table["pred_class"]).astype(str))
        if cls not in names and not any(c == f"p_{cls}" for c in table.colnames):
            raise ValueError(f"unknown class {cls!r}; classes here: {', '.join(sorted(names))}")
        keep &= np.asarray(table["pred_class"]).astype(str) == cls
    return table[keep]


def filter_range(table: Table, column: str, lo: float | None = None, hi: float | None = None) -> Table:
    """Rows with ``lo <= table[column] <= hi`` (either bound may be None), e.g. ``z_phot`` in [0.5, 1]."""
    if column not in table.colnames:
        raise ValueError(f"no column {column!r} to filter on; columns: {', '.join(table.colnames)}")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"empty range: lower bound {lo} is above upper bound {hi}")
    v = np.asarray(table[column], dtype=float)
    keep = np.isfinite(v)
    if lo is not None:
        keep &= v >= lo
    if hi is not None:
        keep &= v <= hi
    return table[keep]
