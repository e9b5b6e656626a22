"""The cross-validation behind ``transient_realbogus``'s recipe (its card's ``training.selection``).

K folds, stratified on the label, inside the ztf_alerts kit's train + val alerts; the test split is never
read. In each fold one network (the recipe's architecture) is trained on the other folds with the recipe's own
batches (:func:`astrohub.models.training.realbogus.distil_batches` on ``engine.fit``), then scores its held-out
fold averaged over the 8 dihedral views. The figure is the AUC of those out-of-fold scores against drb >= 0.5,
with ZTF's ``rb`` on the same alerts beside it. Options: the target (``soft`` = drb, ``hard`` = drb >= 0.5),
the weight of the simulated half-batches (0: none), epochs, learning rate, folds, seed.

    python benchmarks/realbogus_cv.py [--target soft|hard] [--sim-weight 0.5] [--epochs 30] [--folds 5]

Writes results/realbogus_cv.json. One option with 5 folds x 30 epochs takes ~10 min on one core.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch
from common import write

from astrohub.models import nets
from astrohub.models.evaluation import metrics as M
from astrohub.models.evaluation.kits import cv_folds, kit_dir
from astrohub.models.evaluation.kits import ztf_alerts as Z
from astrohub.models.inputs import normalise
from astrohub.models.inputs import ztf as ztf_inputs
from astrohub.models.recipes import RECIPES
from astrohub.models.training import realbogus as R
from astrohub.models.training.engine import Options, Plan, fit, progress_bar
from astrohub.models.training.images import logits


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", choices=("soft", "hard"), default="soft")
    ap.add_argument("--sim-weight", type=float, default=None, help="default: the recipe's")
    ap.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    ap.add_argument("--lr", type=float, default=None, help="default: the recipe's")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=None, help="the folder holding the kits (default: ../shared/real)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    spec = RECIPES["transient_realbogus"]
    cfg = spec.real
    sim_weight = cfg.get("sim_weight", 0.5) if a.sim_weight is None else a.sim_weight
    epochs, lr = a.epochs or int(cfg.get("epochs", 30)), a.lr or float(cfg.get("lr", 2e-3))
    bs, dev = int(cfg.get("batch", 32)), torch.device("cpu")

    kit = Z.load(kit_dir(spec.real_kit, a.data))
    parts = Z.split(kit)
    rows = np.concatenate([parts["train"], parts["val"]])  # never the test split
    s = int(spec.size)
    x = normalise(ztf_inputs.prepare(kit["stamps"][rows], {"shape": [3, s, s]}, spec.name)[0])[0]
    target = (kit["target"] if a.target == "soft" else kit["label"])[rows].astype(np.float32)
    xs, ys = np.zeros((0, 3, s, s), np.float32), np.zeros(0, np.float32)
    if sim_weight:
        sims = R.simulated(dataclasses.replace(spec, n_val=0, n_test=0), Options(out=None), R.card_inputs(spec))
        xs, ys = normalise(sims["train"].images)[0], sims["train"].labels
    fold = cv_folds(kit["label"][rows], a.folds, 123 + a.seed)
    oof = np.full(len(rows), np.nan)
    t0 = time.time()
    for f in progress_bar(range(a.folds), True, total=a.folds, desc="folds"):
        tr, ho = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        torch.manual_seed(a.seed * 100 + f)
        net = nets.build(spec.arch).to(memory_format=torch.channels_last)
        g = torch.Generator().manual_seed(a.seed * 100 + f)
        fit(net, R.distil_batches(x[tr], target[tr], xs, ys, bs, sim_weight, g, dev), None,
            Plan(epochs=epochs, lr=lr, weight_decay=float(cfg.get("wd", 1e-4))), progress=False)
        lg = logits(net.eval(), x[ho], dev, tta=True)
        oof[ho] = (lg[:, 1] - lg[:, 0]).numpy()
    scored = kit["has_drb"][rows]
    y = (kit["drb"][rows][scored] >= 0.5).astype(int)
    p = 1 / (1 + np.exp(-oof[scored]))
    rb = kit["rb"][rows][scored]
    write("realbogus_cv", {
        "options": {"target": a.target, "sim_weight": sim_weight, "epochs": epochs, "lr": lr, "batch": bs,
                    "folds": a.folds, "seed": a.seed, "arch": spec.arch, "crop": s},
        "rows": "the ztf_alerts kit's train + val alerts (the test split is never read)",
        "n": int(scored.sum()), "n_bogus": int((y == 0).sum()),
        "cv_auc": M.auc(y, np.stack([1 - p, p], 1)), "ztf_rb_auc": M.auc(y, np.stack([1 - rb, rb], 1)),
        "minutes": round((time.time() - t0) / 60, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
