"""Issue 18, item 3: a local Dask cluster accepts only its owner's client.

Performed with a real second Unix account (``ahts*``): it knows the scheduler's and a worker's
address (``ss``/``/proc`` give them to any local user) and tries to run code as the cluster's
owner, which would write a file into a canary folder. Against ``astrohub.compute.cluster()``
(TLS, per-cluster credentials) every try is refused; the same script against a plain Dask
``LocalCluster`` succeeds, which shows the attack is real.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from urllib.parse import urlparse

import psutil
import pytest
from distributed import Client, LocalCluster

from astrohub.compute import cluster

from .throwaway import as_user, canary, remove, scratch, user

ATTACK = textwrap.dedent("""
    import json, sys
    from distributed import Client
    from distributed.security import Security
    scheduler, worker, target = sys.argv[1:4]
    host = scheduler.split("://", 1)[1]

    def payload(path=target):
        open(path + "/pwned", "w").write("code ran as the cluster's owner")
        return "ran"

    def attempt(name, fn):
        try:
            out[name] = "SUCCEEDED: " + repr(fn())
        except BaseException as e:
            out[name] = "refused: " + type(e).__name__ + ": " + str(e)[:200]

    out = {}
    # the stolen address only, as written
    attempt("address", lambda: Client(scheduler, timeout=8).run_on_scheduler(payload))
    # the same port without TLS
    attempt("plain tcp", lambda: Client("tcp://" + host, timeout=8).run_on_scheduler(payload))
    # TLS with credentials of the attacker's own
    attempt("own credentials", lambda: Client(scheduler, timeout=8,
                                              security=Security.temporary()).run_on_scheduler(payload))
    # straight to a worker, which also executes tasks
    attempt("worker", lambda: Client("tcp://" + worker.split("://", 1)[1], timeout=8).run(payload))
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def mallory():
    with user() as entry:
        yield entry


@pytest.fixture
def target():
    """A folder the attacker cannot write but the cluster's owner (root) can: the canary."""
    root = scratch()
    folder = canary(root)
    yield folder
    remove(root)


def addresses(client) -> tuple[str, str]:
    """The scheduler's and a worker's address: what any local user can find out."""
    scheduler = client.scheduler.address
    worker = sorted(client.scheduler_info(n_workers=-1)["workers"])[0]
    return scheduler, worker


def run_attack(entry, scheduler: str, worker: str, folder) -> dict:
    proc = as_user(entry, [sys.executable, "-c", ATTACK, scheduler, worker, str(folder)], timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_another_users_client_is_refused_and_the_owners_works(mallory, target):
    c = cluster(n_workers=1, memory_limit="2GiB")
    try:
        scheduler, worker = addresses(c)
        assert scheduler.startswith("tls://127.0.0.1:") and worker.startswith("tls://127.0.0.1:")
        results = run_attack(mallory, scheduler, worker, target)
        assert set(results) == {"address", "plain tcp", "own credentials", "worker"}
        assert all(r.startswith("refused") for r in results.values()), results
        assert "TLS expects a `ssl_context`" in results["address"]  # the address alone is not enough
        assert "certificate" in results["own credentials"]  # only this cluster's CA is trusted
        assert "CommClosedError" in results["plain tcp"] and "CommClosedError" in results["worker"]
        assert os.listdir(target) == ["keep.txt"]  # nothing ran as the owner
        # the owner's client works, and so does a second client of the owner's with the cluster's credentials
        assert c.submit(lambda x: x + 1, 41).result() == 42
        with Client(scheduler, security=c.cluster.security, timeout=30) as again:
            assert again.submit(lambda: os.getpid()).result() in c.run(os.getpid).values()
    finally:
        c.close()
        c.cluster.close()


def test_the_attack_works_against_a_cluster_without_tls(mallory, target):
    """The control: a plain Dask LocalCluster (what astrohub started before) runs the attacker's code."""
    plain = LocalCluster(n_workers=1, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None)
    try:
        worker = sorted(plain.scheduler_info["workers"])[0]
        results = run_attack(mallory, plain.scheduler_address, worker, target)
        assert results["address"].startswith("SUCCEEDED"), results
        assert (target / "pwned").read_text() == "code ran as the cluster's owner"
    finally:
        plain.close()


def test_scheduler_workers_and_dashboard_listen_on_loopback_only():
    c = cluster(n_workers=1, memory_limit="2GiB")
    try:
        assert urlparse(c.dashboard_link).hostname == "127.0.0.1"
        procs = [psutil.Process(), *(psutil.Process(p) for p in c.run(os.getpid).values())]
        listening = [conn.laddr for p in procs for conn in p.net_connections(kind="inet")
                     if conn.status == psutil.CONN_LISTEN]
        ports = {urlparse(c.scheduler.address.replace("tls", "http")).port, urlparse(c.dashboard_link).port}
        assert ports <= {a.port for a in listening}
        assert {a.ip for a in listening} == {"127.0.0.1"}, listening
    finally:
        c.close()
        c.cluster.close()


@pytest.mark.parametrize("kwargs,message", [
    ({"security": False}, "astrohub's local clusters always use TLS"),
    ({"host": "0.0.0.0"}, "host= is not accepted: astrohub's local clusters listen on 127.0.0.1 only"),
    ({"dashboard_address": ":8787"}, "dashboard_address= is not accepted"),
])
def test_insecure_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluster(n_workers=1, gateway=False, gpu=False, **kwargs)
