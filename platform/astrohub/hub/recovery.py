"""Crash recovery of the embedded hub: find and stop what a killed ``astrohub up`` left running.

JupyterHub starts configurable-http-proxy, the share service, dask-gateway (which starts each
user's cluster) and the user servers (which start kernels), each in a session of its own. A hub
killed with SIGKILL stops none of them: they keep the ports the next hub needs, and the gateway's
clusters keep running with nobody to stop them.

``astrohub up`` therefore records what it started in ``<data dir>/processes.json`` (0600, root's):
for each process its pid, process group, uid, start time (``/proc/<pid>/stat`` field 22, in clock
ticks since boot) and command line, and the same of the ``astrohub up`` running them. While that
launcher still runs, another start of the same data dir is refused (:class:`AlreadyRunning`); once it
is gone, the next start (:func:`stop_leftovers`) stops:

- every recorded process that still has the *same start time and command line* (a recycled pid
  names another process, which is left alone), and what those processes started since;
- processes whose environment has ``ASTROHUB_HUB_DATA_DIR`` naming this data dir (``astrohub up``
  sets it for the hub, which passes it to its proxy, services, user servers and their kernels; not
  ``ASTROHUB_DATA_DIR``, which a person may have exported in a shell), which catches servers
  spawned after the last record;
- processes working in this hub's dask-gateway clusters folder (scheduler and workers of clusters
  whose gateway died with the hub).

Only the owner of a process can set its environment or working folder, so a user can at worst
make the next start stop one of their own processes. Each gets SIGTERM (the hub and the gateway
then stop what they run, clusters included), and SIGKILL after ``timeout`` s; the clusters'
stale working folders are removed with the symlink-safe ``shutil.rmtree``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

STATE = "processes.json"


@dataclass(frozen=True)
class Identity:
    """What makes a pid one particular process: a recycled pid has another start time or command."""

    pid: int
    pgid: int
    uid: int
    start: int  # /proc/<pid>/stat field 22: start time in clock ticks after boot
    cmdline: tuple[str, ...]

    def describe(self) -> str:
        return f"pid {self.pid} ({' '.join(self.cmdline)[:120]})"


def identity(pid: int) -> Identity | None:
    """The identity of the running process ``pid``, or None when there is none (or it is a zombie)."""
    proc = Path("/proc") / str(pid)
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes()
        uid = proc.stat().st_uid
    except (OSError, ValueError):
        return None
    # the command name (field 2) is in parentheses and may hold spaces: split after its last ')'
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z" or not cmdline:
        return None
    return Identity(pid=pid, pgid=int(fields[2]), uid=uid, start=int(fields[19]),
                    cmdline=tuple(a.decode(errors="replace") for a in cmdline.rstrip(b"\0").split(b"\0")))


def is_same(recorded: Identity) -> bool:
    """Whether ``recorded`` still runs: its pid is alive with the same start time and command line."""
    now = identity(recorded.pid)
    return now is not None and now.start == recorded.start and now.cmdline == recorded.cmdline


def descendants(pid: int) -> list[int]:
    """Pids of the processes ``pid`` started, recursively (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def record(data_dir: Path, root_pid: int) -> list[Identity]:
    """Write the identities of ``root_pid`` and its descendants to ``<data_dir>/processes.json`` (0600),
    with this process's as the launcher's (the ``astrohub up`` that runs them)."""
    found = [i for i in map(identity, [root_pid, *descendants(root_pid)]) if i is not None]
    write_state(data_dir, found, launcher=identity(os.getpid()))
    return found


def write_state(data_dir: Path, found: list[Identity], launcher: Identity | None = None) -> None:
    """Write ``found`` to the state file, 0600 (it is only read by root, but names users' processes)."""
    from .launcher import write_private

    state = {"launcher": asdict(launcher) if launcher else None, "processes": [asdict(i) for i in found]}
    write_private(Path(data_dir) / STATE, json.dumps(state, indent=1))


def _identity(e: dict) -> Identity:
    return Identity(**{**e, "cmdline": tuple(e["cmdline"])})


def recorded(data_dir: Path) -> list[Identity]:
    """The identities in the state file; [] when there is none or it is unreadable."""
    try:
        return [_identity(e) for e in json.loads((Path(data_dir) / STATE).read_text())["processes"]]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def running_launcher(data_dir: Path) -> Identity | None:
    """The ``astrohub up`` of ``data_dir`` when it still runs (and is not this process), else None."""
    try:
        launcher = json.loads((Path(data_dir) / STATE).read_text())["launcher"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not launcher:
        return None
    launcher = _identity(launcher)
    return launcher if launcher.pid != os.getpid() and is_same(launcher) else None


class AlreadyRunning(RuntimeError):
    """The data dir's hub is not a leftover: the ``astrohub up`` that started it still runs."""


def _marked(pid: int, markers: list[bytes], folder: str) -> bool:
    """Whether process ``pid`` has one of ``markers`` in its environment or works under ``folder``."""
    proc = Path("/proc") / str(pid)
    with contextlib.suppress(OSError):
        if folder and (os.readlink(proc / "cwd") + "/").startswith(folder + "/"):
            return True
    try:
        env = (proc / "environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(m in env for m in markers)


def leftovers(data_dir: Path) -> list[Identity]:
    """The processes a previous hub of ``data_dir`` left running (see the module's doc)."""
    data_dir = Path(data_dir).resolve()
    spared = {os.getpid(), *_ancestors(os.getpid())}
    found: dict[int, Identity] = {}
    for old in recorded(data_dir):
        if old.pid not in spared and is_same(old):
            found[old.pid] = old
    markers = [f"ASTROHUB_HUB_DATA_DIR={data_dir}".encode()]
    clusters = str(data_dir / "dask-gateway")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in spared and int(entry.name) not in found \
                and _marked(int(entry.name), markers, clusters):
            ident = identity(int(entry.name))
            if ident is not None:
                found[ident.pid] = ident
    for pid in list(found):
        for child in descendants(pid):
            if child not in found and child not in spared and (ident := identity(child)) is not None:
                found[child] = ident
    return sorted(found.values(), key=lambda i: i.pid)


def _ancestors(pid: int) -> list[int]:
    out = []
    while pid > 1:
        try:
            stat = (Path("/proc") / str(pid) / "stat").read_text()
        except OSError:
            break
        pid = int(stat[stat.rindex(")") + 2:].split()[1])
        out.append(pid)
    return out


def stop_leftovers(data_dir: Path, timeout: float = 20, say=print) -> list[Identity]:
    """Stop what a previous hub of ``data_dir`` left running (SIGTERM, then SIGKILL after ``timeout`` s),
    remove its clusters' stale working folders and the state file; return what was stopped."""
    import psutil

    data_dir = Path(data_dir).resolve()
    launcher = running_launcher(data_dir)
    if launcher is not None:
        raise AlreadyRunning(f"astrohub is already running from {data_dir} ({launcher.describe()}): stop it "
                             "(Ctrl-C, or kill -TERM that pid) before starting it again")
    found = leftovers(data_dir)
    procs = []
    for ident in found:
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(ident.pid)
            # psutil refuses to signal a process whose start time changed (a recycled pid) from here on
            if is_same(ident):
                procs.append(p)
    if procs:
        say(f"astrohub: stopping {len(procs)} processes left running by a hub that did not shut down "
            f"(e.g. killed): " + ", ".join(i.describe() for i in found[:6]) + (" ..." if len(found) > 6 else ""))
        terminate(procs, timeout)
    clusters = data_dir / "dask-gateway"
    if clusters.is_dir() and shutil.rmtree.avoids_symlink_attacks:
        for workdir in clusters.iterdir():  # a running gateway removes its clusters' folders; these are stale
            if workdir.is_dir() and not workdir.is_symlink():
                shutil.rmtree(workdir, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (data_dir / STATE).unlink()
    return found


def terminate(procs: list, timeout: float) -> None:
    """SIGTERM the processes of ``procs`` (psutil handles) still running, then SIGKILL those left after
    ``timeout`` s. psutil refuses to signal a handle whose pid now names another process (recycled)."""
    import psutil

    alive = [p for p in procs if p.is_running()]
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, left = psutil.wait_procs(alive, timeout=timeout)
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(left, timeout=5)
