"""Hub start time and login-to-kernel-ready time for 1 user and N users at once.

    .venv/bin/python benchmarks/hub_bench.py [--users 10]

Runs a real embedded platform (PAM accounts, local processes) on port 18600;
"login to kernel ready" = password login (PAM) + server spawn + kernel start +
first execute. Writes benchmarks/results/hub.json.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write  # noqa: E402

from astrohub.defaults import BENCH_HUB_PORT  # noqa: E402
from astrohub.hub.launcher import Platform  # noqa: E402
from astrohub.hub.rest import Kernel  # noqa: E402
from astrohub.hub.users import remove_unix_user  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".astrohub-test" / "bench"


def login_to_kernel(platform: Platform, user: str, password: str) -> float:
    t0 = time.perf_counter()
    s = requests.Session()
    page = s.get(f"{platform.url}/hub/login", timeout=60)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(f"{platform.url}/hub/login", data={"username": user, "password": password, "_xsrf": xsrf},
               allow_redirects=False, timeout=120)
    assert r.status_code == 302, r.status_code
    hub = platform.hub()
    url = hub.spawn(user, timeout=300)
    k = Kernel(url, hub.user_token(user))
    assert k.execute("print(1 + 1)").stdout.strip() == "2"
    elapsed = time.perf_counter() - t0
    k.shutdown()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10)
    args = ap.parse_args()
    names = [f"ahbench{i}" for i in range(args.users)]
    if DATA.exists():
        shutil.rmtree(DATA)
    p = Platform(DATA, port=BENCH_HUB_PORT, admin="ahbenchadm", users=names, with_archive=False)
    creds = p.prepare()
    try:
        t0 = time.perf_counter()
        p.start()
        start_s = time.perf_counter() - t0
        one = login_to_kernel(p, names[0], creds[names[0]])
        p.hub().stop_server(names[0])
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.users) as pool:
            each = list(pool.map(lambda n: login_to_kernel(p, n, creds[n]), names))
        wall = time.perf_counter() - t0
    finally:
        p.stop()
        for n in creds:
            remove_unix_user(n)
    write("hub", {
        "hub_start_s": round(start_s, 2),
        "login_to_kernel_ready_1_user_s": round(one, 2),
        f"login_to_kernel_ready_{args.users}_users": {
            "wall_s": round(wall, 2), "median_s": round(statistics.median(each), 2), "max_s": round(max(each), 2)},
        "ratio_concurrent_wall_to_single": round(wall / one, 2),
    })


if __name__ == "__main__":
    main()
