"""The cross-validation behind ``transient_realbogus``'s recipe (its card's ``training.selection``).

K folds, stratified on the label, inside the ztf_alerts kit's train + val alerts; the test split is never
read. In each fold one network (the recipe's architecture) is trained on the other folds with the recipe's own
batches (:func:`astrohub.models.training.realbogus.distil_batches` on ``engine.fit``), then scores its held-out
fold averaged over the 8 dihedral views. The figure is the AUC of those out-of-fold scores against drb >= 0.5,
with ZTF's ``rb`` on the same alerts beside it. Options: the target (``soft`` = drb, ``hard`` = drb >= 0.5),
the weight of the simulated half-batches (0: none), epochs, learning rate, folds, seed; the network's input
(``--crop``: the centre S x S of the 63x63 stamp), the preprocessing (``mad``: the model's adapter, per plane
minus the median over 1.4826*MAD then arcsinh; ``l2``: braai's, per plane NaN -> 0 then over its L2 norm, real
alerts only), the network (``cnn``: the recipe's; ``braai``: a VGG-like net after Duev et al. 2019,
conv16-conv16-pool-conv32-conv32-pool-dense256-dropout; ``--net JSON``: any network this package builds, e.g. a
ResNet or the CNN without its strided stem), the networks averaged per fold (``--members``, seeds in a row, as the
shipped ensemble), the augmentation (``--augment``: one dihedral transform per half-batch, one per alert, or one
per alert plus a roll of up to N px) and mixup of the real alerts (``--mixup ALPHA``: Beta(ALPHA, ALPHA) mixing of
images and soft targets within a real half-batch), ``--ema DECAY``: each network scored with the moving average of
its weights (:class:`astrohub.models.training.engine.Plan`'s ``ema``), ``--sam RHO``: sharpness-aware minimisation
(``Plan.sam``), ``--aux stamp|packet``: the alert packet's measurements (``ztf_alerts.PACKET_TARGETS``) as auxiliary
targets, one more network output each, their mean squared error at ``--aux-weight`` added to the real
half-batch's loss (the scores still come from the stamps alone), ``--rank W``: W times a pairwise ranking loss
(a smooth AUC over each real half-batch's real/bogus pairs) added to it. Each run also keeps its out-of-fold margins
(``oof_margin``, in the order of the kit's train + val rows); ``--combine TAG ...`` scores the average of earlier
runs' margins (runs with the same ``--seed`` share their folds, so the average is out-of-fold too), next to each run
alone. ``--stack`` also fits the recipe's tree component (``real["stack"]``: a forest on summary features of the raw
stamps, its logit added to the network's margin) on each fold's training alerts and scores the sum
(``cv_auc_stack``); ``--stack-on TAG`` does that for an earlier run's out-of-fold margins, training no network.

    python benchmarks/realbogus_cv.py [--target soft|hard] [--sim-weight 0.5] [--epochs 30] [--folds 5]
        [--crop 32] [--prep mad|l2] [--arch cnn|braai] [--net JSON] [--members 1]
        [--augment batch|sample|sample+shiftN] [--mixup 0] [--ema DECAY] [--sam RHO] [--wd WD]
        [--aux stamp|packet] [--aux-weight 0.3] [--rank 0] [--stack] [--tag NAME]
    python benchmarks/realbogus_cv.py --stack-on base48_s0
    python benchmarks/realbogus_cv.py --combine c48 c63 [--tag NAME]

Writes results/realbogus_cv[_TAG].json. The recipe's own option (5 folds x 30 epochs, central 48x48, simulated
half-batches) took 4.4 min on one core with another run beside it (2026-11-30); the whole 63x63 stamp has 1.7x the
pixels, ``--sam`` takes two passes per step, and the simulated half-batches double the batches.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch
from common import RESULTS, write

from astrohub.models import nets
from astrohub.models.evaluation import metrics as M
from astrohub.models.evaluation.kits import cv_folds, kit_dir
from astrohub.models.evaluation.kits import ztf_alerts as Z
from astrohub.models.inputs import normalise
from astrohub.models.inputs import ztf as ztf_inputs
from astrohub.models.predictors.images import TreeStack
from astrohub.models.recipes import RECIPES
from astrohub.models.training import realbogus as R
from astrohub.models.training.engine import Options, Plan, fit, progress_bar
from astrohub.models.training.images import logits


class Braai(torch.nn.Module):
    """A VGG-like network after braai (Duev et al. 2019): conv16-conv16-pool-conv32-conv32-pool-dense256,
    dropout, a 2-class head (ReLU, no batch norm; 0.25 dropout after each pooling and 0.5 before the head)."""

    def __init__(self, s: int):
        super().__init__()
        nn = torch.nn
        c = lambda i, o: [nn.Conv2d(i, o, 3, padding=1), nn.ReLU()]  # noqa: E731
        self.features = nn.Sequential(*c(3, 16), *c(16, 16), nn.MaxPool2d(2), nn.Dropout(0.25),
                                      *c(16, 32), *c(32, 32), nn.MaxPool2d(4), nn.Dropout(0.25))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * (s // 8) ** 2, 256), nn.ReLU(), nn.Dropout(0.5),
                                  nn.Linear(256, 2))

    def forward(self, x):
        return self.head(self.features(x))


def l2_planes(stamps: np.ndarray, s: int) -> np.ndarray:
    """braai's preprocessing: per plane, masked pixels (NaN, |x| > 1e30) -> 0, then over the plane's L2 norm;
    the centre S x S."""
    x = np.asarray(stamps, np.float64).copy()
    x[~np.isfinite(x) | (np.abs(x) > ztf_inputs.BAD_VALUE)] = 0.0
    x /= np.maximum(np.sqrt((x ** 2).sum(axis=(2, 3), keepdims=True)), 1e-30)
    off = (x.shape[-1] - s) // 2
    return np.ascontiguousarray(x[:, :, off:off + s, off:off + s], dtype=np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", choices=("soft", "hard"), default="soft")
    ap.add_argument("--sim-weight", type=float, default=None, help="default: the recipe's")
    ap.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    ap.add_argument("--lr", type=float, default=None, help="default: the recipe's")
    ap.add_argument("--crop", type=int, default=None, help="the network's input S x S (default: the recipe's)")
    ap.add_argument("--prep", choices=("mad", "l2"), default="mad")
    ap.add_argument("--arch", choices=("cnn", "braai"), default="cnn")
    ap.add_argument("--net", default=None, help="the network as a card arch, JSON (default: the recipe's), "
                    "e.g. '{\"net\": \"resnet\", \"widths\": [24, 48, 96, 160]}' (in_ch and n_out filled in)")
    ap.add_argument("--members", type=int, default=1, help="networks averaged per fold")
    ap.add_argument("--augment", default="batch", help="batch | sample | sample+shiftN (see distil_batches)")
    ap.add_argument("--mixup", type=float, default=0.0, help="Beta(a, a) mixup of the real alerts (0: none)")
    ap.add_argument("--ema", type=float, default=None, help="score each network's moving average of weights "
                    "(decay per step, e.g. 0.99; see engine.Plan.ema)")
    ap.add_argument("--wd", type=float, default=None, help="AdamW weight decay (default: the recipe's)")
    ap.add_argument("--sam", type=float, default=None, help="sharpness-aware minimisation radius (e.g. 0.05; "
                    "see engine.Plan.sam)")
    ap.add_argument("--aux", choices=sorted(Z.PACKET_TARGETS), default=None,
                    help="auxiliary targets: the alert packet's measurements (ztf_alerts.PACKET_TARGETS), one more "
                    "network output each, standardised on each fold's training rows")
    ap.add_argument("--aux-weight", type=float, default=0.3, help="weight of the auxiliary mean squared error")
    ap.add_argument("--rank", type=float, default=0.0, help="weight of a pairwise ranking loss on the real "
                    "half-batches (distil_batches' rank; 0: none)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tag", default="", help="results/realbogus_cv_TAG.json")
    ap.add_argument("--data", default=None, help="the folder holding the kits (default: ../shared/real)")
    ap.add_argument("--stack", action="store_true", help="also score each fold's network with the recipe's tree "
                    "component (real['stack'], its forest seeded with --seed) fitted on the same fold (cv_auc_stack)")
    ap.add_argument("--stack-on", default=None, metavar="TAG", help="score the tree component with the out-of-fold "
                    "margins of the earlier run results/realbogus_cv_TAG.json (its folds and seed), no network trained")
    ap.add_argument("--combine", nargs="+", default=None, metavar="TAG",
                    help="score the averaged out-of-fold margins of results/realbogus_cv_TAG.json runs (same --seed)")
    a = ap.parse_args(argv)
    if a.combine:
        return combine(ap, a)
    if a.stack_on:
        return stack_on(ap, a)
    torch.set_num_threads(a.threads)
    spec = RECIPES["transient_realbogus"]
    cfg = spec.real
    sim_weight = cfg.get("sim_weight", 0.5) if a.sim_weight is None else a.sim_weight
    epochs, lr = a.epochs or int(cfg.get("epochs", 30)), a.lr or float(cfg.get("lr", 2e-3))
    wd = a.wd if a.wd is not None else float(cfg.get("wd", 1e-4))
    bs, dev = int(cfg.get("batch", 32)), torch.device("cpu")
    s = int(a.crop or spec.size)
    if not 8 <= s <= ztf_inputs.STAMP:
        ap.error(f"--crop must be 8..{ztf_inputs.STAMP}, got {s}")
    if a.prep == "l2" and sim_weight:
        ap.error("--prep l2 needs --sim-weight 0 (the simulations are cached through the model's adapter)")
    arch = spec.arch
    if a.net:
        try:
            arch = {"in_ch": 3, "n_out": 2, **json.loads(a.net)}
            nets.build(arch)
        except (ValueError, TypeError, KeyError) as e:
            ap.error(f"--net is not a network this package builds: {e}")
    n_aux = len(Z.PACKET_TARGETS[a.aux]) if a.aux else 0
    spec = dataclasses.replace(spec, size=s, arch={**arch, "n_out": 2 + n_aux})
    if a.aux and a.arch == "braai":
        ap.error("--aux needs a network this package builds (not --arch braai)")

    kit = Z.load(kit_dir(spec.real_kit, a.data))
    parts = Z.split(kit)
    rows = np.concatenate([parts["train"], parts["val"]])  # never the test split
    if a.prep == "l2":
        x = l2_planes(kit["stamps"][rows], s)
    else:
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
        margin = 0.0
        aux = Z.packet_targets(kit, a.aux, rows[tr])[0][rows[tr]] if a.aux else None
        for k in range(a.members):
            seed = a.seed * 100 + f + 1000 * k
            torch.manual_seed(seed)
            net = Braai(s) if a.arch == "braai" else nets.build(spec.arch)
            net = net.to(memory_format=torch.channels_last)
            g = torch.Generator().manual_seed(seed)
            batches = R.distil_batches(x[tr], target[tr], xs, ys, bs, sim_weight, g, dev, mixup=a.mixup,
                                       augment=a.augment, aux=aux, aux_weight=a.aux_weight, rank=a.rank)
            fit(net, batches, None,
                Plan(epochs=epochs, lr=lr, weight_decay=wd, ema=a.ema, sam=a.sam),
                progress=False)
            lg = logits(net.eval(), x[ho], dev, tta=True)
            margin = margin + (lg[:, 1] - lg[:, 0]).numpy() / a.members
        oof[ho] = margin
    scored, y, rb = scoring(kit, rows)
    p = 1 / (1 + np.exp(-oof[scored]))
    stacked = stack_scores(kit, rows, fold, oof, a.seed) if a.stack else {}
    write("realbogus_cv" + (f"_{a.tag}" if a.tag else ""), {
        "options": {"target": a.target, "sim_weight": sim_weight, "epochs": epochs, "lr": lr, "batch": bs,
                    "folds": a.folds, "seed": a.seed, "crop": s, "prep": a.prep, "members": a.members,
                    "mixup": a.mixup, "rank": a.rank,
                    "augment": a.augment, "ema": a.ema, "sam": a.sam, "wd": wd,
                    "aux": list(Z.PACKET_TARGETS[a.aux]) if a.aux else None, "aux_weight": a.aux_weight if a.aux else 0,
                    "arch": "braai (VGG-like, Duev et al. 2019)" if a.arch == "braai" else spec.arch},
        "rows": "the ztf_alerts kit's train + val alerts (the test split is never read)",
        "n": int(scored.sum()), "n_bogus": int((y == 0).sum()),
        "cv_auc": M.auc(y, np.stack([1 - p, p], 1)), "ztf_rb_auc": M.auc(y, np.stack([1 - rb, rb], 1)),
        **stacked, "minutes": round((time.time() - t0) / 60, 1), "oof_margin": [round(float(v), 5) for v in oof]})
    return 0


def stack_scores(kit, rows, fold, margin, seed) -> dict:
    """The recipe's tree component (``real["stack"]``, forest seeded with ``seed``) fitted on each fold's training
    alerts, its logits added to the out-of-fold ``margin``: AUCs of the forest alone and of the sum."""
    cfg = RECIPES["transient_realbogus"].real["stack"]
    cfg = {**cfg, "forest": {**cfg["forest"], "seed": seed}}
    inputs = R.card_inputs(RECIPES["transient_realbogus"])
    extra = np.zeros(len(rows))
    for f in range(int(fold.max()) + 1):
        tr, ho = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        spec, trees = R.fit_stack(cfg, kit, rows[tr], inputs)
        lg = TreeStack(spec, trees, ["bogus", "real"]).logits(kit["stamps"][rows[ho]], inputs, "cv", 2)
        extra[ho] = (lg[:, 1] - lg[:, 0]).numpy()
    scored, y, _ = scoring(kit, rows)

    def auc(m):
        p = 1 / (1 + np.exp(-np.asarray(m)[scored]))
        return M.auc(y, np.stack([1 - p, p], 1))

    return {"stack": cfg, "cv_auc_network": auc(margin), "cv_auc_forest": auc(extra / cfg["weight"]),
            "cv_auc_stack": auc(margin + extra)}


def stack_on(ap, a) -> int:
    """:func:`stack_scores` on an earlier run's out-of-fold margins (its folds and seed)."""
    path = RESULTS / f"realbogus_cv_{a.stack_on}.json"
    if not path.is_file() or "oof_margin" not in (d := json.loads(path.read_text())):
        ap.error(f"{path} is not a run with out-of-fold margins (rerun it with this version and --tag {a.stack_on})")
    kit = Z.load(kit_dir(RECIPES["transient_realbogus"].real_kit, a.data))
    parts = Z.split(kit)
    rows = np.concatenate([parts["train"], parts["val"]])
    seed, folds = int(d["options"]["seed"]), int(d["options"]["folds"])
    fold = cv_folds(kit["label"][rows], folds, 123 + seed)
    write("realbogus_cv_stack_" + a.stack_on, {"run": a.stack_on, "seed": seed, "folds": folds,
                                               **stack_scores(kit, rows, fold, np.array(d["oof_margin"]), seed)})
    return 0


def scoring(kit, rows):
    """(rows with a drb, their labels drb >= 0.5, their ZTF rb) among ``rows``."""
    scored = kit["has_drb"][rows]
    return scored, (kit["drb"][rows][scored] >= 0.5).astype(int), kit["rb"][rows][scored]


def combine(ap, a) -> int:
    """The AUC of the mean out-of-fold margin of earlier runs, and of each run alone."""
    runs = {}
    for tag in a.combine:
        path = RESULTS / f"realbogus_cv_{tag}.json"
        if not path.is_file() or "oof_margin" not in (d := json.loads(path.read_text())):
            ap.error(f"{path} is not a run with out-of-fold margins (rerun it with this version and --tag {tag})")
        runs[tag] = d
    seeds = {d["options"]["seed"] for d in runs.values()}
    if len(seeds) > 1:
        ap.error(f"--combine needs runs with the same --seed (the same folds), got seeds {sorted(seeds)}")
    kit = Z.load(kit_dir(RECIPES["transient_realbogus"].real_kit, a.data))
    parts = Z.split(kit)
    scored, y, rb = scoring(kit, np.concatenate([parts["train"], parts["val"]]))

    def auc(margin):
        p = 1 / (1 + np.exp(-np.asarray(margin)[scored]))
        return M.auc(y, np.stack([1 - p, p], 1))

    write("realbogus_cv" + (f"_{a.tag}" if a.tag else "_combined"), {
        "combined": a.combine, "seed": seeds.pop(), "n": int(scored.sum()), "n_bogus": int((y == 0).sum()),
        "each_cv_auc": {tag: auc(d["oof_margin"]) for tag, d in runs.items()},
        "cv_auc": auc(np.mean([d["oof_margin"] for d in runs.values()], 0)),
        "ztf_rb_auc": M.auc(y, np.stack([1 - rb, rb], 1))})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
