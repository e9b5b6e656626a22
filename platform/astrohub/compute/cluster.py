"""One call for a Dask client that suits torch: dask-gateway, LocalCUDACluster or LocalCluster."""

from __future__ import annotations

import logging
import os
import sys

import dask
from distributed import Client, LocalCluster
from distributed.security import Security

from astrohub.defaults import LOOPBACK, TORCH_PROCESS_ENV

from .plugin import TorchWorker

log = logging.getLogger(__name__)


def torch_dask_config(daemon: bool = False) -> dict:
    """Dask settings that keep torch fast in workers.

    Dask's nanny exports ``MALLOC_TRIM_THRESHOLD_=65536`` to workers, which makes glibc mmap
    every activation tensor: measured 2.3x slower inference (benchmarks/compute_bench.py).
    ``None`` removes it. Non-daemonic workers let tasks use DataLoader worker processes.
    A local cluster closes a nanny for good when its restarted worker has not registered within
    ``lost-worker-timeout`` (Dask's default 15 s, which a worker importing torch on a busy
    machine can exceed); astrohub waits two minutes. Workers (and the training ranks they start) get
    :data:`astrohub.defaults.TORCH_PROCESS_ENV`: OpenMP threads that sleep instead of spinning.
    """
    return {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        **{f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in TORCH_PROCESS_ENV.items()},
        "distributed.worker.daemon": daemon,
        "distributed.deploy.lost-worker-timeout": "120s",
    }


class ClusterClient(Client):
    """A Dask client that owns the cluster :func:`cluster` started for it: ``close()`` (or leaving a
    ``with`` block, or the client being garbage-collected) also shuts that cluster down, its workers and
    their memory with it. ``client.cluster`` stays reachable for scaling and the dashboard link."""

    _owned = None

    def own(self, cluster) -> ClusterClient:
        self._owned = cluster
        return self

    def close(self, *args, **kwargs):
        try:
            return super().close(*args, **kwargs)
        finally:
            owned, self._owned = self._owned, None
            if owned is not None and not sys.is_finalizing():
                _close_cluster(owned)


def _close_cluster(owned) -> None:
    if hasattr(owned, "shutdown"):  # a dask-gateway cluster: stop it on the gateway, not only disconnect
        owned.shutdown()
    else:
        owned.close()


PROXIED_DASHBOARD = "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status"


def use_proxied_dashboards() -> bool:
    """Inside a JupyterHub single-user server or its kernels (``JUPYTERHUB_SERVICE_PREFIX`` is set),
    make local clusters' dashboard links go through the server's jupyter-server-proxy
    (``/user/NAME/proxy/PORT/status``: the hub authenticates the browser, the dashboard itself stays on
    127.0.0.1). Returns whether it did."""
    if not os.environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        return False
    dask.config.set({"distributed.dashboard.link": PROXIED_DASHBOARD})
    return True


def gateway_public_address(address: str | None = None) -> str | None:
    """The browser-facing root of gateway dashboard links: a gateway reached on loopback (the embedded
    hub's) goes through the single-user server's jupyter-server-proxy, since the browser cannot reach the
    server's 127.0.0.1; None (dask-gateway's default, its address) elsewhere."""
    from urllib.parse import urlsplit

    address = address or dask.config.get("gateway.address", None)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if not address or not prefix:
        return None
    u = urlsplit(address)
    if u.scheme != "http" or u.hostname not in ("127.0.0.1", "localhost") or not u.port:
        return None
    return f"{prefix.rstrip('/')}/proxy/{u.hostname}:{u.port}{u.path.rstrip('/')}"


def in_gateway_hub() -> bool:
    """True inside a hub that offers dask-gateway (it exports DASK_GATEWAY__ADDRESS)."""
    return bool(os.environ.get("DASK_GATEWAY__ADDRESS"))


def cluster(n_workers: int | None = None, threads_per_worker: int = 1, memory_limit: str | float = "auto",
            gpu: bool | None = None, gateway: bool | None = None, **kwargs) -> ClusterClient:
    """A Dask client set up for torch, with the astrohub worker plugin registered.

    The client owns the cluster started for it (:class:`ClusterClient`): ``client.close()``, or the end
    of ``with compute.cluster() as client:``, shuts the cluster down too.

    - inside a hub offering dask-gateway (``gateway=None`` auto-detects): a gateway cluster
      scaled to ``n_workers`` (default 2);
    - else with a GPU (``gpu=None`` auto-detects): a dask-cuda ``LocalCUDACluster``, one worker per GPU;
    - else a ``LocalCluster`` of ``n_workers`` processes (default: one per core) with
      ``threads_per_worker`` threads each (torch uses as many threads), dashboard on 127.0.0.1.

    Local clusters listen on 127.0.0.1 only and require TLS with credentials made for this cluster
    (:func:`cluster_security`: a fresh CA, key and certificate held in this process's memory and
    handed to its workers, never written to disk): another local user who finds the scheduler's
    address cannot connect, so cannot run code as you. Gateway clusters get TLS credentials of
    their own from dask-gateway. ``security=`` may pass your own :class:`~distributed.security.Security`
    if it requires encryption.
    """
    if threads_per_worker < 1:
        raise ValueError(f"threads_per_worker must be >= 1, got {threads_per_worker}")
    if n_workers is not None and n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    dask.config.set(torch_dask_config())
    use_proxied_dashboards()
    if gateway or (gateway is None and in_gateway_hub()):
        client = _gateway_client(n_workers or 2, **kwargs)
    else:
        for key in ("host", "ip", "dashboard_address"):
            if key in kwargs:
                raise ValueError(f"{key}= is not accepted: astrohub's local clusters listen on {LOOPBACK} only")
        security = cluster_security(kwargs.pop("security", None))
        if gpu or (gpu is None and _gpu_count() > 0):
            from dask_cuda import LocalCUDACluster

            local = LocalCUDACluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                     memory_limit=memory_limit, dashboard_address=f"{LOOPBACK}:0",
                                     ip=LOOPBACK, security=security, **kwargs)
        else:
            n = n_workers or max(1, (os.cpu_count() or 1) // threads_per_worker)
            local = LocalCluster(n_workers=n, threads_per_worker=threads_per_worker, processes=True,
                                 memory_limit=memory_limit, host=LOOPBACK, dashboard_address=f"{LOOPBACK}:0",
                                 security=security, **kwargs)
        try:
            client = ClusterClient(local, security=security).own(local)
        except BaseException:
            local.close()
            raise
    try:
        client.register_plugin(TorchWorker(), name=TorchWorker.name)
    except BaseException:
        client.close()
        raise
    return client


def cluster_security(security: Security | None = None) -> Security:
    """TLS settings for a local cluster: ``security`` when it requires encryption, else fresh
    per-cluster credentials (``Security.temporary()``: a self-signed CA/key/certificate that exist only
    in memory, so only this process and the workers it starts hold them)."""
    if security is None:
        return Security.temporary()
    if not isinstance(security, Security) or not security.require_encryption:
        raise ValueError("security= must be a distributed.security.Security with require_encryption=True "
                         f"(got {security!r}); astrohub's local clusters always use TLS. Leave it out to get "
                         "per-cluster credentials")
    return security


def _gpu_count() -> int:
    from astrohub.defaults import gpu_available

    if not gpu_available():
        return 0
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - a broken CUDA stack means no GPU for us
        return 0


def _gateway_client(n_workers: int, **options) -> Client:
    from dask_gateway import Gateway

    gw = Gateway(public_address=gateway_public_address())
    cl = gw.new_cluster(**options)
    try:
        cl.scale(n_workers)
        log.info("dask-gateway cluster %s, dashboard %s", cl.name, cl.dashboard_link)
        return ClusterClient(cl, security=cl.security).own(cl)
    except BaseException:
        cl.shutdown()
        raise
