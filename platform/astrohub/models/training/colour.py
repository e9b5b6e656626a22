"""Training of the colour classifiers (``colour-classifier`` kind) on a real kit, on the engine.

The kit (``recipe.real_kit``, e.g. ``galaxyzoo1_jpeg``) is split once, stratified with a fixed seed
(:func:`astrohub.models.evaluation.kits.galaxyzoo1.split`): the network trains on the TRAIN split with
augmentation (any rotation, flips, zoom, shifts, per-band gain and brightness jitter) and class-balanced sampling;
early stopping and the temperature calibration use the VAL split only; the TEST split is touched once, at the end,
through the same ``measure`` that ``astrohub eval`` and the tests run from the shipped weights, to fill the card's
``real`` section (with the random forest trained on the same rows as the shipped weights). With ``pretrain`` set,
every member starts from one network first trained on simulated Galaxy Zoo 1 colour stamps
(:func:`pretrain_colour`, :mod:`astrohub.sims.colour`). With ``final_fit: "train+val"`` that is stage 1: its val
logits give the card's val figures and the temperature, then (stage 2) the same members, from the same seeds, are
refitted on TRAIN + VAL for the recipe's full epoch count without early stopping, and ship with stage 1's
temperature.

Settings (``recipe.real``): ``frame`` (px of the resampled stamp), ``crop`` (px the network sees, its centre),
``balance`` (sampling weight of a class ~ n_class ** -balance), ``rotate`` (degrees), ``zoom`` (max |log zoom|),
``shift`` (px), ``gain`` (per-band log-gain std), ``bright`` (max |log brightness|), ``label_smoothing``,
``weight_decay``, ``members`` (seeds averaged in one network), ``final_fit`` ("train", the default, or
"train+val": the two-stage refit above), ``early_stop`` (stage 1's early stopping on val; false: all epochs, the
last weights kept, as stage 2 trains), ``pretrain`` ({"n": simulated stamps, "epochs", "seed"}),
``chirality`` (weight of an auxiliary output learning the spirals' winding, :func:`colour_batches`; the shipped
head is cut back to the classes), ``selection_note`` (when earlier design choices also looked at the test split:
the card's ``real`` says so with ``selection_on_kit``, and validated_on_real is false).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from ...sims.colour import GZ_CLASSES, simulate_gz_colour
from .. import nets
from ..datasets import cache_dir
from ..evaluation.kits import kit_dir
from ..evaluation.kits.galaxyzoo1 import macro_recall
from ..inputs.colour import centre, colour_stats, normalise_colour, prepare
from ..inputs.colour_fits import FITS_NOTE
from ..nets import tta_mean
from ..recipes import Recipe
from .engine import VERSION, EpochBatches, Options, Plan, fit, fit_temperature


def kit_module(recipe: Recipe):
    """The evaluation module of the recipe's kit (``load``, ``split``, ``measure``, ``CLASSES``)."""
    from ..evaluation.kits import galaxyzoo1

    kits = {galaxyzoo1.KIT: galaxyzoo1}
    if recipe.real_kit not in kits:
        raise ValueError(f"{recipe.name}: no colour kit module for {recipe.real_kit!r}; known: {', '.join(kits)}")
    return kits[recipe.real_kit]


def kit_frames(kit, data: dict, size: int, progress: bool = False) -> np.ndarray:
    """Every image of the kit read as served and framed at ``size`` px (uint8 [N, size, size, 3]), cached by
    the kit's labels.csv hash and the frame size."""
    key = hashlib.sha256("\n".join(map(str, data["paths"])).encode()
                         + (data["paths"][0].parent.parent / "labels.csv").read_bytes()).hexdigest()[:16]
    path = cache_dir("sims") / f"real_{kit.KIT}_frames{size}_{key}.npz"
    if path.is_file():
        return np.load(path)["frames"]
    fr, _ = prepare(data["paths"], size, kit.KIT, progress)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # concurrent runs each write their own, then one wins
    np.savez(tmp, frames=fr)
    tmp.replace(path)
    return fr


def augment(x: torch.Tensor, crop: int, g: torch.Generator, cfg: dict, with_flip: bool = False):
    """Random views of uint8 frames ``x`` [B, F, F, 3]: float [B, 3, crop, crop] in 0-1, rotated by any angle
    (up to ``cfg['rotate']`` degrees), flipped, zoomed (|log zoom| up to ``zoom``), shifted (up to ``shift`` px)
    and jittered in per-band gain (log-normal, std ``gain``) and brightness (|log| up to ``bright``). With every
    setting 0 this is exactly the central ``crop`` px. ``with_flip``: also return each view's handedness (+1, or -1
    where mirrored), the same random numbers drawn either way."""
    b, f = x.shape[0], x.shape[1]
    img = x.permute(0, 3, 1, 2).float() / 255.0

    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(*(shape or (b,)), generator=g)

    ang = u(-1, 1) * math.radians(cfg.get("rotate", 180.0))
    z = torch.exp(u(-1, 1) * cfg.get("zoom", 0.0))
    flip = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0)
    s = crop / f / z
    cos, sin = torch.cos(ang) * s, torch.sin(ang) * s
    t = u(-1, 1, b, 2) * cfg.get("shift", 0.0) * 2 / f
    theta = torch.stack([torch.stack([cos * flip, -sin, t[:, 0]], 1), torch.stack([sin * flip, cos, t[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, [b, 3, crop, crop], align_corners=False)
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gain = torch.exp(torch.randn(b, 3, 1, 1, generator=g) * cfg.get("gain", 0.0)
                     + u(-1, 1).view(b, 1, 1, 1) * cfg.get("bright", 0.0))
    out = (out * gain).clamp(0, 1)
    return (out, flip) if with_flip else out


def colour_batches(frames: np.ndarray, y: np.ndarray, crop: int, mean, std, bs: int, g: torch.Generator, dev,
                   cfg: dict, n_classes: int, chirality: np.ndarray | None = None) -> EpochBatches:
    """Engine batches: each epoch ``len(frames) // bs`` mini-batches drawn with class weights ~ n ** -balance
    (1: balanced classes, 0: as in the kit), :func:`augment`-ed, scaled by ``mean``/``std``, cross-entropy
    (with ``label_smoothing``) on the first ``n_classes`` outputs. With ``cfg["chirality"]`` > 0 and
    ``chirality`` (+1 clockwise spiral, -1 anticlockwise, 0 neither, per frame: Galaxy Zoo 1's finer class) the
    network has one more output, trained with that weight by binary cross-entropy to tell the spirals' winding
    as each view shows it (a mirrored view winds the other way); the other rows leave it untrained."""
    X, Y = torch.from_numpy(frames), torch.from_numpy(y)
    counts = np.bincount(y, minlength=n_classes).astype(float)
    w = torch.from_numpy(counts[y] ** -float(cfg.get("balance", 0.5)))
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    sd = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    steps = len(frames) // bs
    ls = float(cfg.get("label_smoothing", 0.0))
    cw = float(cfg.get("chirality", 0.0))
    if cw and (chirality is None or len(chirality) != len(frames)):
        raise ValueError("chirality > 0 needs the frames' winding (+1, -1 or 0 each)")
    C = torch.from_numpy(np.asarray(chirality, np.float32)) if cw else None

    def batches(epoch=0):
        idx = torch.multinomial(w, steps * bs, replacement=True, generator=g)

        def make(i):
            sel = idx[i * bs:(i + 1) * bs]
            views, flip = augment(X[sel], crop, g, cfg, with_flip=True)
            xb = ((views - m) / sd).to(dev).contiguous(memory_format=torch.channels_last)
            yb = Y[sel].to(dev)
            if not cw:
                return lambda net: F.cross_entropy(net(xb), yb, label_smoothing=ls)
            wind = (C[sel] * flip).to(dev)  # the winding as the view shows it; 0: not a spiral

            def loss(net):
                lg = net(xb)
                out = F.cross_entropy(lg[:, :n_classes], yb, label_smoothing=ls)
                known = wind != 0
                if known.any():
                    out = out + cw * F.binary_cross_entropy_with_logits(lg[known, n_classes], (wind[known] > 0).float())
                return out
            return loss

        return (make(i) for i in range(steps))

    return EpochBatches(batches, steps)


def colour_net(recipe: Recipe, cfg: dict, n_classes: int, dev, init: dict | None = None) -> torch.nn.Module:
    """The recipe's network on ``dev`` with an output per class, and one more with ``cfg["chirality"]`` (the
    spirals' winding, :func:`colour_batches`), started from ``init`` if given: its class outputs, and a winding
    output that starts at zero (pretrained weights may carry their own, learned on the simulator's convention)."""
    n = n_classes + (1 if cfg.get("chirality") else 0)
    state = None if init is None else nets.images.resize_head(nets.images.resize_head(init, n_classes), n)
    return nets.on_device({**recipe.arch, "n_out": n}, dev, state)


def channel_stats(frames: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-band mean and std (0-1, rounded to 4 decimals, as the card records them) of uint8 frames [N, H, W, 3]:
    the normalisation of a colour model (the kit's training rows, centred at the network's crop)."""
    flat = frames.reshape(-1, 3)
    return ([round(float(v), 4) for v in flat.mean(0) / 255.0], [round(float(v), 4) for v in flat.std(0) / 255.0])


def colour_plan(recipe: Recipe, cfg: dict, epochs: int, max_minutes: float | None = None) -> Plan:
    """The engine plan of a colour recipe (``cfg``: its ``real`` settings, possibly overridden): the recipe's rate and
    patience, early stopping on ``monitor``, AdamW with ``weight_decay``, ``ema`` and ``sam`` if set."""
    return Plan(epochs=epochs, lr=recipe.lr, patience=recipe.patience, monitor=cfg.get("monitor", "val_loss"),
                weight_decay=float(cfg.get("weight_decay", 1e-4)), max_minutes=max_minutes, ema=cfg.get("ema"),
                sam=cfg.get("sam"))


def pretrain_colour(recipe: Recipe, cfg: dict, pre: dict, mean, std, dev, classes, progress: bool = False
                    ) -> tuple[dict, dict]:
    """The recipe's network trained on ``pre["n"]`` simulated Galaxy Zoo 1 colour stamps
    (:func:`astrohub.sims.colour.simulate_gz_colour`, seed ``pre["seed"]``) for ``pre["epochs"]`` epochs, with the
    recipe's batches, augmentation and plan under the kit's normalisation (``mean``, ``std``); the weights with the
    lowest loss on a separate simulated val set (a tenth as many stamps, at least 200; seed + 1000) are kept.
    With ``pre["chirality"]`` > 0 the spirals wind either way and one more output learns their winding at that
    weight (as :func:`colour_batches` does with the kit's); fine-tuning starts that output afresh
    (:func:`colour_net`), so only what the network learned to see carries over.
    ``classes``: the kit's, which must be the simulator's. Returns (state dict, what the card records)."""
    if list(classes) != GZ_CLASSES:
        raise ValueError(f"{recipe.name}: the colour simulator draws {GZ_CLASSES}, the kit has {list(classes)}")
    n, epochs, seed = int(pre["n"]), int(pre["epochs"]), int(pre.get("seed", 0))
    workers = max(1, min(4, os.cpu_count() or 1))  # chunk-seeded: the same stamps with any number of workers
    wind_w = float(pre.get("chirality", 0.0))
    t0 = time.time()
    frames, y, *wind = simulate_gz_colour(n, seed, workers=workers, progress=progress, winding=bool(wind_w))
    vf, vy, *_ = simulate_gz_colour(max(n // 10, 200), seed + 1000, workers=workers, winding=bool(wind_w))
    t_sim = time.time() - t0
    crop = int(recipe.size)
    xv = normalise_colour(centre(vf, crop), mean, std)

    def validate(m):
        lg = tta_mean(m, xv, dev, 256)[:, :len(GZ_CLASSES)]
        acc = float((lg.argmax(1).numpy() == vy).mean())
        return float(F.cross_entropy(lg, torch.from_numpy(vy))), {"sim_val_acc": acc}

    cfg = {**cfg, "chirality": wind_w}  # the simulator's winding weight, not the kit's
    torch.manual_seed(seed)
    net = colour_net(recipe, cfg, len(GZ_CLASSES), dev)
    g = torch.Generator().manual_seed(seed)
    batches = colour_batches(frames, y, crop, mean, std, recipe.batch, g, dev, cfg, len(GZ_CLASSES),
                             wind[0] if wind else None)
    run = fit(net, batches, validate, colour_plan(recipe, cfg, epochs), progress=progress,
              desc=recipe.name + " (simulator pretraining)")
    kept = run.history[run.best_epoch - 1]  # the kept weights' own validation
    sim_args = f"n={n}, seed={seed}" + (", winding=True" if wind_w else "")
    info = {"simulator": f"astrohub.sims.colour.simulate_gz_colour({sim_args})", "n": n,
            "n_val": int(len(vy)), "epochs": epochs, "best_epoch": int(run.best_epoch),
            "sim_val_accuracy": kept["sim_val_acc"], "simulation_seconds": round(t_sim, 1),
            "history": run.history}
    return {k: v.detach().cpu() for k, v in net.state_dict().items()}, info


def train_colour(recipe: Recipe, opts: Options) -> tuple[dict, dict]:
    """A colour classifier from its recipe and its real kit (``opts.data``: the folder holding the kits)."""
    from ..predictors.colour import ColourClassifier

    kit = kit_module(recipe)
    where = kit_dir(recipe.real_kit, opts.data)
    cfg = dict(recipe.real)
    data = kit.load(where)
    y = data["labels"]
    idx = kit.split(y)
    f_px, crop = int(cfg["frame"]), int(recipe.size)
    frames = kit_frames(kit, data, f_px, opts.progress)
    tr, va = idx["train"], idx["val"]
    if opts.n_train:  # smoke runs: a stratified-enough prefix of the shuffled training rows
        tr = np.sort(np.random.default_rng(recipe.seed).permutation(tr)[:opts.n_train])
    xtr = centre(frames[tr], crop)
    mean, std = channel_stats(xtr)
    xva = normalise_colour(centre(frames[va], crop), mean, std)
    dev = opts.device
    yva = y[va]
    init, pre = None, None
    if cfg.get("pretrain"):
        pre = dict(cfg["pretrain"])
        if opts.n_train:  # smoke runs: the same pretraining, scaled down with the kit
            pre.update(n=min(int(pre["n"]), 4 * opts.n_train), epochs=min(int(pre["epochs"]), opts.epochs or 1))
        init, pre = pretrain_colour(recipe, cfg, pre, mean, std, dev, kit.CLASSES, opts.progress)

    n_cls = len(kit.CLASSES)
    aux = bool(cfg.get("chirality"))  # one more output, trained on the spirals' winding, cut before shipping
    wind = kit.chirality(data) if aux else None

    def validate(m):
        lg = tta_mean(m, xva, dev, 256)[:, :n_cls]
        pred = lg.argmax(1).numpy()
        return float(F.cross_entropy(lg, torch.from_numpy(yva))), {"val_acc": float((pred == yva).mean()),
                                                                   "val_macro_recall": macro_recall(yva, lg.numpy())}

    epochs = opts.epochs or recipe.epochs
    plan = colour_plan(recipe, cfg, epochs, opts.max_minutes)
    n_members = int(cfg.get("members", 1))
    final = recipe.final_fit()

    def members(rows, check, stage: str):
        """``n_members`` networks (seeds ``recipe.seed + k``) trained on kit rows ``rows``; ``check``: the
        validation of :func:`fit` (None: no early stopping, the last weights are kept)."""
        states, runs = [], []
        for k in range(n_members):
            seed = recipe.seed + k
            torch.manual_seed(seed)
            np.random.seed(seed)
            net = colour_net(recipe, cfg, n_cls, dev, init)
            g = torch.Generator().manual_seed(seed)
            batches = colour_batches(frames[rows], y[rows], crop, mean, std, recipe.batch, g, dev, cfg, n_cls,
                                     None if wind is None else wind[rows])
            p = plan if check is not None else replace(plan, patience=None)
            runs.append(fit(net, batches, check, p, progress=opts.progress,
                            desc=recipe.name + stage + (f" member {k + 1}/{n_members}" if n_members > 1 else "")))
            states.append(nets.images.resize_head({n: v.detach().cpu() for n, v in net.state_dict().items()}, n_cls))
        return combine(states), runs

    def combine(states):
        if n_members == 1:
            return nets.on_device(recipe.arch, dev, states[0]).eval()
        # one network averaging the members' logits (nets.images.EnsembleClassifier)
        return nets.on_device(arch, dev, nets.images.EnsembleClassifier.merge(states)).eval()

    arch = dict(recipe.arch) if n_members == 1 else nets.images.EnsembleClassifier.arch(recipe.arch, n_members)
    # stage 1: train split (early stopping on val unless early_stop is false); its val logits give the val figures
    # and the temperature
    early = bool(cfg.get("early_stop", True))
    net, runs = members(tr, validate if early else None, " (train split)" if final == "train+val" else "")
    lg_val = tta_mean(net, xva, dev, 256, recipe.tta)
    T = fit_temperature(lg_val, yva)
    pred_val = lg_val.argmax(1).numpy()
    val = {"accuracy": float((pred_val == yva).mean()),
           "macro_recall": macro_recall(yva, lg_val.numpy()),
           "n": int(len(va)), "model": "the train-split weights (stage 1)" if final == "train+val" else "the weights"}
    fitted, final_runs = tr, []
    if final == "train+val":  # stage 2: the same recipe on train + val, a fixed epoch count, stage 1's temperature
        fitted = np.sort(np.concatenate([tr, va]))
        net, final_runs = members(fitted, None, " (train+val)")

    from ..evaluation import metrics as M

    pv_raw, pv = F.softmax(lg_val, 1).numpy(), F.softmax(lg_val / T, 1).numpy()
    stats = colour_stats(_served_hw(data, fitted), frames[fitted], crop)
    card = {
        "name": recipe.name, "version": VERSION, "kind": recipe.kind, "task": recipe.task,
        "modality": "colour", "description": recipe.description,
        "inputs": {
            "shape": [3, crop, crop], "bands": list(recipe.channels), "pixel_scale_arcsec": None,
            "pixel_scale_note": "none fixed: Galaxy Zoo scales each stamp to the galaxy's Petrosian size (SDSS "
                                "0.396\"/px times a per-galaxy factor); the model sees the central "
                                f"{crop / f_px:.0%} of the stamp, whatever its pixel count",
            "units": "8-bit sRGB of an asinh-stretched SDSS gri composite (R=i, G=r, B=g), as the JPEG/PNG holds it",
            "normalisation": f"applied by the predictor: the stamp's central square resampled (Lanczos) to "
                             f"{f_px}x{f_px} px, its central {crop}x{crop} px kept, then (x/255 - channel_mean) / "
                             "channel_std per band (statistics of the kit's training split)",
            "accepts": "JPEG/PNG paths as Galaxy Zoo serves them (423x423 SDSS gri colour composites), the files' "
                       "bytes, or uint8 arrays [N, H, W, 3]; also g, r, i FITS cutouts with a WCS (a 3-plane cube, or "
                       "[g, r, i] per galaxy), made into the frame here (astrohub.models.inputs.colour_fits)",
            "fits": FITS_NOTE,
            "framing": FRAMING_NOTE,
            "frame_px": f_px, "channel_mean": mean, "channel_std": std,
            "ranges": _ranges(stats),
            "r90_target": round(float(np.nanmedian(stats["r90_frame"])), 4),  # predict(..., reframe=True) aims here
        },
        "outputs": {"classes": list(kit.CLASSES), "mc_samples": 20,
                    "probabilities": "temperature-calibrated softmax" + (
                        " of the logits averaged over the 8 rotations/reflections of each image (test-time "
                        "augmentation inside the predictor)" if recipe.tta else ""),
                    "uncertainty": "std of the predicted class probability over 20 MC-dropout samples",
                    "ood": "per image: stamp size or shape, colour, sky level or central light outside "
                           "inputs.ranges (" + ("the train + val rows'" if final == "train+val"
                                                 else "the training split's") + ")"},
        "arch": arch,
        "n_params": int(sum(p.numel() for p in net.parameters())),
        "flops_per_image": nets.flops_per_image(net, (3, crop, crop)),
        "calibration": {"method": f"temperature scaling on the {recipe.real_kit} val split" + (
                            " (out-of-sample logits of the same recipe trained on the train split only, stage 1; the "
                            "shipped train+val weights use that temperature)" if final == "train+val" else ""),
                        "temperature": T,
                        "val_ece_before": M.ece(yva, pv_raw), "val_ece_after": M.ece(yva, pv)},
        "training": {
            "simulator": pre["simulator"] if pre else None,
            "simulator_note": (f"pretrained on {pre['n']:,} simulated Galaxy Zoo 1 gri colour stamps for "
                               f"{pre['epochs']} epochs (simulated val accuracy {pre['sim_val_accuracy']:.3f}: "
                               "secondary, it describes the simulator, not the sky), then every member "
                               "fine-tuned from those weights on the real kit" if pre
                               else "none: trained on real images only (no simulated pretraining)"),
            **({"pretrain": pre} if pre else {}),
            "data": f"real kit {recipe.real_kit} ({where.name}): "
                    + ("train + val splits" if final == "train+val" else "train split"), "seed": recipe.seed,
            "split_seeds": {"kit_split": kit.SPLIT_SEED}, "split_note": "one stratified 60/20/20 split of the kit's "
            "rows (disjoint objects): train fits, val " + ("early-stops and calibrates" if early else "calibrates")
            + ", test only fills the card" + (
                "; the shipped weights are then refitted on train + val with the epochs and temperature fixed "
                "in stage 1 (val figures: stage 1's)" if final == "train+val" else ""),
            "n_train": int(len(fitted)), "n_val": int(len(va)), "n_test": int(len(idx["test"])),
            "final_fit": final, "val": val,
            "epochs_run": int(sum(len(r.history) for r in runs + final_runs)), "members": n_members,
            "best_epoch": runs[0].best_epoch if n_members == 1 else [r.best_epoch for r in runs],
            "stopped": runs[0].stopped if n_members == 1 else [r.stopped for r in runs],
            "batch": recipe.batch, "lr": recipe.lr,
            "optimizer": f"AdamW (weight decay {plan.weight_decay:g}) + one-cycle over {epochs} epochs, "
                         + (f"early stopping on {plan.monitor} (patience {recipe.patience})" if early
                            else "no early stopping (all epochs, last weights kept)")
                         + (f"; {n_members} members from seeds {recipe.seed}..{recipe.seed + n_members - 1}, "
                            "their logits averaged (one ensemble network)" if n_members > 1 else "")
                         + ("; then (stage 2) the same members retrained on train + val for the full "
                            f"{epochs} epochs without early stopping (last weights kept)" if final == "train+val"
                            else ""),
            "augmentation": f"any rotation, flips, zoom exp(+-{cfg.get('zoom', 0)}), shifts +-{cfg.get('shift', 0)} "
                            f"px, per-band log-gain std {cfg.get('gain', 0)}, brightness exp(+-{cfg.get('bright', 0)})",
            "sampling": f"class weights ~ n_class^-{cfg.get('balance', 0.5)} (the rare merger class drawn more often)",
            **({"auxiliary": f"one more output trained on Galaxy Zoo 1's spiral winding (clockwise or anticlockwise "
                             f"as each view shows it; binary cross-entropy at weight {cfg['chirality']:g}, spirals "
                             "only), cut from the shipped head"} if aux else {}),
            "settings": cfg, "history": runs[0].history if n_members == 1 else [r.history for r in runs],
            **({"history_train_val": [[{k: e[k] for k in ("epoch", "train_loss", "steps", "minutes")}
                                       for e in r.history] for r in final_runs]} if final_runs else {}),
        },
        "targets": dict(kit.TARGETS),
        "reproduce": f"astrohub train {recipe.name} [--data DIR]",
        "metrics": {}, "baseline": {},
    }
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    model = ColourClassifier(card, state, dev)
    real = kit.measure(model, where, progress=opts.progress)
    if cfg.get("selection_note"):  # design choices that also looked at the test split: said, not validated
        real.update(selection_on_kit=True, note=cfg["selection_note"])
    card["real"] = real
    card["metrics"] = {**real["metrics"], "source": f"real: the {recipe.real_kit} kit's test split" + (
        " (the simulator's own val accuracy, secondary, is in training.pretrain)" if pre
        else " (no simulation metrics: the model never saw a simulation)")}
    card["baseline"] = real["baseline"]
    card["target_met"] = real["target_met"]
    return card, state


def _served_hw(data: dict, rows) -> np.ndarray:
    """[height, width] of the kit's images ``rows`` as served (read from the file headers)."""
    from PIL import Image

    out = []
    for i in rows:
        with Image.open(data["paths"][i]) as im:
            out.append(im.size[::-1])
    return np.array(out, float)


FRAMING_NOTE = ("Galaxy Zoo frames each JPEG/PNG stamp to its galaxy's Petrosian size; a cutout at a fixed pixel "
                "scale (SkyServer's ImgCutout, a survey viewer) shows a small galaxy smaller. The galaxy's R90 is "
                "measured on each stamp (the asinh stretch undone; inputs.ranges.r90_frame, from the train + val "
                "stamps) and a stamp outside that range is flagged out of distribution; predict(..., reframe=True) "
                "re-cuts each stamp so that R90 spans inputs.r90_target of it (off by default: Galaxy Zoo's own "
                "stamps need none). benchmarks/galaxy_zoo_framing.py measures both on the kit's test split")


def _ranges(stats: dict) -> dict:
    """The ``inputs.ranges`` of the OOD flags from the training split's :func:`colour_stats`: the observed span
    widened by a quarter of it on each side (a tenth for the stamp's shape), grey below half the least colourful
    training stamp, blank below half the faintest training centre; the galaxy's size in its frame between 0.9 times
    its 1st and 1.1 times its 99th percentile."""
    out = {}
    for k, v in stats.items():
        v = np.asarray(v, float)
        v = v[np.isfinite(v)]
        lo, hi = float(v.min()), float(v.max())
        if k in ("side_px", "aspect"):
            out[k] = [round(lo * 0.9, 3), round(hi * 1.1, 3)]
        elif k == "r90_frame":  # its tails are odd stamps (a bright star, a pair): 1st-99th percentile, 10% wider
            out[k] = [round(float(np.percentile(v, 1)) * 0.9, 4), round(float(np.percentile(v, 99)) * 1.1, 4)]
        elif k in ("colour_spread", "centre_peak"):
            out[k] = [round(lo / 2, 3), round(min(hi + (hi - lo) / 4, 255.0), 3)]
        else:
            w = (hi - lo) / 4
            out[k] = [round(lo - w, 3), round(hi + w, 3)]
    return out
