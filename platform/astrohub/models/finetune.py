"""Transfer learning: adapt a zoo classifier to a small labelled sample."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import metrics as M
from .cards import without_psf_head, write_card
from .evaluate import _label_indices
from .predictor import Classifier
from .preprocess import InputError, as_batch, normalise
from .registry import load
from .train import fit_temperature
from .weights import save_weights


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
    y = _label_indices(labels, new_classes, name)
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
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    X, Y = torch.from_numpy(xn), torch.from_numpy(y)
    best, best_loss, history = copy.deepcopy(net.state_dict()), float("inf"), []
    if not train_features:  # frozen features: embed the 4 rotations once, then train only the head
        net.eval()
        with torch.no_grad():
            E = torch.stack([net.embed(torch.rot90(X, k, (2, 3))) for k in range(4)])
    for ep in range(epochs):
        net.train()
        if not train_features:
            net.features.eval()  # keep BatchNorm statistics of the pretrained features
        for i in range(0, len(ti), 32):
            idx = torch.from_numpy(ti[i:i + 32])
            k = int(rng.integers(4))
            out = net.head(net.dropout(E[k, idx])) if not train_features else net(torch.rot90(X[idx], k, (2, 3)))
            loss = F.cross_entropy(out, Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            vloss = float(F.cross_entropy(net.head(E[0, vi]) if not train_features else net(X[vi]), Y[vi]))
        history.append(vloss)
        if progress:
            print(f"fine-tune epoch {ep + 1}: val loss {vloss:.4f}")
        if vloss < best_loss:
            best, best_loss = copy.deepcopy(net.state_dict()), vloss
    net.load_state_dict(best)
    with torch.no_grad():
        lv = net(X[vi])
    T = fit_temperature(lv, y[vi])
    card = without_psf_head(base.card)  # fine-tuning retrains the PSF-blind head (and features)
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
        out = Path(save_to)
        digest = save_weights(state, out / "weights.safetensors")
        card["weights"] = dict(card["weights"], sha256=digest, bytes=(out / "weights.safetensors").stat().st_size)
        write_card(card, out / "card.json")
    return Classifier(card, state)
