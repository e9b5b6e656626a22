"""Issue 18, item 7 (DaCHS part): the DaCHS admin password never appears on a command line.

Performed: a new archive is set up (``dachs init`` with the admin role, which is the step that
needs the password) while a watcher records every command line ``ps`` can show, as any local
user could; the password is in none of them, and the setup still succeeds.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from astrohub.archive.server import SYSTEM_PROFILES, LocalArchive, _as_postgres

from .throwaway import remove, scratch


class CommandLines(threading.Thread):
    """Every distinct command line in /proc while it runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        self.seen.add((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
                    except OSError:
                        pass
            time.sleep(0.002)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


def test_dachs_init_gets_the_admin_password_off_the_command_line():
    feed = dict(line.split(" = ", 1) for line in (SYSTEM_PROFILES / "feed").read_text().splitlines() if " = " in line)
    password = feed["password"].strip()
    assert len(password) >= 8
    root = scratch()
    arc = LocalArchive(root / "archive", port=18997)
    try:
        with CommandLines() as watch:
            arc.setup()
        assert (arc.root / "state" / "astrohub-init").exists()  # dachs init reached the database
        inits = [c for c in watch.seen if "dachs" in c and " init " in c]
        assert inits, "the watcher did not see dachs init run"
        assert all(f"dbname={arc.dbname}" in c for c in inits)
        assert not [c for c in watch.seen if password in c]
    finally:
        _as_postgres(f'DROP DATABASE IF EXISTS "{arc.dbname}" WITH (FORCE)')
        remove(root)
