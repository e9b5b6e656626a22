"""Issue 18 item 2: installing the tutorials (root, at every ``astrohub up``) must not follow a user's symlinks.

``Platform.prepare`` -- what ``astrohub up`` runs before the hub starts -- makes a throw-away
account and copies the tutorials into its home. The user then replaces the tutorial folder, or
one of its notebooks, with a symlink to a root-owned canary; ``prepare`` runs again (a restart)
and the canary must be unchanged.
"""

from __future__ import annotations

import os
import secrets

import pytest

from astrohub.hub import paths
from astrohub.hub.launcher import Platform
from astrohub.hub.users import UserError, install_tutorials, remove_unix_user, run_as_user

from . import throwaway

FOLDER = "astrohub-tutorials"


@pytest.fixture
def platform():
    root = throwaway.scratch()
    tag = secrets.token_hex(2)
    p = Platform(root / "data", admin=f"ahtsadm{tag}", users=[f"ahtstut{tag}"], with_archive=False)
    try:
        yield p, root
    finally:
        for name in [p.admin, *p.users]:
            remove_unix_user(name)
        throwaway.remove(root)


def test_tutorials_are_written_by_the_user(platform):
    p, _ = platform
    p.prepare()
    import pwd

    entry = pwd.getpwnam(p.users[0])
    target = os.path.join(entry.pw_dir, FOLDER)
    source = paths.repo_dir() / "notebooks"
    copied = sorted(os.path.relpath(os.path.join(d, f), target) for d, _, fs in os.walk(target) for f in fs)
    expected = sorted(os.path.relpath(os.path.join(d, f), source) for d, ds, fs in os.walk(source)
                      if ".ipynb_checkpoints" not in d for f in fs)
    assert copied == expected and copied
    for d, _, fs in os.walk(target):
        for f in [d, *(os.path.join(d, f) for f in fs)]:
            assert os.lstat(f).st_uid == entry.pw_uid, f
    assert install_tutorials(p.users[0], source) is None  # once: later edits are kept


@pytest.mark.parametrize("attack", ["folder-link", "dangling-link", "file-link"])
def test_symlinks_to_a_root_canary_are_not_followed_on_restart(platform, attack):
    import pwd

    p, root = platform
    p.prepare()
    entry = pwd.getpwnam(p.users[0])
    canary = throwaway.canary(root)
    (canary / "01.ipynb").write_text("root's\n")
    before = throwaway.snapshot(canary)
    home = entry.pw_dir
    script = {
        # the whole folder -> the canary folder
        "folder-link": f"rm -rf {FOLDER} && ln -s {canary} {FOLDER}",
        # the folder -> a name inside the canary folder that does not exist yet
        "dangling-link": f"rm -rf {FOLDER} && ln -s {canary}/new {FOLDER}",
        # a fresh folder whose notebooks are links to root's files
        "file-link": f"rm -rf {FOLDER} && mkdir {FOLDER} && "
                     f"for n in $(ls {paths.repo_dir() / 'notebooks'}); do ln -s {canary}/01.ipynb {FOLDER}/$n; done",
    }[attack]
    r = throwaway.as_user(entry, ["sh", "-c", script], cwd=home)
    assert r.returncode == 0, r.stderr

    p.prepare()  # `astrohub up` again
    install_tutorials(p.users[0], paths.repo_dir() / "notebooks")

    assert throwaway.snapshot(canary) == before
    assert not os.path.lexists(canary / "new")
    assert os.path.islink(os.path.join(home, FOLDER)) == (attack != "file-link")


def test_work_done_for_a_user_cannot_write_where_the_user_cannot(platform):
    """The mechanism itself: even a write aimed straight at root's folder is refused."""
    import pwd

    p, root = platform
    p.prepare()
    canary = throwaway.canary(root)
    before = throwaway.snapshot(canary)

    def attack():
        with open(canary / "planted", "w") as f:
            f.write("x")

    with pytest.raises(UserError, match=r"as ahtstut\w+: PermissionError"):
        run_as_user(p.users[0], attack)
    assert run_as_user(p.users[0], lambda: os.getuid()) == str(pwd.getpwnam(p.users[0]).pw_uid)
    assert throwaway.snapshot(canary) == before
    with pytest.raises(UserError, match="refusing to act as root"):
        run_as_user("root", lambda: None)
