"""Issue 18, item 9: a hub killed with SIGKILL leaves nothing running that breaks the next start
(and item 13's per-user cap on gateway clusters, on the same real gateway).

Injected fault: a real platform (its own data dir, port and throw-away accounts) runs a user server
and a dask-gateway cluster with a worker; the hub and the gateway are killed with SIGKILL (as the
OOM killer would). The proxy, the share service, the user server and the cluster's scheduler and
worker survive, holding the ports. The next start must stop all of them, come up on the same ports,
and leave no orphaned cluster. A recorded pid that now names another process is left alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time

import psutil
import pytest
import requests

from astrohub.defaults import hub_ports
from astrohub.hub import recovery
from astrohub.hub.launcher import Platform
from astrohub.hub.users import remove_unix_user

from ..conftest import TEST_DATA, started_sleep

pytestmark = pytest.mark.hub
PORT = 18350


def _processes(pids) -> list[psutil.Process]:
    out = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            out.append(psutil.Process(pid))
    return out


def _running(p: psutil.Process) -> bool:
    return p.is_running() and p.status() != psutil.STATUS_ZOMBIE


def test_the_next_start_stops_what_a_killed_hub_left_and_comes_up_on_the_same_ports(monkeypatch):
    data = TEST_DATA / "crash"
    monkeypatch.setenv("ASTROHUB_GATEWAY_MAX_CLUSTERS", "1")  # item 13's per-user cap, performed below
    shutil.rmtree(data, ignore_errors=True)  # homes of an earlier run belong to accounts since removed
    admin, user = "ahtcradmin", "ahtcruser"
    platform = Platform(data, port=PORT, admin=admin, users=[user], with_archive=False)
    again = None
    try:
        platform.prepare()
        hub = platform.start()
        hub.spawn(user)
        token = hub.user_token(user)
        gw = f"{platform.url}/services/dask-gateway/api/v1/clusters/"
        auth = {"Authorization": f"jupyterhub {token}"}
        r = requests.post(gw, json={"cluster_options": {}}, headers=auth, timeout=60)
        assert r.status_code == 201, r.text
        cluster = r.json()["name"]
        deadline = time.monotonic() + 90
        while requests.get(f"{gw}{cluster}?wait", headers=auth, timeout=60).json()["status"] != "RUNNING":
            assert time.monotonic() < deadline, "the gateway cluster did not start"
        # a second cluster is past the cap of one per user: refused, and the message says why
        r = requests.post(gw, json={"cluster_options": {}}, headers=auth, timeout=60)
        assert r.status_code == 422, r.text
        assert f"{user} already has 1 Dask clusters, the most one user may run at once (1)" in r.text
        r = requests.post(f"{gw}{cluster}/scale", json={"count": 1}, headers=auth, timeout=60)
        assert r.status_code == 200 and r.json()["ok"], r.text
        workdir = data / "dask-gateway" / cluster

        def in_cluster():
            return [p for p in psutil.process_iter() if _cwd(p).startswith(str(workdir))]

        deadline = time.monotonic() + 90
        while len(in_cluster()) < 2:  # the scheduler and the worker, running as the user
            assert time.monotonic() < deadline, "the gateway cluster's scheduler and worker did not start"
            time.sleep(0.5)
        platform.record()  # what `astrohub up` does every few seconds
        hub_pid = platform.hub_process.pid
        tree = _processes([hub_pid, *recovery.descendants(hub_pid)])
        gateway = [p for p in tree if any("dask-gateway-server" in a for a in p.cmdline())]
        cluster_procs = in_cluster()
        server = [p for p in tree if p.username() == user and p not in cluster_procs]  # the user's server
        assert len(gateway) == 1 and len(server) == 1
        assert {p.username() for p in cluster_procs} == {user}

        # the fault: hub and gateway die at once, without a chance to stop anything
        os.kill(hub_pid, signal.SIGKILL)
        gateway[0].kill()
        platform.hub_process.wait()
        gateway[0].wait(10)
        survivors = [p for p in tree + cluster_procs if _running(p)]
        names = " ".join(" ".join(p.cmdline()) for p in survivors)
        assert "configurable-http-proxy" in names and "share_service" in names
        assert server[0] in survivors and all(p in survivors for p in cluster_procs)
        ports = hub_ports(PORT)
        assert _port_open(PORT) and _port_open(ports["share"])  # still held by the orphans

        # the restarted hub culls idle servers and idle gateway clusters quickly (item 13, performed below)
        monkeypatch.setenv("ASTROHUB_CULL_IDLE", "5")
        monkeypatch.setenv("ASTROHUB_GATEWAY_IDLE_TIMEOUT", "5")
        again = Platform(data, port=PORT, admin=admin, users=[user], with_archive=False)
        again.start()
        assert again.hub().ready()
        assert requests.get(f"{again.url}/hub/login", timeout=10).status_code == 200  # same public port
        left = [p for p in survivors if _running(p)]
        assert left == [], [p.cmdline() for p in left]
        assert not workdir.exists()  # the orphaned cluster's working folder is gone too
        assert again.hub().api("GET", f"users/{user}").json()["servers"] == {}  # the dead server is not listed
        assert (data / recovery.STATE).stat().st_mode & 0o777 == 0o600

        # item 13: an idle server is stopped by the idle culler, an idle gateway cluster by the gateway
        hub = again.hub()
        hub.spawn(user)
        token = hub.user_token(user)
        auth = {"Authorization": f"jupyterhub {token}"}
        r = requests.post(gw, json={"cluster_options": {}}, headers=auth, timeout=60)
        assert r.status_code == 201, r.text
        idle = r.json()["name"]
        deadline = time.monotonic() + 120
        while hub.api("GET", f"users/{user}").json()["servers"] or requests.get(
                f"{gw}{idle}", headers=auth, timeout=30).json()["status"] not in ("STOPPED", "FAILED"):
            assert time.monotonic() < deadline, "an idle server or an idle gateway cluster was not stopped"
            time.sleep(1)
        assert f"Culling server {user}" in (data / "jupyterhub.log").read_text()  # by jupyterhub-idle-culler
    finally:
        for p in (again, platform):
            if p is not None:
                p.stop()
        for name in (admin, user):
            remove_unix_user(name)


def _cwd(p: psutil.Process) -> str:
    try:
        return p.cwd()
    except psutil.Error:
        return ""


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def sleeper():
    proc = started_sleep()
    yield proc
    proc.kill()
    proc.wait()


def test_a_recorded_pid_naming_another_process_is_left_alone(tmp_path, sleeper):
    """A pid from the record that now belongs to another process (a recycled pid: same number,
    another start time or command) is not signalled; the same process is."""
    ident = recovery.identity(sleeper.pid)
    assert ident is not None and ident.cmdline == ("sleep", "600")
    for stale in (ident.__class__(**{**ident.__dict__, "start": ident.start - 1}),
                  ident.__class__(**{**ident.__dict__, "cmdline": ("configurable-http-proxy",)})):
        recovery.write_state(tmp_path, [stale])
        assert recovery.stop_leftovers(tmp_path, say=lambda msg: None) == []
        assert sleeper.poll() is None  # still running
        assert not (tmp_path / recovery.STATE).exists()
    recovery.write_state(tmp_path, [ident])
    said = []
    assert recovery.stop_leftovers(tmp_path, say=said.append) == [ident]
    sleeper.wait(10)  # stopped (and already reaped by the recovery's wait, so no exit status here)
    assert recovery.identity(sleeper.pid) is None
    assert f"pid {sleeper.pid} (sleep 600)" in said[0]


def test_a_port_held_by_another_program_is_reported_not_fought_over(tmp_path):
    """Not ours (no record, no mark): the start stops nothing and says which port, instead of a hub
    that crashes on it over and over."""
    import socket

    from astrohub.hub.launcher import PlatformError

    port = hub_ports(PORT)["share"]
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections' TIME_WAIT
        busy.bind(("127.0.0.1", port))
        busy.listen()
        p = Platform(tmp_path, port=PORT, admin="ahtcradmin", users=["ahtcruser"], with_archive=False)
        with pytest.raises(PlatformError, match=rf"port {port} on 127.0.0.1 \(share service\) is in use by another "
                                                r"program; stop it or choose another --port"):
            p.start()
        assert p.hub_process is None  # nothing was started
        assert _port_open(port)  # and the other program keeps its port


def test_marked_processes_are_stopped_and_a_shell_that_exported_the_data_dir_is_not(tmp_path):
    """What the record missed (a server spawned after it) carries ASTROHUB_HUB_DATA_DIR and is stopped;
    a person's process that merely exported ASTROHUB_DATA_DIR, or marks another data dir, is not."""
    env = {"PATH": "/usr/bin:/bin"}
    marked = started_sleep(env={**env, "ASTROHUB_HUB_DATA_DIR": str(tmp_path)})
    exported = started_sleep(env={**env, "ASTROHUB_DATA_DIR": str(tmp_path)})
    other = started_sleep(env={**env, "ASTROHUB_HUB_DATA_DIR": str(tmp_path / "other")})
    try:
        stopped = recovery.stop_leftovers(tmp_path, say=lambda msg: None)
        assert [i.pid for i in stopped] == [marked.pid]
        marked.wait(10)
        assert exported.poll() is None and other.poll() is None
    finally:
        for p in (marked, exported, other):
            p.kill()
            p.wait()


def test_a_second_start_while_the_first_astrohub_up_runs_is_refused(tmp_path, sleeper):
    """Only a hub whose `astrohub up` is gone is a leftover: while it runs, a second start of the same data
    dir stops nothing and says so (here a `sleep` stands in for the running launcher and its hub)."""
    from astrohub.hub.launcher import PlatformError

    running = recovery.identity(sleeper.pid)
    recovery.write_state(tmp_path, [running], launcher=running)
    p = Platform(tmp_path, port=PORT, admin="ahtcradmin", users=["ahtcruser"], with_archive=False)
    with pytest.raises(PlatformError, match=rf"astrohub is already running from {tmp_path} \(pid {sleeper.pid} "
                                            r"\(sleep 600\)\): stop it \(Ctrl-C, or kill -TERM that pid\)"):
        p.start()
    assert sleeper.poll() is None and p.hub_process is None
    assert (tmp_path / recovery.STATE).exists()  # the record stays for the real owner
