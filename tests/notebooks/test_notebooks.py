"""The tutorials run top to bottom (nbclient, astrohub kernel) against the live local archive and hub."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from astrohub.defaults import hub_ports, loopback_url
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"


@pytest.fixture(scope="module")
def archive_url(live):
    return live.base_url


def run(name: str, cwd: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the test's environment
    try:
        NotebookClient(nb, timeout=600, kernel_name="astrohub", resources={"metadata": {"path": str(cwd)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def outputs(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.archive
@pytest.mark.parametrize("name,expect", [
    ("01-query-then-classify-galaxies.ipynb", "agreement with the survey's labels"),
    ("02-lens-search.ipynb", "AUC on these archive rows"),
    ("03-transients.ipynb", "real transients written"),
    ("04-transit-vetting.ipynb", "confident planet candidates among"),
    ("05-photo-z-pdfs.ipynb", "spectroscopic z inside the 68% interval"),
])
def test_archive_tutorials_run(name, expect, archive_url, tmp_path):
    nb = run(name, tmp_path, {"ASTROHUB_ARCHIVE_URL": archive_url})
    assert expect in outputs(nb)


def test_dask_tutorial_runs(tmp_path):
    nb = run("06-train-and-predict-at-scale-with-dask.ipynb", tmp_path, {})
    text = outputs(nb)
    assert "accuracy on 1000 fresh objects" in text


@pytest.mark.hub
def test_sharing_tutorial_runs_against_the_hub(platform, hub, tmp_path):
    hub.spawn("ahtalice")
    nb = run("07-share-with-a-collaborator.ipynb", tmp_path, {
        "JUPYTERHUB_API_URL": f"{loopback_url(hub_ports(platform.port)['hub_api'])}/hub/api",
        "JUPYTERHUB_USER": "ahtalice", "ASTROHUB_COLLABORATOR": "ahtbob",
        "ASTROHUB_TOKEN": hub.user_token("ahtalice")})
    text = outputs(nb)
    assert "shared: ['access:servers!server=ahtalice/']" in text
    assert "revoked; shares left: []" in text
    assert hub.api("GET", "users/ahtbob/shared").json()["items"] == []


def test_every_tutorial_is_tested():
    tested = {"01-query-then-classify-galaxies.ipynb", "02-lens-search.ipynb", "03-transients.ipynb",
              "04-transit-vetting.ipynb", "05-photo-z-pdfs.ipynb",
              "06-train-and-predict-at-scale-with-dask.ipynb", "07-share-with-a-collaborator.ipynb"}
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} == tested
