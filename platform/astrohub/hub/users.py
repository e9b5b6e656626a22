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


def _read_tree(source: Path) -> list[tuple[str, bytes | None]]:
    """``(relative path, bytes)`` of every file (``None``: a folder) under ``source``, read by root."""
    out: list[tuple[str, bytes | None]] = []
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        rel = os.path.relpath(folder, source)
        if rel != ".":
            out.append((rel, None))
        for f in sorted(files):
            path = os.path.join(folder, f)
            if os.path.isfile(path) and not os.path.islink(path):
                out.append((os.path.normpath(os.path.join(rel, f)), Path(path).read_bytes()))
    return out


def run_as_user(name: str, work) -> str:
    """Call ``work()`` in a forked child that has become ``name`` (uid, gid, its groups only).

    Whatever ``work`` does to files, the kernel checks as that user: root's privileges are
    gone before it runs, so a symlink the user planted can only lead where the user may write.
    Returns the string ``work`` returns; raises :class:`UserError` with the child's message
    when ``work`` fails.
    """
    entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise UserError("refusing to act as root on a user's behalf")
    groups = os.getgrouplist(name, entry.pw_gid)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root for good, then work
        code = 1
        try:
            os.close(read)
            os.setgroups(groups)
            os.setresgid(entry.pw_gid, entry.pw_gid, entry.pw_gid)
            os.setresuid(entry.pw_uid, entry.pw_uid, entry.pw_uid)
            os.umask(0o077)
            os.write(write, str(work() or "").encode()[:4000])
            code = 0
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            os.write(write, f"{type(e).__name__}: {e}".encode()[:4000])
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        message = f.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise UserError(f"as {name}: {message or 'failed'}")
    return message


def install_tutorials(name: str, source: Path, folder: str = "astrohub-tutorials") -> Path | None:
    """Copy the tutorial notebooks into ``name``'s home once; later edits are kept.

    Root only reads the (trusted) source; the copy is written by a child process that has
    become the user (:func:`run_as_user`), so the files are the user's own and a symlink the
    user put in the way leads nowhere the user could not write anyway. Nothing is done when
    ``~/<folder>`` exists in any form (a folder, a file or a symlink, even a dangling one).
    Returns the folder when it was created.
    """
    if not Path(source).is_dir():
        return None
    home = pwd.getpwnam(name).pw_dir
    target = os.path.join(home, folder)
    tree = _read_tree(Path(source))

    def copy() -> str:
        try:
            os.mkdir(target, 0o755)  # never follows: an existing name (a link too) is EEXIST
        except FileExistsError:
            return ""
        dir_fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for rel, data in tree:
                if data is None:
                    os.mkdir(rel, 0o755, dir_fd=dir_fd)
                    continue
                fd = os.open(rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
        finally:
            os.close(dir_fd)
        return target

    return Path(target) if run_as_user(name, copy) else None


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
