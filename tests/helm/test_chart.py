"""The Helm chart, tested without a cluster: schema, the hub config it injects, KubeSpawner profiles,
dask-gateway options. No helm binary or Kubernetes API is used (none exists here)."""

from __future__ import annotations

import asyncio
import copy
import os
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_asyncio.client import ApiClient
from traitlets.config import Config

from .gotemplate import Chart

CHART = Path(__file__).resolve().parents[2] / "helm" / "astrohub"
EXAMPLES = CHART.parent / "examples"
K8S_VERSION = "1.33.0"
RELEASE = "astrohub"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def values() -> dict:
    return load(CHART / "values.yaml")


@pytest.fixture(scope="module")
def schema() -> dict:
    return load(CHART / "values.schema.json")


def merged(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def test_chart_builds_on_the_official_charts():
    chart = load(CHART / "Chart.yaml")
    deps = {d["name"]: d for d in chart["dependencies"]}
    assert deps["jupyterhub"]["repository"] == "https://hub.jupyter.org/helm-chart/"
    assert deps["dask-gateway"]["repository"] == "https://helm.dask.org/"


@pytest.mark.parametrize("example", [None, "cilogon.yaml", "in-cluster-archive.yaml"])
def test_values_and_examples_validate(values, schema, example):
    v = values if example is None else merged(values, load(EXAMPLES / example))
    jsonschema.validate(v, schema)


def test_every_value_is_documented(values, schema):
    def walk(v, s, path):
        if isinstance(v, dict) and s.get("type") == "object":
            for k, sub in v.items():
                props = s.get("properties", {})
                if k in props:
                    assert props[k].get("description") or props[k].get("type") == "array", f"{path}.{k} undocumented"
                    walk(sub, props[k], f"{path}.{k}")
                else:
                    assert s.get("additionalProperties") not in (False, None) or path.startswith("."), path
    walk(values, schema, "")
    assert schema["properties"]["archive"]["additionalProperties"] is False


@pytest.mark.parametrize("change,message", [
    ({"archive": {"tapUrl": "ftp://nope"}}, "does not match"),
    ({"archive": {"dachs": {"size": "huge"}}}, "'huge' is not one of"),
    ({"archive": {"surprise": 1}}, "Additional properties are not allowed"),
    ({"jupyterhub": {"singleuser": {"profileList": [{"display_name": "x", "slug": "GPU!"}]}}}, "does not match"),
])
def test_bad_values_are_refused_with_a_reason(values, schema, change, message):
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(merged(values, change), schema)


def z2jh_config(values: dict) -> Config:
    """The part of zero-to-jupyterhub's jupyterhub_config.py that our values touch, then our extraConfig."""
    jh = values["jupyterhub"]
    c = Config()
    for section, traits in jh["hub"]["config"].items():
        for k, v in traits.items():
            setattr(c[section], k, v)
    su = jh["singleuser"]
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.KubeSpawner.image = f"{su['image']['name']}:{su['image']['tag']}"
    c.KubeSpawner.default_url = su["defaultUrl"]
    c.KubeSpawner.cmd = su["cmd"]
    c.KubeSpawner.common_labels = {"app": "jupyterhub", "release": RELEASE}  # as z2jh's jupyterhub_config.py
    c.KubeSpawner.cpu_limit = float(su["cpu"]["limit"])
    c.KubeSpawner.mem_limit = su["memory"]["limit"]
    c.KubeSpawner.environment = dict(su["extraEnv"])
    c.KubeSpawner.profile_list = su["profileList"]
    c.JupyterHub.services = [{"name": k, **v} for k, v in jh["hub"]["services"].items()]
    for code in jh["hub"]["extraConfig"].values():
        exec(compile(code, "extraConfig", "exec"), {"c": c, "get_config": lambda: c})
    return c


@pytest.fixture(scope="module")
def hub_config(values) -> Config:
    os.environ["ASTROHUB_ARCHIVE_URL"] = "http://astrohub-dachs.test.svc:8080/tap"
    try:
        return z2jh_config(values)
    finally:
        del os.environ["ASTROHUB_ARCHIVE_URL"]


def test_injected_hub_config_is_astrohubs(hub_config):
    from jupyterhub.app import JupyterHub

    app = JupyterHub(config=hub_config)
    user = next(r for r in app.load_roles if r["name"] == "user")
    assert {"shares!user", "read:users:name"} <= set(user["scopes"])
    names = [s["name"] for s in app.services]
    assert names == ["dask-gateway", "astrohub-share"]
    share = app.services[-1]
    assert share["url"] == "http://hub:8082" and share["environment"]["ASTROHUB_SHARE_BIND"] == "0.0.0.0"
    assert app.authenticator_class.__name__ == "GenericOAuthenticator"


@pytest.fixture(scope="module", autouse=True)
def kubeconfig(tmp_path_factory):
    """KubeSpawner builds an API client when constructed: give it a cluster it never contacts."""
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "none",
        "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
        "users": [{"name": "none", "user": {"token": "unused"}}]}))
    from kubernetes_asyncio.config import kube_config

    old = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(path)
    yield path
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = old


def spawn(config: Config, profile: str | None):
    """A KubeSpawner with ``profile`` applied, and the pod manifest it would create."""
    from kubespawner import KubeSpawner

    async def run():
        s = KubeSpawner(_mock=True, config=config)
        s.user_options = {"profile": profile} if profile else {}
        await s.load_user_options()
        manifest = await s.get_pod_manifest()
        return s, ApiClient().sanitize_for_serialization(manifest)

    return asyncio.run(run())


def test_kubespawner_keeps_chart_env_and_adds_astrohubs(hub_config):
    s, _ = spawn(hub_config, None)
    assert s.environment["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert s.environment["BOKEH_RESOURCES"] == "inline"
    assert s.environment["ASTROHUB_ARCHIVE_URL"] == "http://astrohub-dachs.test.svc:8080/tap"
    assert "--KernelSpecManager.allowed_kernelspecs=astrohub-gpu" in s.args
    # on Kubernetes each server picks its kernel by its own GPU
    assert not any(a.startswith("--MappingKernelManager.default_kernel_name") for a in s.args)


def test_cpu_and_gpu_profiles_become_valid_pods(hub_config):
    _, cpu = spawn(hub_config, "cpu")
    _, gpu = spawn(hub_config, "gpu")
    for manifest in (cpu, gpu):
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    cpu_limits = cpu["spec"]["containers"][0]["resources"]["limits"]
    gpu_limits = gpu["spec"]["containers"][0]["resources"]["limits"]
    assert "nvidia.com/gpu" not in cpu_limits
    assert gpu_limits["nvidia.com/gpu"] == "1"
    assert gpu["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert any(t["key"] == "nvidia.com/gpu" for t in gpu["spec"]["tolerations"])
    assert gpu["spec"]["containers"][0]["image"].endswith("-cuda")
    assert cpu["spec"]["containers"][0]["image"] == "ghcr.io/astrohub/astrohub-singleuser:0.1.0"


def test_unknown_profile_is_refused(hub_config):
    with pytest.raises(ValueError, match="nope"):
        spawn(hub_config, "nope")


def configure(options, request: dict) -> dict:
    """What the gateway does with a user's request: parse (validate), then the handler."""
    return options.get_configuration(options.parse_options(request), user=None)


def gateway_options(values):
    c = Config()
    for code in values["dask-gateway"]["gateway"]["extraConfig"].values():
        exec(compile(code, "gateway extraConfig", "exec"), {"c": c})
    return c.Backend.cluster_options


def test_gateway_gpu_workers_run_dask_cuda(values):
    options = gateway_options(values)
    cpu = configure(options, {})
    gpu = configure(options, {"worker_type": "gpu", "worker_cores": 4, "worker_memory": 16})
    assert "worker_cmd" not in cpu and "nvidia.com/gpu" not in str(cpu)
    assert gpu["worker_cmd"] == "dask-cuda-worker"
    assert gpu["worker_extra_container_config"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert gpu["worker_cores"] == 4 and gpu["worker_memory"] == "16G"
    for worker in (cpu, gpu):  # as every local worker and kernel (astrohub.defaults.TORCH_PROCESS_ENV)
        env = {e["name"]: e["value"] for e in worker["worker_extra_container_config"]["env"]}
        assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["MALLOC_TRIM_THRESHOLD_"] == ""


def test_gateway_refuses_bad_options(values):
    options = gateway_options(values)
    with pytest.raises(ValueError, match="worker_type"):
        configure(options, {"worker_type": "tpu"})
    with pytest.raises(ValueError, match="worker_cores"):
        configure(options, {"worker_cores": 64})


def test_user_image_picks_kernel_by_gpu():
    code = (CHART.parent / "images" / "singleuser" / "jupyter_server_config.py").read_text()
    c = Config()
    exec(compile(code, "jupyter_server_config.py", "exec"), {"get_config": lambda: c})
    from astrohub.defaults import default_kernel
    assert c.MappingKernelManager.default_kernel_name == default_kernel()
    assert c.KernelSpecManager.allowed_kernelspecs == {"astrohub", "astrohub-gpu"}


def test_https_is_on_and_cannot_be_turned_off(values, schema):
    https = values["jupyterhub"]["proxy"]["https"]
    assert https["enabled"] is True and https["type"] == "letsencrypt"
    example = merged(values, load(EXAMPLES / "cilogon.yaml"))["jupyterhub"]
    hosts = example["proxy"]["https"]["hosts"]
    assert hosts and example["proxy"]["https"]["letsencrypt"]["contactEmail"]
    callback = example["hub"]["config"]["GenericOAuthenticator"]["oauth_callback_url"]
    assert callback.startswith(f"https://{hosts[0]}/")
    with pytest.raises(jsonschema.ValidationError, match="True was expected"):
        jsonschema.validate(merged(values, {"jupyterhub": {"proxy": {"https": {"enabled": False}}}}), schema)
    with pytest.raises(jsonschema.ValidationError, match="'plain' is not one of"):
        jsonschema.validate(merged(values, {"jupyterhub": {"proxy": {"https": {"type": "plain"}}}}), schema)


IMAGES = CHART.parent / "images"


def test_dachs_image_context_keeps_state_environments_and_secrets_out():
    dockerfile = (IMAGES / "dachs" / "Dockerfile").read_text()
    assert "docker build -f helm/images/dachs/Dockerfile" in dockerfile and "COPY . /opt/astrohub" in dockerfile
    # the context is the repository root: BuildKit reads <Dockerfile>.dockerignore next to the Dockerfile
    ignore = (IMAGES / "dachs" / "Dockerfile.dockerignore").read_text().split("\n")
    rules = {line.strip() for line in ignore if line.strip() and not line.startswith("#")}
    assert {".git", "**/.astrohub", "**/.venv", "**/secrets", "**/credentials.json", "**/*.pem", "**/*.key",
            "**/jupyterhub.sqlite*", "**/jupyterhub.log"} <= rules
    assert not any(r.startswith("!") for r in rules)  # nothing re-included


def in_cluster(values: dict) -> dict:
    """The chart's manifests by kind/name with the in-cluster archive on (examples/in-cluster-archive.yaml)."""


    chart = Chart(CHART, merged(values, load(EXAMPLES / "in-cluster-archive.yaml")), release=RELEASE)
    docs = chart.render("dachs.yaml") + chart.render("archive-configmap.yaml")
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in docs}


def test_dachs_entrypoint_serves_the_chart_port_from_the_volume(values):
    import re
    import shlex

    from astrohub.archive.cli import _archive
    from astrohub.cli import build_parser

    manifests = in_cluster(values)
    container = manifests["Deployment/astrohub-dachs"]["spec"]["template"]["spec"]["containers"][0]
    port = container["ports"][0]["containerPort"]
    mount = container["volumeMounts"][0]["mountPath"]
    chart_args = dict(zip(container["args"][::2], container["args"][1::2]))
    script = (IMAGES / "dachs" / "entrypoint.sh").read_text()
    assert "ASTROHUB_ARCHIVE_IP" not in script and "ASTROHUB_ARCHIVE_PORT" not in script  # read by nothing
    names = dict(re.findall(r"^(\w+)=(\S+)$", script, flags=re.M))
    given = {"$SEED": chart_args["--seed"], "$SIZE": chart_args["--size"], "$BIND": chart_args["--bind"],
             "$URL": chart_args["--url"]}
    calls = [line.split(".venv/bin/astrohub", 1)[1] for line in script.splitlines()
             if ".venv/bin/astrohub archive" in line and not line.lstrip().startswith("#")]
    assert {c.split()[1] for c in calls} >= {"build", "start", "status", "stop"}
    for call in calls:
        words = shlex.split(call.split(">")[0].split("'")[0])
        words = [given.get(w) or names.get(w.strip("$"), w) if w.startswith("$") else w for w in words]
        args = build_parser().parse_args(words)  # every flag the entrypoint passes exists
        assert args.port == port and args.data_dir.startswith(mount + "/"), call
        # DaCHS listens on the pod's interfaces (the Service reaches it) and advertises the Service's URL,
        # the one every user server gets
        assert args.bind == "0.0.0.0", call
        assert _archive(args).tap_url == manifests["ConfigMap/astrohub-archive"]["data"]["url"], call


def test_in_cluster_archive_manifests_are_valid(values):
    manifests = in_cluster(values)
    assert set(manifests) == {"PersistentVolumeClaim/astrohub-dachs", "Deployment/astrohub-dachs",
                              "Service/astrohub-dachs", "NetworkPolicy/astrohub-dachs", "ConfigMap/astrohub-archive"}
    for manifest in manifests.values():
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    assert manifests["ConfigMap/astrohub-archive"]["data"]["url"] == "http://astrohub-dachs.science.svc:8080/tap"


    outside = Chart(CHART, values, release=RELEASE)  # the default: an external TAP service, no DaCHS
    assert outside.render("dachs.yaml") == []
    assert outside.render("archive-configmap.yaml")[0]["data"]["url"] == values["archive"]["tapUrl"]


def selects(selector: dict, labels: dict) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions In/NotIn/Exists) applied to ``labels``."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        op, key = e["operator"], e["key"]
        if op == "In" and labels.get(key) not in e["values"] or op == "NotIn" and labels.get(key) in e["values"] \
                or op == "Exists" and key not in labels:
            return False
        if op not in ("In", "NotIn", "Exists"):
            raise NotImplementedError(op)
    return True


def test_only_the_hub_and_user_servers_reach_the_archive(values, hub_config):
    manifests = in_cluster(values)
    policy = manifests["NetworkPolicy/astrohub-dachs"]["spec"]
    pod = manifests["Deployment/astrohub-dachs"]["spec"]["template"]
    assert selects(policy["podSelector"], pod["metadata"]["labels"])  # the policy covers DaCHS's pod
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert [p["name"] for p in pod["spec"]["containers"][0]["ports"]] == ["http"]

    def admitted(labels):
        return any(selects(peer["podSelector"], labels) and set(peer) == {"podSelector"} for peer in rule["from"])

    _, user_pod = spawn(hub_config, None)  # the real KubeSpawner's user pod
    hub_pod = {"app": "jupyterhub", "component": "hub", "release": RELEASE}  # z2jh's hub Deployment labels
    assert admitted(user_pod["metadata"]["labels"]) and admitted(hub_pod)
    for other in ({"app": "jupyterhub", "component": "proxy", "release": RELEASE},
                  {**user_pod["metadata"]["labels"], "release": "another-release"},
                  {"app.kubernetes.io/name": "dask-gateway", "app.kubernetes.io/component": "dask-worker"},
                  {}):
        assert not admitted(other), other
    # z2jh keeps user pods off in-cluster addresses: their egress rule lets them reach DaCHS's port
    egress = values["jupyterhub"]["singleuser"]["networkPolicy"]["egress"]
    assert any(any(selects(to["podSelector"], pod["metadata"]["labels"]) for to in e["to"])
               and {"port": 8080, "protocol": "TCP"} in e["ports"] for e in egress)
    assert pod["spec"]["containers"][0]["ports"][0]["containerPort"] == 8080


def test_user_servers_start_the_quick_way(values, hub_config):
    """singleuser.cmd is the embedded hub's fast start (AstrohubHub.fast_start), and the image has its module."""
    import subprocess
    import sys

    import jupyterhub
    from setuptools import find_packages

    cmd = values["jupyterhub"]["singleuser"]["cmd"]
    assert cmd == ["python", "-P", "-m", "astrohub.hub.singleuser"]
    _, pod = spawn(hub_config, None)
    args = pod["spec"]["containers"][0]["args"]
    assert args[:4] == cmd and "--KernelSpecManager.allowed_kernelspecs=astrohub" in args
    assert "command" not in pod["spec"]["containers"][0]  # the image's entrypoint (tini) stays
    # the module runs as the pod would run it (here with the project's Python)
    out = subprocess.run([sys.executable, *cmd[1:], "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == jupyterhub.__version__, out.stderr
    # the image installs the package holding it, and its build fails if the command does not run
    dockerfile = (IMAGES / "singleuser" / "Dockerfile").read_text()
    assert "COPY platform /opt/astrohub/platform" in dockerfile and "pip install /opt/astrohub" in dockerfile
    assert f"&& {' '.join(cmd)} --version" in dockerfile
    assert "astrohub.hub" in find_packages(str(CHART.parents[1] / "platform"))


def test_every_profile_has_memory_and_cpu_limits(values, hub_config):
    """#18 item 13 on Kubernetes: each profile's pod is capped, culling is on, and the schema keeps it so."""
    for profile in [p["slug"] for p in values["jupyterhub"]["singleuser"]["profileList"]]:
        s, pod = spawn(hub_config, profile)
        limits = pod["spec"]["containers"][0]["resources"]["limits"]
        assert {"cpu", "memory"} <= set(limits), profile
        assert s.mem_limit and s.cpu_limit, profile
    _, default = spawn(hub_config, None)
    assert default["spec"]["containers"][0]["resources"]["limits"]["memory"] == 8 * 2**30
    assert values["jupyterhub"]["cull"]["enabled"] is True


@pytest.mark.parametrize("drop,message", [
    (("singleuser", "memory", "limit"), "'limit' is a required property"),
    (("singleuser", "cpu", "limit"), "'limit' is a required property"),
    (("singleuser", "memory"), "'memory' is a required property"),
    (("cull", "timeout"), "'timeout' is a required property"),
    (("cull",), "'cull' is a required property"),
])
def test_limits_cannot_be_left_out(values, schema, drop, message):
    v = copy.deepcopy(values)
    where = v["jupyterhub"]
    for key in drop[:-1]:
        where = where[key]
    del where[drop[-1]]
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(v, schema)
