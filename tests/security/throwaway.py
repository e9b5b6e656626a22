"""Throw-away Unix accounts (``ahts*``) and private scratch folders for the attack tests.

Accounts are made with ``useradd`` and removed with :func:`astrohub.hub.users.remove_unix_user`,
as the hub tests do; folders live under ``/tmp`` (not pytest's root-private tmp) so the
accounts can reach what a test gives them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from astrohub.hub.users import remove_unix_user


def scratch(mode: int = 0o755) -> Path:
    """A new root-owned folder under /tmp (mode ``mode``)."""
    path = Path(tempfile.mkdtemp(prefix="ahts-"))
    os.chmod(path, mode)
    return path


def canary(root: Path, name: str = "canary") -> Path:
    """A root-only folder holding one file: what an attack must not change."""
    folder = root / name
    folder.mkdir(mode=0o700)
    (folder / "keep.txt").write_text("canary\n")
    os.chmod(folder / "keep.txt", 0o600)
    return folder


def snapshot(folder: Path) -> dict:
    """Every entry under ``folder`` (not following links): name -> (mode, uid, gid, size, bytes)."""
    out = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        st = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        out[str(path.relative_to(folder))] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, data)
    return out


@contextlib.contextmanager
def user(home_root: Path | None = None, prefix: str = "ahts"):
    """A new Unix account (its home under ``home_root`` when given); removed afterwards."""
    name = f"{prefix}{secrets.token_hex(3)}"
    cmd = ["useradd", "--shell", "/bin/bash", "--user-group"]
    if home_root is not None:
        cmd += ["--create-home", "--home-dir", str(Path(home_root) / name)]
    else:
        cmd += ["--no-create-home", "--home-dir", "/nonexistent"]
    subprocess.run([*cmd, name], check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        remove_unix_user(name)


def as_user(entry, args: list[str], cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    """Run ``args`` as the account ``entry`` (what that user could do from a shell)."""
    return subprocess.run(args, user=entry.pw_uid, group=entry.pw_gid, extra_groups=[], cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "HOME": entry.pw_dir}, capture_output=True,
                          text=True, **kw)


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
