"""Out-of-distribution flags: which input rows fall outside what a model was trained on.

Every predictor fills ``ood`` (bool per row) and ``ood_reason`` (text per row, "" when in range) on its
predictions; the pipeline adds them as columns and the panels show them. The ranges a model was trained
on are on its card (``inputs.ranges``), so the check is the same in a kernel and on a Dask worker.

>>> flags = OODFlags(len(x))
>>> flags.outside(snr, card["inputs"]["ranges"]["snr"], "S/N")
>>> flags.add(nan_fraction > 0.1, "more than 10% of pixels are NaN")
>>> ood, reasons = flags.result()
"""

from __future__ import annotations

import numpy as np


class OODFlags:
    """Reasons collected per row; :meth:`result` gives (ood [N] bool, reason [N] str)."""

    def __init__(self, n: int):
        self.reasons: list[list[str]] = [[] for _ in range(int(n))]

    def add(self, mask, reason: str) -> OODFlags:
        """Flag the rows where ``mask`` is true with ``reason``."""
        for i in np.flatnonzero(np.asarray(mask, bool).reshape(-1)):
            self.reasons[i].append(reason)
        return self

    def outside(self, values, bounds, what: str, fmt: str = "{:.3g}") -> OODFlags:
        """Flag rows whose ``values`` lie outside ``bounds`` = [lo, hi] (None: open), or are not finite."""
        v = np.asarray(values, float).reshape(-1)
        lo, hi = (bounds or (None, None))
        lo_s = fmt.format(lo) if lo is not None else "-inf"
        hi_s = fmt.format(hi) if hi is not None else "inf"
        for i, x in enumerate(v):
            if not np.isfinite(x):
                self.reasons[i].append(f"{what} is not finite")
            elif (lo is not None and x < lo) or (hi is not None and x > hi):
                self.reasons[i].append(f"{what} {fmt.format(x)} outside the trained {lo_s}..{hi_s}")
        return self

    def result(self) -> tuple[np.ndarray, list[str]]:
        return np.array([bool(r) for r in self.reasons], bool), ["; ".join(r) for r in self.reasons]
