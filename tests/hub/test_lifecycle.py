"""`astrohub up` as a newcomer runs it: banner with credentials, Ctrl-C stops all, state reused."""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import psutil
import pytest

from astrohub.defaults import LOOPBACK, TEST_UP_PORT, hub_ports
from astrohub.hub.users import remove_unix_user

from ..conftest import TEST_DATA

pytestmark = pytest.mark.hub
PORT = TEST_UP_PORT
# the public port and everything the hub starts on loopback: proxy API, hub API, share page, dask-gateway's three
_P = hub_ports(PORT)
PORTS = (PORT, _P["proxy_api"], _P["hub_api"], _P["share"], _P["gateway"], _P["gateway"] + 1, _P["gateway"] + 2)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((LOOPBACK, port)) == 0


def ports_close(ports, timeout: float = 15) -> bool:
    """Whether every port stops answering within ``timeout`` s (a proxy exits a moment after its hub)."""
    deadline = time.monotonic() + timeout
    while any(port_open(p) for p in ports):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


RUNNING: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def kill_leftovers():
    """Whatever happens in a test, no `astrohub up` (nor its hub, proxy, gateway) outlives it."""
    yield
    while RUNNING:
        proc = RUNNING.pop()
        if proc.poll() is None:  # the hub, proxy and services run in sessions of their own: kill the tree
            tree = psutil.Process(proc.pid).children(recursive=True)
            proc.kill()
            for child in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            proc.wait()


def run_up(data) -> tuple[subprocess.Popen, str]:
    # its own session, as a terminal would give it; SIGINT below is the Ctrl-C of a newcomer. It starts
    # with SIGINT ignored, as `make demo &` from a script (no job control) would start it: `up` must
    # still stop on Ctrl-C
    proc = subprocess.Popen(
        [sys.executable, "-m", "astrohub.cli", "up", "--no-archive", "--port", str(PORT),
         "--data-dir", str(data), "--admin", "ahtupadmin", "--users", "ahtupuser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    RUNNING.append(proc)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)], daemon=True).start()
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if "ahtupuser" in line:
            proc.lines = lines
            return proc, "".join(seen)
    raise AssertionError("astrohub up printed no credentials within 120 s:\n" + "".join(seen))


def stop(proc) -> str:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=90)
    out = []
    while (line := proc.lines.get(timeout=10)) is not None:
        out.append(line)
    return "".join(out)


def password(banner: str, user: str) -> str:
    return re.search(rf"{user}\s+(\S+)", banner).group(1)


def test_up_prints_login_stops_everything_on_ctrl_c_and_reuses_state():
    data = TEST_DATA / "up"
    try:
        proc, banner = run_up(data)
        assert f"http://127.0.0.1:{PORT}" in banner
        first = password(banner, "ahtupuser")
        assert len(first) >= 12 and first != password(banner, "ahtupadmin")
        assert all(port_open(p) for p in PORTS)
        out = stop(proc)
        assert proc.returncode == 0, out
        assert "stopping" in out
        time.sleep(1)
        assert not [p for p in PORTS if port_open(p)]
        # a second start reuses the accounts, secrets and database
        secret = (data / "secrets" / "cookie-secret").read_text()
        proc, banner = run_up(data)
        assert password(banner, "ahtupuser") == first
        assert (data / "secrets" / "cookie-secret").read_text() == secret
        stop(proc)
        assert proc.returncode == 0
        assert ports_close(PORTS)
    finally:
        for name in ("ahtupadmin", "ahtupuser"):
            remove_unix_user(name)


def test_up_with_the_archive_port_taken_says_so_and_stops(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            r = subprocess.run([sys.executable, "-m", "astrohub.cli", "up", "--port", str(PORT),
                                "--data-dir", str(TEST_DATA / "up-busy"), "--admin", "ahtupadmin",
                                "--users", "ahtupuser", "--archive-port", str(port)],
                               capture_output=True, text=True, timeout=180)
        finally:
            for name in ("ahtupadmin", "ahtupuser"):
                remove_unix_user(name)
    assert r.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use by another program" in r.stderr
    assert not port_open(PORT)  # nothing was left running


def test_stop_also_stops_what_a_hub_left_running(tmp_path):
    """A hub killed while still starting up does not stop the proxy and services it started (they
    run in sessions of their own); Platform.stop() stops them after it."""
    from astrohub.hub.launcher import Platform

    script = tmp_path / "hub.py"
    script.write_text(
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))  # exits without stopping its child\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
        "print(child.pid, flush=True)  # only once the handler is in place: stop() may follow at once\n"
        "time.sleep(600)\n")
    hub = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    RUNNING.append(hub)
    child = psutil.Process(int(hub.stdout.readline()))
    p = Platform(tmp_path, with_archive=False)
    p.hub_process = hub
    p.stop()
    assert hub.returncode == 0
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
