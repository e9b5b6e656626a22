"""Issue 18 item 4: the share service holds only what it needs, runs unprivileged, and a revoke ends sessions.

Attack: bob has a share on alice's server, opens it in a browser session (OAuth cookie) and with a
token, and starts a kernel there. alice revokes the share through the share page (the service's
endpoint, as the page's form posts it) and confirms the server restart. bob's cookie and token are
then refused by alice's server API and his kernel is gone. Without the restart JupyterHub leaves
the server answering bob (cached token, open kernel).

Least privilege: the service's process runs as a locked system account, and its own API token can
neither share nor revoke anyone's server; the user tokens it gets from OAuth are cut to the user's
own servers.
"""

from __future__ import annotations

import pwd
import re
import time
from pathlib import Path

import pytest
import requests

from astrohub.hub.config import SHARE_ACCOUNT, SHARE_SERVICE
from astrohub.hub.rest import HubAPIError
from astrohub.hub.users import uid_range

pytestmark = pytest.mark.hub

SHARE = f"/services/{SHARE_SERVICE}/"


def hub_session(url: str, user: str, password: str) -> requests.Session:
    """A requests session logged in to the hub as ``user`` (a browser's cookies, no token)."""
    s = requests.Session()
    page = s.get(f"{url}/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(f"{url}/hub/login?next=", data={"username": user, "password": password, "_xsrf": xsrf},
               allow_redirects=False, timeout=60)
    assert r.status_code == 302, r.text[:500]
    return s


def form_xsrf(html: str) -> str:
    return re.search(r'name="_xsrf" value="([^"]+)"', html).group(1)


def cookie(s: requests.Session, name: str, path: str) -> str:
    found = [c.value for c in s.cookies if c.name == name and c.path.rstrip("/") == path.rstrip("/")]
    assert found, f"no cookie {name} for {path}: {[(c.name, c.path) for c in s.cookies]}"
    return found[0]


def wait_ready(hub, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not hub.api("GET", f"users/{name}").json().get("servers", {}).get("", {}).get("ready"):
        assert time.monotonic() < deadline, f"{name}'s server did not come back within {timeout:.0f} s"
        time.sleep(0.3)


def service_process(platform) -> tuple[int, dict[str, str]]:
    """The pid and environment of this hub's share service (found in /proc by its environment)."""
    want = {"JUPYTERHUB_SERVICE_NAME": SHARE_SERVICE, "JUPYTERHUB_API_URL": f"{platform.api_url}/hub/api"}
    found = []
    for entry in Path("/proc").iterdir():
        try:
            raw = (entry / "environ").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        env = dict(v.decode(errors="replace").split("=", 1) for v in raw.split(b"\0") if b"=" in v)
        if all(env.get(k) == v for k, v in want.items()):
            found.append((int(entry.name), env))
    assert len(found) == 1, f"expected one share service process for {want}, found {[p for p, _ in found]}"
    return found[0]


def test_revoking_a_share_ends_the_collaborators_sessions(platform, hub, creds):
    url = platform.url
    hub.spawn("ahtalice")
    hub.api("POST", "shares/ahtalice/", json={"user": "ahtbob"})
    try:
        # bob, as his browser would: hub login, then OAuth into alice's server, then a kernel there
        bob = hub_session(url, "ahtbob", creds["ahtbob"])
        lab = bob.get(f"{url}/user/ahtalice/lab", timeout=60)
        if "/hub/api/oauth2/authorize" in lab.url:  # the hub asks bob to authorize alice's server: he does
            lab = bob.post(lab.url, data={"_xsrf": form_xsrf(lab.text),
                                          "scopes": re.findall(r'name="scopes" value="([^"]+)"', lab.text)},
                           timeout=60)
        assert lab.status_code == 200 and lab.url == f"{url}/user/ahtalice/lab", (lab.url, lab.history)
        xsrf = cookie(bob, "_xsrf", "/user/ahtalice/")
        r = bob.post(f"{url}/user/ahtalice/api/kernels", json={}, headers={"X-XSRFToken": xsrf}, timeout=60)
        assert r.status_code == 201, r.text
        kernel = r.json()["id"]
        bob_token = hub.user_token("ahtbob", scopes=["access:servers!server=ahtalice/"])
        bob_api = {"Authorization": f"token {bob_token}"}
        assert bob.get(f"{url}/user/ahtalice/api/kernels", timeout=30).status_code == 200
        assert requests.get(f"{url}/user/ahtalice/api/kernels", headers=bob_api, timeout=30).status_code == 200

        # alice revokes on the share page: the page asks to confirm the restart, then does both
        alice = hub_session(url, "ahtalice", creds["ahtalice"])
        page = alice.get(f"{url}{SHARE}", timeout=60)
        assert page.status_code == 200 and "ahtbob" in page.text
        form = {"kind": "user", "name": "ahtbob", "server": "", "_xsrf": form_xsrf(page.text)}
        ask = alice.post(f"{url}{SHARE}revoke", data=form, timeout=60)
        assert ask.status_code == 200 and 'id="confirm-revoke"' in ask.text
        assert [s["user"]["name"] for s in hub.api("GET", "shares/ahtalice/").json()["items"]] == ["ahtbob"]
        done = alice.post(f"{url}{SHARE}revoke", data={**form, "confirm": "restart"}, timeout=180)
        assert done.status_code == 200, done.text[-2000:]
        assert "Revoked user ahtbob&#39;s access and restarted your server" in done.text
        assert hub.api("GET", "shares/ahtalice/").json()["items"] == []
        wait_ready(hub, "ahtalice")

        # bob's cookie and token no longer open alice's server API, and his kernel is gone
        r = bob.get(f"{url}/user/ahtalice/api/kernels", allow_redirects=False, timeout=30)
        assert r.status_code in (302, 403), (r.status_code, r.text[:300])
        if r.status_code == 302:
            assert "/hub/" in r.headers["Location"]
        r = requests.get(f"{url}/user/ahtalice/api/kernels", headers=bob_api, allow_redirects=False, timeout=30)
        assert r.status_code == 403, (r.status_code, r.text[:300])
        alice_token = hub.user_token("ahtalice", scopes=["access:servers!server=ahtalice/"])
        kernels = requests.get(f"{url}/user/ahtalice/api/kernels",
                               headers={"Authorization": f"token {alice_token}"}, timeout=30).json()
        assert kernel not in [k["id"] for k in kernels]
    finally:
        hub.api("DELETE", "shares/ahtalice/")


def test_share_service_runs_as_its_own_system_account(platform):
    pid, _ = service_process(platform)
    status = Path(f"/proc/{pid}/status").read_text()
    uids = [int(u) for u in re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()]
    account = pwd.getpwnam(SHARE_ACCOUNT)
    assert uids == [account.pw_uid] * 4  # real, effective, saved, filesystem
    assert 0 < account.pw_uid < uid_range()[0]
    assert account.pw_shell.endswith("nologin")


def test_share_service_token_cannot_share_or_revoke_anyones_server(platform, hub):
    token = service_process(platform)[1]["JUPYTERHUB_API_TOKEN"]
    me = hub.api("GET", "user", token=token).json()
    assert me["kind"] == "service" and me["name"] == SHARE_SERVICE
    assert not [s for s in me["scopes"] if s.split("!")[0] in ("shares", "users:shares", "servers", "admin:users",
                                                                "admin:servers", "access:servers", "tokens")]
    hub.spawn("ahtbob")
    # as if alice had asked: share bob's server with her, make a link to it, revoke shares, read them
    for method, path, body in [("POST", "shares/ahtbob/", {"user": "ahtalice"}),
                               ("POST", "share-codes/ahtbob/", {}),
                               ("PATCH", "shares/ahtbob/", {"user": "ahtalice"}),
                               ("DELETE", "shares/ahtbob/", None),
                               ("GET", "shares/ahtbob", None)]:
        with pytest.raises(HubAPIError) as e:
            hub.api(method, path, token=token, json=body)
        assert e.value.status == 403, (method, path, e.value)
    assert hub.api("GET", "shares/ahtbob/").json()["items"] == []


def test_users_oauth_tokens_for_the_share_page_are_limited_to_their_own_servers(platform, hub, creds):
    alice = hub_session(platform.url, "ahtalice", creds["ahtalice"])
    assert alice.get(f"{platform.url}{SHARE}", timeout=60).status_code == 200
    tokens = hub.api("GET", "users/ahtalice/tokens").json()["api_tokens"]
    scopes = {s for t in tokens if t["oauth_client"] == f"JupyterHub service {SHARE_SERVICE}" for s in t["scopes"]}
    assert {"shares!user=ahtalice", "delete:servers!user=ahtalice", "start:servers!user=ahtalice"} <= scopes
    assert "admin-ui" not in scopes  # asked for, but alice is no admin: the hub cut it
    for scope in scopes:  # everything beyond looking up names is filtered to alice herself
        base, _, only = scope.partition("!")
        assert only in ("user=ahtalice", f"service={SHARE_SERVICE}") or base in ("read:users:name",
                                                                               "read:groups:name"), scope
