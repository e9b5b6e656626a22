# dask-gateway-server configuration of astrohub's embedded hub (a hub-managed service).
# `astrohub.hub.AstrohubHub` starts it with `dask-gateway-server -f <this file>` and passes
# the addresses in ASTROHUB_GATEWAY_* variables; users authenticate with their hub token.
import os
import sys

from astrohub.hub.gateway import WORKER_ENV, SafeLocalBackend

c = get_config()  # noqa: F821
env = os.environ
venv_bin = os.path.dirname(sys.executable)

c.DaskGateway.address = env["ASTROHUB_GATEWAY_API"]
c.Proxy.address = env["ASTROHUB_GATEWAY_HTTP"]
c.Proxy.tcp_address = env["ASTROHUB_GATEWAY_TCP"]
c.Proxy.prefix = "/services/dask-gateway"
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
c.DaskGateway.backend_class = SafeLocalBackend
c.LocalBackend.clusters_directory = env["ASTROHUB_GATEWAY_CLUSTERS"]
c.LocalClusterConfig.scheduler_cmd = [os.path.join(venv_bin, "dask"), "scheduler"]
c.LocalClusterConfig.worker_cmd = [sys.executable, "-m", "astrohub.compute.worker"]
c.LocalClusterConfig.environment = dict(WORKER_ENV)
c.LocalClusterConfig.cluster_max_workers = int(env.get("ASTROHUB_GATEWAY_MAX_WORKERS", "4"))
c.LocalClusterConfig.worker_cores = 1
c.LocalClusterConfig.worker_memory = env.get("ASTROHUB_GATEWAY_WORKER_MEMORY", "2 G")
# limits (hub/limits.py AstrohubLimits passes them; 0 turns one off)
c.SafeLocalBackend.max_clusters_per_user = int(env.get("ASTROHUB_GATEWAY_MAX_CLUSTERS", "2"))
if float(env.get("ASTROHUB_GATEWAY_MAX_CORES", "0")):
    c.LocalClusterConfig.cluster_max_cores = float(env["ASTROHUB_GATEWAY_MAX_CORES"])
if int(env.get("ASTROHUB_GATEWAY_MAX_MEMORY", "0")):
    c.LocalClusterConfig.cluster_max_memory = int(env["ASTROHUB_GATEWAY_MAX_MEMORY"])
c.LocalClusterConfig.idle_timeout = float(env.get("ASTROHUB_GATEWAY_IDLE_TIMEOUT", "1800"))
