"""The JupyterLab Dask panel (dask-labextension) on astrohub: clusters that get workers and a dashboard
the browser reaches.

dask-labextension makes "+ NEW" clusters with ``labextension.factory`` and then applies
``labextension.default``; its own defaults (a plain ``LocalCluster``, no scaling) give a cluster with no
TLS, or, with dask-gateway, one with 0 workers whose dashboard link names the server's 127.0.0.1.
:func:`lab_environment` is the single-user server's settings (environment variables: they outrank the
``~/.config/dask/labextension.yaml`` that dask-labextension copies into every home) and
:func:`LabCluster` the factory:

- inside a hub offering dask-gateway: a ``GatewayCluster`` whose dashboard link goes through the server's
  jupyter-server-proxy (:func:`astrohub.compute.cluster.gateway_public_address`);
- else a ``LocalCluster`` as :func:`astrohub.compute.cluster` makes them (127.0.0.1 only, TLS with
  per-cluster credentials held by the server, torch settings), dashboard link
  ``{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status`` in a hub, the server's own dask proxy elsewhere;
- both scaled adaptively (:data:`ADAPT`) from the start, so a new cluster has a worker.
"""

from __future__ import annotations

import dask

from astrohub.defaults import LOOPBACK

from .cluster import (
    cluster_security,
    gateway_public_address,
    in_gateway_hub,
    torch_dask_config,
    use_proxied_dashboards,
)

ADAPT = {"minimum": 1, "maximum": 2}
FACTORY = {"module": "astrohub.compute.lab", "class": "LabCluster"}


def lab_environment() -> dict[str, str]:
    """Environment for a single-user server (the hub's ``Spawner.environment``) that makes the Dask panel
    use :func:`LabCluster` with adaptive scaling."""
    return {
        "DASK_LABEXTENSION__FACTORY__MODULE": FACTORY["module"],
        "DASK_LABEXTENSION__FACTORY__CLASS": FACTORY["class"],
        # one variable per key (dask nests them): KubeSpawner formats environment values, so no braces
        **{f"DASK_LABEXTENSION__DEFAULT__ADAPT__{k.upper()}": str(v) for k, v in ADAPT.items()},
        "DASK_LABEXTENSION__DEFAULT__WORKERS": "None",
    }


def LabCluster(*args, asynchronous: bool = False, **kwargs):  # noqa: N802 - dask-labextension calls it as a class
    """dask-labextension's cluster factory (see the module's doc)."""
    dask.config.set(torch_dask_config())
    if in_gateway_hub():
        return _lab_gateway_cluster()(*args, public_address=gateway_public_address(), asynchronous=asynchronous,
                                      **kwargs)
    from distributed import LocalCluster

    use_proxied_dashboards()
    kwargs.setdefault("threads_per_worker", 1)
    return LocalCluster(*args, n_workers=0, processes=True, host=LOOPBACK, dashboard_address=f"{LOOPBACK}:0",
                        security=cluster_security(kwargs.pop("security", None)), asynchronous=asynchronous,
                        **kwargs)


def _lab_gateway_cluster():
    """``GatewayCluster`` whose ``adapt`` suits dask-labextension: the gateway adapts server-side, and an
    asynchronous cluster's ``adapt`` is a coroutine that the panel neither awaits nor can read ``minimum``
    from; it is scheduled, and the panel gets the bounds it asked for."""
    import asyncio
    from types import SimpleNamespace

    from dask_gateway import GatewayCluster

    class LabGatewayCluster(GatewayCluster):
        def adapt(self, minimum=None, maximum=None, active=True, **kwargs):
            done = super().adapt(minimum=minimum, maximum=maximum, active=active, **kwargs)
            if asyncio.iscoroutine(done):
                self._adapting = asyncio.ensure_future(done)  # kept referenced until it has run
            return SimpleNamespace(minimum=minimum, maximum=maximum)

    return LabGatewayCluster
