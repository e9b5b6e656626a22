"""Local Unix accounts for the embedded deployment (PAM authenticates them).

Each account gets a private home (mode 0700) under ``<data_dir>/homes`` and a
generated password; the credentials are kept in ``<data_dir>/credentials.json``
(mode 0600, root only) so a second ``astrohub up`` reuses them.

Only normal accounts may be hub users: a name whose account exists with a uid
outside ``UID_MIN..UID_MAX`` of ``/etc/login.defs`` (``bin``, ``postgres``, ``gavo``,
``nobody``, ...) is refused everywhere (``users add``, ``--users``, the spawner).
An existing account's password is never changed unless asked for
(``reset=True``, ``astrohub users add --reset-password``).
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


LOGIN_DEFS = "/etc/login.defs"
MARKER = "astrohub account"  # the GECOS comment of the accounts astrohub creates


def uid_range(login_defs: str | os.PathLike = LOGIN_DEFS) -> tuple[int, int]:
    """``(UID_MIN, UID_MAX)`` of normal accounts from ``login.defs`` (1000, 60000 when unset)."""
    values = {"UID_MIN": 1000, "UID_MAX": 60000}
    try:
        lines = Path(login_defs).read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] in values and parts[1].isdigit():
            values[parts[0]] = int(parts[1])
    return values["UID_MIN"], values["UID_MAX"]


def check_account(name: str, must_exist: bool = False, login_defs: str | os.PathLike = LOGIN_DEFS) -> str:
    """``check_name``, then refuse system accounts: an existing account must have a normal uid."""
    check_name(name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if must_exist:
            raise UserError(f"there is no Unix account {name!r}") from None
        return name
    low, high = uid_range(login_defs)
    if not low <= entry.pw_uid <= high:
        where = f"below UID_MIN {low}" if entry.pw_uid < low else f"above UID_MAX {high}"
        raise UserError(
            f"{name!r} is a system account (uid {entry.pw_uid}, {where} in {login_defs}): "
            "system accounts can never be hub users; choose another name"
        )
    return name


def unix_user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _homes_folder(home_root: Path) -> None:
    """The folder holding the homes: made if missing, and traversable by each user to reach their own."""
    Path(home_root).mkdir(parents=True, exist_ok=True)
    os.chmod(home_root, 0o755)


def ensure_unix_user(name: str, home_root: Path, password: str | None) -> Path:
    """Create a local account with a private home and ``password``.

    An existing account is left as it is (its home is created if missing); its password
    is set only when ``password`` is given -- callers pass it only when resetting was asked
    for or the account is one this deployment made and lost the password of.
    """
    check_account(name)
    home = Path(home_root) / name
    if not unix_user_exists(name):
        if password is None:
            raise UserError(f"a new account {name!r} needs a password")
        _homes_folder(home_root)
        subprocess.run(
            ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
             "--user-group", "--comment", MARKER, name],
            check=True, capture_output=True, text=True,
        )
        os.chmod(home, 0o700)
    else:
        entry = pwd.getpwnam(name)
        home = Path(entry.pw_dir)
        if not os.path.lexists(home) and home.parent == Path(home_root):
            _homes_folder(home_root)  # e.g. a killed run's account whose data dir has since been wiped
            home.mkdir(mode=0o700)
            os.chown(home, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    if password is not None:
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
    if not os.path.isdir(home):  # an account without a home (made outside astrohub): nowhere to copy
        return None
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


SERVICE_MARKER = "astrohub service account"


def ensure_service_account(name: str) -> str:
    """A locked system account for a hub service (no password, no home, no login shell); made once.

    An existing account is used only if it is a system account (uid 1..UID_MIN-1), never root
    nor a normal user's account.
    """
    check_name(name)
    if not unix_user_exists(name):
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", "--user-group", "--comment", SERVICE_MARKER, name],
            check=True, capture_output=True, text=True,
        )
    uid = pwd.getpwnam(name).pw_uid
    if not 0 < uid < uid_range()[0]:
        raise UserError(f"{name!r} exists with uid {uid}: a hub service needs a system account of its own "
                        "(uid 1..UID_MIN-1); remove or rename that account")
    return name


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

    def ensure(self, names: list[str], home_root: Path, reset: bool = False) -> dict[str, str | None]:
        """Make sure every name has a Unix account; return each one's password.

        A new account gets a generated password. An existing account keeps its password:
        the stored one when this store made it, ``None`` (unknown here, unchanged) for an
        account made outside astrohub. Only ``reset=True`` sets a new generated password on an
        existing account -- or, said in :attr:`notes`, an account this deployment made (its
        home is ``home_root/<name>``) whose password was lost with the store.
        ``notes`` says what happened to each name.
        """
        for name in names:  # refuse every bad name before touching any account
            check_account(name)
        creds = self.load()
        self.notes: dict[str, str] = {}
        out: dict[str, str | None] = {}
        for name in names:
            if not unix_user_exists(name):
                creds[name] = new_password()
                ensure_unix_user(name, home_root, creds[name])
                self.notes[name] = "created"
            elif reset:
                creds[name] = new_password()
                ensure_unix_user(name, home_root, creds[name])
                self.notes[name] = "existing account: password reset (--reset-password)"
            elif name in creds:
                ensure_unix_user(name, home_root, None)
                self.notes[name] = "existing account: password unchanged"
            elif Path(pwd.getpwnam(name).pw_dir) == Path(home_root) / name:
                creds[name] = new_password()
                ensure_unix_user(name, home_root, creds[name])
                self.notes[name] = (f"this deployment's account, whose password was not in {self.path}: "
                                    "new password set")
            else:
                ensure_unix_user(name, home_root, None)
                self.notes[name] = ("existing account made outside astrohub: password unchanged (log in "
                                    "with its own password, or pass --reset-password to set a generated one)")
            out[name] = creds.get(name)
        self.save(creds)
        return out

    def forget(self, name: str) -> None:
        creds = self.load()
        if creds.pop(name, None) is not None:
            self.save(creds)


def retire_home(home: Path, uid: int, how: str, archive_dir: Path) -> str:
    """Keep, archive or delete a removed account's home; return what was done.

    The account must be gone (no process of its can race this). ``keep``: the folder
    stays, owned by root and 0700, so a later account given the same uid cannot open it.
    ``archive``: a root-owned 0600 ``<archive_dir>/<name>-<time>.tar.gz`` (links stored as
    links, never followed), then the folder is deleted. ``delete``: deleted.
    """
    import shutil
    import tarfile
    import time

    if how not in ("keep", "archive", "delete"):
        raise UserError(f"--home must be keep, archive or delete, not {how!r}")
    try:
        st = os.lstat(home)
    except FileNotFoundError:
        return f"no home at {home}"
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or Path(home).resolve() in (Path("/"), Path("/home")):
        raise UserError(f"{home} is not a folder owned by the removed account (uid {uid}): "
                        "left untouched, deal with it by hand")
    if how == "keep":
        os.chown(home, 0, 0, follow_symlinks=False)
        os.chmod(home, 0o700)
        return f"home kept at {home} (now root's, mode 0700)"
    if how == "archive":
        archive_dir = Path(archive_dir)
        archive_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(archive_dir, 0o700)
        tarball = archive_dir / f"{Path(home).name}-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz"
        fd = os.open(tarball, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w:gz") as tar:
            tar.add(home, arcname=Path(home).name)  # dereference=False: links stay links
        shutil.rmtree(home)
        return f"home archived to {tarball} (root only, 0600) and deleted"
    shutil.rmtree(home)
    return f"home {home} deleted"


def remove_account(name: str, data_dir: Path, home: str, hub=None) -> list[str]:
    """``astrohub users remove``: revoke hub access, stop servers, end the account; handle its home.

    ``hub`` (an admin :class:`~astrohub.hub.rest.Hub`, when the hub runs) deletes the user
    from the hub, which stops their servers and revokes their tokens and shares. Then every
    process of the account is ended and the account deleted (so PAM refuses it), and the home
    is kept, archived or deleted (:func:`retire_home`). Returns what was done, line by line.
    """
    check_account(name, must_exist=True)
    if home not in ("keep", "archive", "delete"):
        raise UserError(f"--home must be keep, archive or delete, not {home!r}")
    data_dir = Path(data_dir)
    store = CredentialStore(data_dir)
    entry = pwd.getpwnam(name)
    if entry.pw_gecos != MARKER and name not in store.load() \
            and Path(entry.pw_dir).parent != data_dir / "homes":
        raise UserError(f"{name!r} is not an account astrohub made (no {MARKER!r} comment, not in "
                        f"{store.path}, home not under {data_dir / 'homes'}): remove it with userdel yourself")
    done = []
    if hub is not None:
        from .rest import HubAPIError

        try:
            hub.api("DELETE", f"users/{name}")
            done.append("hub: user deleted (servers stopped, tokens and shares revoked)")
        except HubAPIError as e:
            if e.status != 404:
                raise UserError(f"the hub refused to delete {name!r}: {e}") from e
            done.append("hub: no such user (nothing to stop)")
    else:
        done.append("hub: not running (nothing to stop there); leave the name out of `astrohub up --users`")
    remove_unix_user(name)
    from .limits import release

    release(name)  # its memory/CPU control groups, empty now
    done.append("account: processes ended, Unix account deleted (PAM logins refused)")
    store.forget(name)
    done.append(retire_home(Path(entry.pw_dir), entry.pw_uid, home, data_dir / "removed-homes"))
    return done
