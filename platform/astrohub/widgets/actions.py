"""What the panels do, as plain functions a notebook can call directly.

>>> from astrohub.vo import Archive
>>> from astrohub.widgets import actions
>>> rows = actions.run_query(Archive.local(), actions.TEMPLATES["morphology cutouts"])
>>> result = actions.classify(rows, "galaxy_morphology", Archive.local())
>>> actions.filter_rows(result.table, "spiral-disk", 0.9)
>>> pz = actions.classify(actions.run_query(Archive.local(), actions.TEMPLATES["galaxies and QSOs (photo-z)"]),
...                       "photoz_mdn", Archive.local())
>>> actions.filter_range(pz.table, "z_phot", 0.5, 1.0), pz.pdfs([0, 1])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table

from .runs import RUNS, Classification

_CUTOUT_JOIN = ("SELECT TOP {n} o.*, c.task, c.label AS true_label, c.class_name AS true_class "
                "FROM astrohub.objects AS o JOIN astrohub.cutouts AS c "
                "ON o.obj_id = c.obj_id WHERE c.task = '{task}' ORDER BY o.obj_id")
TEMPLATES = {
    "objects (first 200)": "SELECT TOP 200 * FROM astrohub.objects ORDER BY obj_id",
    "morphology cutouts": _CUTOUT_JOIN.format(n=100, task="morphology"),
    "lens candidates": _CUTOUT_JOIN.format(n=100, task="lens"),
    "transient triplets": _CUTOUT_JOIN.format(n=100, task="transient"),
    "bright galaxies": "SELECT TOP 200 * FROM astrohub.objects WHERE class_name <> 'star' AND mag_r < 20 ORDER BY mag_r",
    "light curves": "SELECT TOP 100 * FROM astrohub.lightcurves ORDER BY obj_id",
    "spectra": "SELECT TOP 100 * FROM astrohub.spectra ORDER BY obj_id",
    "galaxies and QSOs (photo-z)": "SELECT TOP 500 * FROM astrohub.objects WHERE class_name IN ('galaxy', 'qso') "
                                   "ORDER BY obj_id",
}
SHARD_ABOVE = 2000  # rows: larger results are classified on the Dask cluster
NO_MODEL_HINT = ("none (query rows with cutouts, light curves or spectra, e.g. a cutouts template, "
                 "or catalogue rows with ugriz magnitudes)")


def run_query(archive, adql: str | None = None, *, ra: float | None = None, dec: float | None = None,
              radius: float | None = None, name: str | None = None, maxrec: int | None = 1000,
              mode: str = "sync") -> Table:
    """ADQL (``adql``) or a cone (``ra``/``dec`` or an object ``name``, and ``radius`` in degrees)."""
    if adql is not None and adql.strip():
        return archive.query(adql, mode=mode, maxrec=maxrec)
    if name:
        from astrohub.vo.names import resolve

        pos = resolve(name, archive)
        ra, dec = float(pos.ra.deg), float(pos.dec.deg)
    if ra is None or dec is None or radius is None:
        raise ValueError("give an ADQL query, or a cone: ra, dec (or an object name) and a radius in degrees")
    return archive.cone(ra, dec, radius, maxrec=maxrec)


PHOTOMETRY_COLUMNS = tuple(f"{p}_{b}" for b in "ugriz" for p in ("mag", "err"))


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
    from astrohub.models.modality import MODALITIES, modality, predicts_rows

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


def classify(table: Table, model: str, archive, *, client=None, mc_samples: int = 20,
             explain_first: int = 12, progress: bool = False) -> Classification:
    """Run zoo ``model`` on the rows: cutouts, light curves or spectra fetched from ``archive``, or
    the rows' own photometry. Returns a copy of ``table`` with the predictions (classifiers:
    ``pred_class``, ``pred_prob``, ``pred_uncertainty``, ``p_<class>``; regressors: their values
    and errors, e.g. ``z_phot``/``z_std``, ``teff``/``teff_err``) and a gallery of the first
    ``explain_first`` rows with saliency.

    Runs on the Dask cluster (``client``, or the default client for more than ``SHARD_ABOVE``
    rows) via :func:`astrohub.compute.predict`; else in this kernel.
    """
    from astrohub import models
    from astrohub.models.modality import modality

    if len(table) == 0:
        raise ValueError("the query returned no rows: nothing to classify")
    compatible = compatible_models(table, archive)
    if model not in compatible:
        raise ValueError(f"model {model!r} does not apply to these rows; compatible models: "
                         f"{', '.join(compatible) or NO_MODEL_HINT}")
    predictor = models.load(model)
    client = client or _default_client_if(len(table) > SHARD_ABOVE)
    run = RUNS[modality(predictor.card)]
    return run(model, predictor, table, archive, client, mc_samples, explain_first, progress)


def _default_client_if(wanted: bool):
    if not wanted:
        return None
    try:
        from distributed import default_client

        return default_client()
    except ValueError:
        return None


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


FORMATS = {"votable": ".xml", "fits": ".fits", "csv": ".csv"}


def export(table: Table, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``table`` as VOTable, FITS or CSV (from ``fmt`` or the file extension)."""
    path = Path(path)
    fmt = fmt or {".xml": "votable", ".vot": "votable", ".fits": "fits", ".csv": "csv"}.get(path.suffix.lower())
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format for {path.name!r}: use .xml/.vot (VOTable), .fits or .csv")
    clean = table.copy()
    for name in clean.colnames:  # VOTable/FITS need plain string columns
        if clean[name].dtype.kind == "O":
            clean[name] = np.asarray(clean[name]).astype(str)
    clean.write(path, format={"votable": "votable", "fits": "fits", "csv": "ascii.csv"}[fmt], overwrite=True)
    return path


def send_samp(table: Table, name: str = "astrohub result") -> str:
    """Broadcast ``table`` to SAMP clients (TOPCAT, Aladin) when a SAMP hub is running."""
    import tempfile

    from astropy.samp import SAMPIntegratedClient

    client = SAMPIntegratedClient(name="astrohub")
    try:
        client.connect()
    except Exception as e:  # noqa: BLE001 - no hub: astropy raises SAMPHubError / OSError
        raise ConnectionError(f"no SAMP hub is running ({type(e).__name__}); start TOPCAT or Aladin first") from None
    try:
        path = export(table, Path(tempfile.mkdtemp()) / "astrohub.xml", "votable")
        client.notify_all({"samp.mtype": "table.load.votable",
                           "samp.params": {"url": path.as_uri(), "name": name}})
        return path.as_uri()
    finally:
        client.disconnect()
