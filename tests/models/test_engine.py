"""The one training engine: early stopping keeps the best weights, schedules, calibration, writing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from astrohub.models.training.engine import (
    EpochBatches,
    Plan,
    fit,
    fit_temperature,
    load_checkpoint,
    one_cycle_lr,
    save_checkpoint,
    write_model,
)
from astrohub.models.weights import load_weights, sha256_file


def _toy(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return x, y


def _batches(x, y, bs=32, seed=0):
    g = torch.Generator().manual_seed(seed)

    def make(epoch):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            yield lambda m, idx=idx: torch.nn.functional.cross_entropy(m(x[idx]), y[idx])

    return EpochBatches(make, -(-len(x) // bs))


def test_fit_learns_and_keeps_the_best_epoch():
    torch.manual_seed(0)
    x, y = _toy()
    net = torch.nn.Linear(4, 2)
    seen = {}

    def validate(m):
        with torch.no_grad():
            loss = float(torch.nn.functional.cross_entropy(m(x), y))
        # pretend the third epoch is the best one, whatever the real loss does afterwards
        fake = [0.9, 0.8, 0.1, 0.5, 0.6, 0.7][len(seen)]
        seen[len(seen) + 1] = {k: v.clone() for k, v in m.state_dict().items()}
        return fake, {"real_loss": loss}

    run = fit(net, _batches(x, y), validate, Plan(epochs=6, lr=0.1, patience=2))
    assert run.best_epoch == 3 and run.stopped == "patience" and len(run.history) == 5
    assert all(torch.equal(net.state_dict()[k], seen[3][k]) for k in seen[3])  # the kept weights are epoch 3's
    assert run.history[-1]["real_loss"] < run.history[0]["real_loss"]  # it did learn
    assert len(run.step_losses) == 5 * 8 and [h["steps"] for h in run.history] == [8] * 5


def test_fit_can_select_on_accuracy_and_keep_the_start():
    x, y = _toy()
    net = torch.nn.Linear(4, 2)
    start = {k: v.clone() for k, v in net.state_dict().items()}
    accs = iter([0.9, 0.5, 0.6])  # the starting weights (keep_start) score best

    def validate(m):
        return 1.0, {"val_acc": next(accs)}

    run = fit(net, _batches(x, y), validate, Plan(epochs=2, lr=0.1, monitor="val_acc", keep_start=True))
    assert run.best_epoch == 0 and all(torch.equal(net.state_dict()[k], start[k]) for k in start)


def test_one_cycle_and_budget():
    assert one_cycle_lr(0.0, 1.0) == pytest.approx(1 / 25)
    assert one_cycle_lr(0.15, 1.0) == pytest.approx(1.0)
    assert one_cycle_lr(1.0, 1.0) == pytest.approx(1e-4)
    x, y = _toy()
    run = fit(torch.nn.Linear(4, 2), _batches(x, y), None, Plan(epochs=50, lr=0.1, budget_minutes=1e-9))
    assert run.stopped == "budget" and len(run.history) == 1 and run.history[0]["steps"] == 0


def test_constant_schedule_with_the_callers_optimizer_and_a_train_mode():
    x, y = _toy()
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2))
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    modes, epochs = [], []

    def train_mode(m):
        m.train()
        m[1].eval()  # e.g. frozen dropout / batch norm
        modes.append(m[1].training)

    fit(net, _batches(x, y), None, Plan(epochs=3, lr=0.05, schedule="constant"), optimizer=opt,
        train_mode=train_mode, start_epoch=1, on_epoch=epochs.append)
    assert opt.param_groups[0]["lr"] == 0.05 and modes == [False, False] and epochs == [1, 2]


def test_bad_plan_is_refused():
    with pytest.raises(ValueError, match="schedule must be 'one-cycle' or 'constant', got 'cosine'"):
        Plan(epochs=1, lr=1e-3, schedule="cosine")


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    g = np.random.default_rng(1)
    logits = torch.from_numpy(g.normal(0, 3, size=(20000, 4)).astype(np.float32))
    p = torch.softmax(logits / 2.5, 1).numpy()
    y = np.array([g.choice(4, p=row / row.sum()) for row in p])
    assert fit_temperature(logits, y) == pytest.approx(2.5, rel=0.05)
    assert fit_temperature(logits / 2.5, y) == pytest.approx(1.0, rel=0.05)  # already calibrated


def test_write_model_and_checkpoints_round_trip(tmp_path):
    net = torch.nn.Linear(4, 2)
    card = {"name": "toy", "version": "0", "kind": "classifier", "task": "t", "description": "", "arch": {},
            "inputs": {"shape": [4], "bands": [], "pixel_scale_arcsec": None, "units": "", "normalisation": ""},
            "outputs": {}, "metrics": {"n": 1}, "baseline": {}, "weights": {},
            "training": {"simulator": "", "seed": 0, "split_seeds": {}, "n_train": 1, "n_val": 1, "n_test": 1,
                         "epochs_run": 1}}
    written = write_model(card, net.state_dict(), tmp_path / "m")
    assert written["validated_on_real"] is False  # no real section
    assert write_model(dict(card, real={"metrics": {"accuracy": 0.9}}), net.state_dict(),
                       tmp_path / "r")["validated_on_real"] is True
    chosen = {"metrics": {"accuracy": 0.9}, "selection_on_kit": True}  # the split also guided design choices
    assert write_model(dict(card, real=chosen), net.state_dict(), tmp_path / "s")["validated_on_real"] is False
    assert written["weights"]["sha256"] == sha256_file(tmp_path / "m" / "weights.safetensors")
    assert json.loads((tmp_path / "m" / "card.json").read_text())["weights"] == written["weights"]
    state = load_weights(tmp_path / "m" / "weights.safetensors", written["weights"]["sha256"])
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())

    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = _toy()
    fit(net, _batches(x, y), None, Plan(epochs=1, lr=1e-2, schedule="constant"), optimizer=opt)
    save_checkpoint(tmp_path / "ck.safetensors", net, opt, epoch=4)
    net2 = torch.nn.Linear(4, 2)
    opt2 = torch.optim.Adam(net2.parameters(), lr=1e-2)
    assert load_checkpoint(tmp_path / "ck.safetensors", net2, opt2) == 5
    assert all(torch.equal(net2.state_dict()[k], v) for k, v in net.state_dict().items())
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
