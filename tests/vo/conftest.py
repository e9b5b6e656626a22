"""Fixtures: the live local DaCHS archive with a freshly built `small` survey (built once per session)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from astrohub.archive.testing import live_archive

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def live():
    """The running LocalArchive (fails, never skips, when DaCHS is not installed)."""
    return live_archive(Path(os.environ.get("ASTROHUB_TEST_ARCHIVE_DIR", REPO / ".astrohub-test" / "archive")))


@pytest.fixture
def arc(live, tmp_path):
    """A client for the live archive with its own empty cache and quick retries."""
    from astrohub.vo import Archive

    return Archive.local(live.base_url, cache_dir=tmp_path / "cache", retries=2, backoff=0.1, progress=False)
