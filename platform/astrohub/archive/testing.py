"""A live local archive for test sessions: one build + import per process, shared by test packages.

Several test packages (archive, vo, compute, notebooks) share it through
:func:`live_archive`. A lock file serialises concurrent test processes that
point at the same data directory (set ``ASTROHUB_TEST_ARCHIVE_DIR`` and
``ASTROHUB_TEST_ARCHIVE_PORT`` to run them side by side instead).
"""

from __future__ import annotations

import atexit
import fcntl
import os
import sys
from pathlib import Path

from astrohub.defaults import TEST_ARCHIVE_PORT

from .server import LocalArchive

_LIVE: LocalArchive | None = None
_LOCK = None


def _lock(data_dir: Path) -> None:
    global _LOCK
    data_dir.mkdir(parents=True, exist_ok=True)
    _LOCK = open(data_dir.parent / f".{data_dir.name}.lock", "w")
    try:
        fcntl.flock(_LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"astrohub: waiting for another test session using {data_dir} to finish", file=sys.stderr, flush=True)
        fcntl.flock(_LOCK, fcntl.LOCK_EX)


def live_archive(data_dir: Path, port: int | None = None, seed: int = 0) -> LocalArchive:
    """Build the ``small`` survey (seed ``seed``) into ``data_dir``, import it and start DaCHS, once.

    Raises :class:`~astrohub.archive.server.ArchiveError` (never skips) when DaCHS is missing.
    """
    global _LIVE
    if _LIVE is None:
        port = port or int(os.environ.get("ASTROHUB_TEST_ARCHIVE_PORT", str(TEST_ARCHIVE_PORT)))
        arc = LocalArchive(Path(data_dir), port=port)
        _lock(arc.data_dir)
        arc.stop()                       # a server left over from an interrupted session
        arc.import_survey(seed, "small")
        arc.import_real_survey()         # the real-survey resource (cached: redone only when the kits change)
        arc.start()
        atexit.register(arc.stop)
        _LIVE = arc
    return _LIVE
