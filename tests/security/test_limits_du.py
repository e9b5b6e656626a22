"""Issue 20 (admins): disk usage per home, measured by root without following a user's links.

Performed: a throw-away user fills part of their home and plants links (to a file and to a folder)
pointing at a large root-only canary; ``astrohub du`` as root (every home) and as the user (their own,
against a soft quota) must count the user's own bytes only, and leave the canary unread and unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys

from astrohub.hub.ops import home_bytes

from .throwaway import as_user, canary, remove, scratch, snapshot, user

MB = 2**20


def test_du_counts_the_users_bytes_and_never_follows_their_links():
    root = scratch()
    try:
        secret = canary(root)
        (secret / "big.bin").write_bytes(os.urandom(8 * MB))
        os.chmod(secret / "big.bin", 0o600)
        before = snapshot(secret)
        homes = root / "homes"
        homes.mkdir()
        with user(homes) as entry:
            home = homes / entry.pw_name
            r = as_user(entry, ["dd", "if=/dev/urandom", f"of={home}/data.bin", "bs=1M", "count=2"])
            assert r.returncode == 0, r.stderr
            for link, target in (("to-folder", secret), ("to-file", secret / "big.bin")):
                assert as_user(entry, ["ln", "-s", str(target), str(home / link)]).returncode == 0
            used = home_bytes(home)
            assert 2 * MB <= used < 3 * MB  # the 8 MiB behind the links are not counted

            out = subprocess.run([sys.executable, "-m", "astrohub.cli", "du", "--data-dir", str(root)],
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            assert out.stdout.startswith(f"{entry.pw_name}: 2.") and "(no quota)" in out.stdout

            mine = subprocess.run([sys.executable, "-m", "astrohub.cli", "du"], user=entry.pw_uid,
                                  group=entry.pw_gid, extra_groups=[], cwd=home, capture_output=True, text=True,
                                  env={"PATH": "/usr/bin:/bin", "HOME": str(home), "USER": entry.pw_name,
                                       "ASTROHUB_DISK_QUOTA": str(1 * MB)}, timeout=60)
            assert mine.returncode == 1, mine.stderr  # over the soft quota: said, and the exit status shows it
            assert mine.stdout.startswith(f"{entry.pw_name}: 2.") and "of 1.0 MiB" in mine.stdout
            assert "OVER the quota: delete or move files" in mine.stdout

            bad = subprocess.run([sys.executable, "-m", "astrohub.cli", "du", "--quota", "lots"],
                                 capture_output=True, text=True, timeout=60)
            assert bad.returncode == 2 and "not a memory size: 'lots' (use e.g. 4G, 512M, 50%)" in bad.stderr
        assert snapshot(secret) == before
    finally:
        remove(root)
