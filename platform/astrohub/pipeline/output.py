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

    Each client gets an asynchronous ``table.load.votable`` call, and the connection stays open until every
    reply came back to this client's own response handler (or ``timeout`` s passed). A notification sent just
    before disconnecting can be dropped by the hub (pyvo's hub forwards it from a thread that first checks the
    sender is still registered), and the hub's synchronous ``callAndWait`` drops a reply that arrives before it
    starts waiting (it registers the message id only after forwarding the call)."""
    import tempfile
    import threading
    import uuid

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
        replies, answered, tag = {}, threading.Condition(), f"astrohub-load-{uuid.uuid4().hex[:12]}"

        def on_reply(private_key, responder_id, msg_tag, response):
            with answered:
                replies[responder_id] = response
                answered.notify_all()

        client.bind_receive_response(tag, on_reply)
        who = {rid: client.get_metadata(rid).get("samp.name", rid) for rid in recipients}
        failed, waiting = [], []
        for rid in recipients:
            try:
                client.call(rid, tag, message)
                waiting.append(rid)
            except Exception as e:  # noqa: BLE001 - a client gone: pyvo raises SAMPProxyError
                failed.append(f"{who[rid]}: {e}")
        with answered:
            answered.wait_for(lambda: all(r in replies for r in waiting), timeout)
            got = dict(replies)
        for rid in waiting:
            reply = got.get(rid)
            if reply is None:
                failed.append(f"{who[rid]}: no reply within {timeout} s")
            elif reply.get("samp.status") == "samp.error":
                failed.append(f"{who[rid]}: {(reply.get('samp.error') or {}).get('samp.errortxt', 'no reason given')}")
        if len(failed) == len(recipients):
            raise RuntimeError(f"no SAMP client loaded the table ({'; '.join(failed)}); it is saved at {path}")
        return path.as_uri()
    finally:
        client.disconnect()
