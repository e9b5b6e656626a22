"""SAMP with the desktop tools: a pyvo.samp hub, TOPCAT's own SAMP client (``topcat -jsamp snooper``, the
JSAMP library TOPCAT runs on, headless) subscribed to ``table.load.votable``, a classified table sent by
pipeline.send_samp, and the table loaded by TOPCAT's reader (``topcat -stilts tpipe``, STIL) with its
prediction columns."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

from astrohub import pipeline

from .test_any_schema import unseen_catalogue

MTYPE = "table.load.votable"


@pytest.fixture
def samp_hub(tmp_path, monkeypatch):
    """A SAMP hub of our own (pyvo.samp, standard profile on 127.0.0.1), found through $SAMP_HUB."""
    from pyvo.samp import SAMPHubServer

    lock = tmp_path / "samp.lock"
    hub = SAMPHubServer(web_profile=False, lockfile=str(lock), pool_size=2)
    hub.start(wait=False)
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{lock.as_uri()}")
    yield hub
    hub.stop()


@pytest.fixture
def topcat(samp_hub):
    """TOPCAT's SAMP client registered with the hub; yields the lines it prints."""
    proc = subprocess.Popen(["topcat", "-jsamp", "snooper", "-clientname", "topcat-test", "-mtype", MTYPE],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            env=os.environ.copy(), start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    try:
        wait_for(lambda: subscribed(MTYPE), 120, "TOPCAT's SAMP client to register", lines)
        yield lines
    finally:  # /usr/bin/topcat is a shell script that runs java as its child: end the whole group
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def subscribed(mtype: str) -> bool:
    from pyvo.samp import SAMPIntegratedClient

    c = SAMPIntegratedClient(name="astrohub-test-probe")
    c.connect()
    try:
        return any(c.get_metadata(k).get("samp.name") == "topcat-test" for k in c.get_subscribed_clients(mtype))
    finally:
        c.disconnect()


def wait_for(cond, timeout: float, what: str, lines: list[str]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; client output:\n{''.join(lines)[-2000:]}")


def test_topcat_receives_the_classified_table(topcat):
    _sim, rows = unseen_catalogue(n=40, seed=11)
    result = pipeline.classify(rows, "photoz_sim", None)
    url = pipeline.send_samp(result.table, "astrohub photo-z")
    wait_for(lambda: url in "".join(topcat), 60, f"TOPCAT to receive {url}", topcat)
    got = "".join(topcat)
    assert f'"samp.mtype": "{MTYPE}"' in got and '"name": "astrohub photo-z"' in got
    # TOPCAT's table reader (STIL) loads what was sent
    out = subprocess.run(["topcat", "-stilts", "tpipe", f"in={url}", "ifmt=votable", "omode=out", "ofmt=csv"],
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(loaded) == len(result.table)
    assert list(loaded[0]) == result.table.colnames  # the rows' own columns, then the predictions
    for col in ("z_phot", "z_mean", "z_std", "z_lo68", "z_hi68"):
        np.testing.assert_allclose([float(r[col]) for r in loaded], result.table[col], rtol=1e-5)


def test_send_samp_without_a_hub_is_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'no-hub.lock').as_uri()}")
    monkeypatch.setenv("HOME", str(tmp_path))
    from astropy.table import Table

    with pytest.raises(ConnectionError, match="no SAMP hub is running .*; start TOPCAT or Aladin first"):
        pipeline.send_samp(Table({"a": [1]}))


@pytest.mark.archive
def test_the_panels_samp_button_reaches_topcat(topcat, arc):
    """The Explorer's classify panel: Run model, then Send via SAMP; TOPCAT's client gets the table."""
    from astrohub.widgets.panels import ClassifyPanel

    _sim, rows = unseen_catalogue(n=30, seed=12)
    c = ClassifyPanel(rows, archive=arc)
    assert "photoz_sim" in c.model.options
    c.model.value = "photoz_sim"
    c.run_button.click()
    assert c.result is not None, c.status.value
    c.samp_button.click()
    assert "sent file://" in c.status.value, c.status.value
    url = c.status.value.split("sent ", 1)[1].split("<", 1)[0]
    wait_for(lambda: url in "".join(topcat), 60, f"TOPCAT to receive {url}", topcat)
    out = subprocess.run(["topcat", "-stilts", "tpipe", f"in={url}", "ifmt=votable", "omode=meta"],
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    for col in ("z_phot", "z_std", "z_lo68", "z_hi68", "FLUX_MAG_U"):
        assert col in out.stdout
