"""Session-wide fixtures: a real embedded astrohub (JupyterHub + CHP + PAM users), and the two lanes.

``make test`` runs the suite as two pytest processes at once (``scripts/test-lanes.sh``): ``--lane services``
(the hub and what starts hubs or shares its archive: Chromium, the tutorials, the panels, the VO client's
restarts, the security tests) and ``--lane cpu`` (models, training, Dask, pipeline and the archive's own tests,
against an archive of its own on another port). A plain ``pytest`` runs both, one after the other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from astrohub.defaults import TEST_PORT as DEFAULT_TEST_PORT
from astrohub.defaults import TORCH_PROCESS_ENV
from astrohub.hub.launcher import Platform
from astrohub.hub.users import CredentialStore, remove_unix_user

# before anything loads torch (nothing imported above does): this process's OpenMP threads sleep instead of
# spinning while the kernels', the hub's and the Dask workers' processes share its two cores
for _k, _v in TORCH_PROCESS_ENV.items():
    os.environ.setdefault(_k, _v)

REPO = Path(__file__).resolve().parents[1]
# Under the repo (not /tmp/pytest-of-root, which is private): users' homes live here.
TEST_DATA = REPO / ".astrohub-test"
OUTPUT = REPO / "test-output"
TEST_PORT = int(os.environ.get("ASTROHUB_TEST_PORT", str(DEFAULT_TEST_PORT)))

# The services lane: these folders start hubs (on the tests' fixed ports), restart the lane's archive under the
# hub, or drive the panels; these fixtures and markers need the session's hub. Everything else is the cpu lane.
# Each lane starts its own live archive when a test asks for one (test-lanes.sh gives the cpu lane another port
# and folder), so that the folders can be balanced: lanes of 844 s and 595 s when every archive test was
# services', 623 s and 733 s with the archive, widgets and pipeline tests in cpu; so widgets went back.
SERVICE_DIRS = {"hub", "security", "vo", "notebooks", "widgets"}
SERVICE_FIXTURES = {"platform", "hub", "creds"}
SERVICE_MARKERS = ("hub", "browser")


def started_sleep(**popen) -> subprocess.Popen:
    """`sleep 600`, returned once /proc shows its command line. Popen returns when the child's close-on-exec
    pipe closes, which is before the kernel has set up the new command line and environment: a /proc read in
    that window sees them empty (a loaded CI machine showed it)."""
    proc = subprocess.Popen(["sleep", "600"], **popen)
    cmdline = Path("/proc") / str(proc.pid) / "cmdline"
    deadline = time.monotonic() + 10
    while cmdline.read_bytes() != b"sleep\x00600\x00" and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


def pytest_addoption(parser):
    parser.addoption("--lane", choices=("cpu", "services"), default=None,
                     help="run only one lane of the suite (make test runs both at once)")


def lane(item) -> str:
    """``services`` or ``cpu``: the fixture closure, the markers and the folder decide."""
    folder = Path(str(item.fspath)).relative_to(REPO / "tests").parts[0]
    if (folder in SERVICE_DIRS or SERVICE_FIXTURES & set(item.fixturenames)
            or any(item.get_closest_marker(m) for m in SERVICE_MARKERS)):
        return "services"
    return "cpu"


def pytest_collection_modifyitems(config, items):
    want = config.getoption("--lane")
    if want is None:
        return
    keep = [it for it in items if lane(it) == want]
    config.hook.pytest_deselected(items=[it for it in items if lane(it) != want])
    items[:] = keep


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def live():
    """The live local archive (DaCHS, `small` demo survey), one per test process; fails, never skips."""
    from astrohub.archive.testing import live_archive

    return live_archive(Path(os.environ.get("ASTROHUB_TEST_ARCHIVE_DIR", TEST_DATA / "archive")))


@pytest.fixture
def arc(live, tmp_path):
    """A client for the live archive with its own empty cache and quick retries."""
    from astrohub.vo import Archive

    return Archive.local(live.base_url, cache_dir=tmp_path / "cache", retries=2, backoff=0.1, progress=False)


@pytest.fixture(scope="session")
def platform(live):
    """A running embedded platform with an admin and two users, torn down after the session."""
    data = TEST_DATA / "hub"
    if data.exists():
        shutil.rmtree(data)
    p = Platform(data, port=TEST_PORT, admin="ahtadmin", users=["ahtalice", "ahtbob"], with_archive=False,
                 external_archive=live.tap_url)
    creds = p.prepare()
    p.start()
    p.creds = creds
    yield p
    p.stop()
    for name in creds:
        remove_unix_user(name)


@pytest.fixture(scope="session")
def hub(platform):
    return platform.hub()


@pytest.fixture(scope="session")
def creds(platform) -> dict[str, str]:
    return CredentialStore(platform.data_dir).load()


@pytest.fixture(scope="session")
def loaded():
    """Each zoo model loaded once per session (CPU)."""
    from astrohub import models

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = models.load(name, device="cpu")
        return cache[name]

    return get


@pytest.fixture(scope="session")
def compressed_fits_declaring():
    """Bytes of a FITS bomb: ``compressed_fits_declaring(side)`` (see :func:`_compressed_fits_declaring`)."""
    return _compressed_fits_declaring


def _compressed_fits_declaring(side: int) -> bytes:
    """A tile-compressed FITS image of a few kB whose header declares ``side`` x ``side`` pixels: decompressing it
    would allocate side**2 floats (the attack a reader must refuse from the header alone)."""
    import io

    import numpy as np
    from astropy.io import fits

    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(np.zeros((100, 100), np.float32))]).writeto(buf)
    raw = buf.getvalue()
    for k in (1, 2):
        old = f"ZNAXIS{k} = {100:>20}".encode()
        assert old in raw
        raw = raw.replace(old, f"ZNAXIS{k} = {side:>20}".encode())
    return raw
