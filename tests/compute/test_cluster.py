"""astrohub.compute.cluster(): a real LocalCluster configured for torch."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from astrohub.compute import cluster
from astrohub.compute.plugin import torch_threads


def test_workers_are_configured_for_torch(client):
    info = client.scheduler_info(n_workers=-1)["workers"]
    assert len(info) == 2
    assert all(w["host"] == "127.0.0.1" for w in info.values())
    # Dask's nanny would export MALLOC_TRIM_THRESHOLD_=65536, which halves torch speed
    env = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(env.values()) == {None}
    # OpenMP threads that sleep between torch ops instead of spinning (two busy workers on shared cores)
    assert set(client.run(lambda: os.environ.get("OMP_WAIT_POLICY")).values()) == {"PASSIVE"}
    assert set(client.run(torch_threads).values()) == {1}
    plugins = client.run(lambda dask_worker: sorted(dask_worker.plugins))
    assert all("astrohub-torch" in names for names in plugins.values())


def test_without_gpu_or_gateway_it_is_a_local_cluster(client):
    from distributed import LocalCluster

    assert type(client.cluster) is LocalCluster


@pytest.mark.parametrize("kwargs,message", [
    ({"threads_per_worker": 0}, "threads_per_worker must be >= 1"),
    ({"n_workers": 0}, "n_workers must be >= 1"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluster(**kwargs)


def test_a_worker_that_is_slow_to_restart_is_waited_for(tmp_path):
    """A LocalCluster closes a nanny for good when its restarted worker has not registered within
    ``distributed.deploy.lost-worker-timeout`` (Dask's default: 15 s). On a busy machine a worker
    that imports torch can take that long, which left a fit() with one worker; astrohub waits longer."""
    slow = tmp_path / "slow"
    preload = tmp_path / "slow_start.py"
    preload.write_text("import os, time\n\n\ndef dask_setup(worker):\n"
                       f"    if os.path.exists({str(slow)!r}):\n        time.sleep(20)\n")
    c = cluster(n_workers=1, memory_limit="2GiB", preload=[str(preload)])
    try:
        (old_pid,) = c.run(os.getpid).values()
        slow.touch()
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 90
        pids = {}
        while time.monotonic() < deadline and set(pids.values()) in (set(), {old_pid}):
            time.sleep(1)
            pids = c.run(os.getpid, on_error="ignore")
        assert pids and old_pid not in pids.values(), "the killed worker did not come back within 90 s"
        time.sleep(2)
        assert len(c.cluster.workers) == 1 and len(c.run(os.getpid)) == 1
    finally:
        c.close()
        c.cluster.close()


def test_closing_the_client_shuts_down_the_cluster_it_started():
    """Tutorial 06 ends with ``client.close()``: that must free the workers, not only disconnect."""
    import psutil
    from distributed.core import Status

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    c = cluster(n_workers=1, memory_limit="1GiB")
    workers = set(c.run(os.getpid).values())
    started = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert workers and workers <= started  # the worker (and its nanny) are this process's children
    # a worker that has run no model has not imported torch; when a task does, it gets the worker's threads
    assert set(c.run(lambda: "torch" in sys.modules).values()) == {False}
    assert set(c.run(torch_threads).values()) == {1}
    c.close()
    assert c.cluster.status == Status.closed
    gone, alive = psutil.wait_procs([psutil.Process(pid) for pid in started if psutil.pid_exists(pid)], timeout=30)
    assert [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


def test_the_dashboard_listens_on_loopback_only(client):
    """The dashboard has no authentication of its own: it is bound to 127.0.0.1 (in a hub the browser
    reaches it through the single-user server's jupyter-server-proxy, which the hub authenticates)."""
    from urllib.parse import urlsplit

    import psutil

    port = urlsplit(client.dashboard_link).port
    listens = {c.laddr.ip for c in psutil.Process().net_connections("inet")
               if c.status == "LISTEN" and c.laddr.port == port}
    assert listens == {"127.0.0.1"}
    with pytest.raises(ValueError, match="dashboard_address= is not accepted"):
        cluster(dashboard_address=":8787")
