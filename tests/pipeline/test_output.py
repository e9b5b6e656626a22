"""Where results go: files (VOTable, FITS, CSV) and SAMP clients, through pyvo.samp."""

from __future__ import annotations

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


@pytest.fixture
def samp_hub(no_samp_hub, tmp_path, monkeypatch):
    from pyvo.samp import SAMPHubServer

    lockfile = tmp_path / "samp-lock"
    hub = SAMPHubServer(lockfile=str(lockfile), web_profile=False)
    hub.start()
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{lockfile}")
    yield hub
    hub.stop()


@pytest.fixture
def viewer(samp_hub):
    """A SAMP client that loads tables, as TOPCAT does: it answers each table.load.votable call with
    ``viewer.answer`` (ok unless a test says otherwise; None: no reply) and keeps what it was sent in ``viewer.got``."""
    from pyvo.samp import SAMPIntegratedClient

    client = SAMPIntegratedClient(name="viewer")
    client.got, client.answer = {}, {"samp.status": "samp.ok", "samp.result": {}}

    def receive(private_key, sender_id, msg_id, mtype, params, extra):
        client.got.update(params, sender=sender_id)
        if client.answer is not None:
            client.reply(msg_id, client.answer)

    client.connect()
    client.bind_receive_call(pipeline.SAMP_TABLE_MTYPE, receive)
    yield client
    if client.is_connected:
        client.disconnect()


def test_samp_sends_the_table_and_waits_for_the_clients(viewer):
    url = pipeline.send_samp(result_table(), name="spirals")
    # send_samp returned: the client has already answered (no waiting here)
    assert viewer.got["url"] == url and viewer.got["name"] == "spirals" and url.startswith("file://")
    back = Table.read(url.removeprefix("file://"), format="votable")
    assert list(back["obj_id"]) == [1, 2, 3] and list(back["pred_class"].astype(str))[0] == "spiral-disk"
    assert viewer.got["sender"] not in viewer.get_registered_clients(), "send_samp disconnects when done"


def test_samp_client_that_cannot_load_the_table_is_a_message(viewer):
    viewer.answer = {"samp.status": "samp.error", "samp.error": {"samp.errortxt": "no such file"}}
    with pytest.raises(RuntimeError, match=r"no SAMP client loaded the table \(viewer: no such file\); "
                                           r"it is saved at .*astrohub\.xml") as e:
        pipeline.send_samp(result_table())
    saved = str(e.value).rsplit("saved at ", 1)[1]
    assert list(Table.read(saved, format="votable")["obj_id"]) == [1, 2, 3], "the table is not lost"


def test_samp_client_that_never_answers_is_a_message(viewer):
    viewer.answer = None  # the viewer takes the call and never replies
    with pytest.raises(RuntimeError, match=r"no SAMP client loaded the table \(viewer: no reply within 1 s\); "
                                           r"it is saved at .*astrohub\.xml"):
        pipeline.send_samp(result_table(), timeout=1)


def test_samp_hub_without_a_table_client_is_a_message(samp_hub):
    with pytest.raises(ConnectionError, match="the SAMP hub has no client that loads tables; start TOPCAT or Aladin"):
        pipeline.send_samp(result_table())


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
