"""Which zoo models apply to a table of archive rows, from what the rows offer by standard metadata
(:mod:`astrohub.vo.metadata`: UCDs, else well-known survey column names) and the products the archive
publishes for them (:mod:`astrohub.vo.obscore`: ObsCore, SIA, DataLink). No table or column name of a
particular archive is assumed; a ``task`` column (astrohub's demo survey) only narrows the image models."""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from astrohub.vo import metadata

PHOTOMETRY_COLUMNS = tuple(f"{p}_{b}" for b in "ugriz" for p in ("mag", "err"))  # the zoo's canonical names
NO_MODEL_HINT = ("none (query rows with cutouts, colour images, light curves or spectra, e.g. ObsCore records or "
                 "a cutouts template, or catalogue rows with ugriz magnitudes and their errors)")
SCALE_TOLERANCE = 0.1  # relative: a cutout's pixel scale within 10% of the model's (or in its card's range)


def _bands(card: dict) -> tuple[str, ...]:
    return tuple(card.get("inputs", {}).get("bands") or metadata.UGRIZ)


def modality_of(model: str) -> str:
    """What zoo ``model`` reads: ``cutout``, ``colour``, ``lightcurve``, ``spectrum`` or ``photometry`` (its card)."""
    from astrohub import models
    from astrohub.models.kinds import modality

    return modality(models.card(model))


def row_data(table: Table, archive=None) -> set[str]:
    """What the rows offer a model: ``photometry`` (ugriz magnitudes with errors, found by UCD or by SDSS,
    Legacy Survey, Pan-STARRS or VizieR column names), and the products the archive holds for them
    (``cutout``, ``colour``, ``lightcurve``, ``spectrum``; ObsCore / SIA / DataLink)."""
    kinds = archive.product_kinds(table) if archive is not None and len(table) else set()
    if metadata.photometry(table).complete(metadata.UGRIZ):
        kinds.add("photometry")
    return kinds


def _single_band(card: dict) -> str | None:
    from astrohub.models.kinds import single_band

    return single_band(card.get("inputs", {}))


def image_fits(card: dict, geometry: dict) -> bool:
    """Whether cutouts of ``geometry`` (planes, pixel scale, band) suit an image model's card: as many planes as
    its input has, its pixel scale (within SCALE_TOLERANCE, or inside the card's measured range; for files the model
    reads by path, ``geometry["resamples"]``, any scale it resamples from), and, for a model of one optical band,
    that band where the cutout names one."""
    if not geometry:
        return False
    inputs = card.get("inputs", {})
    if geometry.get("planes") != _planes(card):
        return False
    band = _single_band(card)
    if band and geometry.get("band") and geometry["band"] != band:
        return False
    want, got = inputs.get("pixel_scale_arcsec"), geometry.get("pixel_scale")
    if want is None or got is None:
        return True
    if geometry.get("resamples") and not inputs.get("adapter"):  # your FITS files: the model resamples them itself
        from astrohub.models.inputs.fits import MAX_DOWNSAMPLE, MAX_UPSAMPLE

        return want / MAX_DOWNSAMPLE <= got <= want * MAX_UPSAMPLE
    lo, hi = (inputs.get("ranges", {}).get("pixel_scale_arcsec") or [want, want])
    return lo * (1 - SCALE_TOLERANCE) <= got <= hi * (1 + SCALE_TOLERANCE)


def compatible_models(table: Table, archive=None) -> list[str]:
    """Zoo models that apply to these rows, image models first: image classifiers whose input (planes,
    pixel scale) matches the rows' cutouts (the demo survey's rows, which name their simulation ``task``:
    the models of that task, as before, even when a row lacks its cutout; classify then names it), colour,
    light-curve and spectrum models when ``archive`` holds those products for the rows, and photo-z when the rows carry
    the model's bands with errors."""
    from astrohub import models
    from astrohub.models.kinds import MODALITIES, modality, predicts_rows

    tasks = set(np.unique(np.asarray(table["task"]).astype(str))) if "task" in table.colnames else None
    kinds = row_data(table, archive)
    phot = metadata.photometry(table)
    cards = {name: models.card(name) for name in models.list()}
    known_tasks = {c["task"] for c in cards.values()}
    demo = tasks is not None and bool(tasks & known_tasks)
    geometry = archive.image_geometry(table) if "cutout" in kinds and archive is not None and not demo else {}
    found: dict[str, list[str]] = {m: [] for m in MODALITIES}
    for name, card in cards.items():
        if not predicts_rows(card):
            continue
        kind = modality(card)
        if kind == "cutout" and demo:
            ok = card["task"] in tasks  # the demo survey's rows name their simulation task: the fallback
        elif kind == "cutout":
            ok = "cutout" in kinds and image_fits(card, geometry)
        elif kind == "photometry":
            ok = phot.complete(_bands(card))
        else:
            ok = kind in kinds
        if ok:
            found[kind].append(name)
    return [name for m in MODALITIES for name in found[m]]


def why_none(table: Table, archive=None) -> str:
    """What the rows lack, in words, for the message when no model applies."""
    phot = metadata.photometry(table)
    parts = []
    if phot.bands or phot.others:
        parts.append(f"photometry: {phot.missing(metadata.UGRIZ)}")
    else:
        parts.append("no magnitudes (no phot.mag UCD or known survey column names)")
    from .files import Files

    if archive is not None and len(table):
        have = archive.product_kinds(table) or set()
        if not isinstance(archive, Files):
            parts.append(f"products: {', '.join(sorted(have)) or 'none found through ObsCore, SIA or DataLink'}")
        elif not archive.is_catalogue:  # your files: their kinds say it, and they have no photometry to speak of
            parts = [archive.lacks(table)]
        if "cutout" in have and (g := archive.image_geometry(table)):
            from astrohub import models
            from astrohub.models.kinds import modality, predicts_rows

            cards = [c for c in (models.card(n) for n in models.list()) if predicts_rows(c) and modality(c) == "cutout"]
            want = sorted({_geometry_words(_planes(c), c["inputs"].get("pixel_scale_arcsec"), _single_band(c))
                           for c in cards})
            parts.append(f"cutouts of {_geometry_words(g['planes'], g.get('pixel_scale'), g.get('band'))}, where the "
                         f"image models take {' or '.join(want)}")
    return "; ".join(parts)


def _planes(card: dict) -> int:
    inputs = card.get("inputs", {})
    shape = inputs.get("stamp_shape") or inputs.get("shape") or [1]
    return shape[0] if len(shape) == 3 else 1


def _geometry_words(planes: int, scale: float | None, band: str | None) -> str:
    """'1 plane at 0.2"/px in r' (scale and band where known)."""
    words = f"{planes} plane{'s' if planes != 1 else ''}"
    if scale:
        words += f' at {scale:.3g}"/px'
    return words + (f" in {band}" if band else "")
