"""What admins expect (issue 20): disk usage for users and admins, metrics with a token, limits and
culling on the admin page, servers inside their limits; and a login while one's server is still
stopping lands in the restarted server (issue 20, item 8)."""

from __future__ import annotations

import os
import pwd
import re
import threading
import time
from urllib.parse import urljoin

import psutil
import pytest
import requests

from astrohub.hub import limits
from astrohub.hub.secrets import secret_file

from ..security.throwaway import as_user
from .test_hub import login

pytestmark = pytest.mark.hub
MB = 2**20


def auth(token: str) -> dict:
    return {"Authorization": f"token {token}"}


def test_each_user_sees_their_own_disk_usage_and_the_admin_everyones(hub, platform):
    entry = pwd.getpwnam("ahtalice")
    blob = platform.home_root / "ahtalice" / "ops-usage.bin"
    r = as_user(entry, ["dd", "if=/dev/urandom", f"of={blob}", "bs=1M", "count=3"])  # written by alice herself
    assert r.returncode == 0, r.stderr
    try:
        api = f"{platform.url}/services/astrohub-ops/api/usage?refresh=1"
        alice = requests.get(api, headers=auth(hub.user_token("ahtalice")), timeout=60).json()
        assert list(alice["users"]) == ["ahtalice"]  # her own, nobody else's
        assert alice["users"]["ahtalice"]["bytes"] >= 3 * MB
        bob = requests.get(api, headers=auth(hub.user_token("ahtbob")), timeout=60).json()
        assert list(bob["users"]) == ["ahtbob"] and bob["users"]["ahtbob"]["bytes"] < 3 * MB
        admin = requests.get(api, headers=auth(hub.user_token("ahtadmin")), timeout=60).json()
        assert {"ahtadmin", "ahtalice", "ahtbob"} <= set(admin["users"])
        assert admin["users"]["ahtalice"]["bytes"] >= 3 * MB and admin["users"]["ahtadmin"]["admin"] is True
        assert admin["limits"]["cull_idle_servers_after"] == "60 min"
        page = requests.get(f"{platform.url}/services/astrohub-ops/", headers=auth(hub.user_token("ahtalice")),
                            timeout=60)
        assert page.status_code == 200 and 'data-user="ahtalice"' in page.text and "ahtbob" not in page.text
        assert "Limits and culling" in page.text
    finally:
        blob.unlink()


def test_metrics_answer_the_metrics_token_and_nobody_else(hub, platform):
    token = secret_file(platform.data_dir, "metrics-token")
    assert (platform.data_dir / "secrets" / "metrics-token").stat().st_mode & 0o777 == 0o600
    r = requests.get(f"{platform.url}/hub/metrics", headers=auth(token), timeout=30)
    assert r.status_code == 200 and "jupyterhub_active_users" in r.text
    assert requests.get(f"{platform.url}/hub/metrics", timeout=30).status_code == 403
    ops = f"{platform.url}/services/astrohub-ops/metrics"
    r = requests.get(ops, headers=auth(token), timeout=60)
    assert r.status_code == 200, r.text
    assert re.search(r'^astrohub_home_bytes\{user="ahtalice"\} [1-9]\d*$', r.text, re.M), r.text
    assert "# TYPE astrohub_gateway_clusters gauge" in r.text
    r = requests.get(ops, headers=auth(hub.user_token("ahtalice")), timeout=60)
    assert r.status_code == 403 and "read:metrics" in r.text


def test_the_admin_page_shows_limits_and_culling(platform, creds):
    s = requests.Session()
    r = login(platform.url, "ahtadmin", creds["ahtadmin"])
    s.cookies.update(r.cookies)
    page = s.get(f"{platform.url}/hub/admin", timeout=30)
    assert page.status_code == 200
    assert 'id="astrohub-admin-limits"' in page.text and 'id="react-admin-hook"' in page.text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "cull idle servers after 60 min" in text
    assert "gateway clusters per user 2" in text
    assert f"server memory {limits.human(limits.parse_bytes('50%'))}" in text


def test_a_server_runs_inside_its_users_limits(hub, platform):
    hub.spawn("ahtalice")
    uid = pwd.getpwnam("ahtalice").pw_uid
    marker = f"ASTROHUB_HUB_DATA_DIR={platform.data_dir}"
    servers = [p for p in psutil.process_iter(["uids", "environ"])
               if p.info["uids"] and p.info["uids"].real == uid and marker in
               [f"{k}={v}" for k, v in (p.info["environ"] or {}).items()]]
    assert servers
    mem = limits.parse_bytes("50%")
    for p in servers:
        assert p.info["environ"]["MEM_LIMIT"] == str(mem)
        how = limits.backend()
        if how == "rlimit":
            assert psutil.Process(p.pid).rlimit(psutil.RLIMIT_AS) == (mem, mem)
        else:
            assert "/astrohub/ahtalice" in open(f"/proc/{p.pid}/cgroup").read()


def test_logging_in_while_the_server_is_still_stopping_lands_in_the_restarted_server(hub, platform, creds):
    hub.spawn("ahtalice")
    s = requests.Session()
    s.cookies.update(login(platform.url, "ahtalice", creds["ahtalice"]).cookies)
    stopper = threading.Thread(target=hub.api, args=("DELETE", "users/ahtalice/server"))
    stopper.start()
    deadline = time.monotonic() + 20
    while (hub.api("GET", "users/ahtalice").json()["servers"].get("") or {}).get("pending") != "stop":
        assert time.monotonic() < deadline, "the stop was never seen pending"
        time.sleep(0.02)
    # what the browser does: open the lab, follow redirects and the pages' own refreshes
    r = s.get(f"{platform.url}/user/ahtalice/lab", timeout=60)
    assert "Your server is stopping" in r.text, r.text[-2000:]
    seen = [r.url]
    deadline = time.monotonic() + 120
    while not r.url.rstrip("/").endswith("/user/ahtalice/lab") or r.status_code != 200:
        assert time.monotonic() < deadline, seen
        assert "Server not running" not in r.text, seen
        refresh = re.search(r'http-equiv="refresh"\s+content="(\d+);\s*url=([^"]+)"', r.text)
        if refresh:  # the stop-pending page: ask again to start the server
            time.sleep(int(refresh.group(1)))
            r = s.get(urljoin(r.url, refresh.group(2)), timeout=60)
        elif "/spawn-pending/" in r.url:  # the spawn-pending page's script waits for "ready", then reloads
            time.sleep(0.5)
            r = s.get(r.url, timeout=60)
        else:
            raise AssertionError(f"landed on {r.url} ({r.status_code}) after {seen}")
        seen.append(r.url)
    stopper.join(timeout=60)
    assert hub.api("GET", "users/ahtalice").json()["servers"][""]["ready"]
    assert any("/hub/spawn/ahtalice" in u or "/spawn-pending/" in u for u in seen)
    assert os.path.basename(r.url.rstrip("/")) == "lab"


def test_the_spawn_pending_page_of_a_stopped_server_starts_it_again(hub, platform, creds):
    """Where the stop-pending page's refresh lands when the stop ends between its redirect and the next
    request (CI saw it): spawn-pending with nothing pending. It starts the server instead of asking for a
    click; /user/<name> of a stopped server keeps JupyterHub's Launch button and starts nothing."""
    hub.spawn("ahtalice")
    hub.stop_server("ahtalice")
    s = requests.Session()
    s.cookies.update(login(platform.url, "ahtalice", creds["ahtalice"]).cookies)
    r = s.get(f"{platform.url}/user/ahtalice/lab", timeout=60)
    assert "Server not running" in r.text and "Launch" in r.text and 'http-equiv="refresh"' not in r.text
    assert not hub.api("GET", "users/ahtalice").json()["servers"]
    r = s.get(f"{platform.url}/hub/spawn-pending/ahtalice", timeout=60)
    assert "Your server has stopped. It starts again now" in r.text and "Server not running" not in r.text
    refresh = re.search(r'http-equiv="refresh"\s+content="(\d+);\s*url=([^"]+)"', r.text)
    assert refresh and refresh.group(2) == "/hub/spawn/ahtalice", r.text[-2000:]
    s.get(urljoin(r.url, refresh.group(2)), timeout=60)
    deadline = time.monotonic() + 120
    while not (hub.api("GET", "users/ahtalice").json()["servers"].get("") or {}).get("ready"):
        assert time.monotonic() < deadline, "the server did not start again"
        time.sleep(0.3)
