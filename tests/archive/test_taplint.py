"""TOPCAT's tools against the live archive: STILTS taplint reports no error, and STIL (the reader TOPCAT uses)
reads every table with SELECT * through TAP sync and async, and as BINARY and BINARY2 VOTables."""

import io
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from astropy.io import fits
from astropy.io.votable import parse_single_table

pytestmark = pytest.mark.archive

# Every kind of warning taplint still reports on a DaCHS 2.7 archive; the README's archive section says why
# each is left. A new kind fails the test so that it gets fixed or explained.
KNOWN_WARNINGS = {
    "CAP-CULF",   # DaCHS declares its own ADQL extension feature type (extra ADQL keywords)
    "CAP-CPUL",   # DaCHS's capabilities name /__system__/tap/run/... for the VOSI endpoints (/tap/... works too)
    "MDQ-CCAS",   # DaCHS lowercases column names in TAP_SCHEMA; its SIAP/SSAP mixins' columns are camelCase
    "MDQ-DRXT",   # result xtypes (embargo: timestamp, MJD columns: mjd) that TAP_SCHEMA does not declare
    "QGE-YXDL", "QPO-YXDL", "QAS-YXDL",   # xtype="mjd" (DaCHS's MJD columns) is not a DALI xtype
    "UPL-YAR1",   # DaCHS echoes uploaded char(1) columns with arraysize="1"
    "EXA-EXVC",   # DaCHS's examples page keeps the vocab attribute TOPCAT 4.3-4.4 need
}


def stilts() -> list[str]:
    """The stilts command, its JVM told to compile quickly and collect garbage on one thread: each run is a short
    client (28 of them below), where the optimising compiler and parallel GC cost CPU that never pays back."""
    path = shutil.which("stilts")
    assert path, "stilts is not installed: run `sudo bash scripts/install.sh test` (Debian package stilts)"
    return [path, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def tap(live, adql: str):
    body = urllib.parse.urlencode({"LANG": "ADQL", "REQUEST": "doQuery", "QUERY": adql}).encode()
    with urllib.request.urlopen(live.tap_url + "/sync", data=body, timeout=60) as r:
        return parse_single_table(io.BytesIO(r.read())).to_table()


@pytest.fixture(scope="module")
def tables(live):
    """{table name: row count} of every table the TAP service lists."""
    names = [str(n) for n in tap(live, "SELECT table_name FROM tap_schema.tables")["table_name"]]
    assert {"ivoa.obscore", "astrohub.cutouts", "realsurvey.specphoto", "realsurvey.ztf_alerts"} <= set(names)
    return {n: int(tap(live, f"SELECT COUNT(*) AS n FROM {n}")["n"][0]) for n in names}


def test_taplint_reports_no_error(live):
    proc = subprocess.run([*stilts(), "taplint", f"tapurl={live.tap_url}", "report=EWSF"],
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    totals = re.search(r"Totals: Errors: (\d+); Warnings: (\d+)", out)
    assert totals, f"taplint did not finish:\n{out[-3000:]}"
    errors = [line for line in out.splitlines() if line.startswith("E-")]
    assert int(totals.group(1)) == 0 and not errors, "taplint errors:\n" + "\n".join(errors)
    kinds = {m.group(1) for m in re.finditer(r"^W-([A-Z0-9]{3}-[A-Z0-9]{4})-", out, re.M)}
    assert kinds, "taplint reported no warnings at all: is report=W honoured?"
    assert kinds <= KNOWN_WARNINGS, f"new kinds of taplint warnings: {sorted(kinds - KNOWN_WARNINGS)}"
    # the ObsCore stage ran against ivoa.obscore (it is skipped, with an I- line, when there is none)
    assert "ivoa.obscore columns: 30/30 required" in out.lower()
    # the TAP examples (TOPCAT's "service-provided examples") parse and run
    ex = re.search(r"Execution success/attempt: (\d+)/(\d+)", out)
    assert ex and int(ex.group(2)) >= 5 and ex.group(1) == ex.group(2), out[-3000:]


def _tapquery(live, table: str, sync: bool) -> tuple[str, bool, str]:
    mode = ["sync=true"] if sync else ["sync=false", "delete=always", "poll=250"]
    proc = subprocess.run([*stilts(), "tapquery", f"tapurl={live.tap_url}", f"adql=SELECT * FROM {table}",
                           *mode, "omode=count"], capture_output=True, text=True, timeout=300)
    return table, sync, proc.stdout + proc.stderr


def test_tapquery_reads_every_table_sync_and_async(live, tables):
    """`stilts tapquery` (TOPCAT's TAP client and reader) gets every row of every table in sync mode, and of
    every table of the archive's own schemas in async mode too. DaCHS's six tap_schema tables (its metadata,
    which TOPCAT reads in sync mode) are left out of the async round: each async job costs DaCHS a process of
    its own (2.8 CPU-s), and those six would only re-test DaCHS's own tables on the same job path."""
    jobs = [(t, True) for t in tables] + [(t, False) for t in tables if not t.startswith("tap_schema.")]
    assert sum(not s for _, s in jobs) >= 8  # obscore, the demo survey's and the real survey's tables
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda ts: _tapquery(live, *ts), jobs))
    for table, sync, out in results:
        m = re.search(r"columns: (\d+)\s+rows: (\d+)", out)
        mode = "sync" if sync else "async"
        assert m, f"{table} ({mode}): tapquery failed:\n{out[-2000:]}"
        assert int(m.group(2)) == tables[table], f"{table} ({mode}): {m.group(2)} rows, expected {tables[table]}"


@pytest.mark.parametrize("encoding", ["votable", "votable/b2"])
def test_stil_reads_binary_encodings_of_every_table(live, tables, tmp_path, encoding):
    """The BINARY and BINARY2 serialisations (polygon columns included) read back whole with STIL."""
    names = sorted(tables)
    urls = [live.tap_url + "/sync?" + urllib.parse.urlencode(
        {"LANG": "ADQL", "RESPONSEFORMAT": encoding, "QUERY": f"SELECT * FROM {n}", "MAXREC": 100000})
        for n in names]
    out = tmp_path / "all.fits"
    proc = subprocess.run([*stilts(), "tmulti", *[f"in={u}" for u in urls], "ifmt=votable", "ofmt=fits",
                           f"out={out}"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with fits.open(out) as hdus:
        got = [len(h.data) if h.data is not None else 0 for h in hdus[1:]]
    assert got == [tables[n] for n in names]
