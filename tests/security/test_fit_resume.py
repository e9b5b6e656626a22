"""Issue 18, item 11: ``compute.fit`` refuses to resume from a checkpoint another run wrote.

Performed on a real 2-worker Dask cluster: a first fit leaves ``checkpoint.safetensors`` in its
``out_dir``; a second fit into the same folder with another model, dataset or config is refused
with a message naming what differs, while the same run resumes from it.
"""

from __future__ import annotations

import json

import pytest
import torch

from astrohub.compute import Simulated, cluster, fit
from astrohub.compute.training import CheckpointMismatch, checkpoint_fingerprint
from astrohub.models import nets
from astrohub.models.weights import save_weights
from astrohub.sims.images import simulate_images

SIZE = 32
OPTS = dict(epochs=1, batch_size=16, max_steps=2, deterministic=True, lr=1e-3)


def tiny(folder, seed: int):
    """A small untrained morphology classifier stored as a model directory (card + safetensors)."""
    folder.mkdir()
    classes = simulate_images("morphology", 1, seed=0, size=SIZE).class_names
    arch = {"net": "cnn", "in_ch": 1, "n_out": len(classes), "widths": [8, 8, 16, 16], "dropout": 0.2}
    torch.manual_seed(seed)
    sha = save_weights(nets.build(arch).state_dict(), folder / "weights.safetensors")
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
    (folder / "card.json").write_text(json.dumps(card))
    return folder


@pytest.fixture(scope="module")
def client():
    c = cluster(n_workers=2, threads_per_worker=1, memory_limit="2GiB")
    yield c
    c.close()
    c.cluster.close()


@pytest.fixture(scope="module")
def first_run(client, tmp_path_factory):
    """A finished fit whose checkpoint stays in its out_dir."""
    root = tmp_path_factory.mktemp("fit-resume")
    model_a, model_b = tiny(root / "model_a", 1), tiny(root / "model_b", 2)
    out = root / "out"
    fit(model_a, Simulated("morphology", 64, seed=3, size=SIZE), workers=2, client=client, out_dir=out, **OPTS)
    assert (out / "checkpoint.safetensors").exists()
    return model_a, model_b, out


def test_the_checkpoint_records_the_run(first_run):
    model_a, _, out = first_run
    fp = checkpoint_fingerprint(out / "checkpoint.safetensors")
    assert fp["model"]["name"] == "tiny_morphology" and fp["dataset"]["seed"] == 3
    assert fp["config"]["lr"] == 1e-3 and fp["config"]["workers"] == 2


@pytest.mark.parametrize("change,what", [
    ({"model": "b"}, r"different model \(model\.weights_sha256"),
    ({"seed": 4}, r"different dataset \(dataset\.seed: checkpoint 3, this run 4"),
    ({"n": 96}, r"different dataset \(dataset\.n: checkpoint 64, this run 96"),
    ({"lr": 5e-3}, r"different config \(config\.lr: checkpoint 0\.001, this run 0\.005"),
    ({"init": "scratch"}, r"different config \(config\.init: checkpoint 'pretrained', this run 'scratch'"),
])
def test_another_runs_checkpoint_is_refused(client, first_run, change, what):
    model_a, model_b, out = first_run
    before = (out / "checkpoint.safetensors").read_bytes()
    model = model_b if change.get("model") == "b" else model_a
    ds = Simulated("morphology", change.get("n", 64), seed=change.get("seed", 3), size=SIZE)
    opts = {**OPTS, **{k: v for k, v in change.items() if k in ("lr", "init")}}
    with pytest.raises(CheckpointMismatch, match=what) as e:
        fit(model, ds, workers=2, client=client, out_dir=out, **opts)
    assert "refusing to resume from it: delete it or choose another out_dir" in str(e.value)
    assert (out / "checkpoint.safetensors").read_bytes() == before  # nothing was trained into it


def test_a_checkpoint_without_a_fingerprint_is_refused(client, first_run, tmp_path):
    from astrohub.compute.training import build_net
    from astrohub.models.training.engine import save_checkpoint

    model_a, _, _ = first_run
    _, net = build_net(model_a, "pretrained")
    save_checkpoint(tmp_path / "checkpoint.safetensors", net, torch.optim.Adam(net.parameters()), 0)
    with pytest.raises(CheckpointMismatch, match="has no run fingerprint"):
        fit(model_a, Simulated("morphology", 64, seed=3, size=SIZE), workers=2, client=client, out_dir=tmp_path,
            **OPTS)


def test_the_same_run_resumes_from_its_checkpoint(client, first_run):
    model_a, _, out = first_run
    trained = fit(model_a, Simulated("morphology", 64, seed=3, size=SIZE), workers=2, client=client,
                  out_dir=out, **{**OPTS, "epochs": 2})
    ranks = json.loads((out / "ranks.json").read_text())
    assert len(ranks[0]["losses"]) == OPTS["max_steps"]  # only epoch 2 ran: epoch 1 came from the checkpoint
    assert trained.card["training"]["distributed"]["epochs"] == 2
