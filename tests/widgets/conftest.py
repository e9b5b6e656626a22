"""Widget tests run against the live local archive (the process-wide one the vo tests use)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from astrohub.archive.testing import live_archive

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def live():
    return live_archive(Path(os.environ.get("ASTROHUB_TEST_ARCHIVE_DIR", REPO / ".astrohub-test" / "archive")))


@pytest.fixture
def arc(live, tmp_path):
    from astrohub.vo import Archive

    return Archive.local(live.base_url, cache_dir=tmp_path / "cache", retries=1, backoff=0.1, progress=False)
