"""Run the local DaCHS archive without systemd: PostgreSQL cluster + ``dachs serve``.

Each :class:`LocalArchive` owns a data directory holding its own DaCHS
settings file (``gavo.rc``), DaCHS root (``dachs/``) and PostgreSQL database
(``astrohub_<hash of the directory>``), so several archives (the demo's and
the tests') can coexist on one PostgreSQL cluster. The server listens on
127.0.0.1 unless given another ``bind`` address (the Helm chart's pod binds 0.0.0.0
behind a NetworkPolicy, with ``url`` the Service's address).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from astrohub.defaults import ARCHIVE_PORT, ARCHIVE_RESDIR, LOOPBACK, archive_base_url, local_archive_urls

DACHS = "/usr/bin/dachs"
SYSTEM_PROFILES = Path("/var/gavo/etc")   # written by gavodachs2-server's post-install
RESDIR = ARCHIVE_RESDIR


_UNFINISHED_JOBS = "FROM tap_schema.tapjobs WHERE phase IN ('QUEUED', 'EXECUTING')"
_REAP_JOBS = f"""
from gavo import api
from gavo.protocols import tap, uws
with api.getTableConn() as conn:
    ids = [r[0] for r in conn.query("SELECT jobid {_UNFINISHED_JOBS}")]
for job_id in ids:
    try:
        tap.WORKER_SYSTEM.changeToPhase(job_id, uws.ERROR,
            "The archive server stopped while this job was queued or running; submit the query again.")
    except Exception as e:
        print("could not fail job", job_id, e)
"""


class ArchiveError(RuntimeError):
    """The local archive cannot be set up or started; the message says what to do."""


def _run(cmd, env=None, cwd=None, what="command", timeout=600, secret=None) -> str:
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as e:
        raise ArchiveError(f"{what}: {e.filename} not found; run `sudo bash scripts/install_archive.sh`") from e
    if proc.returncode != 0:
        msg = f"{what} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n" \
              f"{(proc.stdout + proc.stderr)[-3000:]}"
        raise ArchiveError(msg.replace(secret, "***") if secret else msg)
    return proc.stdout


def _pgpass_escape(value: str) -> str:
    """A field of a libpq password file (``:`` and ``\\`` escaped)."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


PSQL = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At"]  # psql as the cluster's superuser


def _as_postgres(sql: str, db: str = "postgres") -> str:
    return _run([*PSQL, "-d", db, "-c", sql], what="psql")


SETUP_LOCK = 0x61737472  # the advisory lock key ("astr") serialising archive set-ups on one PostgreSQL cluster


@contextlib.contextmanager
def cluster_lock(key: int = SETUP_LOCK, timeout_s: int = 900):
    """Hold a PostgreSQL advisory lock for the block: a psql session as 'postgres' that waits for it (up to
    ``timeout_s``). Two archives' set-ups on one cluster (``dachs init`` updates the same roles and catalogue
    rows) fail with "tuple concurrently updated" when they overlap; under this lock they take turns. The lock
    is the session's, so it goes when this process dies; no file is involved."""
    try:
        proc = subprocess.Popen([*PSQL, "-v", "ON_ERROR_STOP=1", "-d", "postgres"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError as e:
        raise ArchiveError(f"psql: {e.filename} not found; run `sudo bash scripts/install_archive.sh`") from e
    try:
        proc.stdin.write(f"SET lock_timeout = '{int(timeout_s)}s';\nSELECT pg_advisory_lock({int(key)});\n"
                         "SELECT 'locked';\n")
        proc.stdin.flush()
        for line in proc.stdout:
            if line.strip() == "locked":
                break
        else:  # psql stopped on an error (ON_ERROR_STOP): the lock was not taken
            raise ArchiveError("could not take the archive set-up lock on PostgreSQL "
                               f"(another set-up held it over {timeout_s} s?): {proc.stderr.read()[-500:]}")
        yield
    finally:
        try:
            proc.communicate(timeout=30)  # closes psql's input: it ends, and the session's lock with it
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def ensure_postgres() -> None:
    """Start every PostgreSQL cluster that is down (``pg_ctlcluster``, no systemd)."""
    if not shutil.which("pg_lsclusters"):
        raise ArchiveError("PostgreSQL is not installed; run `sudo bash scripts/install_archive.sh`")
    out = _run(["pg_lsclusters", "-h"], what="pg_lsclusters")
    clusters = [line.split() for line in out.splitlines() if line.strip()]
    if not clusters:
        raise ArchiveError("no PostgreSQL cluster exists; run `sudo bash scripts/install_archive.sh`")
    for ver, name, _port, status, *_ in clusters:
        if status != "online":
            _run(["pg_ctlcluster", ver, name, "start"], what=f"starting PostgreSQL {ver}/{name}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _describe(pid: int) -> str:
    """``pid``'s command line, for messages."""
    try:
        cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        return f"command {cmd.strip()[:200]!r}"
    except OSError:
        return "command unknown"


def _check_bind(bind: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(bind)
    except ValueError:
        raise ValueError(f"bind address must be an IP address of this machine (127.0.0.1, the default; "
                         f"0.0.0.0 for every interface, e.g. in a Kubernetes pod), got {bind!r}") from None


def _check_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") \
            or parts.query or parts.fragment:
        raise ValueError(f"archive URL must be the server's root, like http://astrohub-dachs.NAMESPACE.svc:8080, "
                         f"got {url!r}")
    return url.rstrip("/")


class LocalArchive:
    """The embedded DaCHS archive serving the demo survey from ``data_dir``.

    ``bind``: the IP address DaCHS listens on (127.0.0.1 by default). ``url``: the root URL clients use,
    which DaCHS writes into its responses (``serverURL``: capabilities, async job URLs); by default
    ``http://BIND:PORT``, and required when ``bind`` is a wildcard (0.0.0.0, ::). Health checks always
    go to the server directly (loopback for a wildcard bind), never through ``url``."""

    def __init__(self, data_dir: Path, port: int = ARCHIVE_PORT, bind: str = LOOPBACK, url: str | None = None):
        if not isinstance(port, int) or not 1024 <= port <= 65535:
            raise ValueError(f"port must be an integer in 1024..65535, got {port!r}")
        ip = _check_bind(bind)
        if ip.is_unspecified and not url:
            raise ValueError(f"bind address {bind} (every interface) needs the URL clients reach the archive at "
                             "(--url, e.g. http://astrohub-dachs.NAMESPACE.svc:8080): DaCHS writes it into "
                             "its responses")
        self.bind = str(ip)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        # where this process reaches the server itself (health checks, the port check)
        self.probe_host = ("::1" if ip.version == 6 else LOOPBACK) if ip.is_unspecified else str(ip)
        probe = f"[{self.probe_host}]" if ip.version == 6 else self.probe_host
        self._probe_base = f"http://{probe}:{port}"
        self._url = _check_url(url) if url else archive_base_url(port, host)
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.root = self.data_dir / "dachs"
        self.settings = self.data_dir / "gavo.rc"
        self.resdir = self.root / "inputs" / RESDIR
        self.dbname = "astrohub_" + hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:10]
        self.log_file = self.data_dir / "dachs-serve.log"
        self.site_dir = self.data_dir / "dachs-python"  # dachs_site/sitecustomize.py, on DaCHS's PYTHONPATH
        self._proc: subprocess.Popen | None = None

    # -- URLs ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The root URL clients use (``url``; http://127.0.0.1:PORT by default)."""
        return self._url

    @property
    def tap_url(self) -> str:
        return self.service_urls()["tap"]

    def service_urls(self) -> dict[str, str]:
        """Access URLs of the archive's services."""
        base = self.base_url.rstrip("/")
        return {**local_archive_urls(self.base_url),
                "sia2": f"{base}/__system__/siap2/sitewide/siap2.xml",      # SIA v2 on ivoa.obscore
                "obscore_datalink": f"{base}/__system__/obscore/dl/dlmeta"}  # ID = obs_publisher_did

    # -- setup -----------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for ``dachs`` commands acting on this archive."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GAVO", "PYTHON", "VIRTUAL_ENV"))}
        env["GAVOSETTINGS"] = str(self.settings)
        env["GAVOCUSTOM"] = str(self.data_dir / "nonexistent-custom")
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        env["PYTHONPATH"] = str(self.site_dir)  # the jobs-table timeout (dachs_site/sitecustomize.py)
        return env

    def _write_site(self) -> None:
        """Copy ``dachs_site/sitecustomize.py`` where DaCHS's processes load it (see its docstring); readable
        by the 'gavo' user like the rest of the data folder, writable by the archive's owner only."""
        from importlib import resources

        text = resources.files("astrohub.archive").joinpath("dachs_site/sitecustomize.py").read_text()
        self.site_dir.mkdir(exist_ok=True)
        os.chmod(self.site_dir, 0o755)
        target = self.site_dir / "sitecustomize.py"
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
        os.chmod(target, 0o644)

    def _write_settings(self) -> None:
        self.settings.write_text(
            "[general]\n"
            f"rootDir: {self.root}\n"
            "logLevel: warning\n"
            "[web]\n"
            f"serverPort: {self.port}\n"
            f"bindAddress: {self.bind}\n"
            f"serverURL: {self.base_url}\n"
            "sitename: astrohub local archive\n"
            "[ivoa]\n"
            "authority: astrohub.local\n"
            # TABLEDATA by default: STILTS 3.4.7's votlint (taplint) misreads variable-length xtype="polygon"
            # arrays in BINARY/BINARY2 (s_region, coverage); clients asking for votable/b2 still get it
            "votDefaultEncoding: td\n"
            "[async]\n"
            "defaultMAXREC: 20000\n"
            "maxTAPRunning: 4\n")

    def _fresh_database(self) -> None:
        """(Re)create this archive's database: a new DaCHS root starts from an empty one."""
        _as_postgres(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        _as_postgres(f'CREATE DATABASE "{self.dbname}" OWNER gavoadmin')
        # extensions need a superuser; dachs init would try (and fail) as gavoadmin
        available = _as_postgres("SELECT name FROM pg_available_extensions").split()
        for ext in ("pg_sphere", "q3c"):
            if ext in available:
                _as_postgres(f"CREATE EXTENSION IF NOT EXISTS {ext}", db=self.dbname)

    def _check_readable(self) -> None:
        """dachs serve runs as the 'gavo' user: it must reach the data directory."""
        if os.geteuid() != 0:
            return
        probe = subprocess.run(["runuser", "-u", "gavo", "--", "test", "-r", str(self.settings)],
                               capture_output=True)
        if probe.returncode != 0:
            raise ArchiveError(f"the DaCHS server (Unix user 'gavo') cannot read {self.data_dir}: make every "
                               "parent folder world-traversable (chmod o+x) or choose another --data-dir")

    def setup(self) -> None:
        """Create this archive's DaCHS root and database (idempotent)."""
        if not Path(DACHS).exists() or not (SYSTEM_PROFILES / "feed").exists():
            raise ArchiveError("DaCHS is not installed (no /usr/bin/dachs or /var/gavo/etc/feed); "
                               "run `sudo bash scripts/install_archive.sh`")
        ensure_postgres()
        stamp = self.root / "state" / "astrohub-init"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o755)
        self._write_settings()
        self._write_site()
        self._check_readable()
        self._write_userconfig()
        if stamp.exists():
            self._ensure_obscore()
            return
        etc = self.root / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        # reuse the roles (and passwords) the Debian post-install generated; own database
        for name in ("feed", "trustedquery", "untrustedquery"):
            shutil.copy(SYSTEM_PROFILES / name, etc / name)
            os.chmod(etc / name, 0o640)
            shutil.chown(etc / name, group="gavo")
        (etc / "dsn").write_text(f"database = {self.dbname}\nhost = localhost\nport = 5432\n")
        for done in ("astrohub-obscore", "astrohub-realsurvey.json"):   # they went with the old database
            (self.root / "state" / done).unlink(missing_ok=True)
        with cluster_lock():  # another archive's set-up on the cluster waits (or this one does)
            self._init_database(etc)
        stamp.write_text("ok\n")
        self._ensure_obscore()

    def _init_database(self, etc: Path) -> None:
        """A fresh database for this archive, then ``dachs init`` on it as the feed role."""
        self._fresh_database()
        feed = dict(line.split(" = ", 1) for line in (etc / "feed").read_text().splitlines() if " = " in line)
        # the admin role's password goes to libpq through a 0600 password file, never on a command
        # line (which every local user can read with ps)
        dsn = f"dbname={self.dbname} host=localhost port=5432 user={feed['user']}"
        with tempfile.TemporaryDirectory(prefix="astrohub-pgpass-") as private:
            passfile = Path(private) / "pgpass"
            fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"localhost:5432:{self.dbname}:{_pgpass_escape(feed['user'])}:"
                        f"{_pgpass_escape(feed['password'])}\n")
            _run([DACHS, "init", "-d", dsn], env={**self.env(), "PGPASSFILE": str(passfile)}, what="dachs init",
                 secret=feed["password"])

    def _write_userconfig(self) -> None:
        """This archive's DaCHS user configuration (``etc/userconfig.rd``: the TAP examples)."""
        from importlib import resources

        etc = self.root / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "userconfig.rd").write_text(
            resources.files("astrohub.archive").joinpath("rd/userconfig.rd").read_text())

    def _ensure_obscore(self) -> None:
        """Create ``ivoa.obscore`` (``dachs imp //obscore``) once: the resources' obscore mixins add to it."""
        stamp = self.root / "state" / "astrohub-obscore"
        if not stamp.exists():
            _run([DACHS, "imp", "//obscore"], env=self.env(), cwd=self.data_dir, what="dachs imp //obscore")
            stamp.write_text("ok\n")

    def import_survey(self, seed: int = 0, size: str = "small", progress: bool = False) -> dict:
        """Build the demo survey for ``seed``/``size`` and import it into DaCHS (replacing any old one)."""
        from .builder import build

        self.setup()
        self._new_build_identity({"seed": seed, "size": size, "state": "importing"})
        summary = build(seed, size, self.resdir, progress=progress)
        _run([DACHS, "imp", "q"], env=self.env(), cwd=self.resdir, what="dachs imp", timeout=3600)
        (self.data_dir / "survey.json").write_text(json.dumps(summary))
        self._new_build_identity({"seed": seed, "size": size, "state": "imported"})
        if self.is_running():
            self._reload()
        return summary

    @property
    def real_stamp(self) -> Path:
        return self.root / "state" / "astrohub-realsurvey.json"

    def real_survey(self) -> dict | None:
        """The imported real-survey resource's summary (row counts, kit fingerprint) or None."""
        return json.loads(self.real_stamp.read_text()) if self.real_stamp.exists() else None

    def import_real_survey(self, kits: Path | None = None, force: bool = False, progress: bool = False) -> dict:
        """Build the ``realsurvey`` resource from the real data kits and import it, unless the same kits
        (by their SHA256SUMS) are already imported. Raises :class:`~astrohub.archive.realsurvey.KitMissing`
        when a kit is missing."""
        from astrohub.defaults import real_data_dir

        from .realsurvey import RESDIR as REAL_RESDIR
        from .realsurvey import build_real, kit_fingerprint

        self.setup()
        kits = Path(kits) if kits else real_data_dir()
        old = self.real_survey()
        if not force and old and old.get("fingerprint") == kit_fingerprint(kits):
            return old
        self.real_stamp.unlink(missing_ok=True)
        resdir = self.root / "inputs" / REAL_RESDIR
        summary = build_real(kits, resdir, progress=progress)
        _run([DACHS, "imp", "q"], env=self.env(), cwd=resdir, what="dachs imp (realsurvey)", timeout=3600)
        self.real_stamp.write_text(json.dumps(summary))
        old_info = json.loads(self.build_file.read_text()) if self.build_file.exists() else {}
        self._new_build_identity({**{k: v for k, v in old_info.items() if k not in ("build", "written")},
                                  "realsurvey": summary["fingerprint"]})
        if self.is_running():
            self._reload()
        return summary

    @property
    def build_file(self) -> Path:
        """The build identity DaCHS serves at ``/static/astrohub-build.json`` (its user static folder):
        a new random id at every (re)build, so clients' caches (``astrohub.vo``) drop the old build's
        tables and products; a restart keeps it."""
        return self.root / "web" / "nv_static" / "astrohub-build.json"

    def _new_build_identity(self, info: dict) -> None:
        folder = self.build_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        for d in (folder.parent, folder):
            os.chmod(d, 0o755)          # dachs serve runs as 'gavo'
        text = json.dumps({"build": uuid.uuid4().hex, "written": time.time(), **info})
        fd, tmp = tempfile.mkstemp(prefix=".astrohub-build.", dir=folder)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.build_file)

    def survey(self) -> dict | None:
        """The imported survey's summary (seed, size, counts) or None."""
        f = self.data_dir / "survey.json"
        return json.loads(f.read_text()) if f.exists() else None

    # -- server ----------------------------------------------------------------
    def _pidfile(self) -> Path:
        return self.data_dir / "dachs-serve.pid"

    def _pid(self) -> int | None:
        """The pid of this archive's ``dachs serve``: the pid file's, when it really names that
        server (see :meth:`is_our_server`), else one found by its settings file. A pid file naming
        any other process is reported and removed, and that process is left alone."""
        try:
            pid = int(self._pidfile().read_text().strip())
        except (OSError, ValueError):
            return self._find_server()
        if self.is_our_server(pid):
            return pid
        if _alive(pid):
            print(f"astrohub archive: the pid file {self._pidfile()} names pid {pid} ({_describe(pid)}), which is "
                  f"not this archive's DaCHS server (dachs serve with GAVOSETTINGS={self.settings}); leaving that "
                  "process alone and removing the stale pid file", file=sys.stderr, flush=True)
        self._pidfile().unlink(missing_ok=True)
        return self._find_server()

    def _server_uids(self) -> set[int]:
        """Who may own our server: us, and the 'gavo' account DaCHS drops to when started as root."""
        uids = {os.geteuid()}
        if os.geteuid() == 0:
            try:
                import pwd

                uids.add(pwd.getpwnam("gavo").pw_uid)
            except KeyError:
                pass
        return uids

    def is_our_server(self, pid: int) -> bool:
        """True when ``pid`` is a ``dachs serve`` running with this archive's settings file, owned by us
        (or by 'gavo', when we are root): the only process ``stop``/``kill``/reload may signal."""
        entry = Path("/proc") / str(pid)
        marker = f"GAVOSETTINGS={self.settings}".encode()
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            if not (b"serve" in cmd and any(c.endswith(b"dachs") for c in cmd)):
                return False
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                return False
            return entry.stat().st_uid in self._server_uids()
        except OSError:
            return False

    def _find_server(self) -> int | None:
        """The pid of a ``dachs serve`` started with this archive's settings file (e.g. after a lost pid file)."""
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self.is_our_server(int(entry.name)):
                return int(entry.name)
        return None

    def _answers(self, timeout: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(self._probe_base + "/tap/availability", timeout=timeout) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def is_running(self) -> bool:
        """True when this archive's own ``dachs serve`` runs and its TAP service answers."""
        return self._pid() is not None and self._answers()

    def _port_taken(self) -> bool:
        """True when another program listens on the port; :class:`ArchiveError` when ``bind`` is no
        address of this machine."""
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as DaCHS (twisted) does
            try:
                s.bind((self.bind, self.port))
            except OSError as e:
                if e.errno == errno.EADDRNOTAVAIL:
                    raise ArchiveError(f"cannot listen on {self.bind}: it is not an address of this machine "
                                       "(--bind takes one of its own IP addresses, 127.0.0.1 or 0.0.0.0)") from None
                if e.errno == errno.EADDRINUSE:
                    return True
                raise ArchiveError(f"cannot listen on {self.bind} port {self.port}: {e}") from None
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            return s.connect_ex((self.probe_host, self.port)) == 0

    def start(self, timeout: float = 120, seed: int = 0, size: str = "small") -> str:
        """Start PostgreSQL and ``dachs serve`` (importing a ``size`` survey first if none); return the TAP URL."""
        if self.is_running():
            return self.tap_url
        if self._port_taken():
            raise ArchiveError(f"port {self.port} on {self.bind} is in use by another program; stop it or "
                               "choose another port (--port)")
        self.setup()
        from .builder import SURVEY_FORMAT

        old = self.survey()
        if old is None or old.get("format") != SURVEY_FORMAT:
            if old is not None:  # built by an older astrohub: rebuild the same survey in the current format
                seed, size = old["seed"], old["size"]
            print(f"astrohub archive: building the {size} demo survey (seed {seed}) and importing it into "
                  "DaCHS (first start, or an older format)", file=sys.stderr, flush=True)
            self.import_survey(seed, size)
        self._maybe_import_real()
        if not self.build_file.exists():  # imported by an older astrohub
            self._new_build_identity({"state": "found at start"})
        self._reap_stale_jobs()
        self._pidfile().unlink(missing_ok=True)
        log = open(self.log_file, "ab")
        self._proc = subprocess.Popen([DACHS, "serve", "start", "--foreground"], env=self.env(),
                                      cwd=self.data_dir, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        log.close()
        self._pidfile().write_text(f"{self._proc.pid}\n")
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self._proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-3000:]
                raise ArchiveError(f"dachs serve exited with code {self._proc.returncode} "
                                   f"(is port {self.port} free?); end of {self.log_file}:\n{tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise ArchiveError(f"DaCHS did not answer on {self.tap_url} within {timeout:.0f} s; "
                                   f"see {self.log_file}")
            time.sleep(0.3)
        time.sleep(0.2)
        if self._proc.poll() is not None:       # the answer came from someone else's server
            raise ArchiveError(f"dachs serve exited with code {self._proc.returncode}; see {self.log_file}")
        return self.tap_url

    def _maybe_import_real(self) -> None:
        """At start: import the real-survey resource when the kits are there (the demo does not need it)."""
        from .realsurvey import KitMissing

        try:
            self.import_real_survey()
        except KitMissing as e:
            print(f"astrohub archive: no real-survey resource ({e})", file=sys.stderr, flush=True)

    def unfinished_jobs(self) -> int:
        """How many async TAP jobs the database holds as QUEUED or EXECUTING."""
        return int(_as_postgres(f"SELECT count(*) {_UNFINISHED_JOBS}", db=self.dbname).strip())

    def _reap_stale_jobs(self) -> None:
        """Fail async jobs left QUEUED/EXECUTING by a server that died: they would block the queue. A look
        with psql first: DaCHS's own job API (a Python importing DaCHS, 1.3 CPU-s) only when there are some."""
        if self.unfinished_jobs():
            _run(["/usr/bin/python3", "-c", _REAP_JOBS], env=self.env(), what="cleaning up stale TAP jobs")

    def _reload(self) -> None:
        pid = self._pid()
        if pid:
            os.kill(pid, signal.SIGHUP)

    def stop(self, timeout: float = 30) -> None:
        """Stop ``dachs serve`` (the database cluster keeps running)."""
        pid = self._pid() or (self._proc.pid if self._proc and self._proc.poll() is None else None)
        if pid is None:
            return
        if not (self.is_our_server(pid) or (self._proc is not None and self._proc.pid == pid)):
            return  # it exited (or its pid was reused) since we looked: nothing of ours to stop
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    break
            else:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        self._pidfile().unlink(missing_ok=True)
        self._proc = None

    def kill(self) -> None:
        """Kill ``dachs serve`` abruptly (SIGKILL), as a crash would."""
        pid = self._pid() or (self._proc.pid if self._proc and self._proc.poll() is None else None)
        if pid:
            os.kill(pid, signal.SIGKILL)
            if self._proc is not None and self._proc.pid == pid:
                self._proc.wait()
            self._proc = None

    def status(self) -> dict:
        """Where the archive stands: running, URLs, data directory, database, survey."""
        return {"running": self.is_running(), "pid": self._pid(), "tap_url": self.tap_url,
                "services": self.service_urls(), "data_dir": str(self.data_dir),
                "database": self.dbname, "survey": self.survey(), "realsurvey": self.real_survey(),
                "log": str(self.log_file)}
