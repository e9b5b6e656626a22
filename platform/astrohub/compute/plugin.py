"""The worker plugin: torch threads per worker and a per-worker model cache (load once)."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

from distributed import WorkerPlugin, get_worker

PLUGIN = "astrohub-torch"


def load_model(ref: str | Path, device=None):
    """A predictor from a zoo name or a directory holding card.json + weights."""
    from astrohub.models.registry import load_dir, ref_dir

    return load_dir(ref_dir(ref), device)


def model_key(ref: str | Path) -> str:
    """The cache key of ``ref``: a zoo name as is, a directory as its absolute path (so that
    ``Path("galaxy_morphology")``, a folder, never shares a cache entry with the zoo model)."""
    from astrohub.models.registry import is_path_ref

    return str(Path(ref).expanduser().absolute()) if is_path_ref(ref) else str(ref)


class TorchWorker(WorkerPlugin):
    """Sets torch to the worker's thread count and keeps loaded models for the worker's lifetime.

    torch itself is imported by the worker's first task that needs it, not here: a worker that runs no model
    starts without it (1.5 CPU-s less), and one that does gets the same thread count either way."""

    name = PLUGIN

    def setup(self, worker):
        self.nthreads = max(1, worker.state.nthreads)
        self.models = {}
        self.loads = Counter()
        self._device = None
        os.environ["OMP_NUM_THREADS"] = str(self.nthreads)  # what torch starts with when a task imports it
        if "torch" in sys.modules:  # already imported (by a task that ran before the plugin was registered)
            sys.modules["torch"].set_num_threads(self.nthreads)

    @property
    def device(self) -> str:
        if self._device is None:
            import torch  # its OpenMP threads come from setup's OMP_NUM_THREADS

            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        return self._device

    def model(self, ref: str | Path):
        key = model_key(ref)
        if key not in self.models:
            self.models[key] = load_model(ref, self.device)
            self.loads[key] += 1
        return self.models[key]


_local: dict[str, object] = {}


def worker_model(ref: str | Path):
    """The calling worker's cached predictor for ``ref`` (loads it on first use)."""
    try:
        plugin = get_worker().plugins.get(PLUGIN)
    except ValueError:  # not on a worker (e.g. a local scheduler): a process-wide cache
        plugin = None
    if plugin is None:
        key = model_key(ref)
        if key not in _local:
            _local[key] = load_model(ref)
        return _local[key]
    return plugin.model(ref)


def model_loads(dask_worker) -> dict:
    """For ``client.run``: how many times each model was loaded on this worker."""
    plugin = dask_worker.plugins.get(PLUGIN)
    return dict(plugin.loads) if plugin else {}


def torch_threads() -> int:
    """For ``client.run``: the torch thread count in this worker."""
    import torch

    return torch.get_num_threads()
