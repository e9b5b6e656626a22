"""User servers that count as started once they listen: :class:`QuickStart` for a local spawner.

After ``Spawner.start()`` returns, JupyterHub waits for the server over HTTP with exponential backoff and
full jitter (random waits of up to 0.2, 0.4, 0.8, 1.6, 3.2, then 5 s): a server that is up after 3 s is
noticed on average about a second later, and several seconds later when ten servers start at once (see
``benchmarks/hub_bench.py``, step ``hub_notice``). With :class:`QuickStart` mixed in, ``start()`` returns
only when the server accepts TCP connections, checked every 50 ms, so the hub's
first HTTP check already succeeds; a server that exits while starting is reported at once, with its exit
code, instead of after ``http_timeout``.

``AstrohubHub.apply`` mixes it into whatever local-process spawner class the configuration chose
(:func:`quick`), as its last step.
"""

from __future__ import annotations

import asyncio


class QuickStart:
    """Mixin for a LocalProcessSpawner (it needs ``self.proc``): ``start()`` returns once the server listens."""

    ready_poll_interval = 0.05  # seconds between checks that the new server listens

    async def start(self):
        ip, port = await super().start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.http_timeout
        while loop.time() < deadline:  # past it, JupyterHub's own wait reports the timeout
            code = self.proc.poll()
            if code is not None:
                raise RuntimeError(f"the server of {self.user.name} exited with code {code} while starting; "
                                   "see the hub's log")
            try:
                _, writer = await asyncio.open_connection(ip, port)
            except OSError:
                await asyncio.sleep(self.ready_poll_interval)
                continue
            writer.close()
            await writer.wait_closed()
            break
        return ip, port


def quick(spawner_class) -> type:
    """``spawner_class`` (a LocalProcessSpawner subclass, its import path or ``"localprocess"``) with
    :class:`QuickStart` mixed in; a class that already has it is returned as it is."""
    from jupyterhub.spawner import LocalProcessSpawner

    if isinstance(spawner_class, str):
        if spawner_class in ("localprocess", "default"):
            spawner_class = LocalProcessSpawner
        else:
            import importlib

            module, _, name = spawner_class.rpartition(".")
            spawner_class = getattr(importlib.import_module(module), name)
    if not issubclass(spawner_class, LocalProcessSpawner):
        raise TypeError(f"AstrohubHub.fast_start needs a LocalProcessSpawner, not {spawner_class.__name__}: "
                        "set c.AstrohubHub.fast_start = False for other spawners")
    if issubclass(spawner_class, QuickStart):
        return spawner_class
    return type(spawner_class)(f"Quick{spawner_class.__name__}", (QuickStart, spawner_class), {"__module__": __name__})
