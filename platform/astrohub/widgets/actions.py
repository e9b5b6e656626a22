"""What the panels do, as plain functions a notebook can call directly.

>>> from astrohub.vo import Archive
>>> from astrohub.widgets import actions
>>> rows = actions.run_query(Archive.local(), actions.TEMPLATES["morphology cutouts"])
>>> result = actions.classify(rows, "galaxy_morphology", Archive.local())
>>> actions.filter_rows(result.table, "spiral", 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.table import Table

_CUTOUT_JOIN = ("SELECT TOP {n} o.*, c.task, c.label AS true_label, c.class_name AS true_class "
                "FROM astrohub.objects AS o JOIN astrohub.cutouts AS c "
                "ON o.obj_id = c.obj_id WHERE c.task = '{task}' ORDER BY o.obj_id")
TEMPLATES = {
    "objects (first 200)": "SELECT TOP 200 * FROM astrohub.objects ORDER BY obj_id",
    "morphology cutouts": _CUTOUT_JOIN.format(n=100, task="morphology"),
    "lens candidates": _CUTOUT_JOIN.format(n=100, task="lens"),
    "transient triplets": _CUTOUT_JOIN.format(n=100, task="transient"),
    "bright galaxies": "SELECT TOP 200 * FROM astrohub.objects WHERE class_name <> 'star' AND mag_r < 20 ORDER BY mag_r",
}
SHARD_ABOVE = 2000  # rows: larger results are classified on the Dask cluster


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


def compatible_models(table: Table) -> list[str]:
    """Zoo classifiers that apply to these rows: those whose task matches the rows' ``task`` column
    (all image classifiers when the rows do not say)."""
    from astrohub import models

    tasks = set(np.unique(np.asarray(table["task"]).astype(str))) if "task" in table.colnames else None
    out = []
    for name in models.list():
        card = models.card(name)
        if card["kind"] != "classifier":
            continue
        if tasks is None or card["task"] in tasks:
            out.append(name)
    return out


@dataclass
class Classification:
    """Rows with their predictions, plus the pixels and saliency maps of the first rows for a gallery."""

    table: Table
    model: str
    class_names: list[str]
    images: np.ndarray | None = None
    saliency: np.ndarray | None = None
    sharded: bool = False
    notes: list[str] = field(default_factory=list)


def classify(table: Table, model: str, archive, *, client=None, mc_samples: int = 20,
             explain_first: int = 12, progress: bool = False) -> Classification:
    """Predict ``model`` on the rows' cutouts; returns a copy of ``table`` with columns
    ``pred_class``, ``pred_prob``, ``pred_uncertainty`` and ``p_<class>``.

    Runs on the Dask cluster (``client``, or the default client for more than
    ``SHARD_ABOVE`` rows) via :func:`astrohub.compute.predict`; else in this kernel.
    """
    from astrohub import models
    from astrohub.models.cutouts import fit_cutouts

    if len(table) == 0:
        raise ValueError("the query returned no rows: nothing to classify")
    compatible = compatible_models(table)
    if model not in compatible:
        raise ValueError(f"model {model!r} does not apply to these rows; compatible models: "
                         f"{', '.join(compatible) or 'none (query rows that have cutouts, e.g. a cutouts template)'}")
    predictor = models.load(model)
    client = client or _default_client_if(len(table) > SHARD_ABOVE)
    images = None
    if client is not None:
        from astrohub.compute import predict

        pred = predict(model, table, client=client, archive=archive, progress=progress, mc_samples=mc_samples)
        gallery_rows = table[:explain_first]
        if len(gallery_rows):
            fetched = archive.cutouts(gallery_rows)
            images = fit_cutouts(np.asarray(fetched.to_tensor())[np.argsort(fetched.rows, kind="stable")],
                                 predictor.card["inputs"])
    else:
        fetched = archive.cutouts(table)
        if fetched.missing:
            raise ValueError(f"{len(fetched.missing)} row(s) have no cutout (first: row {fetched.missing[0]}); "
                             "query rows that have cutouts (e.g. JOIN astrohub.cutouts)")
        images = fit_cutouts(np.asarray(fetched.to_tensor())[np.argsort(fetched.rows, kind="stable")],
                             predictor.card["inputs"])
        pred = predictor.predict(images, mc_samples=mc_samples)
    out = table.copy()
    out["pred_class"] = pred.names
    out["pred_prob"] = pred.probabilities.max(1)
    out["pred_uncertainty"] = pred.uncertainty
    for k, c in enumerate(pred.class_names):
        out[f"p_{c}"] = pred.probabilities[:, k]
    sal = None
    if images is not None and explain_first:
        images = images[:explain_first]
        sal = predictor.explain(images)
    return Classification(out, model, list(pred.class_names), images, sal, sharded=client is not None)


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
        raise ValueError("the table has no predictions yet: classify it first")
    if not 0 <= min_prob <= 1:
        raise ValueError(f"min_prob must be between 0 and 1, got {min_prob}")
    keep = np.asarray(table["pred_prob"]) >= min_prob
    if cls:
        names = set(np.asarray(table["pred_class"]).astype(str))
        if cls not in names and not any(c == f"p_{cls}" for c in table.colnames):
            raise ValueError(f"unknown class {cls!r}; classes here: {', '.join(sorted(names))}")
        keep &= np.asarray(table["pred_class"]).astype(str) == cls
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
