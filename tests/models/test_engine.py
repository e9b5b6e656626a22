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
    with pytest.raises(ValueError, match=r"ema is a decay per step between 0 and 1 \(e.g. 0.99\), got 1.5"):
        Plan(epochs=1, lr=1e-3, ema=1.5)
    with pytest.raises(ValueError, match=r"sam is a positive radius \(e.g. 0.05\), got -0.1"):
        Plan(epochs=1, lr=1e-3, sam=-0.1)


def _bn_net():
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 2))


def test_sam_steps_with_the_gradient_taken_at_the_weights_moved_up_the_first_one():
    x, y = _toy(n=32)
    rho, lr = 0.5, 0.1
    ref = _bn_net()
    params = list(ref.parameters())
    start = {k: v.clone() for k, v in ref.state_dict().items()}
    ref.train()
    loss = torch.nn.functional.cross_entropy(ref(x), y)  # the first pass (it also moves the BN statistics once)
    grads = torch.autograd.grad(loss, params)
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(g * rho / norm)
    ref[1].momentum = 0.0
    sharp = torch.autograd.grad(torch.nn.functional.cross_entropy(ref(x), y), params)
    want = {n: start[n] - lr * g for (n, _), g in zip(ref.named_parameters(), sharp)}

    net = _bn_net()
    fit(net, _batches(x, y, bs=32), None, Plan(epochs=1, lr=lr, schedule="constant", sam=rho),
        optimizer=torch.optim.SGD(net.parameters(), lr=lr))
    got = net.state_dict()
    for n, w in want.items():
        torch.testing.assert_close(got[n], w, rtol=1e-5, atol=1e-6)
    plain = _bn_net()
    fit(plain, _batches(x, y, bs=32), None, Plan(epochs=1, lr=lr, schedule="constant"),
        optimizer=torch.optim.SGD(plain.parameters(), lr=lr))
    assert not torch.allclose(plain.state_dict()["0.weight"], got["0.weight"], atol=1e-5)
    # the second pass leaves the batch-norm statistics and their momentum as the first one set them
    torch.testing.assert_close(got["1.running_mean"], plain.state_dict()["1.running_mean"])
    assert net[1].momentum == 0.1


def test_ema_leaves_the_moving_average_of_the_trained_weights_and_trains_the_same():
    x, y = _toy()
    plan = dict(epochs=3, lr=0.1, schedule="constant")
    raw_net, steps = _bn_net(), []
    batches = _batches(x, y)

    def recording(epoch):  # the weights after each step: read before the next step's loss, and at the end
        for loss_fn in batches(epoch):
            yield lambda m, f=loss_fn: (steps.append({k: v.clone() for k, v in m.state_dict().items()}), f(m))[1]

    start = {k: v.clone() for k, v in raw_net.state_dict().items()}
    fit(raw_net, EpochBatches(recording, len(batches)), None, Plan(**plan))
    after = steps[1:] + [{k: v.clone() for k, v in raw_net.state_dict().items()}]
    want = {k: v.clone() for k, v in start.items()}
    for w in after:
        for k, v in w.items():
            want[k] = 0.8 * want[k] + 0.2 * v if v.dtype.is_floating_point else v.clone()

    ema_net = _bn_net()
    fit(ema_net, _batches(x, y), None, Plan(**plan, ema=0.8))
    got = ema_net.state_dict()
    for k in want:  # weights and batch-norm statistics averaged, the step counter followed
        torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(got["0.weight"], after[-1]["0.weight"])  # not the trained weights
    assert int(got["1.num_batches_tracked"]) == 3 * 8


def test_ema_is_what_validation_sees_and_what_is_kept_and_training_goes_on_from_the_trained_weights():
    x, y = _toy()
    net, seen = _bn_net(), []

    def validate(m):
        seen.append({k: v.clone() for k, v in m.state_dict().items()})
        return [0.5, 0.2, 0.4][len(seen) - 1], {}

    trained = []
    run = fit(net, _batches(x, y), validate, Plan(epochs=3, lr=0.1, schedule="constant", ema=0.9),
              on_epoch=lambda ep: trained.append({k: v.clone() for k, v in net.state_dict().items()}))
    assert run.best_epoch == 2
    assert all(torch.equal(net.state_dict()[k], seen[1][k]) for k in seen[1])  # the average validated at epoch 2
    for ep in range(3):  # validation saw the average; the epoch ended (and training went on) on the trained weights
        assert not torch.allclose(seen[ep]["0.weight"], trained[ep]["0.weight"])
    assert not torch.allclose(trained[1]["0.weight"], trained[2]["0.weight"])


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
