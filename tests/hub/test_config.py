"""AstrohubHub applied to a real JupyterHub config object (no hub started)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

from astrohub.hub import AstrohubHub
from astrohub.hub.config import SHARE_SERVICE
from astrohub.hub.users import CredentialStore, UserError, check_name


def applied(tmp_path, **traits) -> Config:
    c = Config()
    for k, v in traits.items():
        setattr(c.AstrohubHub, k, v)
    c.AstrohubHub.data_dir = str(tmp_path)
    AstrohubHub(config=c).apply(c)
    return c


def test_everything_listens_on_loopback_and_state_lives_in_data_dir(tmp_path):
    c = applied(tmp_path, port=18500)
    assert c.JupyterHub.bind_url == "http://127.0.0.1:18500"
    assert c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
    share = next(s for s in c.JupyterHub.services if s["name"] == SHARE_SERVICE)
    assert share["url"].startswith("http://127.0.0.1:")


def test_real_authenticator_and_spawner(tmp_path):
    c = applied(tmp_path, admin_users={"boss"}, allowed_users={"ann"})
    assert c.JupyterHub.authenticator_class == "pam"
    from jupyterhub.spawner import LocalProcessSpawner

    # LocalProcessSpawner, with each user's memory and CPU limits (hub/limits.py)
    assert issubclass(c.JupyterHub.spawner_class, LocalProcessSpawner)
    assert c.Authenticator.allowed_users == {"ann", "boss"}
    assert "root" in c.Authenticator.blocked_users
    assert c.Spawner.default_url == "/lab"
    assert c.Spawner.environment["BOKEH_RESOURCES"] == "inline"
    assert c.Spawner.environment["OMP_WAIT_POLICY"] == "PASSIVE"


def test_secrets_are_generated_private_and_stable(tmp_path):
    c1 = applied(tmp_path)
    c2 = applied(tmp_path)
    assert len(c1.JupyterHub.cookie_secret) == 32
    assert c1.JupyterHub.cookie_secret == c2.JupyterHub.cookie_secret
    assert c1.ConfigurableHTTPProxy.auth_token == c2.ConfigurableHTTPProxy.auth_token
    for f in (tmp_path / "secrets").iterdir():
        assert f.stat().st_mode & 0o077 == 0, f
    other = tmp_path / "other"
    assert applied(other).JupyterHub.cookie_secret != c1.JupyterHub.cookie_secret


def test_sharing_scopes_and_switch(tmp_path):
    user_role = next(r for r in applied(tmp_path).JupyterHub.load_roles if r["name"] == "user")
    assert {"self", "shares!user", "read:users:name"} <= set(user_role["scopes"])
    c = applied(tmp_path / "off", enable_sharing=False, enable_dask_gateway=False)
    user_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert user_role["scopes"] == ["self", "access:services!service=astrohub-ops"]  # the usage & limits page
    assert SHARE_SERVICE not in [s["name"] for s in c.JupyterHub.services]


def test_dask_gateway_service_on_loopback_reachable_with_user_and_server_tokens(tmp_path):
    c = applied(tmp_path, port=18500)
    gw = next(s for s in c.JupyterHub.services if s["name"] == "dask-gateway")
    assert gw["url"] == "http://127.0.0.1:18584"
    assert all(gw["environment"][k].startswith("127.0.0.1:") for k in
               ("ASTROHUB_GATEWAY_API", "ASTROHUB_GATEWAY_HTTP", "ASTROHUB_GATEWAY_TCP"))
    roles = {r["name"]: r["scopes"] for r in c.JupyterHub.load_roles}
    assert "access:services!service=dask-gateway" in roles["user"]
    assert "access:services!service=dask-gateway" in roles["server"]
    assert c.Spawner.environment["DASK_GATEWAY__ADDRESS"] == "http://127.0.0.1:18500/services/dask-gateway"
    off = applied(tmp_path / "off", enable_dask_gateway=False)
    assert "dask-gateway" not in [s["name"] for s in off.JupyterHub.services]
    assert "DASK_GATEWAY__ADDRESS" not in off.Spawner.environment


def test_safe_gateway_backend_hands_over_only_its_new_workdir(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import astrohub.hub.gateway as gateway

    monkeypatch.setattr(gateway, "_account", lambda name: (54321, 54321, []))
    backend = gateway.SafeLocalBackend.__new__(gateway.SafeLocalBackend)
    backend.clusters_directory = str(tmp_path)
    cluster = SimpleNamespace(name="c1", tls_cert=b"cert", tls_key=b"key", username="someone")
    workdir = Path(backend.setup_working_directory(cluster))
    owned = {p for p in [tmp_path, *tmp_path.rglob("*")] if p.lstat().st_uid == 54321}
    assert owned == {workdir, workdir / ".certs", workdir / ".certs" / "dask.crt",
                     workdir / ".certs" / "dask.pem", workdir / "logs"}
    assert (workdir / ".certs" / "dask.pem").read_bytes() == b"key"
    assert (workdir / ".certs" / "dask.pem").stat().st_mode & 0o777 == 0o600
    assert workdir.stat().st_mode & 0o777 == 0o700
    assert tmp_path.stat().st_uid == 0 and Path("/").stat().st_uid == 0
    with pytest.raises(FileExistsError):  # an existing name is never reused
        backend.setup_working_directory(cluster)


def test_user_servers_get_only_astrohub_kernels(tmp_path):
    args = applied(tmp_path, default_kernel="astrohub").Spawner.args
    assert "--MappingKernelManager.default_kernel_name=astrohub" in args
    assert "--KernelSpecManager.allowed_kernelspecs=astrohub-gpu" in args
    assert "--ServerApp.kernel_spec_manager_class=astrohub.hub.kernels.AstrohubKernelSpecManager" in args


def test_gpu_kernel_is_offered_only_where_a_gpu_is(tmp_path):
    from jupyter_client.kernelspec import NoSuchKernel

    from astrohub.defaults import gpu_available
    from astrohub.hub.kernels import AstrohubKernelSpecManager, install_kernels

    install_kernels(Path(__file__).resolve().parents[2] / "kernels", prefix=str(tmp_path))
    dirs = [str(tmp_path / "share" / "jupyter" / "kernels")]
    allowed = {"astrohub", "astrohub-gpu"}
    assert AstrohubKernelSpecManager(kernel_dirs=dirs).gpu == gpu_available()
    cpu_only = AstrohubKernelSpecManager(kernel_dirs=dirs, allowed_kernelspecs=allowed, gpu=False)
    assert set(cpu_only.find_kernel_specs()) == {"astrohub"}
    assert set(cpu_only.get_all_specs()) == {"astrohub"}
    assert cpu_only.get_kernel_spec("astrohub").env["ASTROHUB_DEVICE"] == "cpu"
    with pytest.raises(NoSuchKernel, match="the astrohub-gpu kernel needs a GPU and this machine has none"):
        cpu_only.get_kernel_spec("astrohub-gpu")
    with_gpu = AstrohubKernelSpecManager(kernel_dirs=dirs, allowed_kernelspecs=allowed, gpu=True)
    assert set(with_gpu.find_kernel_specs()) == allowed
    assert with_gpu.get_kernel_spec("astrohub-gpu").env["ASTROHUB_DEVICE"] == "cuda"


def test_fast_start_mixes_quick_start_into_the_chosen_local_spawner(tmp_path):
    from jupyterhub.spawner import LocalProcessSpawner

    from astrohub.hub.spawner import QuickStart, quick

    c = applied(tmp_path)
    assert c.Spawner.cmd[1:] == ["-P", "-m", "astrohub.hub.singleuser"]
    cls = c.JupyterHub.spawner_class
    assert issubclass(cls, QuickStart) and issubclass(cls, LocalProcessSpawner)
    assert quick(cls) is cls and quick("localprocess").__mro__[1:3] == (QuickStart, LocalProcessSpawner)
    with pytest.raises(TypeError, match="fast_start = False"):
        quick("jupyterhub.spawner.Spawner")
    stock = applied(tmp_path / "stock", fast_start=False)
    assert stock.Spawner.cmd[0].endswith("/jupyterhub-singleuser")
    cls = stock.JupyterHub.spawner_class
    assert cls == "localprocess" or not issubclass(cls, QuickStart)


def test_singleuser_start_skips_the_iri_grammar_and_yarn_but_keeps_schema_checks(tmp_path):
    # a `node` first on PATH that leaves a mark: jupyterlab.labapp runs `node yarn.js config` at import
    (tmp_path / "node").write_text(f"#!/bin/sh\ntouch {tmp_path}/node-ran\n")
    (tmp_path / "node").chmod(0o755)
    code = (
        "import sys\n"
        "from astrohub.hub.singleuser import prepare\n"
        "if sys.argv[1] == 'prepared': prepare()\n"
        "import jsonschema, jupyterlab.labapp\n"
        "v = jsonschema.Draft7Validator({'format': 'date-time'}, format_checker=jsonschema.FormatChecker())\n"
        "print(v.is_valid('2026-11-29T03:00:00Z'), v.is_valid('not a date'), sys.modules.get('rfc3987_syntax'))\n"
    )
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    stock = subprocess.run([sys.executable, "-P", "-c", code, "stock"], capture_output=True, text=True,
                           timeout=120, env=env)
    assert stock.returncode == 0, stock.stderr
    assert (tmp_path / "node-ran").exists()  # the probe sees the detour when it is taken
    (tmp_path / "node-ran").unlink()
    r = subprocess.run([sys.executable, "-P", "-c", code, "prepared"], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "False", "None"]  # formats still checked, the IRI grammar never built
    assert not (tmp_path / "node-ran").exists()


def test_config_file_keeps_earlier_settings(tmp_path):
    c = Config()
    c.AstrohubHub.data_dir = str(tmp_path)
    c.Spawner.environment = {"SURVEY": "demo"}
    c.JupyterHub.services = [{"name": "other", "api_token": "x" * 32}]
    AstrohubHub(config=c).apply(c)
    assert c.Spawner.environment["SURVEY"] == "demo"
    assert "other" in [s["name"] for s in c.JupyterHub.services]


@pytest.mark.parametrize("name", ["", "Alice", "root", "a b", "x" * 40, "1abc", "bob;rm"])
def test_bad_user_names_are_refused_with_a_reason(name):
    with pytest.raises(UserError, match="root|invalid user name"):
        check_name(name)


def test_cli_refuses_bad_user_name_and_changes_nothing(tmp_path):
    r = subprocess.run([sys.executable, "-m", "astrohub.cli", "up", "--data-dir", str(tmp_path / "d"),
                        "--users", "Bad Name"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "invalid user name 'Bad Name'" in r.stderr
    assert not (tmp_path / "d").exists()


def test_credentials_file_is_root_only(tmp_path):
    store = CredentialStore(tmp_path)
    store.save({"ann": "pw"})
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert store.load() == {"ann": "pw"}


def test_user_servers_dask_panel_settings_are_labclusters(tmp_path):
    """The hub writes astrohub.compute.lab.lab_environment() out (the hub does not import dask), and dask reads
    it back as the panel's factory and adaptive bounds (brace-free values: KubeSpawner formats them)."""
    import dask.config

    from astrohub.compute.lab import ADAPT, FACTORY, lab_environment

    env = applied(tmp_path).Spawner.environment
    assert {k: v for k, v in env.items() if k.startswith("DASK_LABEXTENSION__")} == lab_environment()
    assert not any("{" in v for v in lab_environment().values())
    read = dask.config.collect_env(lab_environment())["labextension"]
    assert read["factory"] == FACTORY and read["default"]["adapt"] == ADAPT and read["default"]["workers"] is None
