"""``transient_realbogus``: trained on real ZTF alerts (the ztf_alerts kit) with ZTF-like simulations alongside.

The shipped recipe (``real["pretrain"] = False``, :func:`train_real`): an ensemble of networks (one per seed of
``real["seeds"]``) trained from scratch on the kit's TRAIN split, distilling ZTF's own deep real/bogus score
(binary cross-entropy of the real-minus-bogus logit against the continuous ``drb``; ``rb`` for the rb-only
alerts), every batch paired with as many simulations (:func:`distil_batches`); a fixed number of epochs (chosen
by cross-validation inside train+val: ``real["selection"]``, copied to the card); temperature on the VAL split;
8-view dihedral test-time averaging in the predictor; with ``real["stack"]`` (shipped) a tree component fitted on the
same alerts as the members (:func:`fit_stack`: a random forest regressing drb on summary features of the raw stamps,
its logit added to the real logit before the temperature); with ``real["final_fit"] = "train+val"`` (shipped) the same
members, and the forest, are then refitted on TRAIN + VAL (the same epochs, that temperature kept: stage 2); the
card's ``real`` section from the TEST split. Without
the kit it trains the simulation-only classifier (steps 1-2 below).

With ``real["pretrain"]`` true (the earlier recipe):

1. Simulate the recipe's ``transient`` task as ZTF serves alerts (63x63 stamps at 1.01"/px, raw counts,
   NaN masks; :mod:`astrohub.sims.images`) and pass every stamp through the model's own input adapter
   (:func:`astrohub.models.inputs.ztf.prepare`: background, noise scaling, masked pixels, centre crop), so
   training sees exactly what the predictor will.
2. Pretrain with the zoo's image-classifier recipe (:func:`astrohub.models.training.images._train_classifier`
   on the engine: stages, resume, snapshot ensembles and the simulation card all as for any classifier).
3. Fine-tune on the kit's TRAIN split (label ``drb >= 0.5``; the 40 rb-only alerts train with ``rb >= 0.5``,
   or braai's notebook output where the kit gives it), every batch half real alerts, half simulations
   (keeps what the simulations taught), on :func:`engine.fit` with early stopping on the kit's VAL split
   (drb-labelled alerts; the pretrained weights compete), then temperature calibration on the same VAL split.
4. The card: the ``real`` section measured on the kit's TEST split through ``model.predict`` (never used
   before), with ZTF's own ``rb`` and a random forest trained on the TRAIN split beside it; the simulation
   metrics recomputed for the adapted weights (secondary).

Named by the recipe's ``real["trainer"] = "realbogus:train"`` (see :func:`astrohub.models.training.images.
train_classifier`); ``astrohub train transient_realbogus [--data DIR]`` reproduces it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from astrohub.sims.images import ImageBatch

from .. import nets
from ..datasets import cache_dir
from ..evaluation import metrics as M
from ..evaluation.kits import KitError, kit_dir
from ..evaluation.kits import ztf_alerts as Z
from ..evaluation.metrics import by_snr
from ..inputs import normalise
from ..inputs import ztf as ztf_inputs
from ..predictors.images import TreeStack
from ..recipes import Recipe
from .engine import EpochBatches, Options, Plan, fit, fit_temperature

CHUNK = 500
PROTOCOL = ("test split: measured once, after training, through model.predict on the raw stamps; never used to "
            "train, stop, calibrate or choose. Settings (soft drb target vs hard labels, simulated half-batches, "
            "input crop, network, mixup, the tree component) chosen by 5-fold cross-validation inside train+val "
            "(training.selection); the members train on the train split for a fixed number of epochs, the last "
            "weights kept, and the tree component on the same alerts; the val split calibrates the temperature (its "
            "AUC is in calibration.val_auc)")
MIN_STAMP = 32  # the smallest stamp the adapter takes (a smaller one than the network's input is padded as masked)
SIM_VERSION = 2  # part of the cache name: bump when the transient simulator or the adapter changes


def card_inputs(spec: Recipe, ranges: dict | None = None) -> dict:
    """The card's ``inputs``: raw ZTF stamps in, the ``ztf`` adapter, the network's crop, OOD ranges."""
    s = int(spec.size)  # the network's input: the centre of the stamp
    return {"shape": [3, s, s], "stamp_shape": [3, ztf_inputs.STAMP, ztf_inputs.STAMP], "min_stamp": min(s, MIN_STAMP),
            "bands": list(spec.channels),
            "pixel_scale_arcsec": ztf_inputs.PIXEL_SCALE, "adapter": "ztf",
            "units": "raw ZTF alert stamps as served (cutoutScience, cutoutTemplate, cutoutDifference): counts, "
                     "science and template not sky-subtracted, NaN where masked; [N, 3, 63, 63] or [3, 63, 63], "
                     "or the alert packets (dicts as fastavro reads them; each cutout's gzip-compressed FITS bytes), "
                     "paths of Avro files of them (ZTF's alert archive, brokers' downloads), "
                     "or FITS HDU lists of each alert's three cutouts (as ALeRCE serves them); masked arrays' "
                     "masked pixels as NaN "
                     f"(square stamps down to {min(s, MIN_STAMP)}x{min(s, MIN_STAMP)} are accepted; one smaller "
                     f"than the network's {s}x{s} input is centred in masked pixels, and flagged)",
            "normalisation": "applied by the predictor (astrohub.models.inputs.ztf.prepare): per plane, minus the "
                             "median and over 1.4826*MAD of the whole stamp, masked pixels as a +-0.6745 "
                             f"checkerboard, centre crop to {s}x{s} (a smaller stamp: centred in that checkerboard); "
                             "then arcsinh(x / sigma), sigma = 1.4826*MAD of "
                             "the 4-pixel border",
            "ranges": ranges or {}}


def _prepared(batch: ImageBatch, inputs: dict) -> ImageBatch:
    """A simulated batch seen through the adapter; ``meta["stamp_stats"]`` = [masked fraction, sky, noise]."""
    x, _ = ztf_inputs.prepare(batch.images, inputs, "simulation")
    raw = batch.images.astype(np.float64)
    raw[~np.isfinite(raw) | (np.abs(raw) > ztf_inputs.BAD_VALUE)] = np.nan
    st = ztf_inputs.stamp_stats(raw)
    meta = dict(batch.meta, stamp_stats=np.stack([st["nan_fraction"], st["sky"], st["noise"][:, 0]], 1)
                .astype(np.float32))
    return ImageBatch(x, batch.labels, batch.class_names, meta, batch.task, batch.seed)


def _simulate_chunk(args) -> ImageBatch:
    from astrohub.sims.images import simulate_range

    task, a, b, seed, size, inputs = args
    return _prepared(simulate_range(task, a, b, seed, size), inputs)


def simulated(spec: Recipe, opts: Options, inputs: dict) -> dict[str, ImageBatch]:
    """Train / val / test simulations (disjoint seeds, sizes as for every image recipe) through the adapter,
    simulated in parallel chunks and cached as prepared crops (the raw 63x63 stamps are never stored)."""
    from concurrent.futures import ProcessPoolExecutor

    from .engine import progress_bar

    sizes = (opts.n_train or max([spec.n_train] + [st[2] for st in spec.stages if len(st) > 2]),
             opts.n_val or spec.n_val, opts.n_test or spec.n_test)
    seeds = spec.split_seeds()
    stamp = int(spec.real.get("stamp", 63))  # simulated as ZTF serves alerts; the network sees the centre
    out = {}
    for k, n in zip(("train", "val", "test"), sizes):
        if not n:
            continue
        crop = inputs["shape"][-1]
        path = cache_dir() / f"{spec.task}_ztf{SIM_VERSION}_s{seeds[k]}_n{n}_px{stamp}_crop{crop}.npz"
        if path.exists():
            z = np.load(path, allow_pickle=False)
            out[k] = ImageBatch(z["images"], z["labels"], [str(c) for c in z["class_names"]],
                                {m[5:]: z[m] for m in z.files if m.startswith("meta_")}, spec.task, seeds[k])
            continue
        jobs = [(spec.task, a, min(a + CHUNK, n), seeds[k], stamp, inputs) for a in range(0, n, CHUNK)]
        with ProcessPoolExecutor(max(1, min(2, len(jobs)))) as ex:
            parts = list(progress_bar(ex.map(_simulate_chunk, jobs), opts.progress, total=len(jobs),
                                      desc=f"simulating ZTF-like {k} alerts"))
        b = ImageBatch(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]),
                       parts[0].class_names, {m: np.concatenate([p.meta[m] for p in parts]) for m in parts[0].meta},
                       spec.task, seeds[k])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=b.images, labels=b.labels, class_names=np.array(b.class_names),
                 **{f"meta_{m}": v for m, v in b.meta.items()})
        tmp.replace(path)
        out[k] = b
    torch.manual_seed(spec.seed)
    np.random.seed(spec.seed)
    return out


def train(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """The whole recipe (see the module text): ``(card, state)``."""
    from . import images as I

    if not spec.real.get("pretrain", True) and opts.resume is None:
        try:
            return train_real(spec, opts, kit_dir(spec.real_kit, opts.data))
        except KitError:
            if opts.data is not None:
                raise
            print(f"{spec.name}: real kit {spec.real_kit!r} not found; training on simulations only "
                  "(validated_on_real: false)", flush=True)
    init = I._resume_point(spec, Path(opts.resume)) if opts.resume is not None else None
    inputs = card_inputs(spec)
    data = simulated(spec, opts, inputs)
    timed, minutes = I.budget(spec, opts, init is not None)
    card = I._train_classifier(spec, data, opts.device, opts.epochs or spec.epochs, minutes, opts.progress, init,
                               timed=timed)
    if init is not None:
        prev = init[0]["training"]
        card["training"]["wall_time_s_before_resume"] = round(prev.get("wall_time_s", 0)
                                                              + prev.get("wall_time_s_before_resume", 0), 1)
    snapshots = card.pop("_snapshots", None)
    if snapshots:
        from ..weights import save_weights

        snap = I._snapshot_dir(spec.name, opts.out)
        snap.mkdir(parents=True, exist_ok=True)
        card["training"]["snapshots"] = [save_weights(st, snap / f"stage{k + 1}.safetensors")
                                         for k, st in enumerate(snapshots)]
    state = card.pop("_state")
    card["training"]["simulator"] = (f"astrohub.sims.images.simulate_images(task={spec.task!r}, "
                                     f"size={spec.real.get('stamp', 63)}) "
                                     "(ZTF-like alert stamps), through astrohub.models.inputs.ztf.prepare")
    stats = np.concatenate([b.meta["stamp_stats"] for b in data.values()])
    ranges = {"nan_fraction": [0.0, round(float(stats[:, 0].max()), 3)]}
    card["inputs"] = card_inputs(spec, ranges)
    card["flops_per_image"] = nets.flops_per_image(_net(card, state, opts.device), tuple(card["inputs"]["shape"]))
    try:
        kdir = kit_dir(spec.real_kit, opts.data)
    except KitError:
        if opts.data is not None:
            raise
        print(f"{spec.name}: real kit {spec.real_kit!r} not found; the model is not adapted to real alerts "
              "(validated_on_real: false)", flush=True)
        return card, state
    return adapt(spec, opts, card, state, data, kdir)


def _net(card: dict, state: dict, dev) -> torch.nn.Module:
    return nets.on_device(card["arch"], dev, state).eval()


def adapt(spec: Recipe, opts: Options, card: dict, state: dict, data: dict, kdir: Path) -> tuple[dict, dict]:
    """Fine-tune on the kit's train split (half real, half simulated batches), early-stop on its val split,
    calibrate there; fill the card's ``real`` section from the test split."""
    from .images import _augment, logits

    cfg = spec.real
    dev = opts.device
    kit = Z.load(kdir)
    parts = Z.split(kit)
    inputs = card["inputs"]

    def prep(idx):
        return normalise(ztf_inputs.prepare(kit["stamps"][idx], inputs, spec.name)[0])[0]

    tr = parts["train"]
    va = parts["val"][kit["has_drb"][parts["val"]]]
    xtr, ytr = prep(tr), kit["label"][tr]
    xva, yva = prep(va), (kit["drb"][va] >= 0.5).astype(np.int64)
    sims = data["train"]
    xs, ys = normalise(sims.images)[0], sims.labels
    inputs["ranges"] = _real_inputs(spec, kit, tr, sims.meta["stamp_stats"])["ranges"]

    net = _net(card, state, dev)
    bs = int(cfg.get("batch", 32))
    epochs = int(opts.epochs if opts.epochs is not None else cfg.get("epochs", 30))
    steps = max(len(xtr) // bs, 1)
    g = torch.Generator().manual_seed(int(cfg.get("seed", spec.seed)))
    Xr, Yr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    Xs, Ys = torch.from_numpy(xs), torch.from_numpy(ys)
    w_real = torch.tensor(cfg.get("class_weight", [1.0, 1.0]), dtype=torch.float32).to(dev)
    sim_weight = float(cfg.get("sim_weight", 1.0))

    def make(epoch):
        perm = torch.randperm(len(Xr), generator=g)

        def step(i):
            ri = perm[i * bs:(i + 1) * bs]
            si = torch.randint(len(Xs), (bs,), generator=g)

            def loss(m):
                xr_ = _augment(Xr[ri], g).to(dev).contiguous(memory_format=torch.channels_last)
                xs_ = _augment(Xs[si], g).to(dev).contiguous(memory_format=torch.channels_last)
                return (F.cross_entropy(m(xr_), Yr[ri].to(dev), weight=w_real)
                        + sim_weight * F.cross_entropy(m(xs_), Ys[si].to(dev)))
            return loss

        return (step(i) for i in range(steps))

    def validate(m):
        lg = logits(m, xva, dev)
        p = F.softmax(lg, 1).numpy()
        return float(F.cross_entropy(lg, torch.from_numpy(yva))), {"val_acc": float((p.argmax(1) == yva).mean()),
                                                                    "val_auc": M.auc(yva, p)}

    before = validate(net)
    plan = Plan(epochs=epochs, lr=float(cfg.get("lr", 5e-4)), patience=int(cfg.get("patience", 6)),
                monitor=cfg.get("monitor", "val_loss"), keep_start=True, weight_decay=float(cfg.get("wd", 1e-4)),
                max_minutes=opts.max_minutes)
    run = fit(net, EpochBatches(make, steps), validate, plan, progress=opts.progress, desc=f"{spec.name} adapt")
    lg_va = logits(net, xva, dev)
    T = fit_temperature(lg_va, yva)
    pv_raw, pv = F.softmax(lg_va, 1).numpy(), F.softmax(lg_va / T, 1).numpy()
    card["calibration_simulation"] = card.pop("calibration", None)
    card["calibration"] = {"method": f"temperature scaling on the {spec.real_kit} kit's validation split (real "
                                     "alerts with drb; never the test split)", "temperature": T,
                           "val_ece_before": M.ece(yva, pv_raw), "val_ece_after": M.ece(yva, pv), "n_val": int(len(va))}
    card["training"]["adaptation"] = {
        "kit": spec.real_kit, "trainer": "astrohub.models.training.realbogus.adapt",
        "labels": "drb >= 0.5; rb-only alerts train with rb >= 0.5 (braai's notebook output for the two the kit "
                  "notes) and are never scored", "n_train_real": int(len(tr)), "n_val_real": int(len(va)),
        "batches": f"{bs} real (train split) + {bs} simulated alerts per step, loss = CE(real) + {sim_weight:g} "
                   "CE(simulated), one random dihedral transform per half-batch",
        "plan": f"AdamW, one-cycle peak lr {plan.lr:g}, {epochs} epochs max, early stopping on the kit's val "
                f"{plan.monitor} (patience {plan.patience}; the pretrained weights compete)",
        "val_before": {"val_loss": before[0], **before[1]}, "best_epoch": run.best_epoch,
        "stopped": run.stopped, "history": run.history}
    card["metrics_pretrained"] = card.get("metrics")
    if "test" in data:  # the simulation metrics of the adapted weights (secondary)
        te = data["test"]
        lg_te = logits(net, normalise(te.images)[0], dev)
        pte = F.softmax(lg_te / T, 1).numpy().astype(np.float64)
        card["metrics"] = {"split": "test", "data": "simulated",
                           **M.classification_report(te.labels, pte, te.class_names),
                           "ece_uncalibrated": M.ece(te.labels, F.softmax(lg_te, 1).numpy()),
                           "by_snr": by_snr(te, pte)}
        card["target_met"] = M.targets_met(spec.targets, card["metrics"], card["baseline"]["metrics"])
    state = {k: v.detach().cpu() for k, v in copy.deepcopy(net.state_dict()).items()}
    from ..predictors.images import Classifier

    model = Classifier(card, state, device="cpu")
    real = Z.measure(model, kdir)
    head = {k: card.pop(k) for k in ("name", "version", "kind", "task", "description") if k in card}
    card = {**head, "validated_on_real": True, "real": real, **card}
    return card, state


def _real_inputs(spec: Recipe, kit: dict, idx: np.ndarray, sim_stats: np.ndarray) -> dict:
    """The card's ``inputs`` with OOD ranges measured on the real training alerts and the simulations."""
    inputs = card_inputs(spec)
    real = ztf_inputs.stamp_stats(np.where(np.abs(kit["stamps"][idx]) > ztf_inputs.BAD_VALUE, np.nan,
                                           kit["stamps"][idx]).astype(np.float64))
    q = lambda v: [round(float(np.nanmin(v)), 2), round(float(np.nanmax(v)), 2)]  # noqa: E731
    inputs["ranges"] = {"nan_fraction": [0.0, round(float(max(sim_stats[:, 0].max(), real["nan_fraction"].max())), 3)],
                        "sky": q(np.concatenate([sim_stats[:, 1], real["sky"]])),
                        "noise": q(np.concatenate([sim_stats[:, 2], real["noise"][:, 0]]))}
    return inputs


def fit_stack(cfg: dict, kit: dict, rows: np.ndarray, inputs: dict) -> tuple[dict, dict[str, torch.Tensor]]:
    """The tree component (:class:`astrohub.models.predictors.images.TreeStack`) of the recipe's ``real["stack"]``,
    fitted on the kit's ``rows`` (soft target): (the card's ``stack``, its tensors)."""
    from sklearn.ensemble import RandomForestRegressor

    from ..inputs.adapters import features
    from ..nets.forest import pack
    from ..predictors.images import STACK_PREFIX

    f, w = cfg["forest"], float(cfg["weight"])
    x, names = features(cfg["features"])(kit["stamps"][rows], inputs)
    rf = RandomForestRegressor(int(f["trees"]), min_samples_leaf=int(f["min_samples_leaf"]),
                               max_features=float(f["max_features"]), random_state=int(f["seed"]), n_jobs=2)
    spec = {"features": cfg["features"], "feature_names": names, "class": "real", "weight": w,
            "clip": float(cfg.get("clip", 1e-3)), "forest": dict(f),
            "method": f"random-forest regression of the soft target (drb) on {len(names)} summary features of the raw "
                      "stamps (astrohub.models.inputs.ztf.stamp_features), fitted on the same alerts as the networks; "
                      f"{w:g} x logit of its estimate (clipped) joins the real logit before the temperature"}
    return spec, pack(rf.fit(x, kit["target"][rows]), STACK_PREFIX)


def distil_batches(xr: np.ndarray, tr: np.ndarray, xs: np.ndarray, ys: np.ndarray, bs: int, sim_weight: float,
                   g: torch.Generator, dev, mixup: float = 0.0, augment: str = "batch", aux: np.ndarray | None = None,
                   aux_weight: float = 0.0, rank: float = 0.0) -> EpochBatches:
    """One epoch = one pass over the real alerts ``xr`` in batches of ``bs``, each paired with ``bs`` random
    simulations ``xs``; loss = (BCE(real logit margin, soft target ``tr``) + ``sim_weight`` BCE(simulated,
    label ``ys``)) / (1 + ``sim_weight``), one random dihedral transform per half-batch. The logit margin
    (real minus bogus) is what the softmax of the 2-class head turns into p(real). ``mixup`` > 0: each real
    half-batch is mixed with a shuffled copy of itself, images and soft targets alike, with a weight drawn from
    Beta(mixup, mixup) per step (0: no mixing, and no extra random numbers drawn). ``augment``: "batch" (one
    dihedral transform per half-batch), "sample" (one per alert) or "sample+shiftN" (and rolled by up to N px).
    ``aux`` [N, k] (standardised packet measurements, NaN where missing; :func:`~astrohub.models.evaluation.kits.
    ztf_alerts.packet_targets`): the network has 2 + k outputs and the real half-batch's loss adds ``aux_weight``
    times the mean squared error of outputs 2.. against them (missing values left out); the simulations have
    none. ``rank`` > 0: the real half-batch's loss also adds ``rank`` times the mean pairwise logistic loss
    softplus(-(margin of a real alert - margin of a bogus one)) over its real/bogus pairs (target >= 0.5 vs
    below), a smooth AUC."""
    from .images import _augment, augment_each

    aug = _augment
    if augment != "batch":
        each = re.fullmatch(r"sample(?:\+shift(\d+))?", augment)
        if each is None:
            raise ValueError(f"augment must be 'batch', 'sample' or 'sample+shiftN', got {augment!r}")
        aug = lambda x, g: augment_each(x, g, int(each.group(1) or 0))  # noqa: E731

    Xr, Tr = torch.from_numpy(xr), torch.from_numpy(np.asarray(tr, np.float32))
    Xs, Ys = torch.from_numpy(xs), torch.from_numpy(np.asarray(ys, np.float32))
    A = None if aux is None else torch.from_numpy(np.asarray(aux, np.float32))
    if A is not None and len(A) != len(Xr):
        raise ValueError(f"aux has {len(A)} rows for {len(Xr)} real alerts")
    steps = max(len(Xr) // bs, 1)
    cl = dev.type == "cpu"

    def forward(m, x):
        x = x.to(dev)
        return m(x.contiguous(memory_format=torch.channels_last) if cl else x)

    def margin(lg):
        return lg[:, 1] - lg[:, 0]

    def make(epoch):
        perm = torch.randperm(len(Xr), generator=g)

        def step(i):
            ri = perm[i * bs:(i + 1) * bs]
            si = torch.randint(len(Xs), (bs,), generator=g) if sim_weight else None  # none: real alerts only
            xr_, tr_, ar_ = Xr[ri], Tr[ri], None if A is None else A[ri]
            if mixup:
                lam = float(np.random.default_rng(int(torch.randint(2 ** 31, (1,), generator=g))).beta(mixup, mixup))
                mi = ri[torch.randperm(len(ri), generator=g)]
                xr_, tr_ = lam * xr_ + (1 - lam) * Xr[mi], lam * tr_ + (1 - lam) * Tr[mi]
                ar_ = None if A is None else lam * ar_ + (1 - lam) * A[mi]

            def loss(m):
                lg = forward(m, aug(xr_, g))
                mg, tt = margin(lg), tr_.to(dev)
                out = F.binary_cross_entropy_with_logits(mg, tt)
                if rank and (tt >= 0.5).any() and (tt < 0.5).any():
                    out = out + rank * F.softplus(mg[tt < 0.5][None, :] - mg[tt >= 0.5][:, None]).mean()
                if ar_ is not None:
                    ok = torch.isfinite(ar_).to(dev)
                    err = (lg[:, 2:] - torch.nan_to_num(ar_).to(dev)) ** 2
                    out = out + aux_weight * (err * ok).sum() / ok.sum().clamp(min=1)
                if sim_weight:
                    out = out + sim_weight * F.binary_cross_entropy_with_logits(margin(forward(m, aug(Xs[si], g))),
                                                                                Ys[si].to(dev))
                return out / (1 + sim_weight)
            return loss

        return (step(i) for i in range(steps))

    return EpochBatches(make, steps)


def train_real(spec: Recipe, opts: Options, kdir: Path) -> tuple[dict, dict]:
    """The recipe without simulation pretraining (``real["pretrain"] = False``): an ensemble of networks
    (one per seed of ``real["seeds"]``) trained from scratch on the kit's TRAIN split, distilling ZTF's own
    score (soft target ``drb``, ``rb`` for the rb-only alerts), every batch paired with as many simulations
    (weight ``real["sim_weight"]``) so the simulated domain is learnt too; a fixed number of epochs (chosen by
    cross-validation inside train+val, see ``real["selection"]``), the val split only recorded during training;
    temperature on the VAL split (ensemble logits averaged over the 8 dihedral views, as the predictor
    serves them); with ``real["final_fit"] = "train+val"`` the members are then retrained on TRAIN + VAL (same
    seeds and epochs, that temperature kept); the card's ``real`` section from the TEST split, used for nothing
    else."""
    import dataclasses
    import time

    from ..evaluation.baselines import fit_forest, image_features
    from ..evaluation.metrics import targets_met
    from .engine import VERSION
    from .images import logits

    cfg = spec.real
    dev = opts.device
    t0 = time.time()
    data = simulated(dataclasses.replace(spec, n_val=0), dataclasses.replace(opts, n_val=None), card_inputs(spec))
    sims = data["train"]
    kit = Z.load(kdir)
    parts = Z.split(kit)
    tr = parts["train"]
    va = parts["val"][kit["has_drb"][parts["val"]]]
    inputs = _real_inputs(spec, kit, tr, np.concatenate([b.meta["stamp_stats"] for b in data.values()]))

    def prep(idx):
        return normalise(ztf_inputs.prepare(kit["stamps"][idx], inputs, spec.name)[0])[0]

    xtr, ttr = prep(tr), kit["target"][tr]
    xva, yva = prep(va), (kit["drb"][va] >= 0.5).astype(np.int64)
    xs, ys = normalise(sims.images)[0], sims.labels
    bs = int(cfg.get("batch", 32))
    epochs = int(opts.epochs if opts.epochs is not None else cfg.get("epochs", 30))
    sim_weight = float(cfg.get("sim_weight", 0.5))
    seeds = [int(v) for v in cfg.get("seeds", [cfg.get("seed", spec.seed)])]
    plan = Plan(epochs=epochs, lr=float(cfg.get("lr", 2e-3)), weight_decay=float(cfg.get("wd", 1e-4)),
                monitor="epochs_trained", max_minutes=opts.max_minutes, ema=cfg.get("ema"),
                sam=cfg.get("sam"))
    final = spec.final_fit()
    history = []

    def ensemble(x, target, stage):
        """The members (one per seed) trained on ``x``/``target``: (arch, state) of one network averaging them.
        Stage 1 records the val split after each epoch; stage 2 trains on it, so records nothing (last weights
        either way)."""
        states = []
        for k, seed in enumerate(seeds):
            torch.manual_seed(seed)
            net = nets.on_device(spec.arch, dev)
            done = [0]

            def validate(m, done=done):  # recorded only: the monitor (epochs trained) keeps the last weights
                done[0] += 1
                lg = logits(m, xva, dev)
                p = F.softmax(lg, 1).numpy()
                return float(F.cross_entropy(lg, torch.from_numpy(yva))), {
                    "val_acc": float((p.argmax(1) == yva).mean()), "val_auc": M.auc(yva, p), "epochs_trained": done[0]}

            g = torch.Generator().manual_seed(seed)
            run = fit(net, distil_batches(x, target, xs, ys, bs, sim_weight, g, dev),
                      validate if stage == 1 else None, plan,
                      progress=opts.progress, desc=f"{spec.name} stage {stage} member {k + 1}/{len(seeds)}")
            history.extend({"stage": stage, "member": k + 1, **{h: v for h, v in e.items() if h != "epochs_trained"}}
                           for e in run.history)
            states.append({n: v.detach().cpu().clone() for n, v in net.state_dict().items()})
        if len(states) == 1:
            return dict(spec.arch), states[0]
        return nets.images.EnsembleClassifier.arch(spec.arch, len(states)), nets.images.EnsembleClassifier.merge(states)

    arch, state = ensemble(xtr, ttr, 1)
    net = _net({"arch": arch}, state, dev)
    lg_va = logits(net, xva, dev, tta=True)
    stack = None  # the card's tree component, fitted from the recipe's settings cfg["stack"] when it has them
    if cfg.get("stack"):  # fitted on the same rows as the members; its logits join theirs before T
        stack, trees = fit_stack(cfg["stack"], kit, tr, inputs)
        lg_va = lg_va + TreeStack(stack, trees, list(sims.class_names)).logits(kit["stamps"][va], inputs, spec.name,
                                                                               lg_va.shape[1])
    T = fit_temperature(lg_va, yva)
    pv_raw, pv = F.softmax(lg_va, 1).numpy(), F.softmax(lg_va / T, 1).numpy()
    if final == "train+val":  # stage 2: the same members on train + val (every val alert, rb-only ones too), the
        # same epochs, stage 1's temperature; the val figures above stay stage 1's (val is in training now)
        both = np.concatenate([tr, parts["val"]])
        arch, state = ensemble(prep(both), kit["target"][both], 2)
        net = _net({"arch": arch}, state, dev)
        if stack:  # and the forest refitted on the same alerts
            stack, trees = fit_stack(cfg["stack"], kit, both, inputs)
    if stack:
        state = {**state, **trees}
    s = int(spec.size)
    card = {"name": spec.name, "version": VERSION, "kind": spec.kind, "task": spec.task,
            "description": spec.description, "inputs": inputs,
            "outputs": {"classes": list(sims.class_names), "mc_samples": 20, "tta": "dihedral8",
                        "probabilities": "temperature-calibrated softmax of the ensemble's logits averaged over the "
                                         "8 rotations/reflections of each alert (test-time augmentation inside the "
                                         "predictor: 8 forward passes per member)",
                        "uncertainty": "std of the predicted class probability over 20 MC-dropout samples"},
            "arch": arch, "n_params": int(sum(p.numel() for p in net.parameters())),
            "flops_per_image": nets.flops_per_image(net, (3, s, s)), "targets": spec.targets,
            "reproduce": f"astrohub train {spec.name} --data DIR (DIR holding the {spec.real_kit} kit)"}
    if stack:
        card["stack"] = stack
        card["outputs"]["probabilities"] += (f"; {stack['weight']:g} x logit of the tree component's drb estimate "
                                             "added to the real logit first (card's stack)")
    summed = " plus the tree component's" if stack else ""
    card["calibration"] = {"method": f"temperature scaling of the TTA-averaged ensemble logits{summed} on the "
                                     f"{spec.real_kit} kit's validation split (real alerts with drb, label drb >= "
                                     "0.5; used for nothing else in training; never the test split)", "temperature": T,
                           "val_ece_before": M.ece(yva, pv_raw), "val_ece_after": M.ece(yva, pv),
                           "val_auc": M.auc(yva, pv), "n_val": int(len(va)),
                           **({"fit_on": "stage 1 (the members trained on the train split); the shipped stage-2 "
                                         "members reuse its temperature, and these val figures are stage 1's"}
                              if final == "train+val" else {})}
    card["training"] = {
        "simulator": (f"astrohub.sims.images.simulate_images(task={spec.task!r}, size={spec.real.get('stamp', 63)}) "
                      "(ZTF-like alert stamps), through astrohub.models.inputs.ztf.prepare"),
        "kit": spec.real_kit, "trainer": "astrohub.models.training.realbogus.train_real",
        "pretraining": "none: every member starts from random weights",
        "labels": "soft target = ZTF's drb (its deep real/bogus score, distilled with binary cross-entropy on the "
                  "real-minus-bogus logit); rb for the 40 rb-only alerts (braai's notebook output for the two the "
                  "kit notes); simulations with their true label",
        "n_train_real": int(len(tr)), "n_val_real": int(len(va)), "n_train": int(len(xs)), "seeds": seeds,
        "n_val": 0, "n_test": int(len(data["test"])) if "test" in data else 0,  # simulations (no simulated val)
        "batches": f"{bs} real ({'train split; stage 2: train + val' if final == 'train+val' else 'train split'}) + "
                   f"{bs} simulated alerts per step, loss = (BCE(real) + {sim_weight:g} "
                   f"BCE(simulated)) / {1 + sim_weight:g}, one random dihedral transform per half-batch",
        "plan": f"AdamW (weight decay {plan.weight_decay:g}), one-cycle peak lr {plan.lr:g}, {epochs} epochs, the "
                "last weights kept (no early stopping: the val split is only recorded, and calibrates)"
                + ("; then (stage 2) the same members, from the same seeds, retrained on train + val for the same "
                   "epochs, stage 1's temperature kept: the shipped weights" if final == "train+val" else ""),
        "final_fit": final, "n_final_real": int(len(tr) + (len(parts["val"]) if final == "train+val" else 0)),
        "selection": cfg.get("selection", ""), "batch": bs, "history": history,
        "epochs_run": len(history), "split_seeds": spec.split_seeds(), "seed": spec.seed}
    card["metrics"], card["baseline"] = {}, {}
    if "test" in data:  # the simulated domain (secondary)
        te = data["test"]
        xte = normalise(te.images)[0]
        extra = 0.0
        if stack:  # the tree component reads the raw stamps, which the cache does not keep: simulated again
            from astrohub.sims.images import simulate_range

            raw = simulate_range(spec.task, 0, len(te.labels), spec.split_seeds()["test"], int(cfg.get("stamp", 63)))
            extra = TreeStack(stack, state, list(te.class_names)).logits(raw.images, inputs, spec.name,
                                                                         len(te.class_names))
        lg_te = logits(net, xte, dev, tta=True) + extra
        pte = F.softmax(lg_te / T, 1).numpy().astype(np.float64)
        card["metrics"] = {"split": "test", "data": "simulated",
                           **M.classification_report(te.labels, pte, te.class_names),
                           "ece_uncalibrated": M.ece(te.labels, F.softmax(lg_te, 1).numpy()),
                           "accuracy_single_pass": M.accuracy(
                               te.labels, F.softmax((logits(net, xte, dev) + extra) / T, 1).numpy()),
                           "tta": "dihedral8 (metrics above are with test-time augmentation)",
                           "by_snr": by_snr(te, pte)}
        rf = fit_forest(xs, ys, spec.seed)
        card["baseline"] = {"method": "random forest (300 trees) on simple features (8x8 block means, central 8x8 "
                                      "pixels, flux, peak, second moments) of the simulated training alerts",
                            "n_train": int(min(len(xs), 8000)),
                            "metrics": M.classification_report(te.labels, rf.predict_proba(image_features(xte)),
                                                               te.class_names)}
        card["target_met"] = targets_met(spec.targets, card["metrics"], card["baseline"]["metrics"])
    card["training"]["train_minutes"] = round((time.time() - t0) / 60, 1)
    from ..predictors.images import Classifier

    real = Z.measure(Classifier(card, state, device="cpu"), kdir)
    real["protocol"] = PROTOCOL + ("; then the same members (and the tree component) are retrained on train + val for "
                                   "the same epochs with that temperature (training.final_fit)"
                                   if final == "train+val" else "")
    head = {k: card.pop(k) for k in ("name", "version", "kind", "task", "description")}
    return {**head, "validated_on_real": True, "real": real, **card}, state
