"""``transient_realbogus``: pretrain on ZTF-like simulations, then adapt to real ZTF alerts (the ztf_alerts kit).

1. Simulate the recipe's ``transient`` task as ZTF serves alerts (63x63 stamps at 1.01"/px, raw counts,
   NaN masks; :mod:`astrohub.sims.images`) and pass every stamp through the model's own input adapter
   (:func:`astrohub.models.inputs.ztf.prepare`: background, noise scaling, masked pixels, 32x32 crop), so
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
from ..recipes import Recipe
from .engine import EpochBatches, Options, Plan, fit, fit_temperature

CHUNK = 500
SIM_VERSION = 2  # part of the cache name: bump when the transient simulator or the adapter changes


def card_inputs(spec: Recipe, ranges: dict | None = None) -> dict:
    """The card's ``inputs``: raw ZTF stamps in, the ``ztf`` adapter, the network's crop, OOD ranges."""
    s = int(spec.size)  # the network's input: the centre of the stamp
    return {"shape": [3, s, s], "stamp_shape": [3, ztf_inputs.STAMP, ztf_inputs.STAMP], "bands": list(spec.channels),
            "pixel_scale_arcsec": ztf_inputs.PIXEL_SCALE, "adapter": "ztf",
            "units": "raw ZTF alert stamps as served (cutoutScience, cutoutTemplate, cutoutDifference): counts, "
                     "science and template not sky-subtracted, NaN where masked; [N, 3, 63, 63] or [3, 63, 63] "
                     "(square stamps down to the network's input size are accepted)",
            "normalisation": "applied by the predictor (astrohub.models.inputs.ztf.prepare): per plane, minus the "
                             "median and over 1.4826*MAD of the whole stamp, masked pixels as a +-0.6745 "
                             f"checkerboard, centre crop to {s}x{s}; then arcsinh(x / sigma), sigma = 1.4826*MAD of "
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
    net = nets.build(card["arch"]).to(dev)
    net.load_state_dict(state)
    if dev.type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    return net.eval()


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
    real_stats = ztf_inputs.stamp_stats(np.where(np.abs(kit["stamps"][tr]) > ztf_inputs.BAD_VALUE, np.nan,
                                                 kit["stamps"][tr]).astype(np.float64))
    sims = data["train"]
    xs, ys = normalise(sims.images)[0], sims.labels
    sim_stats = sims.meta["stamp_stats"]
    q = lambda v: [round(float(np.nanmin(v)), 2), round(float(np.nanmax(v)), 2)]  # noqa: E731
    inputs["ranges"] = {"nan_fraction": [0.0, round(float(max(sim_stats[:, 0].max(),
                                                               real_stats["nan_fraction"].max())), 3)],
                        "sky": q(np.concatenate([sim_stats[:, 1], real_stats["sky"]])),
                        "noise": q(np.concatenate([sim_stats[:, 2], real_stats["noise"][:, 0]]))}

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
