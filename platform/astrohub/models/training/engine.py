"""The one training engine of the zoo.

Every model trains through :func:`fit`: image classifiers and generators, the 1-D models, the
PSF head, the VAE, fine-tuning and each rank of ``astrohub.compute.fit``. What differs between
them is data (a :class:`Batches`: mini-batch losses per epoch), validation (``validate(net)``)
and a :class:`Plan` (optimiser settings, schedule, early stopping). The engine also holds the one
temperature calibration (:func:`fit_temperature`), the one way a model is written
(:func:`write_model`: safetensors weights, their sha256 and the card) and checkpoints.

>>> plan = Plan(epochs=10, lr=2e-3, patience=3)
>>> run = fit(net, batches, validate, plan, progress=True)   # best weights are left in ``net``
>>> run.history[-1]["val_loss"], run.best_epoch
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..cards import write_card
from ..weights import save_weights

VERSION = "1.0.0"  # the version of a freshly trained model's card


@dataclass
class Options:
    """What ``astrohub train`` may change in a recipe's run (None: the recipe's own)."""

    out: Path
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    epochs: int | None = None
    n_train: int | None = None
    n_val: int | None = None
    n_test: int | None = None
    max_minutes: float | None = None
    progress: bool = True
    resume: Path | None = None  # image classifiers: the directory of an earlier run of the same recipe
    workers: int = 1  # simulation processes of the 1-D data sets
    data: Path | None = None  # the folder holding the real data kits (default: astrohub.defaults.real_data_dir())


class Batches(Protocol):
    """Mini-batches of one epoch: ``len()`` steps, each a function ``loss(net) -> scalar tensor``."""

    def __len__(self) -> int: ...

    def __call__(self, epoch: int) -> Iterable[Callable]: ...


@dataclass
class EpochBatches:
    """:class:`Batches` from a function ``make(epoch) -> iterable of loss functions`` and a step count."""

    make: Callable[[int], Iterable[Callable]]
    steps: int

    def __len__(self) -> int:
        return self.steps

    def __call__(self, epoch: int) -> Iterable[Callable]:
        return self.make(epoch)


@dataclass(frozen=True)
class Plan:
    """How to optimise: AdamW (or the caller's optimiser), the learning-rate schedule, when to stop
    and which epoch's weights to keep."""

    epochs: int
    lr: float
    schedule: str = "one-cycle"  # "one-cycle" (OneCycleLR over all steps) or "constant"
    pct_start: float = 0.15  # one-cycle warm-up fraction
    budget_minutes: float | None = None  # one-cycle over this wall-clock time (epochs stay an upper bound)
    max_minutes: float | None = None  # stop after the epoch that crosses this time
    patience: int | None = None  # early stopping: epochs without improvement (None: never)
    min_delta: float = 0.0  # a smaller val_loss improvement does not count
    monitor: str = "val_loss"  # the validation figure that selects the kept weights ("val_loss": lowest;
    # any other key of validate's extras, e.g. "val_acc": highest)
    keep_start: bool = False  # the starting weights compete with the trained ones
    weight_decay: float = 1e-4
    clip_grad: float | None = None  # max gradient norm
    ema: float | None = None  # decay per step of an exponential moving average of the weights (Polyak
    # averaging, batch-norm statistics included): validation, the kept weights and the result are the average's
    sam: float | None = None  # sharpness-aware minimisation (Foret et al. 2021): each step's gradient is taken
    # again at the weights moved by this radius (rho) up the first gradient; twice the cost per step

    def __post_init__(self):
        if self.schedule not in ("one-cycle", "constant"):
            raise ValueError(f"schedule must be 'one-cycle' or 'constant', got {self.schedule!r}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise ValueError(f"ema is a decay per step between 0 and 1 (e.g. 0.99), got {self.ema!r}")
        if self.sam is not None and not self.sam > 0.0:
            raise ValueError(f"sam is a positive radius (e.g. 0.05), got {self.sam!r}")


class _Average:
    """An exponential moving average of a network's floating-point state (parameters and batch-norm
    statistics; integer buffers follow the network), and a way to swap it in for validation."""

    def __init__(self, net: torch.nn.Module, decay: float):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}

    @torch.no_grad()
    def update(self, net: torch.nn.Module) -> None:
        for k, v in net.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].lerp_(v.detach(), 1.0 - self.decay)
            else:
                self.state[k].copy_(v)

    def swap(self, net: torch.nn.Module) -> dict:
        """Load the average into ``net``; return the weights it had (load them back to go on training)."""
        raw = copy.deepcopy(net.state_dict())
        net.load_state_dict(self.state)
        return raw


@dataclass
class Run:
    """What :func:`fit` did: one dict per epoch (train_loss, val_loss and validation extras, steps,
    minutes), every step's loss, and the epoch whose weights were kept (0: the starting ones)."""

    history: list[dict] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped: str = "epochs"  # "epochs", "patience", "budget" or "max_minutes"


def one_cycle_lr(frac: float, lr: float, pct: float = 0.15) -> float:
    """OneCycleLR's cosine shape (lr/25 -> lr over ``pct``, then -> lr/1e4) at progress ``frac`` in [0, 1]."""
    frac = min(max(frac, 0.0), 1.0)
    if frac < pct:
        return lr / 25 + (lr - lr / 25) * (1 - math.cos(math.pi * frac / pct)) / 2
    f = (frac - pct) / (1 - pct)
    return lr / 1e4 + (lr - lr / 1e4) * (1 + math.cos(math.pi * f)) / 2


def progress_bar(it, enabled: bool, **kw):
    """``it`` wrapped in a tqdm bar when ``enabled``."""
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, **kw)


def _better(plan: Plan, value: float, best: float | None) -> bool:
    if best is None:
        return True
    if plan.monitor == "val_loss":
        return value < best - plan.min_delta
    return value > best


def fit(net: torch.nn.Module, batches: Batches, validate: Callable | None, plan: Plan, *,
        optimizer: torch.optim.Optimizer | None = None, params=None, train_mode: Callable | None = None,
        start_epoch: int = 0, on_epoch: Callable | None = None, progress: bool = False, desc: str = "train") -> Run:
    """Train ``net`` on ``batches`` according to ``plan``; leave the kept weights in ``net``.

    ``validate(net) -> (val_loss, {extras})`` runs after every epoch with ``net`` in eval mode; the
    weights with the best ``plan.monitor`` are kept (without ``validate``: the last ones).
    ``optimizer``: the caller's (e.g. one restored from a checkpoint); default AdamW over ``params``
    (default: all of ``net``'s). ``train_mode(net)`` replaces ``net.train()`` at each epoch's start
    (e.g. to keep frozen batch-norm statistics). ``on_epoch(epoch)`` runs after each epoch (e.g. a
    checkpoint, of the trained weights: a resumed fit starts ``plan.ema``'s average afresh); epochs start at
    ``start_epoch``. With ``plan.ema`` the weights validated, kept and left in ``net`` are the average's.
    """
    params = list(params if params is not None else net.parameters())
    opt = optimizer or torch.optim.AdamW(params, lr=plan.lr, weight_decay=plan.weight_decay)
    steps = len(batches)
    timed = plan.budget_minutes is not None
    sched = None
    if plan.schedule == "one-cycle" and not timed:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=plan.lr, total_steps=max(plan.epochs * steps, 1),
                                                    pct_start=plan.pct_start)
    run = Run()
    avg = _Average(net, plan.ema) if plan.ema else None
    best_value, best_state, bad = None, None, 0
    if plan.keep_start and validate is not None:
        net.eval()
        vloss, extras = validate(net)
        best_value, best_state, run.best_epoch = {"val_loss": vloss, **extras}[plan.monitor], \
            copy.deepcopy(net.state_dict()), 0
    t0 = time.time()
    for ep in range(start_epoch, plan.epochs):
        (train_mode or (lambda m: m.train()))(net)
        losses = []
        for loss_fn in progress_bar(batches(ep), progress, total=steps, desc=f"{desc} epoch {ep + 1}/{plan.epochs}",
                                    leave=False):
            if timed:
                frac = (time.time() - t0) / (60 * plan.budget_minutes)
                if frac >= 1:
                    run.stopped = "budget"
                    break
                for pg in opt.param_groups:
                    pg["lr"] = one_cycle_lr(frac, plan.lr, plan.pct_start)
            loss = loss_fn(net)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if plan.sam:
                _sharpness_aware(net, params, loss_fn, plan.sam)
            if plan.clip_grad:
                torch.nn.utils.clip_grad_norm_(params, plan.clip_grad)
            opt.step()
            if sched is not None:
                sched.step()
            if avg is not None:
                avg.update(net)
            losses.append(loss.detach().item())
        run.step_losses += losses
        entry = {"epoch": ep + 1, "train_loss": float(np.mean(losses)) if losses else float("nan")}
        if validate is not None:
            net.eval()
            raw = avg.swap(net) if avg is not None else None
            vloss, extras = validate(net)
            entry.update({"val_loss": vloss, **extras})
            if raw is not None:
                net.load_state_dict(raw)  # training goes on from the trained weights, not the average
        entry.update({"steps": len(losses), "minutes": round((time.time() - t0) / 60, 2)})
        run.history.append(entry)
        if progress:
            print(f"{desc} epoch {ep + 1}: " + "  ".join(f"{k} {v:.4f}" for k, v in entry.items()
                                                         if k.endswith(("loss", "acc", "mse", "nll", "kl"))),
                  flush=True)
        if on_epoch is not None:
            on_epoch(ep)
        if validate is not None:
            if _better(plan, entry[plan.monitor], best_value):
                kept = avg.state if avg is not None else net.state_dict()  # the weights just validated
                best_value, best_state, bad, run.best_epoch = entry[plan.monitor], copy.deepcopy(kept), 0, ep + 1
            else:
                bad += 1
                if plan.patience is not None and bad >= plan.patience:
                    run.stopped = "patience"
                    break
        if run.stopped == "budget":
            break
        if plan.max_minutes and (time.time() - t0) / 60 > plan.max_minutes:
            run.stopped = "max_minutes"
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    elif avg is not None:
        net.load_state_dict(avg.state)
    net.eval()
    return run


def _sharpness_aware(net: torch.nn.Module, params: list, loss_fn: Callable, rho: float) -> None:
    """SAM's second pass: move the weights by ``rho`` along their (normalised) gradient, replace the gradient
    by the one of the same batch there, and move back; batch-norm running statistics are left as the first pass
    set them."""
    with torch.no_grad():
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        norm = torch.norm(torch.stack([g.norm(2) for g in grads]), 2)
        moved = []
        for p in params:
            if p.grad is not None:
                e = p.grad * (rho / (norm + 1e-12))
                p.add_(e)
                moved.append((p, e))
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 0.0  # running = (1 - 0) * running: the second forward leaves them alone
    try:
        for p in params:
            p.grad = None
        loss_fn(net).backward()
    finally:
        for m, mom in zip(bns, momenta):
            m.momentum = mom
        with torch.no_grad():
            for p, e in moved:
                p.sub_(e)


# ----------------------------------------------------------------------------- calibration
def fit_temperature(logits: torch.Tensor, y: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of ``softmax(logits / T)`` on the
    labels ``y`` (Guo et al. 2017): every classifier of the zoo is calibrated this way, on its
    validation split (or a fine-tune hold-out), never on its test split."""
    from scipy.optimize import minimize_scalar

    lg = torch.as_tensor(logits).detach().float().cpu()
    yt = torch.as_tensor(np.asarray(y)).long()

    def nll(log_t: float) -> float:
        return float(F.cross_entropy(lg / math.exp(log_t), yt))

    res = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded",
                          options={"xatol": 1e-5})
    return float(math.exp(res.x))


# ----------------------------------------------------------------------------- writing and checkpoints
def write_model(card: dict, state: dict, out: str | Path) -> dict:
    """Save ``state`` as ``out/weights.safetensors``, record its sha256 and size in ``card``, set
    ``validated_on_real`` from its ``real`` section (true when it has metrics on a held-out real split and
    does not say ``selection_on_kit``: that split also guided design choices) and write ``out/card.json``;
    returns the card. The one way a trained model reaches disk."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    real = card.get("real", {})  # validated: measured on a real split that chose nothing (not even design)
    card["validated_on_real"] = bool(real.get("metrics")) and not real.get("selection_on_kit", False)
    digest = save_weights(state, out / "weights.safetensors")
    card["weights"] = {"file": "weights.safetensors", "format": "safetensors", "sha256": digest,
                       "bytes": (out / "weights.safetensors").stat().st_size}
    write_card(card, out / "card.json")
    return card


def save_checkpoint(path: str | Path, net: torch.nn.Module, opt: torch.optim.Optimizer, epoch: int) -> None:
    """Weights and optimiser state after ``epoch``, as safetensors (never pickle), written atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            tensors[f"opt.{i}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"epoch": str(epoch)})
    tmp.replace(path)


def load_checkpoint(path: str | Path, net: torch.nn.Module, opt: torch.optim.Optimizer) -> int:
    """Restore a :func:`save_checkpoint` into ``net`` and ``opt``; returns the epoch to start from."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        epoch = int(f.metadata()["epoch"])
        keys = list(f.keys())
        net.load_state_dict({k[6:]: f.get_tensor(k) for k in keys if k.startswith("model.")})
        state = opt.state_dict()
        for k in keys:
            if k.startswith("opt."):
                _, i, name = k.split(".", 2)
                state["state"].setdefault(int(i), {})[name] = f.get_tensor(k)
        opt.load_state_dict(state)
    return epoch + 1
