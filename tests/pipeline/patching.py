"""Test helper: make ``models.load`` hand out predictors whose card or OOD flags a test chooses, so the
pipeline and the panels can be checked on a flagged row and on either kind of card whatever the shipped
models say."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from astrohub import models

# a real section shaped as the kits write it (metrics with 95% intervals, baseline on the same split)
REAL = {"kit": "ztf_alerts", "split": {"train": 600, "val": 200, "test": 200},
        "metrics": {"n": 200, "auc": 0.961, "auc_ci95": [0.942, 0.978], "accuracy": 0.912,
                    "accuracy_ci95": [0.874, 0.946], "recall": {"real": 0.95}},
        "baseline": {"name": "ZTF rb", "metrics": {"n": 200, "auc": 0.89, "auc_ci95": [0.85, 0.92]}}}


def rows_of(pred) -> int:
    for f in dataclasses.fields(pred):
        v = getattr(pred, f.name)
        if isinstance(v, np.ndarray) and v.ndim > 0:
            return len(v)
    raise TypeError(f"{type(pred).__name__} has no per-row array")


def patch_model(monkeypatch, flagged: dict[int, str] | None = None, card: dict | None = None,
                no_flags: bool = False):
    """``models.load`` returns predictors whose ``predict`` flags rows ``flagged`` (row -> reason; the
    other rows in range), or fills no OOD fields at all (``no_flags``), and whose card is updated with
    ``card``."""
    load = models.load

    def patched_load(name, device=None):
        p = load(name, device=device)
        p.card = {**copy.deepcopy(p.card), **(card or {})}
        predict = p.predict

        def flagging_predict(*a, **k):
            pred = predict(*a, **k)
            if no_flags:
                return dataclasses.replace(pred, ood=None, ood_reason=None)
            if flagged is None:
                return pred
            n = rows_of(pred)
            ood = np.zeros(n, bool)
            ood[list(flagged)] = True
            return dataclasses.replace(pred, ood=ood, ood_reason=[flagged.get(i, "") for i in range(n)])

        p.predict = flagging_predict
        return p

    monkeypatch.setattr(models, "load", patched_load)
