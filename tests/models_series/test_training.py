"""Short training runs reduce the loss and write a loadable, sha256-checked zoo entry."""

import json
import shutil

import numpy as np
import pytest
import torch

from astrohub.models.nets import series as series_nets
from astrohub.models.registry import load_dir
from astrohub.models.training import train
from astrohub.models.training.series import cross_entropy, fit_arrays, gaussian_nll, mdn_loss
from astrohub.models.weights import WeightsIntegrityError


@pytest.fixture(scope="module")
def photoz_run(tmp_path_factory):
    """A short photoz_mdn run: (its card, the folder it wrote)."""
    out = tmp_path_factory.mktemp("photoz") / "pz"
    card = train("photoz_mdn", out, n_train=800, n_val=200, n_test=200, epochs=4, threads=1, progress=False)
    return card, out


def test_photoz_short_run_reduces_loss_and_loads(photoz_run):
    card, out = photoz_run
    log = card["training"]["log"]
    assert log[-1]["train_loss"] < log[0]["train_loss"]
    assert min(h["val_loss"] for h in log) < log[0]["val_loss"] + 1e-9
    m = load_dir(out, device="cpu")
    # the recipe adapts to bright real SDSS photometry: ask about a main-sample galaxy inside its ranges
    mags = np.array([[18.9, 17.4, 16.8, 16.45, 16.2]])
    res = m.predict(mags, np.sqrt(0.01 ** 2 + (0.2 * 10 ** (0.4 * (mags - [22.0, 22.2, 22.2, 21.3, 20.5]))) ** 2))
    assert not res.ood[0], res.ood_reason[0]
    grid = np.linspace(-5, 10, 6000)
    assert abs(np.trapezoid(res.pdf(grid)[0], grid) - 1) < 0.01  # a normalised PDF ...
    assert abs(res.cdf(grid)[0, -1] - 1) < 1e-3 and res.cdf(grid)[0, 0] < 1e-3  # ... and its CDF
    assert res.z_std[0] > 0
    assert {"sigma_nmad", "crps", "pit_ks"} <= set(card["metrics"])


def test_tampered_weights_refused(photoz_run, tmp_path):
    shutil.copytree(photoz_run[1], tmp_path / "pz")
    load_dir(tmp_path / "pz")  # untouched, the copy loads
    w = tmp_path / "pz" / "weights.safetensors"
    data = bytearray(w.read_bytes())
    data[-5] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match="sha256 mismatch"):
        load_dir(tmp_path / "pz")


@pytest.mark.parametrize("arch,loss,shape,target", [
    ({"net": "spectrum", "n_out": 3, "widths": [8, 16]}, cross_entropy, (1, 256), "class"),
    ({"net": "spectrum", "n_out": 6, "widths": [8, 16], "dropout": 0.0}, gaussian_nll, (1, 256), "reg"),
    ({"net": "mdn", "n_in": 10, "hidden": [32, 32], "k": 3}, mdn_loss, (10,), "z"),
])
def test_short_fit_reduces_loss(arch, loss, shape, target):
    """A learnable signal (class / parameters encoded in the input) is fitted within a few epochs."""
    rng = np.random.default_rng(0)
    n = 256
    x = rng.normal(size=(n, *shape)).astype(np.float32)
    if target == "class":
        y = rng.integers(0, 3, n)
        x[np.arange(n), 0, 40 + 60 * y] += 4.0
    elif target == "reg":
        y = rng.normal(size=(n, 3)).astype(np.float32)
        x[:, 0, :3] += 2 * y
    else:
        y = (np.abs(x[:, 0]) + 0.05 * rng.normal(size=n)).astype(np.float32)
    torch.manual_seed(0)
    net = series_nets.build(arch)
    _, log = fit_arrays(net, (x[:192],), y[:192], (x[192:],), y[192:], loss, epochs=6, lr=3e-3, batch=32,
                 patience=10)
    assert log[-1]["train_loss"] < 0.8 * log[0]["train_loss"]
    assert min(h["val_loss"] for h in log) < log[0]["val_loss"]


def test_transit_tiny_run_writes_card(tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        card = train("transit_vetter", tmp_path / "tv", n_train=60, n_val=30, n_test=40, epochs=2,
                     threads=1, progress=False)
        assert card["training"]["threads"] == 1
        assert torch.get_num_threads() == 2, "threads= is for the run only: the caller's setting comes back"
    finally:
        torch.set_num_threads(before)
    saved = json.loads((tmp_path / "tv" / "card.json").read_text())
    assert saved["weights"]["sha256"] == card["weights"]["sha256"]
    assert saved["outputs"]["classes"][0] == "planet-transit"
    assert 0 < card["calibration"]["temperature"]
    m = load_dir(tmp_path / "tv", device="cpu")
    assert m.card["training"]["split_seeds"] == {"train": 101, "val": 102, "test": 103}


def test_unknown_network_rejected():
    with pytest.raises(ValueError, match="unknown 1-D network 'lstm'"):
        series_nets.build({"net": "lstm"})
