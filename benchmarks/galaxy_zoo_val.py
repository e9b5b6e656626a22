"""The val-split comparison behind ``galaxy_zoo``'s ensemble size and head (issue #17); the test split is never
read.

Each seed trains one network exactly as the recipe's stage 1 does (:func:`astrohub.models.training.colour`'s
``colour_batches`` on ``engine.fit``: the galaxyzoo1_jpeg kit's train split, early stopping on val) and scores
the val split averaged over the 8 dihedral views (the predictor's test-time augmentation). Reported: each
network's val accuracy with and without the views; the ensembles (logits averaged) of the first k seeds and of
every pair; paired bootstrap intervals of the k-seed ensemble's gain over the first two seeds' (the shipped
size); and a stacking head fitted inside val by repeated stratified 10-fold cross-validation: a logistic
regression on the two-seed ensemble's logits, alone or with simple colour / shape features of each stamp
(red-minus-blue of the centre and of the outskirts, concentration, axis ratio, asymmetry, size), next to the
ensemble's own argmax on the same folds. ``--zoom-frames`` / ``--turn-views``: the two-seed ensemble also
averaged over the 8 views of the val images framed at other sizes (zoom test-time augmentation) or turned by other
angles (e.g. 45 deg: 16 views in all), with its paired gain over the 8 views alone.

    python benchmarks/galaxy_zoo_val.py [--seeds 5 6 7 8] [--epochs 60] [--frame 160] [--size 64]
        [--set KEY=VALUE ...] [--arch JSON] [--lr RATE] [--no-early-stop] [--init WEIGHTS] [--zoom-frames PX ...]
        [--turn-views DEG ...]
        [--logits DIR] [--tag NAME]

Writes results/galaxy_zoo_val[_TAG].json. One seed (60 epochs, early stopping) takes ~5 min on one free core
(~8 with another run beside it); ``--logits DIR`` keeps each seed's val logits there and reuses them on the next run
(so with it one seed alone may run, beside another process, and a later run combines both). ``--set`` takes any
setting of the recipe's ``real`` section, ``ema`` (the engine's moving average of weights) and ``sam`` (its
sharpness-aware minimisation radius), both off by default, and ``chirality`` (the weight of the output that
learns the spirals' winding: the recipe's 0.3; 0 leaves it out); ``--arch`` overrides keys of the recipe's
network, e.g. '{"blocks": [2, 2, 2, 2]}'.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
from pathlib import Path

import numpy as np
import torch
from common import arch_overrides, write

from astrohub.models.evaluation.kits import kit_dir
from astrohub.models.inputs.colour import centre, normalise_colour
from astrohub.models.nets import tta_mean
from astrohub.models.recipes import RECIPES
from astrohub.models.training.colour import (
    channel_stats,
    colour_batches,
    colour_net,
    colour_plan,
    kit_frames,
    kit_module,
)
from astrohub.models.training.engine import fit

FEATURES = ["log_conc_4_24", "log_conc_12_24", "axis_ratio", "asymmetry", "log_npix", "red_blue_centre",
            "red_blue_outer", "red_blue_gradient", "log_peak", "major_axis"]
FEATURE_SETS = {"colour": [5, 6, 7], "shape": [0, 1, 2, 3], "all": list(range(len(FEATURES)))}


def features(frames: np.ndarray) -> np.ndarray:
    """:data:`FEATURES` of uint8 frames [N, F, F, 3], measured on their central 60%."""
    n, f = frames.shape[:2]
    s0 = int(round(f * 0.2))
    x = frames[:, s0:f - s0, s0:f - s0].astype(np.float32) / 255.0
    s = x.shape[1]
    lum = x.mean(-1)
    sky = np.median(np.concatenate([lum[:, :6].reshape(n, -1), lum[:, -6:].reshape(n, -1)], 1), 1)
    L = np.clip(lum - sky[:, None, None], 0, None)
    yy, xx = np.mgrid[:s, :s] - (s - 1) / 2
    r = np.hypot(yy, xx)
    out = []
    for i in range(n):
        li = L[i]
        peak = li[r < 6].max() + 1e-6
        m = li > 0.1 * peak
        w = li * m
        tot = w.sum() + 1e-6
        dy, dx = yy - (w * yy).sum() / tot, xx - (w * xx).sum() / tot
        qyy, qxx, qxy = (w * dy * dy).sum() / tot, (w * dx * dx).sum() / tot, (w * dy * dx).sum() / tot
        half, det = (qyy + qxx) / 2, qyy * qxx - qxy ** 2
        disc = np.sqrt(max(half ** 2 - det, 0))
        a2, b2 = half + disc, max(half - disc, 1e-6)
        f4, f12, f24 = li[r < 4].sum(), li[r < 12].sum(), li[r < 24].sum() + 1e-6
        asym = np.abs(li - li[::-1, ::-1])[r < 24].sum() / (li[r < 24].sum() + 1e-6)
        c = x[i]
        rb_c = c[..., 0][r < 6].mean() - c[..., 2][r < 6].mean()
        outer = m & (r >= 6)
        rb_o = c[..., 0][outer].mean() - c[..., 2][outer].mean() if outer.sum() > 5 else rb_c
        out.append([np.log(f4 / f24 + 1e-6), np.log(f12 / f24 + 1e-6), np.sqrt(b2 / a2), asym, np.log(m.sum() + 1),
                    rb_c, rb_o, rb_c - rb_o, np.log(peak), np.sqrt(a2)])
    return np.array(out, np.float32)


def turned(frames: np.ndarray, deg: float) -> np.ndarray:
    """uint8 frames [N, F, F, 3] turned by ``deg`` degrees about their centre (bilinear; the corners the turn
    brings in are black, outside any central crop up to F / sqrt(2) px)."""
    img = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    a = math.radians(deg)
    theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]]).expand(len(img), 2, 3)
    grid = torch.nn.functional.affine_grid(theta, list(img.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(img, grid, mode="bilinear", align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def member(seed: int, recipe, frames, y, tr, va, epochs: int, views: dict | None = None,
           early_stop: bool = True, init: Path | None = None, chirality: np.ndarray | None = None) -> dict:
    """One stage-1 network of the recipe (train split, early stopping on val; ``early_stop=False``: all ``epochs``,
    the last weights kept, as the shipped stage-2 refit trains): its val logits without and with
    the 8 dihedral views; with ``views`` ({name: the kit's frames seen another way}, e.g. framed at another size
    or turned) also the val logits (8 views) of those frames, as ``lg_tta_<name>``. ``init``: weights to
    start from (a state dict saved by torch.save, read with ``weights_only``), e.g. galaxy_zoo_simpretrain.py's.
    With the setting ``chirality`` > 0 the network also learns the spirals' winding (``chirality``, per kit row; see
    ``colour_batches``) on one more output, which the scores below leave out."""
    cfg, crop = dict(recipe.real), int(recipe.size)
    xtr = centre(frames[tr], crop)
    mean, std = channel_stats(xtr)
    xva = normalise_colour(centre(frames[va], crop), mean, std)
    yva, dev = y[va], torch.device("cpu")
    n_cls = int(y.max()) + 1

    def full(m, x, tta=False):  # the class logits (the winding output left out)
        return tta_mean(m, x, dev, 256, tta)[:, :n_cls]

    def validate(m):
        lg = full(m, xva)
        return float(torch.nn.functional.cross_entropy(lg, torch.from_numpy(yva))), {
            "val_acc": float((lg.argmax(1).numpy() == yva).mean())}

    plan = colour_plan(recipe, cfg, epochs)
    torch.manual_seed(seed)
    np.random.seed(seed)
    net = colour_net(recipe, cfg, n_cls, dev,
                     None if init is None else torch.load(init, map_location="cpu", weights_only=True))
    g = torch.Generator().manual_seed(seed)
    batches = colour_batches(frames[tr], y[tr], crop, mean, std, recipe.batch, g, dev, cfg, n_cls,
                             None if chirality is None else chirality[tr])
    if not early_stop:
        plan = dataclasses.replace(plan, patience=None)
    run = fit(net, batches, validate if early_stop else None, plan, progress=True, desc=f"seed {seed}")
    net.eval()
    other = {f"lg_tta_{k}": full(net, normalise_colour(centre(fr[va], crop), mean, std), True).numpy()
             for k, fr in (views or {}).items()}
    return {"lg": full(net, xva).numpy(), "lg_tta": full(net, xva, True).numpy(),
            "best_epoch": int(run.best_epoch if early_stop else epochs), **other}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7, 8], help="the first two: the shipped pair")
    ap.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    ap.add_argument("--data", default=None, help="folder holding the kits (default: $ASTROHUB_REAL_DATA)")
    ap.add_argument("--logits", type=Path, default=None, help="keep / reuse each seed's val logits here")
    ap.add_argument("--frame", type=int, default=None, help="px the served image is resampled to (default: recipe's)")
    ap.add_argument("--size", type=int, default=None, help="the network's central crop (default: recipe's)")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="override a setting of the recipe's real section (a number), e.g. balance=0.25")
    ap.add_argument("--arch", default=None, metavar="JSON",
                    help="override keys of the recipe's network (JSON), e.g. '{\"blocks\": [2, 2, 2, 2]}'")
    ap.add_argument("--lr", type=float, default=None, help="the one-cycle peak rate (default: the recipe's)")
    ap.add_argument("--no-early-stop", action="store_true",
                    help="train every network for all the epochs and keep the last weights (as stage 2 does)")
    ap.add_argument("--init", type=Path, default=None,
                    help="start every network from these weights (galaxy_zoo_simpretrain.py's --out)")
    ap.add_argument("--zoom-frames", type=int, nargs="*", default=[], metavar="PX",
                    help="also score val framed at these sizes (zoom test-time augmentation), e.g. 144 176")
    ap.add_argument("--turn-views", type=float, nargs="*", default=[], metavar="DEG",
                    help="also score val turned by these angles (more test-time views), e.g. 45")
    ap.add_argument("--tag", default="", help="results/galaxy_zoo_val_TAG.json")
    a = ap.parse_args(argv)
    if len(a.seeds) < 2 and not a.logits:
        ap.error("--seeds needs at least two seeds (the first two are the shipped ensemble); one seed only with "
                 "--logits, to train it beside another run and combine both later")
    torch.set_num_threads(1)
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    recipe = RECIPES["galaxy_zoo"]
    try:
        extra = {k: float(v) for k, v in (kv.split("=", 1) for kv in a.set)}
    except ValueError:
        ap.error(f"--set takes KEY=NUMBER pairs, got {a.set}")
    known = set(recipe.real) | {"ema", "sam"}  # colour_plan reads them too; off unless set
    if unknown := sorted(set(extra) - known):
        ap.error(f"--set: the recipe has no setting {', '.join(unknown)} (it has {', '.join(sorted(known))})")
    arch = arch_overrides(ap, a.arch, recipe.arch)
    if a.frame or a.size or extra or arch or a.lr:
        recipe = dataclasses.replace(recipe, size=a.size or recipe.size, arch={**recipe.arch, **arch},
                                     lr=a.lr or recipe.lr,
                                     real={**recipe.real, **extra, "frame": a.frame or recipe.real["frame"]})
    kit = kit_module(recipe)
    data = kit.load(kit_dir(recipe.real_kit, a.data))
    y = data["labels"]
    idx = kit.split(y)
    tr, va = idx["train"], idx["val"]
    frames = kit_frames(kit, data, int(recipe.real["frame"]), True)
    views = {f"f{f}": kit_frames(kit, data, f, True) for f in a.zoom_frames}
    views |= {f"r{d:g}": turned(frames, d) for d in a.turn_views}
    epochs = a.epochs or recipe.epochs
    runs = {}
    for s in a.seeds:
        view = "" if (a.frame, a.size, extra, arch) == (None, None, {}, {}) else (
            f"_f{recipe.real['frame']}_s{recipe.size}" + "".join(f"_{k}{v:g}" for k, v in sorted(extra.items()))
            + "".join(f"_{k}{'-'.join(map(str, np.ravel(v)))}" for k, v in sorted(arch.items())))
        view += f"_lr{a.lr:g}" if a.lr else ""
        view += "_noes" if a.no_early_stop else ""
        view += f"_init-{a.init.stem}" if a.init else ""
        path = a.logits / f"galaxy_zoo_val_seed{s}_e{epochs}{view}.npz" if a.logits else None
        if path is not None and path.is_file():
            d = np.load(path)
            if all(f"lg_tta_{k}" in d.files for k in views):
                runs[s] = {k: d[k] for k in d.files if k.startswith("lg")} | {"best_epoch": int(d["best_epoch"])}
                continue
        runs[s] = member(s, recipe, frames, y, tr, va, epochs, views, not a.no_early_stop, a.init,
                         kit.chirality(data))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, **runs[s])
    yva = y[va]

    def acc(lg):
        return float((lg.argmax(1) == yva).mean())

    def macro_recall(lg):
        return kit.macro_recall(yva, lg)

    def ens(ss):
        return np.mean([runs[s]["lg_tta"] for s in ss], 0)

    rng = np.random.default_rng(0)

    def gain(a_lg, b_lg, n=5000):
        d = (a_lg.argmax(1) == yva).astype(float) - (b_lg.argmax(1) == yva).astype(float)
        boot = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(n)]
        ci = [round(float(v), 4) for v in np.percentile(boot, [2.5, 97.5])]
        return {"diff": round(float(d.mean()), 4), "ci95": ci}

    seeds = list(a.seeds)
    out = {"n_val": int(len(va)), "epochs": epochs, "frame": int(recipe.real["frame"]), "size": int(recipe.size),
           "overrides": extra, "arch": recipe.arch, "early_stopping": not a.no_early_stop,
           "init": str(a.init) if a.init else None,
           "members": {s: {"acc": acc(r["lg"]), "acc_tta": acc(r["lg_tta"]), "macro_recall_tta": macro_recall(
               r["lg_tta"]), "best_epoch": r["best_epoch"]} for s, r in runs.items()},
           "first_k": {k: {"seeds": seeds[:k], "acc": acc(ens(seeds[:k])), "macro_recall": macro_recall(ens(seeds[:k])),
                           "gain_over_first_two": gain(ens(seeds[:k]), ens(seeds[:2]))}
                       for k in range(1, len(seeds) + 1)},
           "pairs": {f"{p}+{q}": acc(ens((p, q))) for p, q in itertools.combinations(seeds, 2)}}
    if views:  # the first two seeds' ensemble, 8 views of the recipe's frames, then also of the other frames
        more = np.mean([np.mean([runs[s]["lg_tta"]] + [runs[s][f"lg_tta_{k}"] for k in views], 0)
                       for s in seeds[:2]], 0)
        out["more_views_tta"] = {"views": [f"f{recipe.real['frame']}", *views], "seeds": seeds[:2],
                                 "acc": acc(more), "macro_recall": macro_recall(more),
                                 "gain_over_8_views": gain(more, ens(seeds[:2])),
                                 "per_view_acc": {k: acc(np.mean([runs[s][f"lg_tta_{k}"] for s in seeds[:2]], 0))
                                                  for k in views}}
    base = ens(seeds[:2])
    feats = features(frames[va])
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=5, random_state=0)
    heads = {"argmax": None, "logreg_logits_C0.3": (None, 0.3)}
    heads |= {f"logreg_logits+{k}_C{C}": (cols, C) for k, cols in FEATURE_SETS.items() for C in (0.03, 0.3)}
    stack = {}
    for name, spec in heads.items():
        hits = []
        for trn, tst in cv.split(base, yva):
            if spec is None:
                hits.append(float((base[tst].argmax(1) == yva[tst]).mean()))
                continue
            cols, C = spec
            X = base if cols is None else np.hstack([base, feats[:, cols]])
            m = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000)).fit(X[trn], yva[trn])
            hits.append(float((m.predict(X[tst]) == yva[tst]).mean()))
        stack[name] = round(float(np.mean(hits)), 4)
    out["stacking_cv_in_val"] = {"base": f"seeds {seeds[:2]} ensemble logits (8 views)", "features": FEATURES,
                                 "folds": "10 x 5 repeats, stratified", "accuracy": stack}
    write("galaxy_zoo_val" + (f"_{a.tag}" if a.tag else ""), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
