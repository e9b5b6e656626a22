"""`astrohub up` as a newcomer runs it: banner with credentials, Ctrl-C stops all, state reused."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from astrohub.hub.users import remove_unix_user

from ..conftest import TEST_DATA

pytestmark = pytest.mark.hub
PORT = 18400


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_up(data) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "astrohub.cli", "up", "--no-archive", "--port", str(PORT),
         "--data-dir", str(data), "--admin", "ahtupadmin", "--users", "ahtupuser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "ahtupuser" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("astrohub up printed no credentials:\n" + "".join(lines))


def stop(proc) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    return out


def password(banner: str, user: str) -> str:
    return re.search(rf"{user}\s+(\S+)", banner).group(1)


def test_up_prints_login_stops_everything_on_ctrl_c_and_reuses_state():
    data = TEST_DATA / "up"
    try:
        proc, banner = run_up(data)
        assert f"http://127.0.0.1:{PORT}" in banner
        first = password(banner, "ahtupuser")
        assert len(first) >= 12 and first != password(banner, "ahtupadmin")
        assert all(port_open(p) for p in (PORT, PORT + 1, PORT + 81, PORT + 82, PORT + 83, PORT + 84, PORT + 85))
        out = stop(proc)
        assert proc.returncode == 0, out
        assert "stopping" in out
        time.sleep(1)
        assert not any(port_open(p) for p in (PORT, PORT + 1, PORT + 81, PORT + 82, PORT + 83, PORT + 84, PORT + 85))
        # a second start reuses the accounts, secrets and database
        secret = (data / "secrets" / "cookie-secret").read_text()
        proc, banner = run_up(data)
        assert password(banner, "ahtupuser") == first
        assert (data / "secrets" / "cookie-secret").read_text() == secret
        stop(proc)
        assert proc.returncode == 0
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
