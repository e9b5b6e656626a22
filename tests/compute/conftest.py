"""Compute fixtures: a real 2-worker Dask LocalCluster configured by astrohub, and a small model."""

from __future__ import annotations

import json

import pytest
import torch

from astrohub.compute import cluster
from astrohub.models import nets
from astrohub.models.weights import save_weights
from astrohub.sims.images import simulate_images

SIZE = 32


@pytest.fixture(scope="session")
def client():
    c = cluster(n_workers=2, threads_per_worker=1, memory_limit="3GiB")
    yield c
    c.close()
    c.cluster.close()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A small morphology classifier (random weights) stored as a zoo model directory: card + safetensors."""
    d = tmp_path_factory.mktemp("tiny_morphology")
    classes = simulate_images("morphology", 1, seed=0, size=SIZE).class_names
    arch = {"net": "cnn", "in_ch": 1, "n_out": len(classes), "widths": [8, 8, 16, 16], "dropout": 0.2}
    torch.manual_seed(0)
    sha = save_weights(nets.build(arch).state_dict(), d / "weights.safetensors")
    card = {
        "name": "tiny_morphology", "version": "0.0.1", "kind": "classifier", "task": "morphology",
        "description": "test fixture: untrained small CNN",
        "inputs": {"shape": [1, SIZE, SIZE], "bands": ["r"], "pixel_scale_arcsec": 0.2, "units": "flux",
                   "normalisation": "arcsinh(x / border sky rms)"},
        "outputs": {"classes": classes, "mc_samples": 0},
        "arch": arch,
        "training": {"simulator": "astrohub.sims.images", "seed": 0, "split_seeds": [0, 1, 2],
                     "n_train": 0, "n_val": 0, "n_test": 0, "epochs_run": 0},
        "metrics": {"note": "untrained"}, "baseline": {}, "validated_on_real": False,
        "weights": {"file": "weights.safetensors", "sha256": sha, "format": "safetensors"},
    }
    (d / "card.json").write_text(json.dumps(card))
    return d
