"""``astrohub up``: the embedded deployment on one machine.

Creates the demo accounts (PAM), starts the local archive when it is
installed, then JupyterHub (which starts configurable-http-proxy and the share
service), waits until it answers, prints how to log in and runs until Ctrl-C,
when it stops everything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from astrohub.defaults import ARCHIVE_PORT, LOOPBACK, PUBLIC_PORT, hub_ports, loopback_url

from . import paths, recovery
from .rest import Hub
from .secrets import secret_file
from .users import CredentialStore, check_account, install_tutorials


class PlatformError(RuntimeError):
    """The embedded platform cannot start; the message says why and what to do."""


@dataclass
class Platform:
    """One machine's astrohub: hub + proxy + share service (+ the local archive)."""

    data_dir: Path
    port: int = PUBLIC_PORT
    ip: str = LOOPBACK
    admin: str = "astroadmin"
    users: list[str] = field(default_factory=lambda: ["alice", "bob"])
    with_archive: bool = True
    archive_port: int = ARCHIVE_PORT
    external_archive: str = ""  # a TAP URL to offer instead of starting the local archive
    hub_process: subprocess.Popen | None = None
    archive: object | None = None
    archive_url: str = ""
    ssl_cert: str = ""  # TLS certificate and key (PEM) of the public URL, for JupyterHub's proxy
    ssl_key: str = ""
    insecure: bool = False  # allow plain HTTP on an address other than loopback

    def __post_init__(self):
        self.data_dir = Path(self.data_dir).resolve()
        for name in [self.admin, *self.users]:
            check_account(name)
        check_exposure(self.ip, self.ssl_cert, self.ssl_key, self.insecure)

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_cert else "http"
        return f"{scheme}://{self.ip}:{self.port}"

    @property
    def api_url(self) -> str:
        """The hub's own API on loopback (plain HTTP, never leaves the machine)."""
        return loopback_url(hub_ports(self.port)["hub_api"])

    @property
    def home_root(self) -> Path:
        return self.data_dir / "homes"

    def hub(self) -> Hub:
        """A REST client with the admin service's token (through the proxy; the hub's own API with TLS)."""
        url = self.api_url if self.ssl_cert else self.url
        return Hub(url, secret_file(self.data_dir, "admin-api-token"))

    def prepare(self) -> dict[str, str]:
        """Create the data directory and the accounts; return their passwords."""
        if os.geteuid() != 0:
            raise PlatformError("astrohub up must run as root: it creates one Unix account per user "
                                "and spawns each user's server as that user (run `sudo make demo`)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o755)
        creds = CredentialStore(self.data_dir).ensure([self.admin, *self.users], self.home_root)
        repo = paths.repo_dir()
        if repo is not None:
            for name in creds:
                install_tutorials(name, repo / "notebooks")
        return creds

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "ASTROHUB_DATA_DIR": str(self.data_dir),
            "ASTROHUB_HUB_DATA_DIR": str(self.data_dir),  # marks the hub and its proxy for crash recovery
            "ASTROHUB_IP": self.ip,
            "ASTROHUB_PORT": str(self.port),
            "ASTROHUB_ADMIN_USERS": self.admin,
            "ASTROHUB_USERS": ",".join(self.users),
            "ASTROHUB_SSL_CERT": self.ssl_cert,
            "ASTROHUB_SSL_KEY": self.ssl_key,
            "ASTROHUB_INSECURE": "1" if self.insecure else "",
        })
        if self.archive_url:
            env["ASTROHUB_ARCHIVE_URL"] = self.archive_url
        return env

    def start_archive(self) -> None:
        try:
            from astrohub.archive.server import LocalArchive
        except ImportError:
            print("astrohub: the local archive is not part of this installation; starting the hub only")
            return
        self.archive = LocalArchive(self.data_dir / "archive", port=self.archive_port)
        self.archive_url = self.archive.start()

    def start(self, timeout: float = 90) -> Hub:
        """Stop what a killed earlier hub left running, start everything and wait until the hub answers."""
        try:
            recovery.stop_leftovers(self.data_dir)
        except recovery.AlreadyRunning as e:
            raise PlatformError(str(e)) from None
        self.check_ports()
        if self.external_archive:
            self.archive_url = self.external_archive
        elif self.with_archive:
            self.start_archive()
        with open_private_log(self.data_dir / "jupyterhub.log") as log:
            self.hub_process = subprocess.Popen(
                [str(paths.venv_bin() / "jupyterhub"), "-f", str(paths.hub_config_file())],
                cwd=self.data_dir, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, umask=0o077,
                # the hub stops its services and servers with SIGINT first: a hub started from a background
                # job (SIGINT ignored) would pass that on, and every stop would wait out its timeouts
                preexec_fn=_default_sigint,
            )
        write_private(self.data_dir / RUNNING, json.dumps({"hub_api": self.api_url, "url": self.url,
                                                           "pid": self.hub_process.pid}))
        hub = self.hub()
        deadline = time.monotonic() + timeout
        while not (hub.ready() and self._public_ready()):
            if self.hub_process.poll() is not None:
                tail = (self.data_dir / "jupyterhub.log").read_text(errors="replace")[-3000:]
                self.stop()
                raise PlatformError(f"JupyterHub exited with code {self.hub_process.returncode}; "
                                    f"end of {self.data_dir / 'jupyterhub.log'}:\n{tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise PlatformError(f"JupyterHub did not answer on {self.url} within {timeout:.0f} s; "
                                    f"see {self.data_dir / 'jupyterhub.log'}")
            time.sleep(0.2)
        self.record()
        return hub

    def record(self) -> None:
        """Note the hub's processes (proxy, services, servers) for the crash recovery of the next start."""
        if self.hub_process is not None and self.hub_process.poll() is None:
            recovery.record(self.data_dir, self.hub_process.pid)

    def check_ports(self) -> None:
        """Fail with a clear message when a port the hub needs is taken by a program that is not ours."""
        import socket

        ports = hub_ports(self.port)
        wanted = [(self.port, "public URL"), (ports["proxy_api"], "proxy API"), (ports["hub_api"], "hub API"),
                  (ports["share"], "share service"), (ports["share"] + 4, "astrohub-ops page")] + [
                     (ports["gateway"] + i, "dask-gateway") for i in range(3)]
        for port, role in wanted:
            host = LOOPBACK if port != self.port or self.ip in ("0.0.0.0", "::", "localhost") else self.ip
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
                s.settimeout(1.0)
                if s.connect_ex((host, port)) == 0:
                    raise PlatformError(f"port {port} on {host} ({role}) is in use by another program; stop it "
                                        "or choose another --port (the hub uses the public port, +1, +81 to +86)")

    def _public_ready(self) -> bool:
        """With TLS, the admin client talks to the hub's own API: also wait for the proxy's public route."""
        if not self.ssl_cert:
            return True  # hub() already goes through the proxy
        import requests
        import urllib3

        with contextlib.suppress(requests.RequestException), warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            # no secret is sent; the certificate may name a host other than the one we dial
            url = self.url.replace(f"//{self.ip}:", f"//{LOOPBACK if self.ip in ('0.0.0.0', '::') else self.ip}:")
            return requests.get(f"{url}/hub/api/", timeout=2, verify=False).status_code == 200
        return False

    def stop(self) -> None:
        """Stop the hub (it stops the proxy, the share service and user servers), then the archive."""
        proc = self.hub_process
        if proc is not None and proc.poll() is None:
            started = _descendants(proc.pid)  # proxy and services run in sessions of their own
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            recovery.terminate(started, timeout=10)  # a hub stopped while still starting up does not stop them itself
        if proc is not None:  # a hub that died (killed, crashed) stopped nothing: stop what it left
            with contextlib.suppress(recovery.AlreadyRunning):  # (not when the data dir is another up's now)
                recovery.stop_leftovers(self.data_dir)
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / RUNNING).unlink()
        if self.archive is not None:
            self.archive.stop()
            self.archive = None

    def banner(self, creds: dict[str, str]) -> str:
        lines = [f"astrohub is running at {self.url}  (Ctrl-C stops it)", "",
                 "Log in with one of these generated accounts "
                 f"(kept in {self.data_dir / 'credentials.json'}, readable by root only):"]
        for name, pw in creds.items():
            role = "admin" if name == self.admin else "user"
            lines.append(f"  {role:5s}  {name:12s} {pw or '(existing account: its own password, unchanged)'}")
        if self.archive_url:
            lines += ["", f"VO archive (TAP): {self.archive_url}"]
        return "\n".join(lines)


RUNNING = "hub.json"  # the running hub's API address (for `astrohub users remove`), 0600


def check_exposure(ip: str, ssl_cert: str, ssl_key: str, insecure: bool) -> None:
    """Refuse to serve plain HTTP beyond loopback unless ``insecure``; check the TLS files."""
    if bool(ssl_cert) != bool(ssl_key):
        raise PlatformError("TLS needs both --ssl-cert and --ssl-key (PEM files)")
    for what, path in (("--ssl-cert", ssl_cert), ("--ssl-key", ssl_key)):
        if path and not os.path.isfile(path):
            raise PlatformError(f"{what} {path}: no such file")
    if not ssl_cert and not insecure and not is_loopback(ip):
        raise PlatformError(
            f"--ip {ip} would serve logins, passwords and notebooks over plain HTTP beyond this machine: "
            "pass --ssl-cert CERT.pem --ssl-key KEY.pem (TLS), or --insecure if you really mean it "
            "(e.g. behind your own TLS-terminating proxy)"
        )


def is_loopback(ip: str) -> bool:
    import ipaddress

    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def open_private_log(path: Path):
    """Open a log for appending, created 0600 (and made 0600 if it exists): it holds every user's server logs."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def up(platform: Platform) -> int:
    """Run the platform in the foreground until interrupted."""
    creds = platform.prepare()
    stop = False

    def _stop(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    # a shell without job control starts background commands with SIGINT ignored, and Python then
    # keeps ignoring it: ask for Ctrl-C explicitly so that it always stops the platform
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        platform.start()
        print(platform.banner(creds), flush=True)
        ticks = 0
        while not stop and platform.hub_process.poll() is None:
            time.sleep(0.5)
            ticks += 1
            if ticks % 10 == 0:  # servers come and go: keep the crash-recovery record current
                platform.record()
        if platform.hub_process.poll() is not None:
            print(f"astrohub: JupyterHub exited ({platform.hub_process.returncode}); "
                  f"see {platform.data_dir / 'jupyterhub.log'}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        pass
    finally:
        print("astrohub: stopping ...", flush=True)
        platform.stop()
    return 0


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _descendants(pid: int) -> list:
    """The processes ``pid`` started (psutil handles), recursively."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
