"""Issue 18 item 7 (embedded hub): logs are private, and nothing is served beyond loopback without TLS.

- ``jupyterhub.log`` (every user's server logs, gateway cluster names) is created 0600, and an
  existing one made world-readable is made 0600 again at the next start;
- ``astrohub up --ip`` other than loopback is refused without ``--ssl-cert/--ssl-key`` or
  ``--insecure``, and so is the hub config itself;
- with a certificate the real platform serves HTTPS (JupyterHub's ssl options) and no plain HTTP.

The platform runs on this module's own ports (18710: +1, +81..+85).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
from traitlets.config import Config

from astrohub.hub import AstrohubHub
from astrohub.hub.launcher import RUNNING, Platform, PlatformError

from . import throwaway

PORT = 18710


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "astrohub.cli", *argv], capture_output=True, text=True)


@pytest.mark.parametrize("ip", ["0.0.0.0", "192.0.2.7", "::"])
def test_public_ip_without_tls_is_refused(ip, tmp_path):
    r = cli("up", "--ip", ip, "--data-dir", str(tmp_path / "d"), "--no-archive")
    assert r.returncode == 2
    assert f"--ip {ip} would serve logins, passwords and notebooks over plain HTTP" in r.stderr
    assert "--ssl-cert" in r.stderr and "--insecure" in r.stderr
    assert not (tmp_path / "d").exists()
    with pytest.raises(PlatformError, match="plain HTTP"):
        Platform(tmp_path / "d", ip=ip, users=[])
    Platform(tmp_path / "d", ip=ip, users=[], insecure=True)  # explicit, allowed
    c = Config()
    c.AstrohubHub.data_dir = str(tmp_path / "cfg")
    c.AstrohubHub.ip = ip
    with pytest.raises(ValueError, match="is not loopback: set ssl_cert and ssl_key"):
        AstrohubHub(config=c).apply(c)  # a hand-edited hub config is held to the same rule


def test_tls_files_must_come_in_pairs_and_exist(tmp_path):
    with pytest.raises(PlatformError, match="needs both --ssl-cert and --ssl-key"):
        Platform(tmp_path, ip="0.0.0.0", users=[], ssl_cert=str(tmp_path / "c.pem"))
    r = cli("up", "--ip", "0.0.0.0", "--ssl-cert", "/nonexistent/c.pem", "--ssl-key", "/nonexistent/k.pem",
            "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 2 and "--ssl-cert /nonexistent/c.pem: no such file" in r.stderr


@pytest.fixture(scope="module")
def tls_platform():
    root = throwaway.scratch()
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    data = root / "data"
    data.mkdir()
    log = data / "jupyterhub.log"
    log.write_text("an old log someone made world-readable\n")
    os.chmod(log, 0o644)
    p = Platform(data, port=PORT, admin="ahtsxadm", users=[], with_archive=False,
                 external_archive="http://127.0.0.1:9/tap", ssl_cert=str(cert), ssl_key=str(key))
    try:
        p.prepare()
        p.start()
        yield p, cert
    finally:
        p.stop()
        from astrohub.hub.users import remove_unix_user

        remove_unix_user(p.admin)
        throwaway.remove(root)


def test_hub_log_and_state_are_private(tls_platform):
    p, _ = tls_platform
    for name in ("jupyterhub.log", RUNNING, "credentials.json"):
        st = (p.data_dir / name).stat()
        assert (st.st_mode & 0o777, st.st_uid) == (0o600, 0), name
    assert "an old log" in (p.data_dir / "jupyterhub.log").read_text()  # appended to, not replaced


def test_tls_platform_serves_https_only(tls_platform):
    p, cert = tls_platform
    assert p.url == f"https://127.0.0.1:{PORT}"
    r = requests.get(f"{p.url}/hub/api/", verify=str(cert), timeout=10)
    assert r.status_code == 200 and "version" in r.json()
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{PORT}/hub/api/", timeout=10)
    with pytest.raises(requests.exceptions.SSLError):  # and it is the certificate we gave it
        requests.get(f"{p.url}/hub/api/", timeout=10)
    assert p.hub().api("GET", "users").status_code == 200  # the admin client goes over loopback API
