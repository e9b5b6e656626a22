"""astrohub.compute.cluster(): a real LocalCluster configured for torch."""

from __future__ import annotations

import os

import pytest

from astrohub.compute import cluster
from astrohub.compute.plugin import torch_threads


def test_workers_are_configured_for_torch(client):
    info = client.scheduler_info(n_workers=-1)["workers"]
    assert len(info) == 2
    assert all(w["host"] == "127.0.0.1" for w in info.values())
    # Dask's nanny would export MALLOC_TRIM_THRESHOLD_=65536, which halves torch speed
    env = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(env.values()) == {None}
    assert set(client.run(torch_threads).values()) == {1}
    plugins = client.run(lambda dask_worker: sorted(dask_worker.plugins))
    assert all("astrohub-torch" in names for names in plugins.values())


def test_without_gpu_or_gateway_it_is_a_local_cluster(client):
    from distributed import LocalCluster

    assert type(client.cluster) is LocalCluster


@pytest.mark.parametrize("kwargs,message", [
    ({"threads_per_worker": 0}, "threads_per_worker must be >= 1"),
    ({"n_workers": 0}, "n_workers must be >= 1"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluster(**kwargs)
