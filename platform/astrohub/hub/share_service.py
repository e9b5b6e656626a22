"""``astrohub-share``: a hub-managed service page to share one's server and revoke it.

JupyterHub (>= 5) has a shares REST API but no page to create shares. This
service gives every logged-in user one at ``/services/astrohub-share/``: share
your default server with a user or a group, make a share link, list and revoke
shares. The user is identified by the hub (OAuth); the service then calls the
shares API with its own token, always and only on that user's own server.
"""

from __future__ import annotations

import html
import json
import os
from urllib.parse import quote, urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from astrohub.defaults import LOOPBACK

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>astrohub · share</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}}.error{{color:#b00020}}
.ok{{color:#0a6b2d}}form.inline{{display:inline}}</style></head><body>
<p><a href="{hub}home">&larr; hub home</a></p>
<h1>Share your server, {me}</h1>
{message}
<form method="post" action="{prefix}share" id="share-form">{xsrf}
 share with <select name="kind" id="share-kind"><option value="user">user</option>\
<option value="group">group</option></select>
 <input name="name" id="share-name" placeholder="name" required>
 <button type="submit" id="share-submit">Share</button></form>
<form method="post" action="{prefix}link">{xsrf}\
<button type="submit" id="share-link">Make a share link (valid 1 day)</button></form>
<h2>Shared by you</h2>{mine}
<h2>Shared with you</h2>{theirs}
</body></html>"""


class HubAPI:
    """The few shares-API calls the page needs, with the service's token."""

    def __init__(self):
        self.url = os.environ["JUPYTERHUB_API_URL"]
        self.token = os.environ["JUPYTERHUB_API_TOKEN"]
        self.http = AsyncHTTPClient()

    async def call(self, method: str, path: str, body: dict | None = None) -> dict:
        req = HTTPRequest(
            url_path_join(self.url, path), method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
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


class SharePage(HubOAuthenticated, web.RequestHandler):
    """List, create and revoke shares of the current user's default server."""

    @property
    def api(self) -> HubAPI:
        return self.settings["hub_api"]

    @property
    def me(self) -> str:
        return self.current_user["name"]

    async def render_page(self, message: str = "", ok: bool = False, status: int = 200):
        me = quote(self.me)
        mine = (await self.api.call("GET", f"shares/{me}/"))["items"]
        theirs = (await self.api.call("GET", f"users/{me}/shared"))["items"]
        prefix = self.settings["prefix"]
        xsrf = self.xsrf_form_html()
        rows = []
        for share in mine:
            kind = "user" if share.get("user") else "group"
            name = html.escape(share[kind]["name"])
            rows.append(
                f"<tr><td>{kind}</td><td class='share-name'>{name}</td><td>"
                f"<form class='inline' method='post' action='{prefix}revoke'>{xsrf}"
                f"<input type='hidden' name='kind' value='{kind}'><input type='hidden' name='name' value='{name}'>"
                f"<button type='submit' class='revoke'>Revoke</button></form></td></tr>")
        mine_html = "<table>" + "".join(rows) + "</table>" if rows else "<p id='no-shares'>Nobody.</p>"
        links = []
        for share in theirs:
            owner = share["server"]["user"]["name"]
            links.append(f"<li><a href='{html.escape(share['server']['url'])}'>{html.escape(owner)}'s server</a></li>")
        theirs_html = "<ul>" + "".join(links) + "</ul>" if links else "<p>Nothing yet.</p>"
        msg = f"<p class='{'ok' if ok else 'error'}' id='message'>{html.escape(message)}</p>" if message else ""
        self.set_status(status)
        self.finish(PAGE.format(hub=self.settings["hub_prefix"], me=html.escape(self.me), message=msg,
                                prefix=prefix, xsrf=xsrf, mine=mine_html, theirs=theirs_html))

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
        me = quote(self.me)
        try:
            if action == "link":
                code = await self.api.call("POST", f"share-codes/{me}/", {"expires_in": 86400})
                return await self.render_page(f"Share link (send it to a collaborator): {code['accept_url']}", ok=True)
            kind, name = self.form()
            if action == "share":
                await self.api.call("POST", f"shares/{me}/", {kind: name})
                return await self.render_page(f"Shared your server with {kind} {name}.", ok=True)
            if action == "revoke":
                await self.api.call("DELETE", f"{kind}s/{quote(name)}/shared/{me}/")
                return await self.render_page(f"Revoked {kind} {name}'s access.", ok=True)
            raise web.HTTPError(404)
        except ValueError as e:
            await self.render_page(str(e), status=400)
        except HTTPClientError as e:
            await self.render_page(f"Could not {action}: {hub_error(e)}", status=e.code if e.code < 500 else 502)


def make_app() -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/astrohub-share/")
    return web.Application(
        [
            (prefix, SharePage),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            (url_path_join(prefix, r"(share|revoke|link)"), SharePage),
        ],
        cookie_secret=os.urandom(32),
        xsrf_cookies=True,
        hub_api=HubAPI(),
        prefix=prefix,
        hub_prefix=os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/",
    )


def main() -> None:
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app = make_app()
    app.listen(url.port, address=os.environ.get("ASTROHUB_SHARE_BIND") or url.hostname or LOOPBACK)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
