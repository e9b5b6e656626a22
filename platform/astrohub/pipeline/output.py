"""Where results go: files (VOTable, FITS, CSV) and SAMP clients (TOPCAT, Aladin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table

FORMATS = {"votable": ".xml", "fits": ".fits", "csv": ".csv"}
SAMP_TABLE_MTYPE = "table.load.votable"


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


def send_samp(table: Table, name: str = "astrohub result", timeout: int = 60) -> str:
    """Send ``table`` to the SAMP clients that load tables (TOPCAT, Aladin) when a SAMP hub is running, and
    wait until each has answered; returns the URL of the VOTable they load. It fails with a message (naming
    where the table is saved) only when no client loaded it.

    Each client gets a ``table.load.votable`` call and the connection stays open until its reply: a
    notification sent just before disconnecting can be dropped by the hub (pyvo's hub forwards it from a
    thread that first checks the sender is still registered)."""
    import tempfile

    from pyvo.samp import SAMPIntegratedClient  # astropy.samp is deprecated (astropy 8)

    client = SAMPIntegratedClient(name="astrohub")
    try:
        client.connect()
    except Exception as e:  # noqa: BLE001 - no hub: the client raises SAMPHubError / OSError
        raise ConnectionError(f"no SAMP hub is running ({type(e).__name__}); start TOPCAT or Aladin first") from None
    try:
        recipients = sorted(client.get_subscribed_clients(SAMP_TABLE_MTYPE))
        if not recipients:
            raise ConnectionError("the SAMP hub has no client that loads tables; start TOPCAT or Aladin first")
        path = export(table, Path(tempfile.mkdtemp()) / "astrohub.xml", "votable")
        message = {"samp.mtype": SAMP_TABLE_MTYPE, "samp.params": {"url": path.as_uri(), "name": name}}
        failed = []
        for rid in recipients:
            who = client.get_metadata(rid).get("samp.name", rid)
            try:
                reply = client.call_and_wait(rid, message, str(int(timeout)))
            except Exception as e:  # noqa: BLE001 - a timeout or a client gone: pyvo raises SAMPProxyError
                failed.append(f"{who}: {e}")
                continue
            if reply.get("samp.status") == "samp.error":
                failed.append(f"{who}: {(reply.get('samp.error') or {}).get('samp.errortxt', 'no reason given')}")
        if len(failed) == len(recipients):
            raise RuntimeError(f"no SAMP client loaded the table ({'; '.join(failed)}); it is saved at {path}")
        return path.as_uri()
    finally:
        client.disconnect()
