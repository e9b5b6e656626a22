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
