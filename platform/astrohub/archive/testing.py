"""A live local archive for test sessions: one build + import per process, shared by test packages."""

from __future__ import annotations

import atexit
import os
from pathlib import Path

from .server import LocalArchive

_LIVE: LocalArchive | None = None


def live_archive(data_dir: Path, port: int | None = None, seed: int = 0) -> LocalArchive:
    """Build the ``small`` survey (seed ``seed``) into ``data_dir``, import it and start DaCHS, once.

    Raises :class:`~astrohub.archive.server.ArchiveError` (never skips) when DaCHS is missing.
    """
    global _LIVE
    if _LIVE is None:
        port = port or int(os.environ.get("ASTROHUB_TEST_ARCHIVE_PORT", "18390"))
        arc = LocalArchive(Path(data_dir), port=port)
        arc.stop()                       # a server left over from an interrupted session
        arc.import_survey(seed, "small")
        arc.start()
        atexit.register(arc.stop)
        _LIVE = arc
    return _LIVE
