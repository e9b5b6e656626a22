"""Catalogue photometry as surveys serve it -> the photo-z network's inputs, and the checks on the way.

``read(x, name, errors, bands)`` accepts magnitudes [N, 5] with errors [N, 5] (or one error per band, or one
for all), a single object [5], a table (astropy, a dict, pyvo's TAP results, a pandas DataFrame, a record
array) with ``mag_<b>`` / ``err_<b>`` columns (or magnitude columns only, the errors given apart), or SDSS
SkyServer / CasJobs names (``u`` ... ``z`` with
``err_u`` ...; ``modelMag_u`` with ``modelMagErr_u``; ``psfMag_u`` with ``psfMagErr_u``; extinction-corrected
``dered_u`` with ``extinction_u``, the reddening added back: the models take magnitudes as observed, and
``dered_u`` alone is refused). Bad input gets an
:class:`~astrohub.models.inputs.InputError` naming what is wrong. ``ood_flags`` marks rows outside the ranges a
model was trained on (its card's ``inputs.ranges``).
"""

from __future__ import annotations

import numpy as np

from . import InputError
from .columns import as_table, column_values
from .ood import OODFlags

BANDS = ("u", "g", "r", "i", "z")
# column names tried for a band's magnitude and error, in order (astrohub, SDSS PhotoObj, SDSS CasJobs)
MAG_NAMES = ("mag_{b}", "{b}", "modelMag_{b}", "psfMag_{b}", "cModelMag_{b}", "petroMag_{b}")
ERR_NAMES = ("err_{b}", "err_{b}", "modelMagErr_{b}", "psfMagErr_{b}", "cModelMagErr_{b}", "petroMagErr_{b}")
SENTINELS = (-9999.0, 9999.0, 99.0, -99.0)  # survey codes for "not measured"
MAG_LIMITS = (-10.0, 60.0)  # anything else is not an AB magnitude (simulated dropouts reach u ~ 41)


def _family(x, bands) -> tuple[list, list | None, list | None, str | None]:
    """(the table's column names; of the first name family (:data:`MAG_NAMES`) whose magnitude columns it has for
    every band: those columns, its error columns (None where one is missing) and the error name pattern; else
    None, None, None)."""
    keys = list(x.colnames) if hasattr(x, "colnames") else list(x)
    lower = {str(k).lower(): k for k in keys}
    for mag_t, err_t in zip(MAG_NAMES, ERR_NAMES):
        mk = [lower.get(mag_t.format(b=b).lower()) for b in bands]
        if all(mk):
            return keys, mk, [lower.get(err_t.format(b=b).lower()) for b in bands], err_t
    return keys, None, None, None


def _columns(x, name, bands):
    keys, mk, ek, err_t = _family(x, bands)
    if mk is not None:
        if not all(ek):
            raise InputError(f"{name}: missing band(s) {[b for b, k in zip(bands, ek) if not k]}: no error "
                             f"column for magnitudes {', '.join(m for m, k in zip(mk, ek) if not k)}; needs "
                             f"{', '.join(err_t.format(b=b) for b in bands)} (1-sigma errors in mag)")
        return mk, ek
    missing = [b for b in bands if f"mag_{b}" not in keys or f"err_{b}" not in keys]
    raise InputError(f"{name}: missing band(s) {missing}: needs columns {', '.join(f'mag_{b}' for b in bands)} "
                     f"and {', '.join(f'err_{b}' for b in bands)} (or SDSS names u..z with err_u..err_z, or "
                     "modelMag_u.. with modelMagErr_u..)")


def _magnitudes_only(x, name, bands) -> np.ndarray:
    """[N, B] magnitudes of a table given with separate errors: its band columns (:func:`_family`), else its
    columns in order when it has one per band (a DataFrame made from an array). A table that also carries errors
    is refused: which errors were meant?"""
    keys, mk, ek, err_t = _family(x, bands)
    if mk is not None and all(ek):
        raise InputError(f"{name}: the table carries its own errors ({', '.join(err_t.format(b=b) for b in bands)}) "
                         "and errors= was given too; pass one or the other")
    if mk is None:
        if len(keys) != len(bands):
            raise InputError(f"{name}: no magnitude columns for bands {', '.join(bands)} in the table (found "
                             f"{[str(k) for k in keys][:12]}); name them {', '.join(f'mag_{b}' for b in bands)} or "
                             f"{', '.join(bands)}")
        mk = keys
    try:
        return np.stack([column_values(x[k]) for k in mk], 1)
    except (TypeError, ValueError) as e:
        raise InputError(f"{name}: magnitude columns must be numbers ({e})") from None


def _reddened(x, name, bands):
    """A table with no magnitude family (:func:`_family`) but SDSS's extinction-corrected ``dered_<b>``: with
    ``extinction_<b>`` (and ``err_<b>``) the magnitudes as observed, ``dered_<b> + extinction_<b>``, as a dict of
    ``mag_<b>`` / ``err_<b>`` columns; without, an InputError saying why (the photo-z models were trained on
    magnitudes as observed, the reddening in them); any other table as it is."""
    keys, mk, _ek, _t = _family(x, bands)
    lower = {str(k).lower(): k for k in keys}
    dered = [lower.get(f"dered_{b}") for b in bands]
    if mk is not None or not all(dered):
        return x
    ext = [lower.get(f"extinction_{b}") for b in bands]
    if not all(ext):
        raise InputError(f"{name}: dered_{'/'.join(bands)} are extinction-corrected magnitudes, and the model takes "
                         f"them as observed (SDSS's modelMag, the reddening in them): add the extinction_{bands[0]}.. "
                         f"columns (SkyServer's PhotoObj has them) to add it back, or pass modelMag_{bands[0]}..")
    try:
        out = {f"mag_{b}": column_values(x[d]) + column_values(x[e]) for b, d, e in zip(bands, dered, ext)}
    except (TypeError, ValueError) as err:
        raise InputError(f"{name}: dered_/extinction_ columns must be numbers ({err})") from None
    for b in bands:  # SDSS's errors are the model magnitudes' (err_<b>); a missing one is named as usual
        if (k := lower.get(f"err_{b}")) is not None:
            out[f"err_{b}"] = x[k]
    return out


def read(x, name: str, errors=None, bands=BANDS) -> tuple[np.ndarray, np.ndarray]:
    """(mags [N, B], errors [N, B]) as float64, checked; see the module docstring for what ``x`` may be."""
    nb = len(bands)
    if not isinstance(x, dict) and (tab := as_table(x)) is not None:  # pyvo's TAP results, a DataFrame, a record
        x = tab  # array: their table
    if hasattr(x, "colnames") or isinstance(x, dict):
        x = _reddened(x, name, bands)
    if (hasattr(x, "colnames") or isinstance(x, dict)) and errors is not None:
        x = _magnitudes_only(x, name, bands)  # a table of magnitudes, the errors given apart: checked as arrays
    if hasattr(x, "colnames") or isinstance(x, dict):
        mk, ek = _columns(x, name, bands)
        try:
            mags = np.stack([column_values(x[k]) for k in mk], 1)
            errs = np.stack([column_values(x[k]) for k in ek], 1)
        except (TypeError, ValueError) as e:
            raise InputError(f"{name}: magnitude/error columns must be numbers ({e})") from None
    else:
        if errors is None:
            raise InputError(f"{name}: pass the magnitude errors too: predict(mags, errors) with [N, {nb}] arrays "
                             f"(bands {', '.join(bands)})")
        try:
            mags, errs = np.asarray(x, np.float64), np.asarray(errors, np.float64)
        except (TypeError, ValueError) as e:
            raise InputError(f"{name}: magnitudes and errors must be numeric arrays ({e})") from None
        if mags.ndim == 1:
            mags = mags[None]
        if mags.ndim != 2 or mags.shape[1] != nb:
            raise InputError(f"{name}: magnitudes must be [N, {nb}] (bands {', '.join(bands)}), "
                             f"got shape {mags.shape}; missing bands are not supported")
        if errs.ndim == 0 or errs.shape == (nb,):  # one error for all, or one per band: the same for every row
            errs = np.broadcast_to(errs, mags.shape).copy()
        elif errs.ndim == 1 and len(mags) == 1:
            errs = errs[None]
        if errs.ndim != 2 or errs.shape[1] != nb:
            raise InputError(f"{name}: errors must be [N, {nb}] (bands {', '.join(bands)}), "
                             f"got shape {errs.shape}; missing bands are not supported")
        if mags.shape != errs.shape:
            raise InputError(f"{name}: magnitudes {mags.shape} and errors {errs.shape} differ in shape")
    bad = _unusable(mags, errs)
    if bad["missing"].any():
        raise InputError(f"{name}: rows {np.nonzero(bad['missing'].any(1))[0][:10].tolist()} have NaN/inf magnitudes "
                         "or errors (missing bands); drop them or fill all five bands")
    if bad["code"].any():
        rows, cols = np.nonzero(bad["code"])
        raise InputError(f"{name}: rows {sorted(set(rows.tolist()))[:10]} have the survey's 'not measured' code "
                         f"(-9999/99) in band(s) {sorted({bands[c] for c in cols})}; drop those rows")
    if bad["range"].any():
        rows = np.nonzero(bad["range"].any(1))[0]
        raise InputError(f"{name}: rows {rows[:10].tolist()} have magnitudes outside {MAG_LIMITS[0]:g}..."
                         f"{MAG_LIMITS[1]:g} (e.g. {mags[rows[0]].round(3).tolist()}): pass AB magnitudes, "
                         "not fluxes")
    if bad["error"].any():
        rows, cols = np.nonzero(bad["error"])
        raise InputError(f"{name}: magnitude errors must be positive: rows {sorted(set(rows.tolist()))[:10]} "
                         f"have errors <= 0 in band(s) {sorted({bands[c] for c in cols})}")
    return mags, errs


def _unusable(mags, errs) -> dict[str, np.ndarray]:
    """[N, B] masks of what the model cannot take, by cause: ``missing`` (NaN/inf, masked), ``code`` (a survey's
    'not measured' value, :data:`SENTINELS`), ``range`` (no AB magnitude, :data:`MAG_LIMITS`), ``error`` (<= 0)."""
    missing = ~(np.isfinite(mags) & np.isfinite(errs))
    code = ~missing & (np.isin(mags, SENTINELS) | np.isin(errs, SENTINELS))
    with np.errstate(invalid="ignore"):
        rng = ~missing & ~code & ((mags < MAG_LIMITS[0]) | (mags > MAG_LIMITS[1]))
        err = ~missing & ~code & (errs <= 0)
    return {"missing": missing, "code": code, "range": rng, "error": err}


UNUSABLE = {"missing": "no magnitude or error", "code": "the survey's 'not measured' code",
            "range": f"a magnitude outside {MAG_LIMITS[0]:g}...{MAG_LIMITS[1]:g}", "error": "an error <= 0"}


def row_problems(mags, errs, bands=BANDS) -> list[str]:
    """Per row of magnitudes and errors [N, B] (NaN where a catalogue has none), why the model cannot take it, by band
    ("no magnitude or error in u; the survey's 'not measured' code in z"), "" when it can: what :func:`read` refuses
    a whole batch for, so a table's usable rows can go on without the rest."""
    mags, errs = np.asarray(mags, np.float64), np.asarray(errs, np.float64)
    masks = _unusable(mags, errs)
    out = []
    for i in range(len(mags)):
        parts = [f"{what} in {', '.join(b for b, m in zip(bands, masks[key][i]) if m)}"
                 for key, what in UNUSABLE.items() if masks[key][i].any()]
        out.append("; ".join(parts))
    return out


def features(mags, errs) -> np.ndarray:
    """[N, 10] float32: r magnitude, the 4 adjacent colours (u-g, g-r, r-i, i-z) and log10 of the 5 errors."""
    col = mags[:, :-1] - mags[:, 1:]
    return np.concatenate([mags[:, 2:3], col, np.log10(errs)], 1).astype(np.float32)


def ranges(mags, errs, bands=BANDS) -> dict:
    """The training ranges a card stores (``inputs.ranges``): [min, max] of each band's magnitude, each
    adjacent colour and each band's error."""
    mags, errs = np.asarray(mags, float), np.asarray(errs, float)
    col = mags[:, :-1] - mags[:, 1:]

    def mm(a):
        return [round(float(a.min()), 4), round(float(a.max()), 4)]
    return {"mag": {b: mm(mags[:, j]) for j, b in enumerate(bands)},
            "colour": {f"{a}-{b}": mm(col[:, j]) for j, (a, b) in enumerate(zip(bands[:-1], bands[1:]))},
            "err": {b: mm(errs[:, j]) for j, b in enumerate(bands)}}


def ood_flags(mags, errs, rng: dict | None, bands=BANDS) -> tuple[np.ndarray, list[str]]:
    """(ood [N], reason [N]): rows whose magnitudes, colours or errors fall outside ``rng`` (see
    :func:`ranges`); with no ranges on the card nothing is flagged."""
    flags = OODFlags(len(mags))
    if rng:
        col = mags[:, :-1] - mags[:, 1:]
        for j, b in enumerate(bands):
            if b in rng.get("mag", {}):
                flags.outside(mags[:, j], rng["mag"][b], f"{b} mag")
        for j, (a, b) in enumerate(zip(bands[:-1], bands[1:])):
            if f"{a}-{b}" in rng.get("colour", {}):
                flags.outside(col[:, j], rng["colour"][f"{a}-{b}"], f"colour {a}-{b}")
        for j, b in enumerate(bands):
            if b in rng.get("err", {}):
                flags.outside(errs[:, j], rng["err"][b], f"{b} error", fmt="{:.3g}")
    return flags.result()
