"""dask-gateway for the embedded hub: a safe local backend and the service's settings.

dask-gateway-server runs as root so that each cluster runs as its user. Its stock
``LocalBackend`` is unsafe there:

- ``setup_working_directory`` (2025.4.0 - 2026.3.0) does ``paths.extend(cert_path)`` and so
  chowns ``/`` -- one path character at a time -- to the cluster's user;
- ``start_process`` opens each scheduler's and worker's log file *as root* inside
  ``<workdir>/logs``, a folder the user owns: the user replaces ``logs`` with a symlink and
  gets a root-owned file, with content they choose (the process's output), in any directory.

``SafeLocalBackend`` never touches a path the user can change while it is root:

- the working folder is made in the clusters folder (root's, not writable by users) as a
  root-owned 0700 folder; its certificates and ``logs`` are written there with
  ``O_EXCL|O_NOFOLLOW`` relative to a file descriptor of that folder, handed to the user with
  ``lchown``-style calls (``follow_symlinks=False``), and the folder itself is handed over last;
- each process is started as the user (uid, gid, groups dropped by ``subprocess`` before it
  runs) and its log file is opened by that process, after the privilege drop: a symlink can
  only lead it where the user could write anyway;
- the working folder is removed with ``shutil.rmtree``'s symlink-safe (fd-based) walk.
"""

from __future__ import annotations

import asyncio
import grp
import os
import shutil
import tempfile

from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import LocalBackend, getpwnam
from traitlets import Integer

from astrohub.defaults import TORCH_PROCESS_ENV


def _account(username: str) -> tuple[int, int, list[int]]:
    """uid, gid and supplementary groups of a cluster's user (never root, never a system account)."""
    from .users import UserError, check_account

    pw = getpwnam(username)
    if pw.pw_uid == 0:
        raise RuntimeError("dask-gateway refuses to run a cluster as root")
    try:
        check_account(username, must_exist=True)
    except UserError as e:
        raise RuntimeError(f"dask-gateway refuses to run a cluster as {username!r}: {e}") from None
    groups = [g.gr_gid for g in grp.getgrall() if username in g.gr_mem]
    return pw.pw_uid, pw.pw_gid, groups


class SafeLocalBackend(LocalBackend):
    """LocalBackend (processes run as the requesting Unix user), safe to run as root."""

    max_clusters_per_user = Integer(
        0, help="Most clusters one user may have at once (pending or running); 0: no cap.", config=True)

    async def start_cluster(self, user, cluster_options):
        """Refuse a new cluster to a user who already has ``max_clusters_per_user`` (dask-gateway has no such cap)."""
        if self.max_clusters_per_user:
            active = self.db.list_clusters(username=user.name)
            if len(active) >= self.max_clusters_per_user:
                raise PublicException(
                    f"{user.name} already has {len(active)} Dask clusters, the most one user may run at once "
                    f"({self.max_clusters_per_user}): shut one down first (cluster.shutdown(), or the Dask "
                    f"panel's SHUTDOWN)")
        return await super().start_cluster(user, cluster_options)

    def setup_working_directory(self, cluster):
        uid, gid, _ = _account(cluster.username)
        if self.clusters_directory:
            workdir = os.path.join(self.clusters_directory, cluster.name)
            os.mkdir(workdir, 0o700)  # a new folder: fails if anything is already there
        else:
            workdir = tempfile.mkdtemp(prefix="dask", suffix=cluster.name)
        certs = os.path.relpath(self.get_certs_directory(workdir), workdir)
        logs = os.path.relpath(self.get_logs_directory(workdir), workdir)
        cert, key = (os.path.relpath(p, workdir) for p in self._get_tls_paths(workdir))
        fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            # everything below is made while the folder is root's and 0700: nobody else can race us
            os.chmod(fd, 0o700)
            os.mkdir(certs, 0o700, dir_fd=fd)
            os.mkdir(logs, 0o700, dir_fd=fd)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            for path, data in [(cert, cluster.tls_cert), (key, cluster.tls_key)]:
                f = os.open(path, flags, 0o600, dir_fd=fd)
                with os.fdopen(f, "wb") as out:
                    out.write(data)
            for path in (cert, key, certs, logs):
                os.chown(path, uid, gid, dir_fd=fd, follow_symlinks=False)
            os.chown(fd, uid, gid)  # the folder itself, last, through its descriptor
        finally:
            os.close(fd)
        self.log.debug("Working directory %s for cluster %s created", workdir, cluster.name)
        return workdir

    def set_file_permissions(self, paths, username):  # pragma: no cover - never used
        raise RuntimeError("SafeLocalBackend hands files over in setup_working_directory only")

    def cleanup_working_directory(self, workdir):
        if not shutil.rmtree.avoids_symlink_attacks:  # pragma: no cover - true on Linux
            raise RuntimeError("refusing to remove a user's folder as root without a symlink-safe rmtree")
        super().cleanup_working_directory(workdir)

    def make_preexec_fn(self, cluster):
        raise RuntimeError("SafeLocalBackend starts processes through start_process only")

    async def start_process(self, cluster, cmd, env, name):
        """Start ``cmd`` as the cluster's user; that process, not root, opens its log file."""
        uid, gid, groups = _account(cluster.username)
        workdir = cluster.state["workdir"]
        log_path = os.path.join(self.get_logs_directory(workdir), name + ".log")

        def as_the_user():  # runs in the child after subprocess dropped to uid/gid/groups
            if os.geteuid() != uid or os.getuid() != uid:
                raise OSError(f"not running as uid {uid}")
            os.chdir(workdir)
            log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)

        proc = await asyncio.create_subprocess_exec(
            *cmd,
            user=uid, group=gid, extra_groups=groups,
            preexec_fn=as_the_user,
            start_new_session=True,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return proc.pid


# Environment of every gateway scheduler and worker (workers start through
# astrohub.compute.worker, which applies the torch-friendly Dask settings).
WORKER_ENV = {"BOKEH_RESOURCES": "inline", **TORCH_PROCESS_ENV}
