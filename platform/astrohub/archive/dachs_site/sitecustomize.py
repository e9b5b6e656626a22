"""Run at start-up by every Python process astrohub starts for DaCHS (``dachs serve``, ``dachs imp`` and the
``gavo taprun`` children that run async TAP jobs): :class:`~astrohub.archive.server.LocalArchive` copies this file
into its data folder and puts that folder on their ``PYTHONPATH``.

DaCHS 2.7's UWS gives every statement on its jobs table 0.1 s (``gavo.protocols.uws._DEFAULT_LOCK_TIMEOUT``, a
PostgreSQL ``statement_timeout``). While another job's transaction holds the table a little longer, which a busy
machine makes common, creating or changing a job fails at once with "Could not access the jobs table. This
probably means there is a stale lock on it": an async TAP query lost for nothing. Here that limit becomes
``LOCK_TIMEOUT_S``, set when DaCHS imports the module; a lock that is really stale still fails, after that long.
"""

import importlib.abc
import importlib.util
import sys

LOCK_TIMEOUT_S = 2.0
MODULE = "gavo.protocols.uws"


def patch(uws) -> int:
    """Raise DaCHS's jobs-table timeout in the imported ``uws`` module: the constant (read at call time) and the
    ``timeout`` defaults bound from it when its classes were defined. Returns how many defaults changed."""
    old = uws._DEFAULT_LOCK_TIMEOUT
    uws._DEFAULT_LOCK_TIMEOUT = LOCK_TIMEOUT_S
    changed = 0
    for cls in [v for v in vars(uws).values() if isinstance(v, type) and v.__module__ == uws.__name__]:
        for attr in vars(cls).values():
            fn = getattr(attr, "__wrapped__", attr)  # contextmanager-decorated methods keep theirs inside
            code, defaults = getattr(fn, "__code__", None), getattr(fn, "__defaults__", None)
            if code is None or not defaults:
                continue
            names = code.co_varnames[:code.co_argcount][-len(defaults):]
            if "timeout" in names and defaults[names.index("timeout")] == old:
                fn.__defaults__ = tuple(LOCK_TIMEOUT_S if n == "timeout" else d for n, d in zip(names, defaults))
                changed += 1
    return changed


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``MODULE`` is imported it lets the normal finders locate it, then runs
    :func:`patch` right after the module's own code."""

    def find_spec(self, name, path=None, target=None):
        if name != MODULE:
            return None
        sys.meta_path.remove(self)  # once is enough, and no recursion into this finder
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            patch(module)
        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PatchOnImport())
