"""Training of the image models (classifiers and generators) from their recipes, on the engine.

Train / validation / test sets come from disjoint simulator seeds; early stopping watches
the validation loss; probabilities are temperature-calibrated on validation; the test split
is touched once, at the end, to fill the card (together with the classical baseline).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import nets
from ..datasets import cache_dir, simulate_images
from ..evaluation import metrics as M
from ..evaluation.baselines import (
    best_gaussian_sigma,
    bicubic_upsample,
    fit_forest,
    gaussian_denoise,
    image_features,
    median_denoise,
)
from ..evaluation.metrics import by_snr, targets_met
from ..inputs import GEN_SCALE, noise_sigma, normalise
from ..nets import tta_mean
from ..recipes import Recipe
from ..registry import ZOO
from .engine import VERSION, EpochBatches, Options, Plan, fit, fit_temperature


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    k = int(torch.randint(4, (1,), generator=g))
    x = torch.rot90(x, k, dims=(2, 3))
    if torch.randint(2, (1,), generator=g):
        x = torch.flip(x, dims=(3,))
    return x


def augment_each(x: torch.Tensor, g: torch.Generator, shift: int = 0) -> torch.Tensor:
    """One random dihedral transform (of 8) per image, not one per batch; ``shift`` > 0: each image also
    rolled by up to +-``shift`` px along each axis (square images)."""
    out = torch.empty_like(x)
    t = torch.randint(8, (len(x),), generator=g)
    for k in range(8):
        sel = torch.nonzero(t == k).flatten()
        if len(sel):
            y = torch.rot90(x[sel], k % 4, dims=(2, 3))
            out[sel] = torch.flip(y, dims=(3,)) if k >= 4 else y
    if shift:
        d = torch.randint(-shift, shift + 1, (len(x), 2), generator=g)
        for i in range(len(x)):
            out[i] = torch.roll(out[i], (int(d[i, 0]), int(d[i, 1])), dims=(1, 2))
    return out


def image_data(spec: Recipe, opts: Options) -> dict:
    """The recipe's train / val / test image batches (disjoint seeds); the training set also holds
    the objects of later stages and of a PSF head. Seeds torch and numpy for the training run."""
    sizes = (opts.n_train or max([spec.n_train + int(spec.psf_train.get("n_train", 0))]
                                 + [st[2] for st in spec.stages if len(st) > 2]),
             opts.n_val or spec.n_val, opts.n_test or spec.n_test)
    s = spec.split_seeds()
    data = {k: simulate_images(spec.task, n, s[k], spec.size, progress=opts.progress)
            for k, n in zip(("train", "val", "test"), sizes) if n}
    torch.manual_seed(spec.seed)
    np.random.seed(spec.seed)
    return data


def plan(spec: Recipe, epochs: int, lr: float, max_minutes: float | None, timed: bool = False,
         keep_start: bool = False) -> Plan:
    """The image recipes' plan: AdamW + one-cycle (over ``max_minutes`` of wall-clock time when
    ``timed``), early stopping on the validation loss with the recipe's patience."""
    return Plan(epochs=epochs, lr=lr, patience=spec.patience, min_delta=1e-5, keep_start=keep_start,
                budget_minutes=max_minutes if timed else None, max_minutes=max_minutes)


def budget(spec: Recipe, opts: Options, resumed: bool = False) -> tuple[bool, float | None]:
    """(timed, minutes): recipes with a wall-clock budget anneal by elapsed time (robust to a shared
    CPU) unless the caller fixes the number of epochs; ``max_minutes`` then sets the budget."""
    timed = spec.budget_minutes is not None and opts.epochs is None and not resumed
    return timed, ((opts.max_minutes or spec.budget_minutes) if timed else opts.max_minutes)


def _as_nchw(images: np.ndarray) -> np.ndarray:
    return images[:, None] if images.ndim == 3 else images


def train_classifier(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """An image classifier from its recipe: stage 1, any warm-restart stages (``opts.resume``: a
    directory with the card and weights an earlier run of the same recipe wrote skips the stages
    that run completed), calibration, test metrics, baseline and an optional PSF head."""
    if spec.real.get("trainer"):  # a real-data recipe's own trainer, "module:function" under models.training
        from ..kinds import _attr
        return _attr("training", spec.real["trainer"])(spec, opts)
    init = _resume_point(spec, Path(opts.resume)) if opts.resume is not None else None
    data = image_data(spec, opts)
    timed, minutes = budget(spec, opts, init is not None)
    card = _train_classifier(spec, data, opts.device, opts.epochs or spec.epochs, minutes, opts.progress, init,
                             timed=timed)
    if init is not None:  # the time the resumed run's earlier stages took
        prev = init[0]["training"]
        card["training"]["wall_time_s_before_resume"] = round(prev.get("wall_time_s", 0)
                                                              + prev.get("wall_time_s_before_resume", 0), 1)
    snapshots = card.pop("_snapshots", None)
    if snapshots:  # each stage's best weights, so that a later run can resume after any stage
        from ..weights import save_weights

        snap = _snapshot_dir(spec.name, opts.out)
        snap.mkdir(parents=True, exist_ok=True)
        card["training"]["snapshots"] = [save_weights(st, snap / f"stage{k + 1}.safetensors")
                                         for k, st in enumerate(snapshots)]
    return card, card.pop("_state")


def train_generator(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """The denoising / 2x super-resolution generator from its recipe."""
    data = image_data(spec, opts)
    card = _train_generator(spec, data, opts.device, opts.epochs or spec.epochs, opts.max_minutes, opts.progress)
    return card, card.pop("_state")


def _snapshot_dir(name: str, out: Path) -> Path:
    """Where a staged recipe keeps each stage's best weights: next to the model, except for the
    packaged zoo (kept out of the package, in the cache)."""
    return cache_dir("snapshots") / name if out.resolve() == (ZOO / name).resolve() else out / "snapshots"


def _resume_point(spec: Recipe, where: Path):
    """(card, [best weights of each completed stage]) of an earlier run of ``spec`` in ``where``."""
    from ..cards import read_card
    from ..weights import load_weights

    rcard = read_card(where / "card.json")
    if rcard["name"] != spec.name:
        raise ValueError(f"cannot resume {spec.name!r} from a {rcard['name']!r} checkpoint")
    done = rcard["training"].get("stages", [])
    if [list(st) for st in spec.stages[:len(done)]] != [list(st) for st in done]:
        raise ValueError(f"{where} ran the stages {done}; the recipe of {spec.name!r} has {list(spec.stages)}")
    if not done:  # stage 1 only: its weights are the snapshot
        return rcard, [load_weights(where / rcard["weights"]["file"], rcard["weights"]["sha256"])]
    shas = rcard["training"].get("snapshots", [])
    snap = _snapshot_dir(spec.name, where)
    if len(shas) != len(done) + 1:
        raise ValueError(f"{where}: the card lists {len(shas)} stage snapshots, {len(done) + 1} are needed to resume")
    return rcard, [load_weights(snap / f"stage{k + 1}.safetensors", sha) for k, sha in enumerate(shas)]


def base_card(spec: Recipe, net, shape, classes, arch: dict | None = None) -> dict:
    # the input ranges the model is trained on (its predictor flags rows outside them): measured on 500
    # simulations of the recipe's task from their own seed (seed * 100 + 9, no split uses it)
    from ..inputs.images import training_ranges

    sims = simulate_images(spec.task, 500, spec.seed * 100 + 9, spec.size)
    ranges = training_ranges(sims.images, sims.meta.get("psf_fwhm"), 0.2, q=0.5)
    ranges["measured_on"] = (f"500 simulations: astrohub.sims.images.simulate_images({spec.task!r}, 500, "
                             f"seed={spec.seed * 100 + 9}, size={spec.size})")
    return {
        "name": spec.name,
        "version": VERSION,
        "kind": spec.kind,
        "task": spec.task,
        "description": spec.description,
        "inputs": {"shape": list(shape), "bands": list(spec.channels), "pixel_scale_arcsec": 0.2,
                   "units": "sky-subtracted counts in any linear unit; noise must be present in a 4-pixel border",
                   "normalisation": "applied by the predictor: arcsinh(x / sigma) per image and band, sigma = "
                                    "1.4826*MAD of the 4-pixel border" + (" (generators: arcsinh(x / 3 sigma), "
                                    "inverted on output)" if spec.kind == "generator" else ""),
                   "ranges": ranges},
        "outputs": {"classes": classes},
        "arch": arch or spec.arch,
        "n_params": int(sum(p.numel() for p in net.parameters())),
        "flops_per_image": nets.flops_per_image(net, (spec.arch.get("in_ch", 2), *shape[1:])),
        "targets": spec.targets,
        "reproduce": f"astrohub train {spec.name}",
    }


def logits(net, xn, dev, bs=256, tta=False):
    """Logits of ``net`` on normalised images; with ``tta`` the mean over the 8 dihedral transforms."""
    net.eval()
    return tta_mean(net, xn, dev, bs, tta)


class _StageBatches(EpochBatches):
    """Batches whose count follows ``n_use[0]`` (a later stage may train on more objects)."""

    def __init__(self, make, n_use: list[int], bs: int):
        super().__init__(make, 0)
        self.n_use, self.bs = n_use, bs

    def __len__(self) -> int:
        return self.n_use[0] // self.bs


def classifier_batches(x: np.ndarray, y: np.ndarray, bs: int, g: torch.Generator, dev,
                       n_use: list[int] | None = None) -> EpochBatches:
    """Engine batches: each epoch, shuffled mini-batches of the first ``n_use[0]`` (default all; the
    caller may change it between stages) normalised images ``x`` with labels ``y``, one random
    dihedral transform per batch, cross-entropy loss."""
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    n_use = n_use or [len(x)]

    def batches(epoch=0):
        nb = n_use[0] // bs
        perm = torch.randperm(n_use[0], generator=g)

        def make(idx):
            return lambda m: F.cross_entropy(
                m(_augment(X[idx], g).to(dev).contiguous(memory_format=torch.channels_last)), Y[idx].to(dev))

        return (make(perm[i * bs:(i + 1) * bs]) for i in range(nb))

    return _StageBatches(batches, n_use, bs)


def classifier_val(x: np.ndarray, y: np.ndarray, dev):
    """Engine validation: (cross-entropy, {"val_acc"}) of a classifier on ``x``, ``y``."""
    def val(m):
        lg = logits(m, x, dev)
        return float(F.cross_entropy(lg, torch.from_numpy(y))), {"val_acc": float((lg.argmax(1).numpy() == y).mean())}

    return val


def _train_classifier(spec, data, dev, epochs, max_minutes, progress, init=None, timed=False):
    tr, va = data["train"], data["val"]
    xtr, _ = normalise(_as_nchw(tr.images))
    xva, _ = normalise(_as_nchw(va.images))
    ytr, yva = tr.labels, va.labels
    net = nets.on_device(spec.arch, dev)  # channels_last on CPU, as the inputs are
    g = torch.Generator().manual_seed(spec.seed)
    bs = spec.batch
    # stage 1 trains on the first spec.n_train simulations; a later stage may add fresh ones; a
    # PSF head keeps the last ones (a smaller --n-train keeps the recipe's proportion)
    n_psf = _psf_objects(spec, len(xtr))
    n_use = [min(len(xtr) - n_psf, spec.n_train)]
    batches = classifier_batches(xtr, ytr, bs, g, dev, n_use)
    val = classifier_val(xva, yva, dev)

    if init is None:
        hist = fit(net, batches, val, plan(spec, epochs, spec.lr, max_minutes, timed), progress=progress,
                   desc=spec.name).history
        snapshots = [copy.deepcopy(net.state_dict())]  # the best weights at the end of each stage
    else:  # stages done earlier by this same recipe: start from the last one's weights
        snapshots = init[1]
        _load_resumed(net, snapshots[-1])
        t = init[0]["training"]
        hist = t["history"][:t.get("stage1_epochs", len(t["history"]))] if len(snapshots) == 1 else list(t["history"])
    stage1 = init[0]["training"].get("stage1_epochs", len(hist)) if init else len(hist)
    for i, (ep2, lr2, *n2) in enumerate(spec.stages):  # warm restarts at lower learning rate
        if i + 1 < len(snapshots):
            continue  # completed by the resumed run
        g.manual_seed(spec.seed + 1 + i)
        n_use[0] = min(len(xtr), n2[0]) if n2 else n_use[0]
        hist += fit(net, batches, val, plan(spec, ep2, lr2, max_minutes, keep_start=True), progress=progress,
                    desc=f"{spec.name} stage {i + 2}").history
        snapshots.append(copy.deepcopy(net.state_dict()))
    arch = spec.arch
    if spec.snapshot_ensemble:  # one network averaging the logits of every stage's best weights
        arch = nets.images.EnsembleClassifier.arch(spec.arch, len(snapshots))
        net = nets.on_device(arch, dev, nets.images.EnsembleClassifier.merge(snapshots))
    card = base_card(spec, net, (len(spec.channels), spec.size, spec.size), tr.class_names, arch)
    tta = spec.tta
    lg_val = logits(net, xva, dev, tta=tta)
    T = fit_temperature(lg_val, yva)
    pv_raw, pv = F.softmax(lg_val, 1).numpy(), F.softmax(lg_val / T, 1).numpy()
    card["outputs"].update({"mc_samples": 20, "probabilities": "temperature-calibrated softmax",
                            "uncertainty": "std of the predicted class probability over 20 MC-dropout samples"})
    if tta:
        card["outputs"]["tta"] = "dihedral8"
        card["outputs"]["probabilities"] = ("temperature-calibrated softmax of the logits averaged over the 8 "
                                            "rotations/reflections of each image (test-time augmentation, done "
                                            "inside the predictor: 8 forward passes per image)")
    card["calibration"] = {"method": "temperature scaling on the validation split", "temperature": T,
                           "val_ece_before": M.ece(yva, pv_raw), "val_ece_after": M.ece(yva, pv)}
    card["training"] = {"simulator": f"astrohub.sims.images.simulate_images(task={spec.task!r}, size={spec.size})",
                        "seed": spec.seed, "split_seeds": spec.split_seeds(),
                        "n_train": min(len(xtr) - n_psf, spec.n_train), "n_train_all_stages": len(xtr),
                        "n_val": len(xva),
                        "n_test": len(data.get("test", [])) if "test" in data else 0, "epochs_run": len(hist),
                        "best_epoch": int(np.argmin([h["val_loss"] for h in hist]) + 1), "batch": bs, "lr": spec.lr,
                        "optimizer": _optimizer_text(spec, max_minutes if timed else
                                                     # a resumed stage 1 ran over the recipe's budget
                                                     spec.budget_minutes if init is not None else None),
                        "steps_run": int(sum(h.get("steps", 0) for h in hist)),
                        "augmentation": "random rot90 + flip (one of the 8 dihedral transforms per batch)",
                        "history": hist, "stage1_epochs": stage1, "stages": [list(s) for s in spec.stages],
                        "resumed_from": init[0]["weights"]["sha256"] if init else None}
    if spec.stages:
        card["_snapshots"] = snapshots
    card["metrics"], card["baseline"] = {}, {}
    xte = normalise(_as_nchw(data["test"].images))[0] if "test" in data else None
    if xte is not None:
        te = data["test"]
        lg_te = logits(net, xte, dev, tta=tta)
        pte = F.softmax(lg_te / T, 1).numpy().astype(np.float64)
        card["metrics"] = {"split": "test", **M.classification_report(te.labels, pte, te.class_names)}
        card["metrics"]["ece_uncalibrated"] = M.ece(te.labels, F.softmax(lg_te, 1).numpy())
        if tta:  # what the same weights reach with a single forward pass, for comparison
            acc1 = M.accuracy(te.labels, F.softmax(logits(net, xte, dev), 1).numpy())
            card["metrics"]["accuracy_single_pass"] = acc1
            card["metrics"]["tta"] = "dihedral8 (metrics above are with test-time augmentation)"
        card["metrics"]["by_snr"] = by_snr(te, pte)
        rf = fit_forest(xtr, ytr, spec.seed)
        prf = rf.predict_proba(image_features(xte))
        card["baseline"] = {"method": "random forest (300 trees) on simple features (8x8 block means, central "
                                      "8x8 pixels, flux, peak, second moments)", "n_train": int(min(len(xtr), 8000)),
                            "metrics": M.classification_report(te.labels, prf, te.class_names)}
        card["target_met"] = targets_met(spec.targets, card["metrics"], card["baseline"]["metrics"])
    if spec.psf_train:
        from .psf import add_psf_head

        add_psf_head(card, net, spec, data, xtr, xva, xte, dev, progress, n_psf)
    card["_state"] = net.state_dict()
    return card


def _psf_objects(spec: Recipe, n: int) -> int:
    """How many of ``n`` training simulations (the last ones) train the PSF head."""
    want = int(spec.psf_train.get("n_train", 0))
    return want if n >= spec.n_train + want else n * want // (spec.n_train + want)


def _load_resumed(net, state: dict) -> None:
    """Load an earlier run's weights; a PSF head that run did not have yet is trained afresh."""
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("psf_head.") for k in missing):
        raise ValueError(f"the weights to resume from do not fit the recipe's network (missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]})")


def _optimizer_text(spec, stage1_minutes: float | None) -> str:
    """How the recipe optimised: stage 1 (over a wall-clock budget of ``stage1_minutes``, or by epochs)
    and any warm-restart stages."""
    text = f"AdamW + one-cycle, early stopping on val loss (patience {spec.patience})"
    if stage1_minutes:
        text += f"; stage 1's one-cycle spans a {stage1_minutes:g}-minute wall-clock budget (time-based schedule)"
    if spec.stages:
        text += ("; then one-cycle warm restarts from the best weights, (epochs, peak lr[, n_train]) = "
                 + ", ".join(str(tuple(st)) for st in spec.stages))
    return text


# ----------------------------------------------------------------------------- generator
def gen_inputs(noisy: np.ndarray, low: np.ndarray):
    """(denoise input, denoise sigma, super-resolution input, its sigma) in arcsinh units, [N,1,H,W]."""
    x = noisy[:, None]
    s = noise_sigma(x)
    lo = low[:, None]
    sl = noise_sigma(lo, border=2)
    up = np.repeat(np.repeat(lo, 2, axis=2), 2, axis=3)
    return (np.arcsinh(x / (GEN_SCALE * s)).astype(np.float32), s,
            np.arcsinh(up / (GEN_SCALE * sl)).astype(np.float32), sl)


def _train_generator(spec, data, dev, epochs, max_minutes, progress):
    tr, va = data["train"], data["val"]
    ud, sd, us, ss = gen_inputs(tr.images, tr.meta["lowres"])
    truth = tr.meta["truth"][:, None]
    td, ts = (np.arcsinh(truth / (GEN_SCALE * sd)).astype(np.float32),
              np.arcsinh(truth / (GEN_SCALE * ss)).astype(np.float32))
    vud, vsd, vus, vss = gen_inputs(va.images, va.meta["lowres"])
    vt = va.meta["truth"][:, None]
    vtd, vts = (np.arcsinh(vt / (GEN_SCALE * vsd)).astype(np.float32),
                np.arcsinh(vt / (GEN_SCALE * vss)).astype(np.float32))
    net = nets.build(spec.arch).to(dev)
    g = torch.Generator().manual_seed(spec.seed)
    bs, crop, n = spec.batch, 32, len(ud)
    nb = n // bs
    T = {k: torch.from_numpy(v) for k, v in dict(ud=ud, us=us, td=td, ts=ts).items()}

    def batches(epoch=0):
        perm = torch.randperm(n, generator=g)

        def make(i):
            # each batch mixes both tasks (first half denoise, second half 2x SR) so that
            # BatchNorm statistics and the mode flag see both
            idx = perm[i * bs:(i + 1) * bs]
            h = len(idx) // 2
            oy, ox = (2 * torch.randint(0, (spec.size - crop) // 2 + 1, (2,), generator=g)).tolist()
            win = (slice(None), slice(None), slice(oy, oy + crop), slice(ox, ox + crop))
            x = torch.cat([T["ud"][idx[:h]][win], T["us"][idx[h:]][win]])
            t = torch.cat([T["td"][idx[:h]][win], T["ts"][idx[h:]][win]])
            flag = torch.cat([torch.zeros(h), torch.ones(len(idx) - h)]).view(-1, 1, 1, 1).expand_as(x)
            k = int(torch.randint(4, (1,), generator=g))
            x, t, flag = torch.rot90(x, k, (2, 3)), torch.rot90(t, k, (2, 3)), torch.rot90(flag, k, (2, 3))
            inp = torch.cat([x, flag], 1).to(dev).contiguous(memory_format=torch.channels_last)
            return lambda m: F.mse_loss(m(inp), t.to(dev))

        return (make(i) for i in range(nb))

    def run(m, u, flag):
        out = []
        with torch.inference_mode():
            for i in range(0, len(u), 64):
                t = torch.from_numpy(u[i:i + 64]).to(dev)
                out.append(m(torch.cat([t, torch.full_like(t, flag)], 1)).float().cpu())
        return torch.cat(out).numpy()

    def val(m):
        ld = float(np.mean((run(m, vud, 0.0) - vtd) ** 2))
        ls = float(np.mean((run(m, vus, 1.0) - vts) ** 2))
        return (ld + ls) / 2, {"val_denoise_mse": ld, "val_sr_mse": ls}

    hist = fit(net, EpochBatches(batches, nb), val, plan(spec, epochs, spec.lr, max_minutes), progress=progress,
               desc=spec.name).history
    card = base_card(spec, net, (1, spec.size, spec.size), ["galaxy"])
    card["outputs"] = {"denoise": f"[N, {spec.size}, {spec.size}] denoised image, input units",
                       "super_resolve": f"[N, {spec.size}, {spec.size}] from [N, {spec.size // 2}, {spec.size // 2}] "
                                        "2x2-binned noisy cutouts", "classes": ["galaxy"]}
    card["training"] = {"simulator": f"astrohub.sims.images.simulate_images(task='denoise', size={spec.size})",
                        "seed": spec.seed, "split_seeds": spec.split_seeds(), "n_train": n, "n_val": len(vud),
                        "n_test": len(data["test"]) if "test" in data else 0, "epochs_run": len(hist),
                        "best_epoch": int(np.argmin([h["val_loss"] for h in hist]) + 1), "batch": bs, "lr": spec.lr,
                        "optimizer": f"AdamW + one-cycle, early stopping on val loss (patience {spec.patience})",
                        "augmentation": "random 32x32 crops + rot90; every batch is half denoise, half 2x SR",
                        "loss": "MSE in arcsinh(x / 3 sigma) units", "history": hist}
    gsig = best_gaussian_sigma(va.images, va.meta["truth"])
    card["metrics"], card["baseline"] = {}, {"gaussian_sigma_px": gsig}
    if "test" in data:
        te = data["test"]
        tud, tsd, tus, tss = gen_inputs(te.images, te.meta["lowres"])
        den = np.sinh(run(net, tud, 0.0)) * GEN_SCALE * tsd
        sr = np.sinh(run(net, tus, 1.0)) * GEN_SCALE * tss
        card["metrics"], card["baseline"] = generator_report(te.images, te.meta["lowres"], te.meta["truth"],
                                                             den[:, 0], sr[:, 0], gsig)
        card["target_met"] = {k: card["metrics"][k]["mean"] > card["baseline"][b]["mean"] for k, b in
                              (("denoise_psnr", "gaussian_denoise_psnr"), ("sr_psnr", "bicubic_sr_psnr"),
                               ("denoise_ssim", "gaussian_denoise_ssim"), ("sr_ssim", "bicubic_sr_ssim"))}
    card["_state"] = net.state_dict()
    return card


def generator_report(noisy, low, truth, den, sr, gsig) -> tuple[dict, dict]:
    """PSNR/SSIM (mean, 95% CI) of the model and of the classical baselines against the truth."""
    def stat(t, e):
        return {k: dict(zip(("mean", "ci95"), M.mean_ci(f(t, e)))) for k, f in (("psnr", M.psnr), ("ssim", M.ssim))}

    def flat(prefix, d):
        return {f"{prefix}_{k}": v for k, v in d.items()}

    metrics = {"split": "test", "n": int(len(truth)), **flat("denoise", stat(truth, den)),
               **flat("sr", stat(truth, sr)),
               "noisy_input_psnr": dict(zip(("mean", "ci95"), M.mean_ci(M.psnr(truth, noisy))))}
    base = {"method": f"Gaussian filter (sigma {gsig} px, chosen on validation), 3x3 median filter, "
                      "bicubic (cubic spline) 2x upsampling", "gaussian_sigma_px": gsig,
            **flat("gaussian_denoise", stat(truth, gaussian_denoise(noisy, gsig))),
            **flat("median_denoise", stat(truth, median_denoise(noisy))),
            **flat("bicubic_sr", stat(truth, bicubic_upsample(low)))}
    return metrics, base
