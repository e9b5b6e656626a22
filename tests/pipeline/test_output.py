"""Where results go: files (VOTable, FITS, CSV) and SAMP clients, through pyvo.samp."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from astropy.table import Table

from astrohub import pipeline


def result_table() -> Table:
    t = Table({"obj_id": [1, 2, 3], "z_phot": [0.1, 0.5, 0.9]})
    t["pred_class"] = np.array(["spiral-disk", "elliptical", "spiral-disk"], dtype=object)  # object strings
    return t


@pytest.mark.parametrize("suffix,fmt", [(".xml", None), (".vot", None), (".fits", None), (".csv", None),
                                        (".out", "votable")])
def test_export_writes_each_format(tmp_path, suffix, fmt):
    t = result_table()
    path = pipeline.export(t, tmp_path / f"result{suffix}", fmt)
    back = Table.read(path, format={"votable": "votable"}.get(fmt))
    assert list(back["obj_id"]) == [1, 2, 3] and list(back["pred_class"].astype(str)) == list(t["pred_class"])
    np.testing.assert_allclose(back["z_phot"], t["z_phot"])


@pytest.fixture
def no_samp_hub(tmp_path, monkeypatch):
    """No SAMP hub anyone could find: none named by SAMP_HUB, no ~/.samp lockfile."""
    monkeypatch.delenv("SAMP_HUB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_samp_without_a_hub_is_a_clear_error(no_samp_hub):
    with pytest.raises(ConnectionError, match=r"no SAMP hub is running \(SAMPHubError\); start TOPCAT or Aladin first"):
        pipeline.send_samp(result_table())


def test_samp_broadcasts_the_table_to_the_clients(no_samp_hub, tmp_path, monkeypatch):
    """A SAMP hub and a client listening for tables (as TOPCAT does): the client loads the table."""
    from pyvo.samp import SAMPHubServer, SAMPIntegratedClient

    lockfile = tmp_path / "samp-lock"
    hub = SAMPHubServer(lockfile=str(lockfile), web_profile=False)
    hub.start()
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{lockfile}")
    got, arrived = {}, threading.Event()

    def receive(private_key, sender_id, mtype, params, extra):
        got.update(params, sender=sender_id)
        arrived.set()

    viewer = SAMPIntegratedClient(name="viewer")
    try:
        viewer.connect()
        viewer.bind_receive_notification("table.load.votable", receive)
        url = pipeline.send_samp(result_table(), name="spirals")
        assert arrived.wait(30), "the client got no table.load.votable"
        assert got["url"] == url and got["name"] == "spirals" and url.startswith("file://")
        back = Table.read(url.removeprefix("file://"), format="votable")
        assert list(back["obj_id"]) == [1, 2, 3] and list(back["pred_class"].astype(str))[0] == "spiral-disk"
        assert got["sender"] not in viewer.get_registered_clients(), "send_samp disconnects when done"
    finally:
        if viewer.is_connected:
            viewer.disconnect()
        hub.stop()


@pytest.mark.parametrize("suffix", [".xml", ".fits", ".csv"])
def test_array_cells_export_as_their_numbers(tmp_path, suffix):
    """ObsCore s_region / SSA ssa_region come as object columns of arrays (DALI polygons, some empty): they are
    written as their space-separated numbers, as TABLEDATA writes them."""
    t = Table({"id": [1, 2, 3]})
    t["s_region"] = np.array([np.array([10.0, 1.0, 10.5, 1.0, 10.5, 1.5]), np.zeros(0),
                              np.ma.masked_array([2.0, 3.0], mask=[False, True])], dtype=object)
    t["s_region"].meta["xtype"] = "polygon"
    back = Table.read(pipeline.export(t, tmp_path / f"rows{suffix}"))
    got = ["" if v is np.ma.masked else str(v) for v in back["s_region"]]
    assert got == ["10.0 1.0 10.5 1.0 10.5 1.5", "", "2.0"]
