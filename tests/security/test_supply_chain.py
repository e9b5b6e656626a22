"""Issue 18, supply chain: a fresh install gets the versions CI tested.

``constraints.txt`` pins every distribution of the tested environment; ``scripts/install.sh``
passes it to every ``pip install`` and ``uv pip install``. Checked: each dependency of ``pyproject.toml`` (the package's
and the test extra's) is pinned there to one exact version that satisfies pyproject's own
specifier and is the version installed here, and install.sh never runs pip without it.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    out = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, ver = line.partition("==")
        assert sep and ver and not re.search(r"[<>=!~*,; @]", ver), f"not an exact pin: {line!r}"
        assert canonicalize_name(name) not in out, f"pinned twice: {name}"
        out[canonicalize_name(name)] = ver
    return out


def requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    return [Requirement(d) for d in deps]


def test_every_pyproject_dependency_is_pinned_to_the_tested_version():
    pinned = pins()
    problems = []
    for req in requirements():
        name = canonicalize_name(req.name)
        if name not in pinned:
            problems.append(f"{req.name}: not in constraints.txt")
        elif not req.specifier.contains(pinned[name], prereleases=True):
            problems.append(f"{req.name}: pinned {pinned[name]} does not satisfy pyproject's {req.specifier}")
        elif version(req.name).split("+")[0] != pinned[name]:
            problems.append(f"{req.name}: installed {version(req.name)}, pinned {pinned[name]} "
                            "(regenerate with bash scripts/freeze_constraints.sh)")
    assert problems == [], "\n".join(problems)


def test_install_sh_constrains_every_pip_install():
    script = (REPO / "scripts" / "install.sh").read_text()
    installs = [line for line in script.splitlines() if re.search(r"\bPIP install\b|pip install -", line)
                and not line.lstrip().startswith(("#", "say"))]
    assert len(installs) >= 2  # torch first, then the package
    for line in installs:
        if "-U pip" in line:  # pip itself, before anything else
            continue
        assert "-c constraints.txt" in line, line
    assert "constraints.txt" in re.search(r"HASH=.*", script).group(0)  # a new pin re-runs pip
