"""Login-to-kernel time, step by step, for 1 user and N users at once; astrohub next to a plain JupyterHub.

    .venv/bin/python benchmarks/hub_bench.py [--users 10] [--rounds 2] [--variants astrohub,stock,plain]

Each login walks the browser's path with ``requests``: the login form (PAM), ``/hub/spawn``, the
spawn-pending page's progress stream until the server is ready, JupyterLab's page through the OAuth
redirects and its assets, then a kernel and a first ``print(1 + 1)``. Steps reported:

- ``auth``: GET + POST /hub/login (PAM).
- ``spawn``: from the login's redirect to the single-user process existing (hub request handling,
  pre-spawn hook, fork/exec); the process's start time comes from psutil.
- ``server_start``: process start to the server listening (its "is running at" log line): imports,
  server extensions.
- ``hub_notice``: listening to the hub's progress stream saying "ready" (the hub's wait for the server
  to answer, the proxy route).
- ``lab_assets``: JupyterLab's page (OAuth redirects included), its main bundle, each lab extension's
  remoteEntry, /lab/api/settings and /api/kernelspecs, fetched one after the other.
- ``kernel_start``: POST /api/kernels and the websocket (the server waits for kernel_info).
- ``first_execute``: ``print(1 + 1)`` until idle.

Variants, run alternately in each round (the same users, one hub at a time):

- ``astrohub``: the embedded platform as shipped (``AstrohubHub.fast_start`` on).
- ``stock``: the same platform with ``fast_start`` off: stock ``jupyterhub-singleuser``, JupyterHub's
  LocalProcessSpawner and every installed server extension (what astrohub did before).
- ``plain``: a plain JupyterHub (PAM, LocalProcessSpawner, ``/lab``, no astrohub settings), the reference.

Writes benchmarks/results/hub.json (``--name``; medians over rounds, and every round's figures).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write  # noqa: E402

from astrohub.defaults import BENCH_HUB_PORT, LOOPBACK  # noqa: E402
from astrohub.hub import paths  # noqa: E402
from astrohub.hub.launcher import Platform, open_private_log  # noqa: E402
from astrohub.hub.rest import Hub, Kernel  # noqa: E402
from astrohub.hub.users import remove_unix_user  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".astrohub-test" / "bench"
PLAIN_PORT = BENCH_HUB_PORT + 100
STEPS = ("auth", "spawn", "server_start", "hub_notice", "lab_assets", "kernel_start", "first_execute")
LOG_TIME = re.compile(r"^\[\w (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ")


class PlainHub:
    """A plain JupyterHub on PLAIN_PORT: PAM users, LocalProcessSpawner, JupyterLab; nothing of astrohub's."""

    def __init__(self, data: Path, users: list[str]):
        self.data = data / "plain"
        self.users = users
        self.token = os.urandom(24).hex()
        self.url = f"http://{LOOPBACK}:{PLAIN_PORT}"
        self.log = self.data / "jupyterhub.log"
        self.proc = None

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "jupyterhub_config.py").write_text(f"""
c = get_config()  # noqa
c.JupyterHub.bind_url = {self.url!r}
c.JupyterHub.hub_bind_url = "http://{LOOPBACK}:{PLAIN_PORT + 2}"
c.ConfigurableHTTPProxy.api_url = "http://{LOOPBACK}:{PLAIN_PORT + 1}"
c.ConfigurableHTTPProxy.command = {paths.proxy_command()!r}
c.JupyterHub.db_url = "sqlite:///{self.data / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = "{self.data / 'cookie-secret'}"
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = {set(self.users)!r}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = ["{paths.venv_bin() / 'jupyterhub-singleuser'}"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {{"PATH": "{paths.venv_bin()}:/usr/bin:/bin"}}
c.JupyterHub.services = [{{"name": "bench", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "bench", "services": ["bench"],
                            "scopes": ["admin:users", "admin:servers", "tokens", "read:users"]}}]
""")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASTROHUB_")}
        env["CONFIGPROXY_AUTH_TOKEN"] = os.urandom(24).hex()
        with open_private_log(self.log) as log:
            self.proc = subprocess.Popen([str(paths.venv_bin() / "jupyterhub"), "-f", "jupyterhub_config.py"],
                                         cwd=self.data, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.hub().wait_ready(90)

    def hub(self) -> Hub:
        return Hub(self.url, self.token)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def listening_at(log: Path, user: str, after: float) -> float | None:
    """When ``user``'s server logged "is running at" (its URL line) after ``after`` (epoch s), from the hub log."""
    pattern = re.compile(rf"http://127\.0\.0\.1:\d+/user/{re.escape(user)}/")
    for line in log.read_text(errors="replace").splitlines():
        m = LOG_TIME.match(line)
        if m and pattern.search(line):
            t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            if t >= after - 1:
                return t
    return None


def clock_offset() -> float:
    """``time.time()`` minus psutil's start time of a process started at that moment (median of 5).

    psutil derives start times from the boot time and clock ticks, which may be off by up to a second."""
    gaps = []
    for _ in range(5):
        t = time.time()
        p = subprocess.Popen(["sleep", "5"])
        gaps.append(t - psutil.Process(p.pid).create_time())
        p.kill()
        p.wait()
    return statistics.median(gaps)


def process_start(user: str, offset: float) -> float | None:
    """Start time (epoch s) of ``user``'s single-user server process."""
    for p in psutil.process_iter(["username", "cmdline", "create_time"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if p.info["username"] == user and "singleuser" in cmd:
            return p.info["create_time"] + offset
    return None


def wait_ready(s: requests.Session, base: str, user: str, xsrf: str) -> str:
    """Follow the spawn-pending page's progress stream until the server is ready; return its URL path."""
    with s.get(f"{base}/hub/api/users/{user}/server/progress", params={"_xsrf": xsrf}, stream=True,
               timeout=300) as r:
        r.raise_for_status()
        for line in r.iter_lines(decode_unicode=True):
            if not line or not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event.get("failed"):
                raise RuntimeError(f"spawn of {user} failed: {event.get('message')}")
            if event.get("ready"):
                return event["url"]
    raise RuntimeError(f"progress stream of {user} ended without 'ready'")


def lab_assets(s: requests.Session, base: str, server: str) -> int:
    """Fetch what JupyterLab's first paint needs; return the bytes fetched."""
    r = s.get(f"{base}{server}lab", timeout=120)
    r.raise_for_status()
    page = r.text
    config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    urls = [base + m for m in re.findall(r'src="([^"]*/main\.[0-9a-f]+\.js[^"]*)"', page)]
    ext_root = config["fullLabextensionsUrl"]
    urls += [f"{base}{ext_root}/{e['name']}/{e['load']}" for e in config.get("federated_extensions", [])]
    urls += [f"{base}{server}lab/api/settings", f"{base}{server}api/kernelspecs"]
    size = len(r.content)
    for url in urls:
        got = s.get(url, timeout=120)
        got.raise_for_status()
        size += len(got.content)
    return size


def login_to_kernel(base: str, hub: Hub, log: Path, user: str, password: str, offset: float) -> dict:
    """One user's login to a first executed cell, as a browser does it; seconds per step."""
    marks = {}
    t0 = time.time()
    s = requests.Session()
    page = s.get(f"{base}/hub/login", timeout=60)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(f"{base}/hub/login", data={"username": user, "password": password, "_xsrf": xsrf},
               allow_redirects=False, timeout=120)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    marks["auth"] = time.time()
    r = s.get(f"{base}/hub/spawn", timeout=120)  # redirects to spawn-pending (or to the server if quick)
    r.raise_for_status()
    if f"/user/{user}/" not in r.url:
        xsrf = re.search(r'xsrf_token: "([^"]+)"', r.text).group(1)
        server = wait_ready(s, base, user, xsrf)
    else:
        server = f"/user/{user}/"
    ready = time.time()
    started = process_start(user, offset)
    listening = listening_at(log, user, marks["auth"])
    marks["spawn"] = started if started else ready
    marks["server_start"] = listening if listening and started else marks["spawn"]
    marks["hub_notice"] = ready
    size = lab_assets(s, base, server)
    marks["lab_assets"] = time.time()
    token = hub.user_token(user)
    t_token = time.time() - marks["lab_assets"]  # not part of a browser's path: left out
    k = Kernel(f"{base}{server}".rstrip("/"), token)
    marks["kernel_start"] = time.time() - t_token
    assert k.execute("print(1 + 1)").stdout.strip() == "2"
    marks["first_execute"] = time.time() - t_token
    k.shutdown()
    out, prev = {}, t0
    for step in STEPS:
        out[step] = round(marks[step] - prev, 3)
        prev = marks[step]
    out["total"] = round(prev - t0, 3)
    out["lab_bytes"] = size
    out["breakdown_from_log"] = bool(started and listening)
    return out


def run_variant(name: str, data: Path, names: list[str], creds: dict, n_users: int, offset: float) -> dict:
    """Start the variant's hub, log one user in, then all ``n_users`` at once; stop it."""
    if name == "plain":
        target = PlainHub(data, names)
        log = target.log
    else:
        os.environ["ASTROHUB_FAST_START"] = "1" if name == "astrohub" else "0"
        target = Platform(data, port=BENCH_HUB_PORT, admin="ahbenchadm", users=names, with_archive=False)
        log = data / "jupyterhub.log"
    t0 = time.perf_counter()
    target.start()
    start_s = time.perf_counter() - t0
    base = target.url
    hub = target.hub()
    try:
        one = login_to_kernel(base, hub, log, names[0], creds[names[0]], offset)
        hub.stop_server(names[0])
        t0 = time.perf_counter()
        with ThreadPoolExecutor(n_users) as pool:
            each = list(pool.map(lambda n: login_to_kernel(base, Hub(hub.url, hub.token), log, n, creds[n], offset),
                                 names[:n_users]))
        wall = time.perf_counter() - t0
    finally:
        target.stop()
    return {"hub_start_s": round(start_s, 2), "one_user": one,
            "users": {"n": n_users, "wall_s": round(wall, 2),
                      "median_total_s": round(statistics.median(e["total"] for e in each), 2),
                      "max_total_s": round(max(e["total"] for e in each), 2),
                      "totals_s": sorted(round(e["total"], 2) for e in each),
                      "slowest_user_steps_s": max(each, key=lambda e: e["total"]),
                      "median_step_s": {s: round(statistics.median(e[s] for e in each), 3) for s in STEPS}}}


def summary(runs: list[dict]) -> dict:
    """Medians over rounds of one variant."""
    med = statistics.median
    return {"hub_start_s": round(med(r["hub_start_s"] for r in runs), 2),
            "login_to_kernel_1_user_s": round(med(r["one_user"]["total"] for r in runs), 2),
            "one_user_steps_s": {s: round(med(r["one_user"][s] for r in runs), 3) for s in STEPS},
            "n_users_wall_s": round(med(r["users"]["wall_s"] for r in runs), 2),
            "n_users_max_s": round(med(r["users"]["max_total_s"] for r in runs), 2),
            "n_users_median_steps_s": {s: round(med(r["users"]["median_step_s"][s] for r in runs), 3)
                                       for s in STEPS}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--variants", default="astrohub,stock,plain",
                    help="comma-separated, run alternately in each round: astrohub, stock, plain")
    ap.add_argument("--name", default="hub", help="results/<name>.json (default: hub)")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the unrecorded first pass (it makes every variant meet homes logged into before)")
    args = ap.parse_args()
    variants = args.variants.split(",")
    bad = set(variants) - {"astrohub", "stock", "plain"}
    if bad:
        sys.exit(f"hub_bench: unknown variant(s) {', '.join(sorted(bad))}: choose from astrohub, stock, plain")
    names = [f"ahbench{i}" for i in range(args.users)]
    if DATA.exists():
        shutil.rmtree(DATA)
    creds = Platform(DATA, port=BENCH_HUB_PORT, admin="ahbenchadm", users=names, with_archive=False).prepare()
    runs = {v: [] for v in variants}
    load = []
    stop = threading.Event()

    def sample_load():
        while not stop.wait(5):
            load.append(os.getloadavg()[0])

    threading.Thread(target=sample_load, daemon=True).start()
    offset = clock_offset()
    try:
        if not args.no_warmup:
            print("warm-up (not recorded) ...", flush=True)
            run_variant(variants[0], DATA, names, creds, args.users, offset)
        for r in range(args.rounds):
            for v in (variants if r % 2 == 0 else variants[::-1]):
                print(f"round {r + 1}/{args.rounds}: {v} ...", flush=True)
                runs[v].append(run_variant(v, DATA, names, creds, args.users, offset))
                print(json.dumps(runs[v][-1]["one_user"]), runs[v][-1]["users"]["wall_s"], flush=True)
    finally:
        stop.set()
        os.environ.pop("ASTROHUB_FAST_START", None)
        for n in creds:
            remove_unix_user(n)
    write(args.name, {
        "what": "login to first executed cell through the browser's path (requests), seconds; medians over rounds",
        "users": args.users, "rounds": args.rounds, "warmup": not args.no_warmup,
        "load_average_1min": {"min": round(min(load, default=0), 2), "max": round(max(load, default=0), 2)},
        "summary": {v: summary(rs) for v, rs in runs.items()},
        "runs": runs,
    })


if __name__ == "__main__":
    main()
