"""The one state of a query-then-classify session, which every view of the panels draws from.

``rows`` (the last query's result) and ``result`` (their classification) are the data; ``keep`` (the
rows passing the filters) and ``selection`` (rows picked in the plots) say what is shown. A new query
clears the classification, filters and selection; every change notifies the views, so the tables,
plots, gallery, PDFs and export never disagree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from astropy.table import Table

EVENTS = ("rows", "result", "view")


class PanelState:
    """Rows, their classification, the filters' verdict and the selection; listeners per event:
    ``"rows"`` (a new query), ``"result"`` (a new classification), ``"view"`` (filters or selection)."""

    def __init__(self) -> None:
        self.rows: Table | None = None
        self.result = None  # a pipeline.Classification of ``rows``
        self.keep: np.ndarray | None = None  # bool per row of ``table``; None: every row passes
        self.selection: list[int] = []  # indices into ``table`` (always among the kept rows)
        self.archive = None  # where ``rows`` came from (their products are fetched there)
        self._listeners: dict[str, list[Callable[[], None]]] = {e: [] for e in EVENTS}

    def on(self, event: str, fn: Callable[[], None]) -> None:
        if event not in self._listeners:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}, got {event!r}")
        self._listeners[event].append(fn)

    def _emit(self, event: str) -> None:
        for fn in list(self._listeners[event]):
            fn()

    @property
    def table(self) -> Table | None:
        """What the views show: the classified rows when there are predictions, else the query's rows."""
        return self.result.table if self.result is not None else self.rows

    def set_rows(self, rows: Table, archive=None) -> None:
        """A new query (from ``archive``): its rows replace everything derived from the previous ones."""
        self.rows, self.result, self.keep, self.selection, self.archive = rows, None, None, [], archive
        self._emit("rows")

    def set_result(self, result) -> None:
        """A new classification of ``rows``: filters start open, nothing selected."""
        self.result, self.keep, self.selection = result, None, []
        self._emit("result")

    def set_keep(self, keep: np.ndarray | None) -> None:
        """The rows passing the filters (None: all); the selection keeps only those still shown."""
        if keep is not None:
            keep = np.asarray(keep, dtype=bool)
            if self.table is None or keep.shape != (len(self.table),):
                raise ValueError("keep needs one True/False per row of the table")
        self.keep = keep
        self.selection = [i for i in self.selection if keep is None or keep[i]]
        self._emit("view")

    def select(self, indices) -> list[int]:
        """Select rows (indices into ``table``); rows the filters hide are left out. Returns the selection."""
        if self.table is None:
            raise ValueError("no rows yet: run a query first")
        n = len(self.table)
        idx = sorted({int(i) for i in indices})
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise IndexError(f"rows must be between 0 and {n - 1}, got {bad[0]}")
        self.selection = [i for i in idx if self.keep is None or self.keep[i]]
        self._emit("view")
        return self.selection

    def shown_indices(self) -> np.ndarray:
        """Indices of the rows passing the filters."""
        if self.table is None:
            return np.zeros(0, dtype=np.int64)
        return np.arange(len(self.table)) if self.keep is None else np.flatnonzero(self.keep)

    def chosen_indices(self) -> np.ndarray:
        """The selection when there is one, else every row passing the filters: what the gallery
        shows and what export writes."""
        return np.asarray(self.selection, dtype=np.int64) if self.selection else self.shown_indices()

    def shown(self) -> Table:
        return self.table[self.shown_indices()]

    def chosen(self) -> Table:
        return self.table[self.chosen_indices()]
