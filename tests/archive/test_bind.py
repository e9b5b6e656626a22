"""The archive's bind address (``astrohub archive start --bind``): what DaCHS is told, and bad addresses refused.

No DaCHS is started: the settings file is written into a temporary data directory, and the address checks run
before anything is set up."""

from __future__ import annotations

import configparser
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from astrohub.archive.server import ArchiveError, LocalArchive


def settings(arc: LocalArchive) -> configparser.SectionProxy:
    arc.data_dir.mkdir(parents=True, exist_ok=True)
    arc._write_settings()
    rc = configparser.ConfigParser(delimiters=(":",))
    rc.read(arc.settings)
    return rc["web"]


def test_default_is_loopback(tmp_path):
    web = settings(LocalArchive(tmp_path, port=18971))
    assert web["bindAddress"] == "127.0.0.1" and web["serverURL"] == "http://127.0.0.1:18971"


def test_pod_bind_listens_everywhere_and_advertises_the_service_url(tmp_path):
    url = "http://astrohub-dachs.science.svc:8080"
    arc = LocalArchive(tmp_path, port=8080, bind="0.0.0.0", url=url + "/")
    web = settings(arc)
    assert web["bindAddress"] == "0.0.0.0" and web["serverURL"] == url and web["serverPort"] == "8080"
    assert arc.tap_url == url + "/tap"
    assert arc._probe_base == "http://127.0.0.1:8080"  # health checks reach the pod's own server


def test_a_specific_address_is_bound_and_advertised(tmp_path):
    web = settings(LocalArchive(tmp_path, port=18971, bind="127.0.0.2"))
    assert web["bindAddress"] == "127.0.0.2" and web["serverURL"] == "http://127.0.0.2:18971"
    web = settings(LocalArchive(tmp_path, port=18971, bind="::1"))
    assert web["bindAddress"] == "::1" and web["serverURL"] == "http://[::1]:18971"


@pytest.mark.parametrize("bind,url,message", [
    ("localhost:8080", None, r"bind address must be an IP address of this machine .* got 'localhost:8080'"),
    ("0.0.0.0", None, r"bind address 0.0.0.0 \(every interface\) needs the URL clients reach the archive at"),
    ("0.0.0.0", "astrohub-dachs:8080", r"archive URL must be the server's root, .* got 'astrohub-dachs:8080'"),
    ("0.0.0.0", "http://dachs:8080/tap", r"archive URL must be the server's root"),
])
def test_bad_bind_or_url_is_refused_with_a_reason(tmp_path, bind, url, message):
    with pytest.raises(ValueError, match=message):
        LocalArchive(tmp_path, port=18971, bind=bind, url=url)


def test_an_address_of_another_machine_is_refused_before_setup(tmp_path):
    arc = LocalArchive(tmp_path / "arc", port=18971, bind="203.0.113.77")  # TEST-NET-3: no machine's own address
    with pytest.raises(ArchiveError, match=r"cannot listen on 203.0.113.77: it is not an address of this machine"):
        arc.start()
    assert not arc.data_dir.exists()  # refused before the archive was set up


def test_a_port_taken_on_the_bind_address_is_reported(tmp_path):
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        arc = LocalArchive(tmp_path / "arc", port=port, bind="0.0.0.0", url="http://dachs:8080")
        with pytest.raises(ArchiveError, match=f"port {port} on 0.0.0.0 is in use by another program"):
            arc.start()


def test_cli_refuses_a_bad_bind_address(tmp_path):
    astrohub = Path(sys.executable).parent / "astrohub"
    proc = subprocess.run([str(astrohub), "archive", "status", "--data-dir", str(tmp_path), "--bind", "nowhere"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "astrohub archive status: bind address must be an IP address of this machine" in proc.stderr
    assert "got 'nowhere'" in proc.stderr
