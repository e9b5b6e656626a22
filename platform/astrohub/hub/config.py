"""The embedded hub's configuration, as a traitlets ``Configurable``.

``hub_config/jupyterhub_config.py`` does::

    from astrohub.hub import AstrohubHub
    AstrohubHub(config=c).apply(c)

and the Helm chart reuses :meth:`AstrohubHub.apply_common` for the parts that do
not depend on running on one machine (sharing roles, kernels, the share service).
Every trait can be set in the config file (``c.AstrohubHub.port = 8000``) and
most default to an ``ASTROHUB_*`` environment variable, which is how
``astrohub up`` passes its options.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets import Bool, Int, List, Set, Unicode, default
from traitlets.config import Configurable

from astrohub.defaults import LOOPBACK, PUBLIC_PORT, TORCH_PROCESS_ENV, default_kernel, hub_ports, loopback_url

from . import paths
from .secrets import secret_file

SHARE_SERVICE = "astrohub-share"
SHARE_ACCOUNT = "astrohub-share"  # the system account the share service runs as under a root hub
GATEWAY_SERVICE = "dask-gateway"
ADMIN_SERVICE = "astrohub-admin"
TEMPLATES = Path(__file__).parent / "templates"


def _already(c, section: str, key: str, empty):
    """A value the config file set before us, or ``empty`` (never a LazyConfigValue)."""
    sec = c[section]
    return sec[key] if key in sec else empty


def _env(name: str, fallback: str) -> str:
    return os.environ.get(name, fallback)


def _is_loopback(ip: str) -> bool:
    import ipaddress

    try:
        return ip == "localhost" or ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def refuse_system_accounts(spawner) -> None:
    """``Spawner.pre_spawn_hook``: never start a server as a system account (uid < UID_MIN) or root."""
    from .users import UserError, check_account

    name = spawner.user.name
    try:
        check_account(name, must_exist=True)
    except UserError as e:
        spawner.log.warning("astrohub: refusing to spawn for %s: %s", name, e)
        raise UserError(f"astrohub refuses to start a server for {name!r}: {e}") from None


def _chain(first, then):
    """A pre_spawn_hook calling ``first`` and then the one the config file had set, if any."""
    if not callable(then):
        return first

    def hook(spawner):
        first(spawner)
        return then(spawner)

    return hook


class AstrohubHub(Configurable):
    """Settings of an astrohub JupyterHub deployment."""

    data_dir = Unicode(help="Directory for hub state: sqlite db, cookie secret, secrets, homes.").tag(config=True)
    ip = Unicode(help="Address the proxy listens on (public URL host).").tag(config=True)
    port = Int(help="Port of the public URL.").tag(config=True)
    hub_port = Int(help="Port of the hub's internal API (on 127.0.0.1).").tag(config=True)
    proxy_api_port = Int(help="Port of configurable-http-proxy's REST API (on 127.0.0.1).").tag(config=True)
    share_port = Int(help="Port of the astrohub-share service (on 127.0.0.1).").tag(config=True)
    admin_users = Set(Unicode(), help="Unix users with hub admin rights.").tag(config=True)
    allowed_users = Set(Unicode(), help="Unix users allowed to log in (admins are added).").tag(config=True)
    enable_sharing = Bool(True, help="Let users share their servers "
                                     "(JupyterHub shares API + share page).").tag(config=True)
    enable_collaboration = Bool(True, help="Real-time co-editing in JupyterLab "
                                           "(jupyter-collaboration).").tag(config=True)
    archive_url = Unicode(help="TAP URL of the default archive, exported to kernels as "
                               "ASTROHUB_ARCHIVE_URL.").tag(config=True)
    default_kernel = Unicode(help="Kernel new notebooks use; 'astrohub-gpu' when the hub host has a GPU, else "
                                  "'astrohub'. Empty: each server picks by its own GPU "
                                  "(set this on Kubernetes).").tag(config=True)
    server_timeout = Int(5, help="Seconds a user server gets to stop on SIGINT and on SIGTERM.").tag(config=True)
    fast_start = Bool(help="Start user servers the quick way: astrohub.hub.singleuser (jupyterhub-singleuser "
                           "without two import-time detours) and a spawner that reports the server as soon "
                           "as it listens. False: stock jupyterhub-singleuser and LocalProcessSpawner "
                           "(benchmarks/hub_bench.py compares both).").tag(config=True)
    enable_dask_gateway = Bool(True, help="Offer dask-gateway as a hub service "
                                          "(clusters run as the user).").tag(config=True)
    gateway_port = Int(help="First of three loopback ports of dask-gateway "
                            "(API, HTTP proxy, scheduler proxy).").tag(config=True)
    gateway_max_workers = Int(4, help="Most workers one user's gateway cluster may have.").tag(config=True)
    extra_user_scopes = List(Unicode(), help="Scopes added to every user's role.").tag(config=True)
    ssl_cert = Unicode(help="TLS certificate (PEM) of the public URL; with ssl_key the proxy serves "
                            "HTTPS. Required when ip is not loopback, unless allow_insecure.").tag(config=True)
    ssl_key = Unicode(help="TLS private key (PEM) matching ssl_cert.").tag(config=True)
    allow_insecure = Bool(help="Serve plain HTTP on an ip other than loopback (only behind your own "
                               "TLS-terminating proxy).").tag(config=True)

    @default("data_dir")
    def _data_dir(self):
        return str(Path(_env("ASTROHUB_DATA_DIR", ".astrohub")).resolve())

    @default("ip")
    def _ip(self):
        return _env("ASTROHUB_IP", LOOPBACK)

    @default("port")
    def _port(self):
        return int(_env("ASTROHUB_PORT", str(PUBLIC_PORT)))

    @default("hub_port")
    def _hub_port(self):
        return int(_env("ASTROHUB_HUB_PORT", str(hub_ports(self.port)["hub_api"])))

    @default("proxy_api_port")
    def _proxy_api_port(self):
        return int(_env("ASTROHUB_PROXY_API_PORT", str(hub_ports(self.port)["proxy_api"])))

    @default("share_port")
    def _share_port(self):
        return int(_env("ASTROHUB_SHARE_PORT", str(hub_ports(self.port)["share"])))

    @default("gateway_port")
    def _gateway_port(self):
        return int(_env("ASTROHUB_GATEWAY_PORT", str(hub_ports(self.port)["gateway"])))

    @default("admin_users")
    def _admin_users(self):
        return set(filter(None, _env("ASTROHUB_ADMIN_USERS", "").split(",")))

    @default("allowed_users")
    def _allowed_users(self):
        return set(filter(None, _env("ASTROHUB_USERS", "").split(",")))

    @default("ssl_cert")
    def _ssl_cert(self):
        return _env("ASTROHUB_SSL_CERT", "")

    @default("ssl_key")
    def _ssl_key(self):
        return _env("ASTROHUB_SSL_KEY", "")

    @default("allow_insecure")
    def _allow_insecure(self):
        return _env("ASTROHUB_INSECURE", "") not in ("", "0", "false")

    @default("fast_start")
    def _fast_start(self):
        return _env("ASTROHUB_FAST_START", "1") not in ("0", "false")

    @default("archive_url")
    def _archive_url(self):
        return _env("ASTROHUB_ARCHIVE_URL", "")

    @default("default_kernel")
    def _default_kernel(self):
        return default_kernel()

    # -- what the config file calls ------------------------------------------------
    def user_scopes(self) -> list[str]:
        """Scopes of the ``user`` role: self, plus sharing one's own servers."""
        scopes = ["self"]
        if self.enable_sharing:
            scopes += ["shares!user", "read:users:name", "read:groups:name",
                       f"access:services!service={SHARE_SERVICE}"]
        if self.enable_dask_gateway:
            scopes.append(f"access:services!service={GATEWAY_SERVICE}")
        return scopes + list(self.extra_user_scopes)

    def singleuser_args(self) -> list[str]:
        """Arguments for every user server: JupyterLab, astrohub kernels only."""
        args = [
            # hides astrohub-gpu where the server sees no GPU (astrohub.defaults.gpu_available)
            "--ServerApp.kernel_spec_manager_class=astrohub.hub.kernels.AstrohubKernelSpecManager",
            "--KernelSpecManager.allowed_kernelspecs=astrohub",
            "--KernelSpecManager.allowed_kernelspecs=astrohub-gpu",
        ]
        if self.default_kernel:  # empty: the server decides (see kernels.server_config)
            args.append(f"--MappingKernelManager.default_kernel_name={self.default_kernel}")
        if not self.enable_collaboration:
            args.append("--YDocExtension.disable_rtc=True")
        return args

    def apply_common(self, c, spawner: str = "Spawner") -> None:
        """Settings shared by every deployment (embedded and Kubernetes).

        ``spawner`` names the config section to merge into: on Kubernetes pass
        ``"KubeSpawner"``, whose settings (from the chart) would otherwise win.
        """
        section = c[spawner]
        section.default_url = "/lab"
        section.args = list(_already(c, spawner, "args", [])) + self.singleuser_args()
        env = dict(_already(c, spawner, "environment", {}))
        env.setdefault("BOKEH_RESOURCES", "inline")
        for k, v in TORCH_PROCESS_ENV.items():  # kernels sharing the machine's cores (defaults.py says why)
            env.setdefault(k, v)
        # the Dask panel's "+ NEW": astrohub.compute.lab.LabCluster (gateway cluster inside a hub with
        # dask-gateway, else a TLS LocalCluster), adaptive 1-2 workers, dashboards through the server's proxy
        # (astrohub.compute.lab.lab_environment(), written out so the hub does not import dask)
        env.update({"DASK_LABEXTENSION__FACTORY__MODULE": "astrohub.compute.lab",
                    "DASK_LABEXTENSION__FACTORY__CLASS": "LabCluster",
                    # one variable per key: KubeSpawner formats environment values, so no braces
                    "DASK_LABEXTENSION__DEFAULT__ADAPT__MINIMUM": "1",
                    "DASK_LABEXTENSION__DEFAULT__ADAPT__MAXIMUM": "2",
                    "DASK_LABEXTENSION__DEFAULT__WORKERS": "None"})
        if self.archive_url:
            env.setdefault("ASTROHUB_ARCHIVE_URL", self.archive_url)
        section.environment = env
        c.JupyterHub.template_paths = [str(TEMPLATES)]
        roles = [r for r in _already(c, "JupyterHub", "load_roles", []) if r.get("name") != "user"]
        roles.append({"name": "user", "scopes": self.user_scopes()})
        c.JupyterHub.load_roles = roles

    def apply(self, c) -> None:
        """Configure JupyterHub for one machine: PAM users, local processes, loopback."""
        data = Path(self.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        if bool(self.ssl_cert) != bool(self.ssl_key):
            raise ValueError("AstrohubHub: TLS needs both ssl_cert and ssl_key")
        if not self.ssl_cert and not self.allow_insecure and not _is_loopback(self.ip):
            raise ValueError(f"AstrohubHub: ip {self.ip!r} is not loopback: set ssl_cert and ssl_key "
                             "(astrohub up --ssl-cert/--ssl-key) or allow_insecure (--insecure)")
        scheme = "https" if self.ssl_cert else "http"
        c.JupyterHub.bind_url = f"{scheme}://{self.ip}:{self.port}"
        if self.ssl_cert:
            c.JupyterHub.ssl_cert = self.ssl_cert
            c.JupyterHub.ssl_key = self.ssl_key
        c.JupyterHub.hub_ip = LOOPBACK
        c.JupyterHub.hub_port = self.hub_port
        c.ConfigurableHTTPProxy.api_url = loopback_url(self.proxy_api_port)
        c.ConfigurableHTTPProxy.command = paths.proxy_command()
        c.ConfigurableHTTPProxy.pid_file = str(data / "proxy.pid")
        c.ConfigurableHTTPProxy.auth_token = secret_file(data, "proxy-token")
        c.JupyterHub.cookie_secret = bytes.fromhex(secret_file(data, "cookie-secret"))
        c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
        c.JupyterHub.pid_file = str(data / "jupyterhub.pid")

        c.JupyterHub.authenticator_class = "pam"
        c.PAMAuthenticator.open_sessions = False
        c.Authenticator.admin_users = set(self.admin_users)
        c.Authenticator.allowed_users = set(self.allowed_users) | set(self.admin_users)
        c.Authenticator.blocked_users = {"root"}

        c.JupyterHub.spawner_class = "localprocess"
        c.Spawner.pre_spawn_hook = _chain(refuse_system_accounts, _already(c, "Spawner", "pre_spawn_hook", None))
        if self.fast_start:  # jupyterhub-singleuser without two import-time detours (astrohub.hub.singleuser)
            c.Spawner.cmd = [str(paths.venv_bin() / "python"), "-P", "-m", "astrohub.hub.singleuser"]
        else:
            c.Spawner.cmd = [str(paths.venv_bin() / "jupyterhub-singleuser")]
        c.Spawner.interrupt_timeout = self.server_timeout
        c.Spawner.term_timeout = self.server_timeout
        c.Spawner.start_timeout = 120
        c.Spawner.http_timeout = 90
        c.Spawner.environment = {
            "PATH": f"{paths.venv_bin()}:/usr/local/bin:/usr/bin:/bin",
            **dict(_already(c, 'Spawner', 'environment', {})),
            "ASTROHUB_HUB_DATA_DIR": str(data),  # marks this hub's servers for crash recovery (hub/recovery.py)
        }
        self.apply_common(c)

        admin_token = secret_file(data, "admin-api-token")
        services = [s for s in _already(c, 'JupyterHub', 'services', [])
                    if s.get("name") != ADMIN_SERVICE]
        services.append({"name": ADMIN_SERVICE, "api_token": admin_token})
        roles = list(c.JupyterHub.load_roles)
        roles.append({"name": "astrohub-admin", "services": [ADMIN_SERVICE],
                      "scopes": ["admin:users", "admin:servers", "tokens", "shares",
                                 "read:hub", "access:servers", "read:users", "read:groups",
                                 "admin:groups", "proxy"]})
        c.JupyterHub.services = services
        c.JupyterHub.load_roles = roles
        if self.enable_sharing:
            self.add_share_service(c, loopback_url(self.share_port))
        if self.enable_dask_gateway:
            self.add_gateway_service(c, data)
        from .limits import apply_limits

        apply_limits(self, c)  # memory/CPU per user, idle culling, gateway caps, disk usage page, metrics token
        if self.fast_start:  # last: whichever local spawner was chosen, a server counts as started once it listens
            from .spawner import quick

            c.JupyterHub.spawner_class = quick(c.JupyterHub.spawner_class)

    def add_gateway_service(self, c, data: Path) -> None:
        """dask-gateway as a hub-managed service: users' clusters run as the user, on loopback."""
        api, http, tcp = (f"{LOOPBACK}:{self.gateway_port + i}" for i in range(3))
        clusters = data / "dask-gateway"
        clusters.mkdir(exist_ok=True)
        os.chmod(clusters, 0o711)
        c.JupyterHub.services = [s for s in _already(c, "JupyterHub", "services", [])
                                 if s.get("name") != GATEWAY_SERVICE] + [{
            "name": GATEWAY_SERVICE,
            "display": False,  # an API for Dask clients, no page: keep it out of the hub's Services menu
            "url": f"http://{http}",
            "command": [str(paths.venv_bin() / "dask-gateway-server"), "-f",
                        str(paths.PACKAGE_DIR / "hub" / "gateway_config.py")],
            "oauth_no_confirm": True,
            "environment": {
                "ASTROHUB_GATEWAY_API": api, "ASTROHUB_GATEWAY_HTTP": http, "ASTROHUB_GATEWAY_TCP": tcp,
                "ASTROHUB_GATEWAY_CLUSTERS": str(clusters),
                "ASTROHUB_GATEWAY_MAX_WORKERS": str(self.gateway_max_workers),
                "ASTROHUB_HUB_DATA_DIR": str(data),
                "PATH": f"{paths.venv_bin()}:/usr/bin:/bin",
            },
        }]
        # user servers' own tokens must reach the gateway too
        c.JupyterHub.load_roles = [r for r in _already(c, "JupyterHub", "load_roles", [])
                                   if r.get("name") != "server"] + [
            {"name": "server", "scopes": ["users:activity!user", "access:servers!server",
                                         f"access:services!service={GATEWAY_SERVICE}"]}]
        env = dict(_already(c, "Spawner", "environment", {}))
        # with TLS the public port's certificate names the host, not 127.0.0.1: go to the gateway's
        # own HTTP proxy on loopback instead (same prefix, same hub-token authentication)
        address = f"http://{http}" if self.ssl_cert else loopback_url(self.port)
        env.update({
            "DASK_GATEWAY__ADDRESS": f"{address}/services/{GATEWAY_SERVICE}",
            "DASK_GATEWAY__PROXY_ADDRESS": f"gateway://{tcp}",
            "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
        })
        c.Spawner.environment = env

    def add_share_service(self, c, url: str, bind: str | None = None) -> None:
        """Run the ``astrohub-share`` page as a hub-managed service reachable at ``url``.

        ``bind`` is the address it listens on when that differs from ``url``'s host
        (in a pod: ``0.0.0.0`` behind the ``hub`` Kubernetes service).
        """
        from .share_service import OAUTH_SCOPES, SERVICE_SCOPES

        service = {
            "name": SHARE_SERVICE,
            "display": True,
            "url": url,
            "command": [sys.executable, "-m", "astrohub.hub.share_service"],
            "oauth_no_confirm": True,
            # it acts with each user's own OAuth token: these scopes, cut to what that user holds
            "oauth_client_allowed_scopes": list(OAUTH_SCOPES),
            "cwd": "/",
        }
        if os.geteuid() == 0:  # a root hub never runs it as root: a locked system account of its own
            from .users import ensure_service_account

            service["user"] = ensure_service_account(SHARE_ACCOUNT)
        if bind:
            service["environment"] = {"ASTROHUB_SHARE_BIND": bind}
        else:  # marks it as this hub's, for the crash recovery of the next start (hub/recovery.py)
            service["environment"] = {"ASTROHUB_HUB_DATA_DIR": str(Path(self.data_dir))}
        c.JupyterHub.services = [s for s in _already(c, "JupyterHub", "services", [])
                                 if s.get("name") != SHARE_SERVICE] + [service]
        c.JupyterHub.load_roles = [r for r in _already(c, "JupyterHub", "load_roles", [])
                                   if r.get("name") != SHARE_SERVICE] + [
            {"name": SHARE_SERVICE, "services": [SHARE_SERVICE],
             "scopes": list(SERVICE_SCOPES)}]
