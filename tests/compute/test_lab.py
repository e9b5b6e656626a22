"""The JupyterLab Dask panel's "+ NEW" (dask-labextension's own make_cluster) with astrohub's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dask_labextension

from astrohub.compute.cluster import gateway_public_address
from astrohub.compute.lab import ADAPT, lab_environment

PANEL = textwrap.dedent("""
    import asyncio, json, time
    from urllib.parse import urlsplit
    import psutil
    from dask_labextension.manager import make_cluster, make_cluster_model

    async def main():
        cluster, adaptive = await make_cluster({})
        try:
            deadline = time.monotonic() + 120
            model = make_cluster_model("id", "new", cluster, adaptive)
            while model["workers"] == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                model = make_cluster_model("id", "new", cluster, adaptive)
            port = int(model["dashboard_link"].split("/proxy/")[1].split("/")[0])
            listens = sorted({c.laddr.ip for c in psutil.Process().net_connections("inet")
                              if c.status == "LISTEN" and c.laddr.port == port})
            print(json.dumps({"model": model, "type": type(cluster).__name__, "dashboard_listens": listens,
                              "port": port}))
        finally:
            await cluster.close()

    asyncio.run(main())
""")


def test_the_panels_new_cluster_gets_workers_tls_and_a_proxied_dashboard(tmp_path):
    home = tmp_path / "home"
    # what dask-labextension copies into every home on first start: LocalCluster, no scaling
    (home / ".config" / "dask").mkdir(parents=True)
    shipped = Path(dask_labextension.__file__).with_name("labextension.yaml")
    (home / ".config" / "dask" / "labextension.yaml").write_text(shipped.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASK_", "JUPYTERHUB_"))}
    env.update(lab_environment(), HOME=str(home), JUPYTERHUB_SERVICE_PREFIX="/user/ahtalice/")
    r = subprocess.run([sys.executable, "-c", PANEL], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    model = got["model"]
    assert got["type"] == "LocalCluster"
    assert model["workers"] >= 1 and model["adapt"] == ADAPT
    assert model["scheduler_address"].startswith("tls://127.0.0.1:")
    # the panel uses a link under the server's base URL + "proxy" as is: jupyter-server-proxy, hub-authenticated
    assert model["dashboard_link"] == f"/user/ahtalice/proxy/{got['port']}/status"
    assert got["dashboard_listens"] == ["127.0.0.1"]


def test_a_loopback_gateways_dashboards_go_through_the_servers_proxy(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ahtalice/")
    assert gateway_public_address("http://127.0.0.1:18300/services/dask-gateway") == \
        "/user/ahtalice/proxy/127.0.0.1:18300/services/dask-gateway"
    # a gateway the browser reaches itself (Kubernetes) keeps dask-gateway's own links
    assert gateway_public_address("https://hub.example.org/services/dask-gateway") is None
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX")
    assert gateway_public_address("http://127.0.0.1:18300/services/dask-gateway") is None
