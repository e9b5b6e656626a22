"""Which zoo models apply to a table of archive rows, from the data the rows offer."""

from __future__ import annotations

import numpy as np
from astropy.table import Table

PHOTOMETRY_COLUMNS = tuple(f"{p}_{b}" for b in "ugriz" for p in ("mag", "err"))
NO_MODEL_HINT = ("none (query rows with cutouts, light curves or spectra, e.g. a cutouts template, "
                 "or catalogue rows with ugriz magnitudes)")


def row_data(table: Table, archive=None) -> set[str]:
    """What the rows offer a model: ``photometry`` (ugriz magnitudes and errors in the rows), and
    the products the archive holds for them (``cutout``, ``lightcurve``, ``spectrum``)."""
    kinds = archive.product_kinds(table) if archive is not None and len(table) else set()
    if all(c in table.colnames for c in PHOTOMETRY_COLUMNS):
        kinds.add("photometry")
    return kinds


def compatible_models(table: Table, archive=None) -> list[str]:
    """Zoo models that apply to these rows, image models first: image classifiers whose task
    matches the rows' ``task`` column (any, when rows with cutouts have no such column), light-curve
    and spectrum models when ``archive`` holds those products for the rows, and photo-z when the
    rows carry ugriz magnitudes with errors."""
    from astrohub import models
    from astrohub.models.kinds import MODALITIES, modality, predicts_rows

    tasks = set(np.unique(np.asarray(table["task"]).astype(str))) if "task" in table.colnames else None
    kinds = row_data(table, archive)
    found: dict[str, list[str]] = {m: [] for m in MODALITIES}
    for name in models.list():
        card = models.card(name)
        if not predicts_rows(card):
            continue
        kind = modality(card)
        ok = (card["task"] in tasks if tasks is not None else "cutout" in kinds) if kind == "cutout" else kind in kinds
        if ok:
            found[kind].append(name)
    return [name for m in MODALITIES for name in found[m]]
