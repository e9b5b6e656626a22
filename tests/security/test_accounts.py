"""Issue 18 item 5: accounts.

- ``users add`` and ``--users``/``--admin`` refuse system accounts (uid below UID_MIN of
  /etc/login.defs, or above UID_MAX: bin, sys, postgres, gavo, nobody ...);
- an existing account's password is never silently reset;
- ``users remove`` revokes hub access, stops the user's server (through the running hub's API)
  and keeps, archives or deletes the home, as the admin chooses;
- the hub refuses to spawn a server for a system account.

The hub tests run a real embedded platform on this module's own ports (18700: +1, +81..+85).
"""

from __future__ import annotations

import os
import pwd
import secrets
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from astrohub.cli import main
from astrohub.hub.launcher import Platform
from astrohub.hub.rest import HubAPIError
from astrohub.hub.users import MARKER, CredentialStore, UserError, check_account, remove_unix_user

from . import throwaway

PORT = 18700


def system_names() -> list[str]:
    names = []
    for n in ("bin", "sys", "daemon", "postgres", "gavo", "nobody"):
        try:
            pwd.getpwnam(n)
            names.append(n)
        except KeyError:
            pass
    return names


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "astrohub.cli", *argv], capture_output=True, text=True)


def shadow(name: str) -> str:
    """The account's password hash in /etc/shadow."""
    for line in Path("/etc/shadow").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields[1]
    raise KeyError(name)


@pytest.mark.parametrize("name", system_names())
def test_users_add_and_up_refuse_system_accounts(name, tmp_path):
    before = shadow(name)
    r = cli("users", "add", name, "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 2
    assert f"{name!r} is a system account (uid {pwd.getpwnam(name).pw_uid}" in r.stderr
    assert "can never be hub users" in r.stderr
    for flag in ("--users", "--admin"):
        r = cli("up", flag, name, "--data-dir", str(tmp_path / "d"))
        assert r.returncode == 2 and "is a system account" in r.stderr, r.stderr
    assert shadow(name) == before  # its password was not touched
    assert not (tmp_path / "d").exists()


def test_the_floor_comes_from_login_defs(tmp_path):
    defs = tmp_path / "login.defs"
    with throwaway.user() as user:
        check_account(user.pw_name)  # a normal account
        defs.write_text(f"# stricter site\nUID_MIN\t\t{user.pw_uid + 1}\nUID_MAX 60000\n")
        with pytest.raises(UserError, match=rf"below UID_MIN {user.pw_uid + 1} in {defs}"):
            check_account(user.pw_name, login_defs=defs)
    with pytest.raises(UserError, match="'root' cannot be a hub user"):
        check_account("root")


def test_an_account_left_by_a_killed_run_gets_its_home_back_after_the_data_dir_was_wiped():
    """A run killed before its teardown leaves its accounts; the next run wipes the data dir (homes included)
    and must still start: the home and its missing parent are made again, private and the user's."""
    from astrohub.hub.users import ensure_unix_user

    data = throwaway.scratch()
    name = f"ahtsleft{secrets.token_hex(2)}"
    try:
        home = ensure_unix_user(name, data / "hub" / "homes", "first-run-pw-1")
        assert home.is_dir()
        throwaway.remove(data / "hub")  # the next run's rmtree of its data dir; the account stays
        again = ensure_unix_user(name, data / "hub" / "homes", None)
        st = again.lstat()
        assert again == home and st.st_uid == pwd.getpwnam(name).pw_uid and (st.st_mode & 0o777) == 0o700
        assert (again.parent.stat().st_mode & 0o777) == 0o755
    finally:
        remove_unix_user(name)
        throwaway.remove(data)


def test_no_password_is_reset_silently(tmp_path):
    data = throwaway.scratch()
    tag = secrets.token_hex(2)
    mine, theirs = f"ahtsnew{tag}", f"ahtsold{tag}"
    try:
        # an account astrohub makes: second `users add` keeps its password
        r = cli("users", "add", mine, "--data-dir", str(data))
        assert r.returncode == 0, r.stderr
        assert "(created)" in r.stdout and pwd.getpwnam(mine).pw_gecos == MARKER
        first = shadow(mine)
        r = cli("users", "add", mine, "--data-dir", str(data))
        assert r.returncode == 0 and "password unchanged" in r.stdout
        assert shadow(mine) == first

        # an account made outside astrohub, with its owner's password
        subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent", theirs], check=True)
        subprocess.run(["chpasswd"], input=f"{theirs}:owner-secret-1\n", text=True, check=True)
        theirs_hash = shadow(theirs)
        r = cli("users", "add", theirs, "--data-dir", str(data))
        assert r.returncode == 0
        assert "made outside astrohub: password unchanged" in r.stdout and "--reset-password" in r.stdout
        assert shadow(theirs) == theirs_hash
        creds = Platform(data, admin=mine, users=[theirs], with_archive=False).prepare()  # `astrohub up`
        assert creds[theirs] is None and shadow(theirs) == theirs_hash and shadow(mine) == first
        assert theirs not in CredentialStore(data).load()

        # only the explicit flag resets
        r = cli("users", "add", theirs, "--reset-password", "--data-dir", str(data))
        assert r.returncode == 0 and "password reset (--reset-password)" in r.stdout
        assert shadow(theirs) != theirs_hash
    finally:
        remove_unix_user(mine)
        remove_unix_user(theirs)
        throwaway.remove(data)


@pytest.fixture(scope="module")
def running():
    root = throwaway.scratch()
    tag = secrets.token_hex(2)
    p = Platform(root / "data", port=PORT, admin=f"ahtsadm{tag}", users=[f"ahtsrm{tag}", f"ahtskp{tag}"],
                 with_archive=False, external_archive="http://127.0.0.1:9/tap")
    try:
        p.prepare()
        p.start()
        yield p
    finally:
        p.stop()
        for name in [p.admin, *p.users]:
            remove_unix_user(name)
        throwaway.remove(root)


def test_hub_refuses_to_spawn_for_system_accounts(running):
    hub = running.hub()
    for name in ("bin", "nobody"):
        hub.ensure_user(name)  # an admin (or the admin page) adds the name to the hub ...
        with pytest.raises(HubAPIError) as err:
            hub.api("POST", f"users/{name}/server")  # ... and tries to start its server
        assert "astrohub refuses to start a server" in err.value.message or err.value.status >= 400
        model = hub.api("GET", f"users/{name}").json()
        assert not model["servers"], model
        hub.api("DELETE", f"users/{name}")
    log = (running.data_dir / "jupyterhub.log").read_text(errors="replace")
    assert "astrohub refuses to start a server for 'bin': 'bin' is a system account" in log


def test_users_remove_stops_the_server_through_the_hub_and_archives_the_home(running):
    hub = running.hub()
    name = running.users[0]
    entry = pwd.getpwnam(name)
    hub.spawn(name)
    assert hub.api("GET", f"users/{name}").json()["servers"][""]["ready"]
    (Path(entry.pw_dir) / "results.txt").write_text("keep me\n")

    assert main(["users", "remove", name, "--home", "archive", "--data-dir", str(running.data_dir)]) == 0

    with pytest.raises(HubAPIError) as err:  # gone from the hub (server stopped, tokens revoked)
        hub.api("GET", f"users/{name}")
    assert err.value.status == 404
    with pytest.raises(KeyError):  # gone from the system: PAM refuses it
        pwd.getpwnam(name)
    assert subprocess.run(["pgrep", "-u", str(entry.pw_uid)], capture_output=True).returncode == 1
    assert not os.path.lexists(entry.pw_dir)
    assert name not in CredentialStore(running.data_dir).load()
    folder = running.data_dir / "removed-homes"
    (tarball,) = folder.glob(f"{name}-*.tar.gz")
    st = tarball.stat()
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o600, 0, 0)
    assert folder.stat().st_mode & 0o777 == 0o700
    with tarfile.open(tarball) as tar:
        assert tar.extractfile(f"{name}/results.txt").read() == b"keep me\n"
        assert any(m.name.startswith(f"{name}/astrohub-tutorials/") for m in tar.getmembers())


def test_users_remove_keep_leaves_a_root_only_home(running):
    name = running.users[1]
    entry = pwd.getpwnam(name)
    assert main(["users", "remove", name, "--home", "keep", "--data-dir", str(running.data_dir)]) == 0
    st = os.lstat(entry.pw_dir)
    assert (st.st_uid, st.st_mode & 0o777) == (0, 0o700)  # a later account with the same uid cannot open it
    assert (Path(entry.pw_dir) / "astrohub-tutorials").is_dir()


def test_users_remove_refuses_system_and_foreign_accounts(tmp_path):
    r = cli("users", "remove", "postgres" if "postgres" in system_names() else "bin", "--home", "keep",
            "--data-dir", str(tmp_path))
    assert r.returncode == 2 and "is a system account" in r.stderr
    with throwaway.user() as user:
        r = cli("users", "remove", user.pw_name, "--home", "delete", "--data-dir", str(tmp_path))
        assert r.returncode == 2 and "is not an account astrohub made" in r.stderr
        assert pwd.getpwnam(user.pw_name)
    r = cli("users", "remove", "ahtsnobody", "--data-dir", str(tmp_path))
    assert r.returncode == 2 and "--home" in r.stderr  # the admin must choose what happens to the home
