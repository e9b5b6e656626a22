"""The PSF-aware head of an image classifier (``arch["psf_head"]``, :class:`nets.PSFHead`).

Trained after the network, on its frozen test-time-augmented embeddings of fresh simulations of
the training seed that the network never saw (the recipe's objects ``n_train`` .. ``n_train + psf_train["n_train"]``),
with each object's PSF FWHM; the epoch with the best validation accuracy is kept, its
temperature is fitted on validation and the test split is measured once, as for the network.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..evaluation import metrics as M
from ..evaluation.baselines import fit_forest, forest_features
from ..evaluation.metrics import by_snr, targets_met
from ..nets import tta_mean
from .engine import EpochBatches, Plan, fit, fit_temperature

PSF_KEY = "psf_fwhm"  # simulator meta / predict() argument; the archive's FITS keyword is PSF_FWHM


def embeddings(net, xn: np.ndarray, dev, tta: bool, progress: bool = False, desc: str = "embeddings") -> torch.Tensor:
    """Pooled embeddings [N, D] of normalised images, averaged over the 8 dihedral views with ``tta``."""
    net.eval()
    return tta_mean(net.embed, xn, dev, tta=tta, progress=progress, desc=desc)


def fit_psf_head(head, emb, fwhm, y, emb_val, fwhm_val, y_val, epochs: int, lr: float, batch: int, seed: int,
                 progress: bool = False) -> list[dict]:
    """Train ``head`` (a :class:`nets.PSFHead`, on CPU) on embeddings + FWHMs; keep the epoch with the
    best validation accuracy; return the epoch history."""
    head.emb_mean.copy_(emb.mean(0))
    head.emb_std.copy_(emb.std(0) + 1e-6)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    Y, f = torch.from_numpy(y).long(), torch.as_tensor(fwhm, dtype=torch.float32)
    fv, yv = torch.as_tensor(fwhm_val, dtype=torch.float32), torch.from_numpy(y_val).long()

    def batches(epoch):
        perm = torch.randperm(len(emb), generator=g)
        return ((lambda h, j=perm[i:i + batch]: F.cross_entropy(h(emb[j], f[j]), Y[j]))
                for i in range(0, len(emb), batch))

    def validate(h):
        with torch.no_grad():
            lv = h(emb_val, fv)
        return float(F.cross_entropy(lv, yv)), {"val_acc": float((lv.argmax(1).numpy() == y_val).mean())}

    plan = Plan(epochs=epochs, lr=lr, pct_start=0.3, weight_decay=1e-2, monitor="val_acc")
    return fit(head, EpochBatches(batches, (len(emb) + batch - 1) // batch), validate, plan, progress=progress,
               desc="PSF head").history


def add_psf_head(card: dict, net, spec, data, xtr: np.ndarray, xva: np.ndarray, xte: np.ndarray | None, dev,
                 progress: bool, n_objects: int) -> None:
    """Train ``net.psf_head`` on the last ``n_objects`` training simulations (which the network did
    not see) per ``spec.psf_train``, and put it on ``card``: the PSF input, its temperature, test
    metrics with the PSF (``metrics``; the PSF-blind head's move to ``metrics_without_psf``), the
    baseline given the PSF too (``baseline``; the PSF-blind one moves to ``baseline_without_psf``)
    and the training record. ``xtr``/``xva``/``xte``: the splits' normalised images."""
    cfg = spec.psf_train
    tr, va = data["train"], data["val"]
    lo, hi = len(xtr) - n_objects, len(xtr)
    head = net.psf_head.cpu()
    tta = spec.tta
    emb = embeddings(net, xtr[lo:hi], dev, tta, progress, "PSF head: embeddings")
    emb_va = embeddings(net, xva, dev, tta)
    hist = fit_psf_head(head, emb, tr.meta[PSF_KEY][lo:hi], tr.labels[lo:hi], emb_va, va.meta[PSF_KEY],
                        va.labels, int(cfg["epochs"]), float(cfg["lr"]), int(cfg["batch"]), spec.seed, progress)
    with torch.no_grad():
        lg_va = head(emb_va, torch.as_tensor(va.meta[PSF_KEY], dtype=torch.float32))
    T = fit_temperature(lg_va, va.labels)
    card["calibration"].update({"temperature_psf": T,
                                "val_ece_psf": M.ece(va.labels, F.softmax(lg_va / T, 1).numpy())})
    lo_f, hi_f = (float(v) for v in spec.arch["psf_head"]["fwhm_range"])
    card["inputs"][PSF_KEY] = {
        "unit": "arcsec", "range": [lo_f, hi_f], "optional": True, "fits_keyword": "PSF_FWHM",
        "description": "FWHM of each image's PSF. Given, predict() uses the PSF-aware head (card metrics); "
                       "omitted, the PSF-blind head (metrics_without_psf)."}
    card["training"]["psf_head"] = {
        "features": "the network's frozen pooled embeddings" + (" (mean over the 8 dihedral views)" if tta else ""),
        "objects": f"training seed, objects {lo}..{hi} (not used by the network's training)",
        "n_train": hi - lo, "epochs": int(cfg["epochs"]), "lr": float(cfg["lr"]), "batch": int(cfg["batch"]),
        "optimizer": "AdamW + one-cycle; the epoch with the best validation accuracy is kept",
        "best_epoch": int(np.argmax([h["val_acc"] for h in hist]) + 1), "history": hist}
    if xte is None:
        return
    te = data["test"]
    with torch.no_grad():
        lg_te = head(embeddings(net, xte, dev, tta), torch.as_tensor(te.meta[PSF_KEY], dtype=torch.float32))
    pte = F.softmax(lg_te / T, 1).numpy().astype(np.float64)
    card["metrics_without_psf"] = card["metrics"]
    card["metrics"] = {"split": "test", "inputs": "images + PSF FWHM",
                       **M.classification_report(te.labels, pte, te.class_names),
                       "by_snr": by_snr(te, pte)}
    # the baseline gets the PSF too: the same forest with the FWHM as one more feature
    rf = fit_forest(xtr, tr.labels, spec.seed, extra=tr.meta[PSF_KEY])
    prf = rf.predict_proba(forest_features(xte, te.meta[PSF_KEY]))
    card["baseline_without_psf"] = card["baseline"]
    card["baseline"] = {**card["baseline"], "method": card["baseline"]["method"] + " + the PSF FWHM",
                        "metrics": M.classification_report(te.labels, prf, te.class_names)}
    card["target_met"] = targets_met(spec.targets, card["metrics"], card["baseline"]["metrics"])
