"""DaCHS gives each statement on its UWS jobs table 0.1 s. While another session holds the table longer (a busy
machine: a job's own worker committing its phase), an async TAP query failed at once with "Could not access the
jobs table. This probably means there is a stale lock on it" (a fresh-clone CI run lost taplint to it). The archive's
DaCHS processes load ``astrohub/archive/dachs_site/sitecustomize.py``, which raises that limit to 2 s: these tests
hold the lock from another PostgreSQL session, as that transaction did."""

from __future__ import annotations

import io
import re
import subprocess
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from astropy.io.votable import parse_single_table

from astrohub.archive.server import PSQL

pytestmark = pytest.mark.archive
QUERY = "SELECT TOP 3 obj_id FROM astrohub.objects ORDER BY obj_id"


@contextmanager
def jobs_table_locked(live, seconds: float):
    """Another session holds tap_schema.tapjobs in EXCLUSIVE mode (no job can be created or changed) from the
    moment the block starts until ``seconds`` later."""
    psql = subprocess.Popen([*PSQL, "-v", "ON_ERROR_STOP=1", "-d", live.dbname], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    psql.stdin.write("BEGIN;\nLOCK TABLE tap_schema.tapjobs IN EXCLUSIVE MODE;\nSELECT 'locked-now';\n")
    psql.stdin.flush()
    for line in psql.stdout:  # the lock is held before the block runs
        if "locked-now" in line:
            break
    else:
        raise AssertionError(f"psql did not take the lock: {psql.stderr.read()}")

    def release():
        time.sleep(seconds)
        psql.stdin.write("COMMIT;\n")
        psql.stdin.close()
    releaser = threading.Thread(target=release)
    releaser.start()
    try:
        yield
    finally:
        releaser.join()
        psql.wait(timeout=30)


def submit(live) -> requests.Response:
    """Create an async job (DaCHS creates it PENDING; it is run by a second request, below)."""
    return requests.post(live.tap_url + "/async", allow_redirects=False, timeout=60,
                         data={"LANG": "ADQL", "REQUEST": "doQuery", "QUERY": QUERY})


def test_an_async_query_waits_out_a_jobs_table_held_for_a_second(live):
    with jobs_table_locked(live, 1.0):
        r = submit(live)  # DaCHS's own 0.1 s: HTTP 400, "... stale lock on it"
    assert r.status_code == 303, r.text[-500:]
    job = r.headers["location"]
    assert requests.post(job + "/phase", data={"PHASE": "RUN"}, timeout=60).ok
    for _ in range(600):
        phase = requests.get(job + "/phase", timeout=30).text.strip()
        if phase in ("COMPLETED", "ERROR", "ABORTED"):
            break
        time.sleep(0.1)
    assert phase == "COMPLETED"
    rows = parse_single_table(io.BytesIO(requests.get(job + "/results/result", timeout=30).content)).to_table()
    assert len(rows) == 3 and list(rows["obj_id"]) == sorted(rows["obj_id"])


def test_a_lock_held_past_the_limit_still_fails_with_dachs_message(live):
    with jobs_table_locked(live, 3.5):
        r = submit(live)
    assert r.status_code == 400
    assert re.findall(r"QUERY_STATUS[^>]*>([^<]*)", r.text) == [
        "Could not access the jobs table. This probably means there is a stale lock on it.  Please notify the "
        "service operators."]


def test_the_hook_is_what_dachs_runs_with(live):
    """The patch is applied where DaCHS runs: in a Python started with the archive's environment, importing DaCHS's
    UWS module gives the raised limit everywhere DaCHS 2.7 binds it."""
    probe = ("import inspect, gavo.protocols.uws as u; "
             "print(u._DEFAULT_LOCK_TIMEOUT, inspect.signature(u.UWS.changeableJob.__wrapped__).parameters['timeout']"
             ".default, inspect.signature(u.UWS.changeToPhase).parameters['timeout'].default)")
    out = subprocess.run(["/usr/bin/python3", "-c", probe], env=live.env(), capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["2.0", "2.0", "2.0"], out.stderr[-2000:]
