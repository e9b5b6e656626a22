"""Transfer learning: adapt a zoo classifier to a small labelled sample."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..cards import retrained, without_psf_head
from ..evaluation import metrics as M
from ..evaluation.evaluate import label_indices
from ..inputs import InputError, as_batch, normalise
from ..predictors.images import Classifier
from ..registry import load
from .engine import EpochBatches, Plan, fit, fit_temperature, write_model


def _unpack(table_or_tensors, labels):
    if hasattr(table_or_tensors, "colnames"):  # astropy Table
        cols = {c.lower(): c for c in table_or_tensors.colnames}
        if "image" not in cols:
            raise InputError(f"fine_tune: table needs an 'image' column, found {table_or_tensors.colnames}")
        if labels is None:
            if "label" not in cols:
                raise InputError("fine_tune: pass labels or a table with a 'label' column")
            labels = table_or_tensors[cols["label"]]
        return np.asarray(table_or_tensors[cols["image"]]), np.asarray(labels)
    if labels is None:
        raise InputError("fine_tune: labels are required with array inputs")
    return table_or_tensors, labels


def fine_tune(name: str, table_or_tensors, labels=None, *, classes: list[str] | None = None, epochs: int = 20,
              lr: float = 3e-3, train_features: bool = False, val_fraction: float = 0.25, seed: int = 0,
              save_to: str | Path | None = None, progress: bool = False) -> Classifier:
    """Fine-tune classifier ``name`` on images + labels (arrays, tensors or a Table with ``image``
    and ``label`` columns). The head is retrained (and the features too if ``train_features``);
    ``classes`` replaces the label set with a new one. A ``val_fraction`` hold-out drives early
    stopping and temperature calibration; its metrics go in the returned predictor's card
    (``metrics`` with ``split='fine-tune hold-out'``). ``save_to`` writes card + weights there."""
    base = load(name, device="cpu")
    if not isinstance(base, Classifier):
        raise InputError(f"fine_tune: {name!r} is a {base.card['kind']}, only classifiers can be fine-tuned")
    images, labels = _unpack(table_or_tensors, labels)
    x = as_batch(images, base.card["inputs"], None, name)
    new_classes = list(classes) if classes else base.class_names
    y = label_indices(labels, new_classes, name)
    if len(y) != len(x):
        raise InputError(f"fine_tune: {len(x)} images but {len(y)} labels")
    if len(x) < 8:
        raise InputError(f"fine_tune: need at least 8 labelled images, got {len(x)}")
    if not 0 < val_fraction < 1:
        raise InputError(f"fine_tune: val_fraction must be in (0, 1), got {val_fraction}")
    xn, _ = normalise(x, name)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    nv = max(2, int(round(val_fraction * len(x))))
    vi, ti = perm[:nv], perm[nv:]
    torch.manual_seed(seed)
    net = copy.deepcopy(base.net).float().to(memory_format=torch.contiguous_format)
    if hasattr(net, "psf_head"):  # see without_psf_head
        del net.psf_head
    if new_classes != base.class_names:
        net.head = torch.nn.Linear(net.head.in_features, len(new_classes))
    for p in net.features.parameters():
        p.requires_grad_(train_features)
    X, Y = torch.from_numpy(xn), torch.from_numpy(y)
    if not train_features:  # frozen features: embed the 4 rotations once, then train only the head
        net.eval()
        with torch.no_grad():
            E = torch.stack([net.embed(torch.rot90(X, k, (2, 3))) for k in range(4)])

    def batches(epoch):
        for i in range(0, len(ti), 32):
            idx, k = torch.from_numpy(ti[i:i + 32]), int(rng.integers(4))
            if train_features:
                yield lambda m, idx=idx, k=k: F.cross_entropy(m(torch.rot90(X[idx], k, (2, 3))), Y[idx])
            else:
                yield lambda m, idx=idx, k=k: F.cross_entropy(m.head(m.dropout(E[k, idx])), Y[idx])

    def validate(m):
        with torch.no_grad():
            return float(F.cross_entropy(m.head(E[0, vi]) if not train_features else m(X[vi]), Y[vi])), {}

    def train_mode(m):
        m.train()
        if not train_features:
            m.features.eval()  # keep BatchNorm statistics of the pretrained features

    run = fit(net, EpochBatches(batches, -(-len(ti) // 32)), validate, Plan(epochs=epochs, lr=lr, schedule="constant"),
              params=[p for p in net.parameters() if p.requires_grad], train_mode=train_mode, progress=progress,
              desc="fine-tune")
    history = [h["val_loss"] for h in run.history]
    with torch.no_grad():
        lv = net(X[vi])
    T = fit_temperature(lv, y[vi])
    card = retrained(without_psf_head(base.card))  # fine-tuning retrains the PSF-blind head (and features)
    pretrained = card["metrics"]
    card["version"] = base.card["version"] + "+ft"
    card["outputs"]["classes"] = new_classes
    if card["outputs"].pop("tta", None):  # calibrated and measured with single passes, so it predicts that way
        card["outputs"]["probabilities"] = "temperature-calibrated softmax"
    card["arch"] = dict(card["arch"], n_out=len(new_classes))
    card["calibration"] = {"method": "temperature scaling on the fine-tune hold-out", "temperature": T}
    pv = F.softmax(lv / T, 1).numpy().astype(np.float64)
    card["metrics"] = {"split": "fine-tune hold-out", **M.classification_report(y[vi], pv, new_classes, with_ci=False)}
    card["fine_tuned"] = {"from": f"{name} v{base.card['version']}", "n_train": int(len(ti)), "n_holdout": int(nv),
                          "epochs": epochs, "lr": lr, "train_features": train_features,
                          "val_loss_history": history, "pretrained_metrics": pretrained.get("accuracy")}
    state = net.state_dict()
    if save_to is not None:
        write_model(card, state, Path(save_to))
    return Classifier(card, state)
