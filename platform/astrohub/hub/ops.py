"""``astrohub-ops``: disk usage, limits and metrics of the embedded hub, as a hub-managed service.

- ``/services/astrohub-ops/``: a page in the hub's own style. Every user sees their home's disk
  usage against the (soft) quota and the limits their server runs under; an admin also sees every
  user's usage, server and last activity, and the culling settings.
- ``/services/astrohub-ops/api/usage``: the same as JSON (an admin gets every user, a user
  themself); ``?refresh=1`` measures again instead of using the last minute's figures.
- ``/services/astrohub-ops/metrics``: Prometheus text for a token with the ``read:metrics`` scope
  (``<data dir>/secrets/metrics-token``, the ``astrohub-metrics`` service's): each home's bytes
  and quota, and each user's dask-gateway clusters and their processes. JupyterHub's own metrics
  are at ``/hub/metrics`` with the same token.

Sizes are allocated blocks, measured by root with a walk that never follows a link: each folder
is opened with ``O_NOFOLLOW`` relative to its parent's descriptor, so a user who swaps a folder
for a link cannot make it count (or list) anything outside their home. Hard links count once.
The quota is soft: the filesystem does not enforce it (use the filesystem's own quotas, e.g.
``setquota``, for that); passing it is shown to the user and the admins and exported as a metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import stat
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlparse

from astrohub.defaults import LOOPBACK

from .limits import human

TTL = 60.0  # seconds a measurement is reused


def home_bytes(home: str | os.PathLike) -> int:
    """Disk space (allocated blocks) of everything under ``home``, never following a link."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        top = os.open(home, flags)
    except OSError:
        return 0
    total = os.fstat(top).st_blocks * 512
    dev = os.fstat(top).st_dev
    seen: set[tuple[int, int]] = set()
    stack = [top]
    while stack:
        fd = stack.pop()
        try:
            with os.scandir(fd) as entries:
                for e in entries:
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                        if (st.st_dev, st.st_ino) in seen:
                            continue
                        seen.add((st.st_dev, st.st_ino))
                    total += st.st_blocks * 512
                    if stat.S_ISDIR(st.st_mode) and st.st_dev == dev:
                        with contextlib.suppress(OSError):
                            stack.append(os.open(e.name, flags, dir_fd=fd))
        except OSError:
            pass
        finally:
            os.close(fd)
    return total


def quota() -> int:
    with contextlib.suppress(ValueError):
        return int(os.environ.get("ASTROHUB_OPS_QUOTA") or os.environ.get("ASTROHUB_DISK_QUOTA") or 0)
    return 0


def usage_line(name: str, used: int, limit: int) -> str:
    """``alice: 1.2 GiB of 20.0 GiB (6%)`` / ``... OVER the quota`` / ``alice: 12 MiB (no quota)``."""
    if not limit:
        return f"{name}: {human(used)} (no quota)"
    pct = 100 * used / limit
    over = "  OVER the quota: delete or move files" if used > limit else ""
    return f"{name}: {human(used)} of {human(limit)} ({pct:.0f}%){over}"


class Usage:
    """Homes' sizes under ``homes``, measured in a thread and kept for :data:`TTL` seconds."""

    def __init__(self, homes: Path):
        self.homes = Path(homes)
        self.cache: dict[str, tuple[int, float]] = {}

    def names(self) -> list[str]:
        try:
            return sorted(p.name for p in self.homes.iterdir() if p.is_dir() and not p.is_symlink())
        except OSError:
            return []

    async def of(self, names: list[str], refresh: bool = False) -> dict[str, dict]:
        limit = quota()
        out = {}
        for name in names:
            used, at = self.cache.get(name, (0, 0.0))
            if refresh or time.time() - at > TTL:
                used = await asyncio.get_running_loop().run_in_executor(None, home_bytes, self.homes / name)
                at = time.time()
                self.cache[name] = (used, at)
            out[name] = {"bytes": used, "human": human(used), "quota": limit,
                         "over_quota": bool(limit) and used > limit, "measured": at}
        return out


def gateway_processes(clusters: Path) -> dict[str, dict[str, int]]:
    """Per user: running dask-gateway clusters (working folders) and their processes (scheduler, workers)."""
    out: dict[str, dict[str, int]] = {}
    folders = {}
    with contextlib.suppress(OSError):
        for d in clusters.iterdir():
            if d.is_dir() and not d.is_symlink():
                try:
                    user = pwd.getpwuid(d.lstat().st_uid).pw_name
                except KeyError:
                    continue
                folders[str(d)] = user
                out.setdefault(user, {"clusters": 0, "processes": 0})["clusters"] += 1
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cwd = os.readlink(entry / "cwd")
            for folder, user in folders.items():
                if cwd == folder or cwd.startswith(folder + "/"):
                    out[user]["processes"] += 1
    return out


def prometheus(usage: dict[str, dict], gateway: dict[str, dict[str, int]]) -> str:
    def label(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    lines = ["# HELP astrohub_home_bytes Disk space used by the user's home (allocated blocks).",
             "# TYPE astrohub_home_bytes gauge"]
    lines += [f'astrohub_home_bytes{{user="{label(n)}"}} {u["bytes"]}' for n, u in usage.items()]
    lines += ["# HELP astrohub_home_quota_bytes Soft disk quota of each home (0: none).",
              "# TYPE astrohub_home_quota_bytes gauge", f"astrohub_home_quota_bytes {quota()}",
              "# HELP astrohub_gateway_clusters Running dask-gateway clusters of the user.",
              "# TYPE astrohub_gateway_clusters gauge"]
    lines += [f'astrohub_gateway_clusters{{user="{label(n)}"}} {g["clusters"]}' for n, g in gateway.items()]
    lines += ["# HELP astrohub_gateway_processes Scheduler and worker processes of the user's gateway clusters.",
              "# TYPE astrohub_gateway_processes gauge"]
    lines += [f'astrohub_gateway_processes{{user="{label(n)}"}} {g["processes"]}' for n, g in gateway.items()]
    return "\n".join(lines) + "\n"


def make_app():
    import jinja2
    from jupyterhub._data import DATA_FILES_PATH
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from jupyterhub.utils import url_path_join
    from tornado import web
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

    from .config import TEMPLATES

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/astrohub-ops/")
    base_url = os.environ.get("JUPYTERHUB_BASE_URL", "/")
    hub_prefix = url_path_join(base_url, "hub") + "/"
    api_url, api_token = os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"]
    usage = Usage(Path(os.environ["ASTROHUB_OPS_HOMES"]))
    clusters = Path(os.environ["ASTROHUB_OPS_HOMES"]).parent / "dask-gateway"
    limits = json.loads(os.environ.get("ASTROHUB_OPS_LIMITS", "{}"))
    hub_templates = os.path.join(DATA_FILES_PATH, "templates")
    env = jinja2.Environment(loader=jinja2.ChoiceLoader([
        jinja2.PrefixLoader({"templates": jinja2.FileSystemLoader([hub_templates])}, "/"),
        jinja2.FileSystemLoader([str(TEMPLATES), hub_templates])]), autoescape=True)
    http = AsyncHTTPClient()

    async def hub(path: str):
        req = HTTPRequest(url_path_join(api_url, path), headers={"Authorization": f"token {api_token}"})
        return json.loads((await http.fetch(req)).body)

    class Base(HubOAuthenticated, web.RequestHandler):
        async def who(self) -> tuple[str, bool]:
            name = self.current_user["name"]
            try:
                model = await hub(f"users/{quote(name, safe='')}")
            except HTTPClientError:
                return name, False
            return name, bool(model.get("admin"))

        async def report(self, admin: bool, name: str) -> dict:
            refresh = self.get_query_argument("refresh", "") not in ("", "0")
            if not admin:
                return {"users": await usage.of([name], refresh), "quota": quota()}
            users: dict[str, dict] = {}
            while True:  # the hub returns at most a page of users per request
                page = await hub(f"users?offset={len(users)}&limit=200")
                users.update((u["name"], u) for u in page)
                if len(page) < 200 or not page:
                    break
            names = sorted(set(users) | set(usage.names()))
            rows = await usage.of(names, refresh)
            for n, row in rows.items():
                u = users.get(n, {})
                row["admin"] = bool(u.get("admin"))
                row["server"] = "running" if (u.get("servers") or {}).get("", {}).get("ready") else \
                    ("starting/stopping" if (u.get("servers") or {}).get("") else "stopped")
                row["last_activity"] = (u.get("last_activity") or "never")[:16].replace("T", " ")
            return {"users": rows, "quota": quota()}

    class Page(Base):
        @web.authenticated
        async def get(self):
            name, admin = await self.who()
            data = await self.report(admin, name)
            try:
                services = [SimpleNamespace(name=m["name"], href=url_path_join(base_url, "services", m["name"]) + "/")
                            for m in (await hub("services")).values() if m.get("display") and m.get("url")]
            except HTTPClientError:
                services = []
            html = env.get_template("ops.html").render(
                base_url=hub_prefix, prefix=base_url,
                static_url=lambda path, include_version=True: url_path_join(hub_prefix, "static", path),
                version_hash="", logo_url="", announcement="", no_spawner_check=True,
                login_url=url_path_join(hub_prefix, "login"), logout_url=url_path_join(hub_prefix, "logout"),
                user=SimpleNamespace(name=name, json_escaped_name=json.dumps(name)[1:-1]),
                admin_access=admin, parsed_scopes=set(self.current_user.get("scopes") or []),
                services=services, xsrf_token=self.xsrf_token.decode(),
                me=name, is_admin=admin, rows=data["users"], quota=human(data["quota"]) if data["quota"] else "",
                limits=limits, metrics_url=url_path_join(prefix, "metrics"),
                hub_metrics_url=url_path_join(hub_prefix, "metrics"))
            self.finish(html)

    class UsageAPI(Base):
        @web.authenticated
        async def get(self):
            name, admin = await self.who()
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({**await self.report(admin, name), "limits": limits}))

    class Metrics(HubOAuthenticated, web.RequestHandler):
        async def get(self):
            model = self.current_user  # from the token in the Authorization header
            if not model:
                raise web.HTTPError(403, reason="send a token with the read:metrics scope: Authorization: token ...")
            if "read:metrics" not in set(model.get("scopes") or []):
                raise web.HTTPError(403, reason="this token lacks the read:metrics scope")
            rows = await usage.of(usage.names())
            gateway = await asyncio.get_running_loop().run_in_executor(None, gateway_processes, clusters)
            self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.finish(prometheus(rows, gateway))

    return web.Application(
        [(prefix, Page), (url_path_join(prefix, "api/usage"), UsageAPI), (url_path_join(prefix, "metrics"), Metrics),
         (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)],
        cookie_secret=os.urandom(32), xsrf_cookies=False)


def main() -> None:
    import signal

    from tornado import ioloop

    # the hub stops services with SIGINT: exit on it even when started with SIGINT ignored (a shell
    # without job control), instead of holding the hub's shutdown until its SIGTERM
    signal.signal(signal.SIGINT, signal.default_int_handler)
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    make_app().listen(url.port, address=url.hostname or LOOPBACK)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
