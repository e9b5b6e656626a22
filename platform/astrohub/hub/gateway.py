"""dask-gateway for the embedded hub: a safe local backend and the service's settings.

``SafeLocalBackend`` fixes dask-gateway-server's ``LocalBackend.setup_working_directory``
(2025.4.0 - 2026.3.0), which does ``paths.extend(cert_path)`` and so chowns ``/`` -- one path
character at a time -- to the cluster's user when run as root. Never run the stock backend
as root.
"""

from __future__ import annotations

import os
import tempfile

from dask_gateway_server.backends.local import LocalBackend


class SafeLocalBackend(LocalBackend):
    """LocalBackend (processes run as the requesting Unix user) without the chown-of-/ bug."""

    def setup_working_directory(self, cluster):
        if self.clusters_directory:
            workdir = os.path.join(self.clusters_directory, cluster.name)
        else:
            workdir = tempfile.mkdtemp(prefix="dask", suffix=cluster.name)
        certsdir = self.get_certs_directory(workdir)
        logsdir = self.get_logs_directory(workdir)
        paths = [workdir, certsdir, logsdir]
        for path in paths:
            os.makedirs(path, 0o700, exist_ok=True)
        cert_path, key_path = self._get_tls_paths(workdir)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        for path, data in [(cert_path, cluster.tls_cert), (key_path, cluster.tls_key)]:
            with os.fdopen(os.open(path, flags, 0o600), "wb") as f:
                f.write(data)
            paths.append(path)
        for p in paths:  # every path is inside the new working directory
            if os.path.commonpath([p, workdir]) != workdir:
                raise RuntimeError(f"refusing to chown {p!r}: outside the cluster's working directory")
        self.set_file_permissions(paths, cluster.username)
        return workdir


# Environment of every gateway scheduler and worker (workers start through
# astrohub.compute.worker, which applies the torch-friendly Dask settings).
WORKER_ENV = {"BOKEH_RESOURCES": "inline"}
