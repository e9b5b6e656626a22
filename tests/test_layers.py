"""The package's layers (pyproject.toml's import-linter contracts) hold, and a backwards import breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


CONTRACTS = ("layers", "serving", "evaluation", "deployment", "cycles")


def _lint(platform_dir: Path, *contracts: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(platform_dir)}
    args = [a for c in contracts for a in ("--contract", c)]
    return subprocess.run([str(LINT), str(REPO / "pyproject.toml"), "--no-cache", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_layers_hold():
    res = _lint(REPO / "platform")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken" in res.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("models/kinds.py", "import astrohub.pipeline", "layers"),  # models must not reach up to the pipeline
    ("vo/archive.py", "import astrohub.models", "layers"),
    ("models/predictors/base.py", "from astrohub.models.training import engine", "serving"),
    ("models/evaluation/metrics.py", "from astrohub.models.training import engine", "evaluation"),
    ("compute/cluster.py", "from astrohub.hub import kernels", "deployment"),
    ("models/training/engine.py", "from astrohub.models.training import images", "cycles"),
])
def test_a_backwards_import_breaks_a_contract(tmp_path, module, line, contract):
    copy = tmp_path / "platform"
    shutil.copytree(REPO / "platform", copy, ignore=shutil.ignore_patterns("*.safetensors", "__pycache__", "zoo"))
    path = copy / "astrohub" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    res = _lint(copy, contract)
    assert res.returncode != 0 and "1 broken" in res.stdout, res.stdout
    assert (f"{Path(module).stem} -> " in res.stdout
            or f"{Path(module).stem} ->" in res.stdout.replace("\n", " "))  # names the importer
