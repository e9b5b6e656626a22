"""Local Unix accounts for the embedded deployment (PAM authenticates them).

Each account gets a private home (mode 0700) under ``<data_dir>/homes`` and a
generated password; the credentials are kept in ``<data_dir>/credentials.json``
(mode 0600, root only) so a second ``astrohub up`` reuses them.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
from pathlib import Path

from .secrets import new_password

_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")


class UserError(ValueError):
    """A user name or account operation that cannot be done."""


def check_name(name: str) -> str:
    """Validate a Unix user name (lowercase letters, digits, ``_`` and ``-``)."""
    if not _NAME.match(name or ""):
        raise UserError(
            f"invalid user name {name!r}: use 1-31 lowercase letters, digits, '_' or '-', "
            "starting with a letter or '_'"
        )
    if name == "root":
        raise UserError("'root' cannot be a hub user")
    return name


def unix_user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_unix_user(name: str, home_root: Path, password: str) -> Path:
    """Create (or update the password of) a local account with a private home."""
    check_name(name)
    home = Path(home_root) / name
    if not unix_user_exists(name):
        Path(home_root).mkdir(parents=True, exist_ok=True)
        os.chmod(home_root, 0o755)
        subprocess.run(
            ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
             "--user-group", name],
            check=True, capture_output=True, text=True,
        )
    else:
        home = Path(pwd.getpwnam(name).pw_dir)
        if not home.exists():
            entry = pwd.getpwnam(name)
            home.mkdir(parents=True)
            os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o700)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", check=True,
                   capture_output=True, text=True)
    return home


def install_tutorials(name: str, source: Path, folder: str = "astrohub-tutorials") -> Path | None:
    """Copy the tutorial notebooks into ``name``'s home once (owned by the user); later edits are kept."""
    import shutil

    entry = pwd.getpwnam(name)
    target = Path(entry.pw_dir) / folder
    if target.exists() or not Path(source).is_dir():
        return None
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in [target, *target.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return target


def remove_unix_user(name: str, wait: float = 10.0) -> None:
    """Delete a local account after ending its processes (its home is left in place)."""
    import time

    if not unix_user_exists(name):
        return
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
    deadline = time.monotonic() + wait
    while True:
        r = subprocess.run(["userdel", name], capture_output=True, text=True)
        if r.returncode == 0:
            return
        # 8: the user still has a process (it is being killed)
        if r.returncode != 8 or time.monotonic() > deadline:
            raise UserError(f"could not remove user {name!r}: {r.stderr.strip()}")
        time.sleep(0.2)


class CredentialStore:
    """The generated passwords of the embedded deployment's accounts."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "credentials.json"

    def load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text())

    def save(self, creds: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(creds, f, indent=1, sort_keys=True)
        os.chmod(self.path, 0o600)

    def ensure(self, names: list[str], home_root: Path) -> dict[str, str]:
        """Make sure every name has a Unix account and a password; return all passwords."""
        creds = self.load()
        for name in names:
            check_name(name)
            if name not in creds or not unix_user_exists(name):
                creds[name] = creds.get(name) or new_password()
            ensure_unix_user(name, home_root, creds[name])
        self.save(creds)
        return {n: creds[n] for n in names}
