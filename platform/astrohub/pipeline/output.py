"""Where results go: files (VOTable, FITS, CSV) and SAMP clients (TOPCAT, Aladin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table

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
            meta = dict(clean[name].meta)
            clean[name] = np.array([_as_text(v) for v in clean[name]], dtype=str)
            clean[name].meta.update({k: v for k, v in meta.items() if k != "xtype"})  # now text, not a DALI array
    clean.write(path, format={"votable": "votable", "fits": "fits", "csv": "ascii.csv"}[fmt], overwrite=True)
    return path


def _as_text(value) -> str:
    """A cell of an object column as text: arrays (DALI polygons, points: ObsCore ``s_region``, SSA
    ``ssa_region``) as their space-separated numbers, as VOTable TABLEDATA writes them; masked as ''."""
    if value is None or value is np.ma.masked:
        return ""
    if isinstance(value, (str, bytes)):
        return value.decode() if isinstance(value, bytes) else value
    if np.ndim(value):
        flat = np.ma.filled(np.ma.asarray(value, dtype=float).ravel(), np.nan)
        return " ".join(repr(float(v)) for v in flat if np.isfinite(v))
    return str(value)


def send_samp(table: Table, name: str = "astrohub result") -> str:
    """Broadcast ``table`` to SAMP clients (TOPCAT, Aladin) when a SAMP hub is running; returns the
    URL of the VOTable they load."""
    import tempfile

    from pyvo.samp import SAMPIntegratedClient  # astropy.samp is deprecated (astropy 8)

    client = SAMPIntegratedClient(name="astrohub")
    try:
        client.connect()
    except Exception as e:  # noqa: BLE001 - no hub: the client raises SAMPHubError / OSError
        raise ConnectionError(f"no SAMP hub is running ({type(e).__name__}); start TOPCAT or Aladin first") from None
    try:
        path = export(table, Path(tempfile.mkdtemp()) / "astrohub.xml", "votable")
        client.notify_all({"samp.mtype": "table.load.votable",
                           "samp.params": {"url": path.as_uri(), "name": name}})
        return path.as_uri()
    finally:
        client.disconnect()
