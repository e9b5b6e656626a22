"""The ``galaxyzoo1_jpeg`` kit: 2,058 SDSS gri colour JPEGs (423x423, as Galaxy Zoo 1 served them) with their
Galaxy Zoo 1 classes mapped onto elliptical / spiral-disk / edge-on / irregular-merger (see the kit's
PROVENANCE.md).

:func:`load` reads ``labels.csv`` and the image paths as served; :func:`split` cuts the kit, stratified and with
a fixed seed, into train / val / test (60 / 20 / 20 %); :func:`measure` scores a colour model on the TEST split,
reading the JPEG files themselves by path, with 95% bootstrap intervals, next to a random forest on simple
pixel features trained on the TRAIN split of the same kit.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .. import metrics as M
from . import KitError, fitted_rows, real_section, split_indices

KIT = "galaxyzoo1_jpeg"
CLASSES = ["elliptical", "spiral-disk", "edge-on", "irregular-merger"]
SPLIT_SEED = 17  # the kit's one train / val / test split (issue #17)
TARGETS = {"accuracy": 0.85, "macro_recall": 0.70}  # and above the random forest on the same split
BASELINE_FRAME, BASELINE_CROP = 128, 64  # the forest sees the central half of each stamp at 64x64 px


def load(kit_dir: str | Path) -> dict:
    """The kit as served: ``paths`` (the JPEG files), ``labels`` (indices into :data:`CLASSES`), ``objid`` (SDSS
    DR7 objID) and ``gz1_class``. KitError when ``labels.csv`` or an image is missing, ValueError for a class
    the models do not know."""
    kit_dir = Path(kit_dir)
    table = kit_dir / "labels.csv"
    if not table.is_file():
        raise KitError(f"{kit_dir} has no labels.csv; is it the {KIT} kit?")
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    unknown = sorted({r["model_class"] for r in rows} - set(CLASSES))
    if unknown:
        raise ValueError(f"{table}: model_class {unknown} not among {CLASSES}")
    paths = [kit_dir / "images" / f"{r['dr7_objid']}.jpeg" for r in rows]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise KitError(f"{len(missing)} image(s) of {table} missing, e.g. {missing[0]}")
    return {"paths": paths, "labels": np.array([CLASSES.index(r["model_class"]) for r in rows], np.int64),
            "objid": np.array([r["dr7_objid"] for r in rows]), "gz1_class": np.array([r["gz1_class"] for r in rows]),
            "class_names": list(CLASSES)}


def chirality(data: dict) -> np.ndarray:
    """Each row's spiral winding from Galaxy Zoo 1's finer class: +1 clockwise, -1 anticlockwise, 0 neither."""
    g = np.asarray(data["gz1_class"])
    return np.where(g == "spiral_cw", 1, np.where(g == "spiral_acw", -1, 0)).astype(np.int64)


def split(labels, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Row indices of the kit's train / val / test split (stratified by class, fixed seed)."""
    return split_indices(labels, seed, (0.6, 0.2, 0.2))


def macro_recall(y, p) -> float:
    """Mean over the classes present in ``y`` of their recall (balanced accuracy)."""
    y = np.asarray(y)
    pred = np.argmax(p, axis=1)
    return float(np.mean([np.mean(pred[y == k] == k) for k in np.unique(y)]))


def report(y, p, class_names=CLASSES) -> dict:
    """:func:`~astrohub.models.evaluation.metrics.classification_report` (accuracy and AUC with 95% intervals,
    ECE, per-class recall, confusion matrix) plus macro recall and per-class recall with 95% intervals."""
    y = np.asarray(y)
    out = M.classification_report(y, p, class_names)
    out["macro_recall"] = macro_recall(y, p)
    out["macro_recall_ci95"] = M.bootstrap_ci(macro_recall, y, p)
    out["recall_ci95"] = {}
    for k, c in enumerate(class_names):
        m = y == k
        if m.any():
            hit = (np.argmax(p[m], 1) == k).astype(float)
            out["recall_ci95"][c] = M.mean_ci(hit, n_boot=500)[1]
    return out


def baseline_features(frames: np.ndarray) -> np.ndarray:
    """Simple pixel features of uint8 frames [N, F, F, 3] for the random forest: of the central
    :data:`BASELINE_CROP` px, per band 8x8 block means, the central 8x8 pixels, flux, peak, minimum and second
    moments (:func:`~astrohub.models.evaluation.baselines.image_features`), and the bands' mean ratios."""
    from ...inputs.colour import centre
    from ..baselines import image_features

    x = np.moveaxis(centre(frames, BASELINE_CROP), -1, 1).astype(np.float32) / 255.0
    tot = x.sum(axis=(2, 3)) + 1e-3
    ratios = np.stack([tot[:, 0] / tot[:, 1], tot[:, 2] / tot[:, 1]], 1)
    return np.concatenate([image_features(x), ratios], 1).astype(np.float32)


def random_forest(frames: np.ndarray, y: np.ndarray, seed: int = SPLIT_SEED):
    """The classical baseline: a random forest (300 trees, balanced class weights) on
    :func:`baseline_features`."""
    from sklearn.ensemble import RandomForestClassifier

    rf = RandomForestClassifier(n_estimators=300, min_samples_leaf=2, class_weight="balanced", n_jobs=2,
                                random_state=seed)
    return rf.fit(baseline_features(frames), y)


def measure(model, kit_dir: str | Path, batch_size: int = 64, progress: bool = False) -> dict:
    """The card's ``real`` section of a colour classifier ``model`` (``predict(paths)``) measured now on the kit's
    TEST split: the JPEG files passed by path, as served; the random forest trained on the rows the model's
    weights were fitted on (the TRAIN split, or TRAIN + VAL when its card's ``training.final_fit`` says so)."""
    from ...inputs.colour import prepare

    data = load(kit_dir)
    y, paths = data["labels"], data["paths"]
    idx = split(y)
    te = idx["test"]
    probs, ood = [], []
    for i in range(0, len(te), batch_size):
        pr = model.predict([paths[j] for j in te[i:i + batch_size]], mc_samples=0)
        probs.append(pr.probabilities)
        ood.append(pr.ood)
    p, ood = np.concatenate(probs), np.concatenate(ood)
    metrics = {"split": "test", **report(y[te], p, model.class_names), "ood_fraction": float(ood.mean())}
    rows, both = fitted_rows(model, idx)
    tr_frames = prepare([paths[j] for j in rows], BASELINE_FRAME, KIT, progress)[0]
    te_frames = prepare([paths[j] for j in te], BASELINE_FRAME, KIT, progress)[0]
    rf = random_forest(tr_frames, y[rows])
    baseline = {"method": "random forest (300 trees, balanced class weights) on simple pixel features of the "
                          "central half of each stamp at 64x64 px (per band 8x8 block means, central 8x8 pixels, "
                          "flux, peak, minimum, second moments; band ratios), trained on the kit's "
                          + ("train + val splits (the rows the model saw)" if both else "train split"),
                "n_train": int(len(rows)),
                "metrics": {"split": "test", **report(y[te], rf.predict_proba(baseline_features(te_frames)))}}
    counts = {k: int(len(v)) for k, v in idx.items()}
    split_info = {**counts, "seed": SPLIT_SEED, "fractions": [0.6, 0.2, 0.2],
                  "rule": "astrohub.models.evaluation.kits.split_indices(labels, seed=17): stratified by class; "
                          "train fits the weights, val early-stops and calibrates" + (
                              " (then the weights are refitted on train + val)" if both else "")
                          + ", test is used only here",
                  "per_class_test": {c: int((y[te] == k).sum()) for k, c in enumerate(CLASSES)}}
    met = {k: bool(metrics[k] >= v and metrics[k] > baseline["metrics"][k]) for k, v in TARGETS.items()}
    return real_section(KIT, split_info, metrics, baseline, dict(TARGETS), target_met=met,
                        inputs="JPEG files by path, as Galaxy Zoo serves them (423x423 SDSS gri composites)")
