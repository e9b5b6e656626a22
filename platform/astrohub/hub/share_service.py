"""``astrohub-share``: a hub-managed service page to share one's server and revoke it.

JupyterHub (>= 5) has a shares REST API but no page to create shares. This
service gives every logged-in user one at ``/services/astrohub-share/``, drawn
with the hub's own templates (its navigation bar): share your default server
with a user or a group, make a share link, list shares and links, revoke them.

Least privilege: the service's own API token can only read the service list (for
the hub's menu). Every shares call is made with the *user's own* OAuth token,
whose scopes are :data:`OAUTH_SCOPES` intersected with what that user holds
(``shares!user``: their own servers only), so the page can never share or revoke
anyone else's server. On a root hub the service runs as a locked system account
of its own (see ``AstrohubHub.add_share_service``).

Revoking a share does not end what JupyterHub already issued: the collaborator's
browser keeps an OAuth cookie for the owner's server, which the server accepts
from its cache for minutes, and open kernels and terminals keep running. So
revoking restarts the owner's server (stop, then start, through the hub API),
after the owner confirms it on the page.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlencode, urlparse

import jinja2
from jupyterhub._data import DATA_FILES_PATH
from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from astrohub.defaults import LOOPBACK

TEMPLATES = Path(__file__).parent / "templates"
# What a user's OAuth token for this page may do, intersected by the hub with what that user holds:
# manage shares and share links of their own servers, look up the user or group to share with,
# restart their own server on revoke; ``admin-ui`` only shows admins the hub's Admin link.
OAUTH_SCOPES = ["shares!user", "read:users:name", "read:groups:name", "servers!user", "admin-ui"]
# What the service's own token may do: read the service list to draw the hub's Services menu.
SERVICE_SCOPES = ["list:services", "read:services"]
RESTART_TIMEOUT = 90.0


class HubAPI:
    """Calls to the hub's REST API, each with the token given (the user's, or the service's own)."""

    def __init__(self):
        self.url = os.environ["JUPYTERHUB_API_URL"]
        self.token = os.environ["JUPYTERHUB_API_TOKEN"]
        self.http = AsyncHTTPClient()

    async def call(self, method: str, path: str, token: str, body: dict | None = None) -> dict:
        req = HTTPRequest(
            url_path_join(self.url, path), method=method,
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
        )
        resp = await self.http.fetch(req)
        return json.loads(resp.body) if resp.body else {}


def hub_error(e: HTTPClientError) -> str:
    """The hub's own message for a failed API call."""
    try:
        return json.loads(e.response.body)["message"]
    except Exception:
        return str(e)


def when(iso: str | None) -> str:
    """``2026-11-29T03:10:11.123Z`` -> ``2026-11-29 03:10 UTC`` (``never`` for none)."""
    if not iso:
        return "never"
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def server_path(server: str) -> str:
    """The hub API path of one of the user's servers, below ``users/<me>/``."""
    return f"servers/{quote(server, safe='')}" if server else "server"


def jinja_env() -> jinja2.Environment:
    """The hub's own templates (astrohub's overrides first), as JupyterHub loads them."""
    hub_templates = os.path.join(DATA_FILES_PATH, "templates")
    loader = jinja2.ChoiceLoader([
        jinja2.PrefixLoader({"templates": jinja2.FileSystemLoader([hub_templates])}, "/"),
        jinja2.FileSystemLoader([str(TEMPLATES), hub_templates]),
    ])
    return jinja2.Environment(loader=loader, autoescape=True)


class SharePage(HubOAuthenticated, web.RequestHandler):
    """List, create and revoke shares and share links of the current user's servers."""

    @property
    def api(self) -> HubAPI:
        return self.settings["hub_api"]

    @property
    def me(self) -> str:
        return self.current_user["name"]

    @property
    def user_token(self) -> str:
        """The user's own OAuth token (from this service's cookie): every shares call uses it."""
        return self.hub_auth.get_token(self)

    async def user_call(self, method: str, path: str, body: dict | None = None) -> dict:
        return await self.api.call(method, path, self.user_token, body)

    def origin(self) -> str:
        """``scheme://host[:port]`` the browser used (the proxy keeps Host and sets X-Forwarded-Proto)."""
        proto = self.request.headers.get("X-Forwarded-Proto", self.request.protocol).split(",")[0].strip()
        return f"{proto if proto in ('http', 'https') else self.request.protocol}://{self.request.host}"

    def absolute(self, path: str) -> str:
        return self.origin() + path

    async def menu_services(self) -> list:
        """The hub's Services menu: displayed services with a URL (the service token reads them)."""
        try:
            models = await self.api.call("GET", "services", self.api.token)
        except HTTPClientError:
            return []
        base = self.settings["base_url"]
        return [SimpleNamespace(name=m["name"], href=url_path_join(base, "services", quote(m["name"])) + "/")
                for m in models.values() if m.get("display") and m.get("url")]

    async def server_running(self, server: str) -> bool:
        model = await self.user_call("GET", f"users/{quote(self.me, safe='')}")
        return server in (model.get("servers") or {})

    async def render_page(self, message: str = "", ok: bool = False, status: int = 200,
                          link: str = "", confirm: dict | None = None):
        me = quote(self.me, safe="")
        shares = (await self.user_call("GET", f"shares/{me}"))["items"]
        codes = (await self.user_call("GET", f"share-codes/{me}"))["items"]
        theirs = (await self.user_call("GET", f"users/{me}/shared"))["items"]
        for share in shares:
            share["who"] = (share.get("user") or share.get("group") or {}).get("name", "")
        for item in theirs:
            item["lab"] = url_path_join(item["server"]["url"], "lab")
        user = self.current_user
        html = self.settings["jinja"].get_template("share.html").render(
            # what JupyterHub's page.html needs
            base_url=self.settings["hub_prefix"], prefix=self.settings["base_url"],
            static_url=lambda path, include_version=True: url_path_join(self.settings["hub_prefix"], "static", path),
            version_hash="", logo_url="", announcement="", no_spawner_check=True,
            login_url=url_path_join(self.settings["hub_prefix"], "login"),
            logout_url=url_path_join(self.settings["hub_prefix"], "logout"),
            user=SimpleNamespace(name=user["name"], json_escaped_name=json.dumps(user["name"])[1:-1]),
            admin_access=bool(user.get("admin")), parsed_scopes=set(user.get("scopes") or []),
            services=await self.menu_services(), xsrf_token=self.xsrf_token.decode(),
            # the share page
            me=self.me, action=self.settings["prefix"], xsrf=self.xsrf_form_html(),
            message=message, ok=ok, link=link, confirm=confirm,
            shares=shares, codes=codes, theirs=theirs, when=when,
        )
        self.set_status(status)
        self.finish(html)

    def form(self) -> tuple[str, str]:
        kind = self.get_body_argument("kind", "user")
        name = self.get_body_argument("name", "").strip()
        if kind not in ("user", "group"):
            raise ValueError(f"kind must be 'user' or 'group', not {kind!r}")
        if not name:
            raise ValueError(f"give the name of the {kind} to share with")
        return kind, name

    @web.authenticated
    async def get(self, action: str | None = None):
        if action:
            return self.redirect(self.settings["prefix"])
        await self.render_page()

    @web.authenticated
    async def post(self, action: str):
        me = quote(self.me, safe="")
        server = self.get_body_argument("server", "")
        where = f"{me}/{quote(server, safe='')}"
        try:
            if action == "link":
                code = await self.user_call("POST", f"share-codes/{where}", {"expires_in": 86400})
                lab = url_path_join(code["server"]["url"], "lab")
                link = (code.get("full_accept_url") or self.absolute(code["accept_url"])) + "&" + urlencode(
                    {"next": lab})
                return await self.render_page("Share link made: send it to a collaborator. It is shown only "
                                              "now, and works for 1 day or until you revoke it.", ok=True, link=link)
            if action == "revoke-link":
                code_id = self.get_body_argument("id", "")
                await self.user_call("DELETE", f"share-codes/{where}?{urlencode({'id': code_id})}")
                return await self.render_page("Revoked the share link: nobody can accept it any more.", ok=True)
            kind, name = self.form()
            if action == "share":
                await self.user_call("POST", f"shares/{where}", {kind: name})
                return await self.render_page(f"Shared your server with {kind} {name}.", ok=True)
            if action == "revoke":
                return await self.revoke(where, server, kind, name)
            raise web.HTTPError(404)
        except ValueError as e:
            await self.render_page(str(e), status=400)
        except HTTPClientError as e:
            await self.render_page(f"Could not {action.replace('-', ' ')}: {hub_error(e)}",
                                   status=e.code if e.code < 500 else 502)

    async def revoke(self, where: str, server: str, kind: str, name: str):
        """Revoke a share; when the server runs, confirm first, then restart it to end open sessions."""
        running = await self.server_running(server)
        if running and self.get_body_argument("confirm", "") != "restart":
            return await self.render_page(confirm={"kind": kind, "name": name, "server": server})
        await self.user_call("PATCH", f"shares/{where}", {kind: name})
        if not running:
            return await self.render_page(f"Revoked {kind} {name}'s access.", ok=True)
        try:
            await self.restart(server)
        except (HTTPClientError, TimeoutError) as e:
            why = hub_error(e) if isinstance(e, HTTPClientError) else str(e)
            return await self.render_page(f"Revoked {kind} {name}'s access, but could not restart your "
                                          f"server ({why}): stop it on the hub's home page to end "
                                          "their open sessions.", status=502)
        await self.render_page(f"Revoked {kind} {name}'s access and restarted your server: "
                               "their open sessions are closed.", ok=True)

    async def restart(self, server: str) -> None:
        """Stop the server (kernels, terminals and open connections end), wait, start it again."""
        path = f"users/{quote(self.me, safe='')}/{server_path(server)}"
        await self.user_call("DELETE", path)
        deadline = time.monotonic() + RESTART_TIMEOUT
        while await self.server_running(server):
            if time.monotonic() > deadline:
                raise TimeoutError(f"it did not stop within {RESTART_TIMEOUT:.0f} s")
            await asyncio.sleep(0.3)
        await self.user_call("POST", path, {})


def make_app() -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/astrohub-share/")
    base_url = os.environ.get("JUPYTERHUB_BASE_URL", "/")
    return web.Application(
        [
            (prefix, SharePage),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            (url_path_join(prefix, r"(share|revoke|link|revoke-link)"), SharePage),
        ],
        cookie_secret=os.urandom(32),
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"path": prefix, "httponly": True},
        hub_api=HubAPI(),
        jinja=jinja_env(),
        prefix=prefix,
        base_url=base_url,
        hub_prefix=url_path_join(base_url, "hub") + "/",
    )


def main() -> None:
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app = make_app()
    app.listen(url.port, address=os.environ.get("ASTROHUB_SHARE_BIND") or url.hostname or LOOPBACK)
    try:
        ioloop.IOLoop.current().start()
    except KeyboardInterrupt:  # the hub stops its services with SIGINT
        pass


if __name__ == "__main__":
    main()
