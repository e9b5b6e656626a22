"""Issue 18 item 1: dask-gateway (root) must not follow a user's symlinks when it starts processes.

The real dask-gateway-server runs as root with astrohub's gateway config and SafeLocalBackend
(only the authenticator is swapped for a password one, so no hub is needed). A throw-away user
starts a cluster, then -- as that user -- replaces the cluster's ``logs`` folder with a symlink
to a root-only canary folder and scales to one worker. The stock backend opened the worker's
log there as root (a root-owned file with the user's content in any folder); now nothing may
appear in the canary.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

import pytest

from astrohub.hub import paths

from . import throwaway

PORTS = (18750, 18751, 18752)  # API, HTTP proxy, scheduler proxy: this module's own
FAILED = "Failed to submit worker"


def wait_for(predicate, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def gateway():
    root = throwaway.scratch()
    clusters = root / "clusters"
    clusters.mkdir(mode=0o711)
    os.chmod(clusters, 0o711)
    password = secrets.token_hex(16)
    config = root / "gateway_test_config.py"
    config.write_text(
        f"load_subconfig({str(paths.PACKAGE_DIR / 'hub' / 'gateway_config.py')!r})\n"
        "c.DaskGateway.authenticator_class = 'dask_gateway_server.auth.SimpleAuthenticator'\n"
        f"c.SimpleAuthenticator.password = {password!r}\n"
        "c.DaskGateway.log_level = 'DEBUG'\n"
    )
    api, http, tcp = (f"127.0.0.1:{p}" for p in PORTS)
    env = dict(os.environ, ASTROHUB_GATEWAY_API=api, ASTROHUB_GATEWAY_HTTP=http, ASTROHUB_GATEWAY_TCP=tcp,
               ASTROHUB_GATEWAY_CLUSTERS=str(clusters), ASTROHUB_GATEWAY_MAX_WORKERS="2",
               PATH=f"{paths.venv_bin()}:/usr/bin:/bin")
    log = root / "gateway.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(paths.venv_bin() / "dask-gateway-server"), "-f", str(config)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root,
                                start_new_session=True)
    try:
        import requests

        def up():
            assert proc.poll() is None, f"dask-gateway-server exited:\n{log.read_text()[-3000:]}"
            try:
                return requests.get(f"http://{http}/services/dask-gateway/api/health", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(up, "dask-gateway-server to answer")
        yield {"root": root, "clusters": clusters, "log": log, "password": password,
               "address": f"http://{http}/services/dask-gateway", "proxy": f"gateway://{tcp}"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        throwaway.remove(root)


def test_worker_log_symlink_to_root_only_folder_writes_nothing_there(gateway):
    from dask_gateway import BasicAuth, Gateway

    root = gateway["root"]
    canary = throwaway.canary(root)
    before = throwaway.snapshot(canary)
    with throwaway.user(root / "homes") as user:
        gw = Gateway(gateway["address"], proxy_address=gateway["proxy"],
                     auth=BasicAuth(user.pw_name, gateway["password"]))
        cluster = gw.new_cluster()
        try:
            workdir = gateway["clusters"] / cluster.name
            # made by root in root's folder, then handed over; the scheduler's log made by the user
            assert workdir.lstat().st_uid == user.pw_uid
            for path in (workdir / ".certs", workdir / ".certs" / "dask.pem", workdir / "logs"):
                assert path.lstat().st_uid == user.pw_uid, path
            wait_for(lambda: (workdir / "logs" / "scheduler.log").exists(), "the scheduler's log")
            assert (workdir / "logs" / "scheduler.log").lstat().st_uid == user.pw_uid
            assert gateway["clusters"].stat().st_uid == 0

            # the attack, as the user: logs -> the root-only canary folder, then ask for a worker
            r = throwaway.as_user(user, ["sh", "-c", f"mv logs logs.old && ln -s {canary} logs"], cwd=workdir)
            assert r.returncode == 0, r.stderr
            assert (workdir / "logs").is_symlink()
            cluster.scale(1)
            wait_for(lambda: FAILED in gateway["log"].read_text(errors="replace"),
                     "the gateway to try (and fail) to start the worker")
        finally:
            cluster.shutdown()
            gw.close()
    assert throwaway.snapshot(canary) == before, "the gateway wrote into the canary through the symlink"
    assert sorted(p.name for p in canary.iterdir()) == ["keep.txt"]


def test_gateway_refuses_root_and_system_account_clusters():
    from astrohub.hub.gateway import _account

    with pytest.raises(RuntimeError, match="refuses to run a cluster as root"):
        _account("root")
    with pytest.raises(RuntimeError, match="refuses to run a cluster as 'bin': 'bin' is a system account"):
        _account("bin")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
