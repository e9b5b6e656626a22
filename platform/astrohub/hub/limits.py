"""Resource limits of the embedded hub: per-user memory and CPU, idle culling, gateway caps, disk quota.

Each user's server (and everything it starts: kernels, terminals, local Dask clusters) runs in a
control group of its own, ``astrohub/<user>``, made by the hub (root) before the server starts:

- **cgroup v2** (``/sys/fs/cgroup/cgroup.controllers`` with ``memory`` and ``cpu`` enabled at the
  top): ``/sys/fs/cgroup/astrohub/<user>`` with ``memory.max`` (swap off: ``memory.swap.max = 0``)
  and ``cpu.max``;
- **cgroup v1** (``/sys/fs/cgroup/memory`` and ``/sys/fs/cgroup/cpu`` writable): ``astrohub/<user>``
  below the hub's own groups, with ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``)
  and ``cpu.cfs_quota_us``;
- **neither** (a container without cgroup access): the memory limit becomes ``RLIMIT_AS`` of every
  process of the server (per process, not per user: a documented fallback; it is left off on a GPU
  host, where CUDA reserves far more address space than it uses) and the CPU limit is not enforced.

A user whose processes together pass the memory limit has the largest one killed by the kernel's
OOM killer (cgroups: the notebook shows "kernel died"), or gets ``MemoryError`` (``RLIMIT_AS``).
The server process is moved into its group before it drops root (``preexec_fn``), so nothing it
starts escapes. JupyterHub also passes ``MEM_LIMIT``/``CPU_LIMIT`` to the server.

Idle servers are stopped by jupyterhub-idle-culler (a hub service), idle gateway clusters by
dask-gateway (``idle_timeout``); ``SafeLocalBackend`` caps each user's clusters, dask-gateway each
cluster's workers, cores and memory. Every setting is a trait of :class:`AstrohubLimits`
(``c.AstrohubLimits.mem_limit = "4G"`` in the hub config) or an ``ASTROHUB_*`` variable, and is
shown to admins on the hub's admin page and on the ``astrohub-ops`` page (see :mod:`.ops`).
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import signal
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from jupyterhub.utils import url_path_join
from traitlets import Float, Int, Unicode, default
from traitlets.config import Configurable

CGROUP = Path("/sys/fs/cgroup")
GROUP = "astrohub"
# The users' servers together weigh as much as this many ordinary processes when the CPU is contended
# (cgroup v1 cpu.shares / v2 cpu.weight of ``astrohub``): one group at the default weight would give
# ten users starting at once the share of a single process next to the hub's own (hub_bench: ten
# logins 41 s with the default, 17.7 s with ten times the default); each user stays capped by its quota.
USERS_WEIGHT = 32
CULLER_SERVICE = "idle-culler"
OPS_SERVICE = "astrohub-ops"
METRICS_SERVICE = "astrohub-metrics"


def parse_bytes(text: str | int) -> int:
    """``"4G"``, ``"512 MiB"``, ``"2.5g"``, ``"50%"`` (of this machine's memory) or a number -> bytes."""
    if isinstance(text, int):
        return text
    s = str(text).strip().replace(" ", "")
    if not s or s in ("0", "none", "off"):
        return 0
    if s.endswith("%"):
        return int(float(s[:-1]) / 100 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    num = s.rstrip("BbIi")
    unit = num[-1].upper() if num and num[-1].isalpha() else ""
    try:
        return int(float(num[:-1] if unit else num) * units[unit])
    except (KeyError, ValueError):
        raise ValueError(f"not a memory size: {text!r} (use e.g. 4G, 512M, 50%)") from None


def human(n: int) -> str:
    """Bytes for people: ``12.0 GiB``, ``512 MiB``, ``2.5 MiB``, ``0 B``."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            v = n / size
            return f"{v:.1f} {unit}" if unit in ("TiB", "GiB") or v < 10 else f"{v:.0f} {unit}"
    return f"{n} B"


def _has_gpu() -> bool:
    return os.path.exists("/dev/nvidiactl")


def _own_group(controller: str) -> str:
    """This process's group in a cgroup v1 hierarchy (``/`` when not found)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                return path
    return "/"


def backend() -> str:
    """How limits are enforced here: ``cgroup2``, ``cgroup1`` or ``rlimit`` (see the module's doc)."""
    try:
        if (CGROUP / "cgroup.controllers").exists():
            enabled = (CGROUP / "cgroup.subtree_control").read_text().split()
            if {"memory", "cpu"} <= set(enabled) and os.access(CGROUP, os.W_OK):
                return "cgroup2"
        elif (CGROUP / "memory" / "memory.limit_in_bytes").exists() and os.access(CGROUP / "memory", os.W_OK) \
                and (CGROUP / "cpu" / "cpu.cfs_quota_us").exists():
            return "cgroup1"
    except OSError:
        pass
    return "rlimit"


def _write(path: Path, value) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def group_dirs(user: str, how: str | None = None) -> list[Path]:
    """The cgroup folders of ``user``'s server (one on v2; memory and cpu on v1); [] for ``rlimit``."""
    how = how or backend()
    if how == "cgroup2":
        return [CGROUP / GROUP / user]
    if how == "cgroup1":
        return [CGROUP / c / _own_group(c).lstrip("/") / GROUP / user for c in ("memory", "cpu")]
    return []


def prepare(user: str, mem_limit: int, cpu_limit: float, how: str | None = None, log=None):
    """Make (or update) ``user``'s cgroup with the limits; return a ``preexec_fn`` that moves the
    calling child process into it, or sets ``RLIMIT_AS`` where there are no cgroups. Runs as root."""
    how = how or backend()
    period = 100_000
    quota = int(math.ceil(cpu_limit * period)) if cpu_limit else 0
    try:
        if how == "cgroup2":
            top = CGROUP / GROUP
            top.mkdir(mode=0o755, exist_ok=True)
            _write(top / "cgroup.subtree_control", "+memory +cpu")
            with contextlib.suppress(OSError):
                _write(top / "cpu.weight", 100 * USERS_WEIGHT)
            (d,) = group_dirs(user, how)
            d.mkdir(mode=0o755, exist_ok=True)
            _write(d / "memory.max", mem_limit or "max")
            with contextlib.suppress(OSError):
                _write(d / "memory.swap.max", 0 if mem_limit else "max")
            _write(d / "cpu.max", f"{quota or 'max'} {period}")
            procs = [d / "cgroup.procs"]
        elif how == "cgroup1":
            mem, cpu = group_dirs(user, how)
            for d in (mem, cpu):
                d.mkdir(mode=0o755, parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                _write(cpu.parent / "cpu.shares", 1024 * USERS_WEIGHT)
            limit = mem_limit or -1
            memsw = mem / "memory.memsw.limit_in_bytes"
            # memsw must stay >= the memory limit: lower the memory limit first when shrinking, last when growing
            with contextlib.suppress(OSError):
                _write(mem / "memory.limit_in_bytes", limit)
            if memsw.exists():
                with contextlib.suppress(OSError):
                    _write(memsw, limit)
            _write(mem / "memory.limit_in_bytes", limit)
            _write(cpu / "cpu.cfs_period_us", period)
            _write(cpu / "cpu.cfs_quota_us", quota or -1)
            procs = [mem / "cgroup.procs", cpu / "cgroup.procs"]
        else:
            procs = []
    except OSError as e:
        if log is not None:
            log.warning("astrohub: cannot make the cgroup of %s (%s): falling back to RLIMIT_AS", user, e)
        how, procs = "rlimit", []

    rlimit = mem_limit if how == "rlimit" and mem_limit and not _has_gpu() else 0

    def enter() -> None:  # in the child, after fork, still root, before the server runs
        pid = str(os.getpid()).encode()
        for path in procs:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)
        if rlimit:
            resource.setrlimit(resource.RLIMIT_AS, (rlimit, rlimit))

    enter.backend = how
    return enter


def release(user: str) -> None:
    """Remove ``user``'s (empty) cgroups, e.g. when the account is removed."""
    for d in group_dirs(user):
        with contextlib.suppress(OSError):
            d.rmdir()


class LimitedLocalProcessSpawner(LocalProcessSpawner):
    """LocalProcessSpawner whose servers run within their user's memory and CPU limits."""

    def make_preexec_fn(self, name):
        drop = super().make_preexec_fn(name)
        enter = prepare(name, int(self.mem_limit or 0), float(self.cpu_limit or 0), log=self.log)
        self.log.info("astrohub: %s's server limited to %s memory, %s CPUs (%s)", name,
                      human(int(self.mem_limit or 0)) if self.mem_limit else "unlimited",
                      self.cpu_limit or "unlimited", enter.backend)

        def preexec():
            # the hub stops servers with SIGINT first: a hub started with SIGINT ignored (a background job of
            # a shell without job control) would pass that on, and each server then waits out interrupt_timeout
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            enter()
            drop()

        return preexec


def _env(name: str, fallback):
    return os.environ.get(name) or fallback


class AstrohubLimits(Configurable):
    """Limits of the embedded hub (see the module's doc); 0 or empty turns one off."""

    mem_limit = Unicode(help="Memory of each user's server and all it starts (e.g. 4G, 50%).").tag(config=True)
    cpu_limit = Float(help="CPUs of each user's server and all it starts (cgroups only).").tag(config=True)
    cull_idle = Int(help="Seconds of inactivity after which a server is stopped (0: never).").tag(config=True)
    cull_every = Int(300, help="How often the idle culler looks, in seconds.").tag(config=True)
    gateway_max_clusters = Int(help="Most dask-gateway clusters one user may run at once.").tag(config=True)
    gateway_max_cores = Float(help="Most cores of one gateway cluster (scheduler and workers).").tag(config=True)
    gateway_max_memory = Unicode(help="Most memory of one gateway cluster.").tag(config=True)
    gateway_idle_timeout = Int(help="Seconds after which an idle gateway cluster is stopped.").tag(config=True)
    disk_quota = Unicode(help="Soft quota of each home (e.g. 20G; empty: none): shown to the user and "
                              "admins, flagged when passed; not enforced by the filesystem.").tag(config=True)

    @default("mem_limit")
    def _mem_limit(self):
        return _env("ASTROHUB_MEM_LIMIT", "50%")

    @default("cpu_limit")
    def _cpu_limit(self):
        return float(_env("ASTROHUB_CPU_LIMIT", max(1.0, round((os.cpu_count() or 1) * 0.75, 2))))

    @default("cull_idle")
    def _cull_idle(self):
        return int(_env("ASTROHUB_CULL_IDLE", 3600))

    @default("gateway_max_clusters")
    def _gateway_max_clusters(self):
        return int(_env("ASTROHUB_GATEWAY_MAX_CLUSTERS", 2))

    @default("gateway_max_cores")
    def _gateway_max_cores(self):
        return float(_env("ASTROHUB_GATEWAY_MAX_CORES", 5))  # 4 one-core workers and the scheduler

    @default("gateway_max_memory")
    def _gateway_max_memory(self):
        return _env("ASTROHUB_GATEWAY_MAX_MEMORY", "10G")  # 4 workers of 2 GiB and the scheduler

    @default("gateway_idle_timeout")
    def _gateway_idle_timeout(self):
        return int(_env("ASTROHUB_GATEWAY_IDLE_TIMEOUT", 1800))

    @default("disk_quota")
    def _disk_quota(self):
        return _env("ASTROHUB_DISK_QUOTA", "")

    def summary(self, gateway_max_workers: int) -> dict:
        """What the admin page shows (also the ops page's /api/limits)."""
        mem = parse_bytes(self.mem_limit)
        how = backend()
        return {
            "enforced_by": {"cgroup2": "cgroups v2", "cgroup1": "cgroups v1"}.get(
                how, "RLIMIT_AS per process (no cgroups here)" if not _has_gpu() else "nothing (no cgroups, GPU host)"),
            "server_memory": human(mem) if mem else "unlimited",
            "server_cpus": (f"{self.cpu_limit:g}" if how != "rlimit" else f"{self.cpu_limit:g} (not enforced)")
            if self.cpu_limit else "unlimited",
            "cull_idle_servers_after": f"{self.cull_idle // 60} min" if self.cull_idle else "never",
            "gateway_clusters_per_user": self.gateway_max_clusters or "unlimited",
            "gateway_workers_per_cluster": gateway_max_workers or "unlimited",
            "gateway_cores_per_cluster": f"{self.gateway_max_cores:g}" if self.gateway_max_cores else "unlimited",
            "gateway_memory_per_cluster": human(parse_bytes(self.gateway_max_memory))
            if parse_bytes(self.gateway_max_memory) else "unlimited",
            "stop_idle_gateway_clusters_after": f"{self.gateway_idle_timeout // 60} min"
            if self.gateway_idle_timeout else "never",
            "disk_quota_per_user": human(parse_bytes(self.disk_quota)) + " (soft)"
            if parse_bytes(self.disk_quota) else "none",
        }


def _replace(items: list, name: str, new: dict) -> list:
    return [s for s in items if s.get("name") != name] + [new]


def apply_limits(hub, c) -> None:
    """Add the limits to the embedded hub's config ``c`` (``hub``: its :class:`AstrohubHub`)."""
    from .config import GATEWAY_SERVICE, _already
    from .secrets import secret_file

    limits = AstrohubLimits(config=c)
    data = Path(hub.data_dir)
    mem = parse_bytes(limits.mem_limit)
    c.JupyterHub.spawner_class = LimitedLocalProcessSpawner
    c.Spawner.mem_limit = mem or None
    c.Spawner.cpu_limit = limits.cpu_limit or None
    env = dict(_already(c, "Spawner", "environment", {}))
    env["ASTROHUB_DISK_QUOTA"] = str(parse_bytes(limits.disk_quota))
    c.Spawner.environment = env

    services = list(_already(c, "JupyterHub", "services", []))
    roles = list(_already(c, "JupyterHub", "load_roles", []))
    # the idle culler: a hub service with only the scopes it needs, as an unprivileged account
    if limits.cull_idle:
        culler = {"name": CULLER_SERVICE, "command": [
            sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={limits.cull_idle}",
            f"--cull-every={min(limits.cull_every, limits.cull_idle)}"]}
        if os.geteuid() == 0:
            culler.update(user="nobody", cwd="/")
        culler["environment"] = {"ASTROHUB_HUB_DATA_DIR": str(data)}  # found by crash recovery
        services = _replace(services, CULLER_SERVICE, culler)
        roles = _replace(roles, CULLER_SERVICE, {
            "name": CULLER_SERVICE, "services": [CULLER_SERVICE],
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]})
    # Prometheus: a token that can read /hub/metrics (and the gateway's /metrics) and nothing else
    services = _replace(services, METRICS_SERVICE, {
        "name": METRICS_SERVICE, "api_token": secret_file(data, "metrics-token")})
    roles = _replace(roles, METRICS_SERVICE, {
        "name": METRICS_SERVICE, "services": [METRICS_SERVICE],
        "scopes": ["read:metrics", f"access:services!service={OPS_SERVICE}"]})
    # the ops page: disk usage (root reads the homes' sizes, never follows a link) and the limits
    ops_port = int(_env("ASTROHUB_OPS_PORT", hub.share_port + 4))
    summary = limits.summary(hub.gateway_max_workers if hub.enable_dask_gateway else 0)
    import json

    services = _replace(services, OPS_SERVICE, {
        "name": OPS_SERVICE, "display": True, "url": f"http://127.0.0.1:{ops_port}",
        "command": [sys.executable, "-m", "astrohub.hub.ops"], "oauth_no_confirm": True, "cwd": "/",
        "oauth_client_allowed_scopes": ["read:users:name"],
        "environment": {"ASTROHUB_OPS_HOMES": str(data / "homes"), "ASTROHUB_OPS_QUOTA":
                        str(parse_bytes(limits.disk_quota)), "ASTROHUB_OPS_LIMITS": json.dumps(summary),
                        "ASTROHUB_HUB_DATA_DIR": str(data)}})
    for role in roles:  # every user may open the ops page (their own usage and limits)
        if role.get("name") == "user":
            role["scopes"] = [*role.get("scopes", []), f"access:services!service={OPS_SERVICE}"]
    roles = _replace(roles, OPS_SERVICE, {"name": OPS_SERVICE, "services": [OPS_SERVICE],
                                          "scopes": ["list:users", "read:users", "read:servers",
                                                     "list:services", "read:services"]})
    # dask-gateway's caps and idle timeout reach its config through its environment
    for s in services:
        if s.get("name") == GATEWAY_SERVICE:
            s["environment"] = {**s.get("environment", {}),
                                "ASTROHUB_GATEWAY_MAX_CLUSTERS": str(limits.gateway_max_clusters),
                                "ASTROHUB_GATEWAY_MAX_CORES": str(limits.gateway_max_cores),
                                "ASTROHUB_GATEWAY_MAX_MEMORY": str(parse_bytes(limits.gateway_max_memory)),
                                "ASTROHUB_GATEWAY_IDLE_TIMEOUT": str(limits.gateway_idle_timeout)}
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles
    c.JupyterHub.template_vars = {**dict(_already(c, "JupyterHub", "template_vars", {})),
                                  "astrohub_limits": summary,
                                  "astrohub_ops_url": url_path_join("/services", OPS_SERVICE) + "/"}
