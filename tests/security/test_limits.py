"""Issue 18, item 13: per-user memory and CPU limits, and the gateway's per-user cluster cap.

Performed: a throw-away user's process, started the way the hub starts a server (the spawner's
``preexec_fn``: into the user's limits, then down to the user), allocates past its memory limit and
must fail; a busy loop must be throttled to its CPU share; the fallback without cgroups
(``RLIMIT_AS``) must turn the same allocation into ``MemoryError``. (The gateway's per-user cluster
cap is performed in test_crash_recovery.py, on its real gateway.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest

from astrohub.hub import limits

from .throwaway import user

MB = 2**20
ALLOC = ("import sys\nchunks = []\nfor i in range(int(sys.argv[1])):\n"
         "    chunks.append(bytearray(16 * 2**20))\n    chunks[-1][::4096] = b'x' * len(chunks[-1][::4096])\n"
         "print('allocated', 16 * len(chunks), 'MiB', flush=True)\n")


def run_limited(entry, mem: int, cpu: float, code: str, *args, how: str | None = None, timeout: float = 120):
    """Run ``code`` as ``entry`` inside its limits, as LimitedLocalProcessSpawner starts a server."""
    enter = limits.prepare(entry.pw_name, mem, cpu, how=how)

    def preexec():
        enter()  # still root: join the user's cgroup / set RLIMIT_AS
        os.setgid(entry.pw_gid)
        os.setgroups([])
        os.setuid(entry.pw_uid)

    proc = subprocess.run([sys.executable, "-c", code, *args], preexec_fn=preexec, capture_output=True, text=True,
                          timeout=timeout, cwd="/", env={"PATH": "/usr/bin:/bin"})
    return proc, enter.backend


@pytest.fixture
def account():
    with user() as entry:
        yield entry
        limits.release(entry.pw_name)


def test_a_server_allocating_past_its_memory_limit_fails(account):
    small, _ = run_limited(account, 256 * MB, 1.0, ALLOC, "4")  # 64 MiB: within the limit
    assert small.returncode == 0 and "allocated 64 MiB" in small.stdout, small.stderr
    big, how = run_limited(account, 256 * MB, 1.0, ALLOC, "32")  # 512 MiB: twice the limit
    assert how == limits.backend()
    assert "allocated 512 MiB" not in big.stdout
    if how == "rlimit":
        assert "MemoryError" in big.stderr
    else:  # the kernel's OOM killer ends the group's largest process, as a notebook's "kernel died"
        assert big.returncode == -signal.SIGKILL, (big.returncode, big.stderr[-500:])
        memory = next(d for d in limits.group_dirs(account.pw_name) if "memory" in str(d) or how == "cgroup2")
        events = (memory / ("memory.events" if how == "cgroup2" else "memory.oom_control")).read_text()
        assert int(dict(line.split() for line in events.splitlines())["oom_kill"]) >= 1, events  # by its group's limit


def test_the_rlimit_fallback_turns_the_allocation_into_memory_error(account):
    big, how = run_limited(account, 256 * MB, 1.0, ALLOC, "32", how="rlimit")
    assert how == "rlimit"
    assert big.returncode == 1 and "MemoryError" in big.stderr, big.stderr[-500:]


def test_a_busy_server_is_held_to_its_cpu_share(account):
    busy = "import time\nt = time.process_time() + 1.0\nwhile time.process_time() < t: pass\nprint('done')\n"
    proc, how = run_limited(account, 0, 0.2, busy)
    assert proc.returncode == 0 and proc.stdout == "done\n", proc.stderr
    if how == "rlimit":  # no cgroups: the CPU limit is documented as not enforced, and says so
        assert "not enforced" in limits.AstrohubLimits(cpu_limit=0.2).summary(4)["server_cpus"]
        return
    cpu = limits.group_dirs(account.pw_name)[-1]
    stat = dict(line.split() for line in (cpu / "cpu.stat").read_text().splitlines())
    assert int(stat["nr_throttled"]) > 0, stat  # the kernel held it back to 0.2 CPU
    quota = (cpu / ("cpu.max" if how == "cgroup2" else "cpu.cfs_quota_us")).read_text().split()[0]
    assert quota == "20000"
    # all users' servers together weigh USERS_WEIGHT ordinary processes, not one (ten logins at once)
    weight = (cpu.parent / ("cpu.weight" if how == "cgroup2" else "cpu.shares")).read_text().strip()
    assert int(weight) == (100 if how == "cgroup2" else 1024) * limits.USERS_WEIGHT


def test_memory_sizes_parse_and_bad_ones_say_how_to_write_them():
    assert limits.parse_bytes("4G") == 4 * 2**30
    assert limits.parse_bytes("512 MiB") == 512 * MB
    assert limits.parse_bytes("0") == 0
    assert 0 < limits.parse_bytes("50%") < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with pytest.raises(ValueError, match=r"not a memory size: '4 parsecs' \(use e.g. 4G, 512M, 50%\)"):
        limits.parse_bytes("4 parsecs")


def test_the_helm_values_carry_the_same_limits():
    """The Kubernetes chart: pods' memory/CPU limits, culling, and the gateway's caps, per-user cap included."""
    import asyncio
    from pathlib import Path

    import yaml
    from dask_gateway_server import models
    from dask_gateway_server.backends.base import PublicException
    from dask_gateway_server.backends.kubernetes import KubeBackend
    from traitlets.config import Config

    values = yaml.safe_load((Path(__file__).parents[2] / "helm" / "astrohub" / "values.yaml").read_text())
    single = values["jupyterhub"]["singleuser"]
    assert single["memory"]["limit"] and single["cpu"]["limit"]
    assert values["jupyterhub"]["cull"] == {"enabled": True, "timeout": 3600, "every": 300}
    c = Config()
    scope = {"c": c}
    for code in values["dask-gateway"]["gateway"]["extraConfig"].values():
        exec(compile(code, "gateway extraConfig", "exec"), scope)
    assert c.ClusterConfig.cluster_max_workers == 8 and c.ClusterConfig.idle_timeout == 1800
    backend_class = c.DaskGateway.backend_class
    assert issubclass(backend_class, KubeBackend)
    backend = backend_class.__new__(backend_class)  # the chart's real class and its real cluster list
    running = models.ClusterStatus.RUNNING
    backend.username_to_clusters = {"ann": {n: models.Cluster(n, "ann", "t", {}, {}, running) for n in "ab"}}
    with pytest.raises(PublicException, match=r"ann already has 2 Dask clusters, the most one user may run at once"):
        asyncio.run(backend.start_cluster(SimpleNamespace(name="ann"), {}))
