"""Session-wide fixtures: a real embedded astrohub (JupyterHub + CHP + PAM users)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from astrohub.defaults import TEST_PORT as DEFAULT_TEST_PORT
from astrohub.hub.launcher import Platform
from astrohub.hub.users import CredentialStore, remove_unix_user

REPO = Path(__file__).resolve().parents[1]
# Under the repo (not /tmp/pytest-of-root, which is private): users' homes live here.
TEST_DATA = REPO / ".astrohub-test"
OUTPUT = REPO / "test-output"
TEST_PORT = int(os.environ.get("ASTROHUB_TEST_PORT", str(DEFAULT_TEST_PORT)))


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
