"""``python -P -m astrohub.hub.singleuser``: ``jupyterhub-singleuser`` without two costly detours at start.

The user servers' command when ``AstrohubHub.fast_start`` is on (the default). It runs JupyterHub's own
single-user server (same arguments, same behaviour) after removing two start-up costs that buy astrohub
nothing (measured in ``benchmarks/hub_bench.py``):

- ``jsonschema`` imports ``rfc3987_syntax`` for its ``iri`` format check whenever it is installed
  (``jsonschema[format-nongpl]``, via ``jupyter_events``); that module compiles about 35 Earley parsers
  at import, about 1 s of CPU per server. No Jupyter event schema uses the ``iri`` format, so the server
  goes without it: jsonschema then simply does not check that one format.
- ``jupyterlab.labapp`` runs ``node yarn.js config`` at import, to learn the npm registry for building
  JupyterLab, whenever ``node`` is on PATH (it is: the proxy needs it): a node process per server. User
  servers never build JupyterLab or install lab extensions (the environment is shared and read-only to
  users), so the default registry is right and the question is skipped.

The server's stock command is ``jupyterhub-singleuser``; ``-P`` keeps the user's working directory (their
home) off ``sys.path``, as the stock console script does.
"""

from __future__ import annotations

import sys

SKIPPED_MODULES = ("rfc3987_syntax",)


def _no_yarn_config(logger=None) -> dict:
    return {"yarn config": {}, "npm config": {}}


def prepare() -> None:
    """Take the two detours out; call before anything imports jsonschema or jupyterlab.labapp."""
    for name in SKIPPED_MODULES:
        sys.modules.setdefault(name, None)  # None in sys.modules: `import name` raises ImportError
    import jupyterlab.commands

    jupyterlab.commands._yarn_config = _no_yarn_config


def main() -> int:
    prepare()
    from jupyterhub.singleuser import main as singleuser

    sys.argv[0] = "jupyterhub-singleuser"
    return singleuser()


if __name__ == "__main__":
    sys.exit(main())
