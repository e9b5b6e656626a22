"""The ``ztf_alerts`` kit: 1,000 real ZTF alert triplets (63x63, raw counts, NaN where masked) with ZTF's own
real/bogus scores as proxy labels (see the kit's PROVENANCE.md), and how ``transient_realbogus`` is measured
on it.

Labels: ``drb >= 0.5`` (ZTF's deep real/bogus score, braai) is "real". The 40 alerts from 2018-2019 carry only
ZTF's random-forest ``rb``: they may train (label ``rb >= 0.5``, or braai's own notebook output for the two
alerts whose ``label_note`` gives it) but are never scored, since the metric is against ``drb``.
"Known real" (the held-out evaluation's recall subset): ``drb >= 0.9`` and a Fink ``cdsxmatch`` other than
Unknown / Fail.

Split: :func:`split` is stratified (:func:`~astrohub.models.evaluation.kits.split_indices`, seed
:data:`SEED`) on label x known-real x has-drb, 60/20/20: train (training and the baseline), val (temperature
calibration; the card's training section says what else, if anything, it chose), test (the card; never used for
anything else). The model's settings were chosen by cross-validation inside train + val (the card's
``training.selection``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from .. import metrics as M
from . import fitted_rows, real_section, split_indices

KIT = "ztf_alerts"
SEED = 17
TRIPLETS = "ztf_triplets_63x63.npz"
META = "ztf_alerts_meta.csv"
TARGETS = {"auc": 0.95, "known_real_recall": 0.95}  # and above ZTF's rb AUC on the same alerts
NOT_A_MATCH = {"", "Unknown", "Fail", "nan"}
BASELINE = ("random forest (300 trees) on simple stamp features (8x8 block means and the central 8x8 pixels of "
            "each prepared plane, per-plane flux, peak, minimum and second moments), trained on the kit's ")


def _floats(values, missing=("", "nan")) -> np.ndarray:
    """A csv column as floats, NaN for the ``missing`` spellings."""
    return np.array([float(v) if v not in missing else np.nan for v in values])


def load(kit_dir: str | Path) -> dict:
    """The kit as served: ``stamps`` float32 [N, 3, 63, 63] (raw counts, NaN kept), the csv columns as numpy
    arrays (``candid``, ``rb``, ``drb`` (NaN where absent), ``cdsxmatch``, ``isdiffpos``, ...) and the derived
    ``label`` (hard train label, see the module text), ``target`` (the soft train target in [0, 1]: ``drb``
    itself, ``rb`` for the rb-only alerts, braai's notebook output where ``label_note`` gives it: distilling
    ZTF's score carries more per alert than its thresholded label), ``has_drb`` and ``known_real``."""
    from . import KitError

    kit_dir = Path(kit_dir)
    for f in (TRIPLETS, META):
        if not (kit_dir / f).is_file():
            raise KitError(f"{kit_dir / f} is missing: the {KIT} kit needs {TRIPLETS} and {META}")
    z = np.load(kit_dir / TRIPLETS, allow_pickle=False)
    with open(kit_dir / META, newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    candid = cols["candid"].astype(np.int64)
    if not np.array_equal(candid, z["candid"]):
        raise ValueError(f"{kit_dir}: {META} and {TRIPLETS} list different alerts (candid order differs)")

    drb, rb = _floats(cols["drb"]), _floats(cols["rb"])
    has_drb = np.isfinite(drb)
    label = np.where(has_drb, drb >= 0.5, rb >= 0.5).astype(np.int64)
    target = np.where(has_drb, drb, rb).astype(np.float32)  # the soft (distillation) target
    for i, note in enumerate(cols.get("label_note", [])):  # braai's own notebook output for two rb-only alerts
        m = re.search(r"model output ([0-9.]+)", note)
        if m and not has_drb[i]:
            label[i] = int(float(m.group(1)) >= 0.5)
            target[i] = float(m.group(1))
    xmatch = cols.get("cdsxmatch", np.array([""] * len(rows)))
    known = has_drb & (np.nan_to_num(drb) >= 0.9) & ~np.isin(xmatch, list(NOT_A_MATCH))
    return {"stamps": z["triplets"], **cols, "candid": candid, "drb": drb, "rb": rb, "label": label,
            "target": np.clip(np.nan_to_num(target, nan=0.5), 0.0, 1.0), "has_drb": has_drb, "known_real": known}


def split(kit: dict, seed: int = SEED) -> dict[str, np.ndarray]:
    """Deterministic stratified train / val / test indices (label x known-real x has-drb, 60/20/20)."""
    key = [f"{a}{b}{c}" for a, b, c in zip(kit["label"], kit["known_real"].astype(int), kit["has_drb"].astype(int))]
    return split_indices(key, seed)


# Alert-packet measurements a network can learn to read off the stamps (auxiliary training targets; the predictor
# never sees a packet): name -> how the csv column is turned into a number (NaN: missing)
PACKET_TARGETS = {
    "stamp": ("magpsf", "log_sigmapsf", "classtar", "log_fwhm", "log_elong", "log_scorr", "isdiffpos", "log_distnr",
              "magnr", "fid", "nbad"),
    "packet": ("magpsf", "log_sigmapsf", "classtar", "log_fwhm", "log_elong", "log_scorr", "isdiffpos", "log_distnr",
               "magnr", "fid", "nbad", "rb", "log_ndethist", "sgscore1", "log_distpsnr1", "ssobject"),
}


def packet_targets(kit: dict, which: str, fit_rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Auxiliary targets from each alert's packet (:data:`PACKET_TARGETS` ``which``): float32 [N, k], each column
    standardised by its mean and std over ``fit_rows`` (the rows a network trains on), NaN where the packet has no
    value (ZTF writes -999 for "no source"). Returns (targets, column names)."""
    if which not in PACKET_TARGETS:
        raise ValueError(f"packet targets must be one of {', '.join(PACKET_TARGETS)}, got {which!r}")

    def col(name):
        v = _floats(kit[name], ("", "nan", "null", "None"))
        return np.where(v <= -998, np.nan, v)

    out = []
    for name in PACKET_TARGETS[which]:
        if name == "isdiffpos":
            v = np.isin(kit["isdiffpos"], ["t", "1"]).astype(float)
        elif name == "ssobject":  # a known solar-system object within 5"
            v = (np.nan_to_num(col("ssdistnr"), nan=99.0) < 5).astype(float)
        elif name == "log_ndethist":
            v = np.log1p(col("ndethist"))
        elif name.startswith("log_"):
            v = np.log(np.clip(col(name[4:]), 1e-3, None))
        else:
            v = col(name)
        f = v[fit_rows]
        mu, sd = np.nanmean(f), np.nanstd(f)
        out.append((v - mu) / (sd if sd > 0 else 1.0))
    return np.stack(out, 1).astype(np.float32), list(PACKET_TARGETS[which])


def _recall(y, p):
    return float(np.mean(p[:, 1] >= 0.5)) if len(y) else float("nan")


def stamp_features(prepared: np.ndarray) -> np.ndarray:
    """The baseline's features of prepared stamps (:func:`astrohub.models.inputs.ztf.prepare`), arcsinh-scaled."""
    from ..baselines import image_features

    return image_features(np.arcsinh(prepared))


def fit_baseline(kit: dict, idx: np.ndarray, inputs: dict, seed: int = SEED):
    """The random forest of :data:`BASELINE` on rows ``idx`` (the rows the model was fitted on)."""
    from sklearn.ensemble import RandomForestClassifier

    from ...inputs.ztf import prepare

    x, _ = prepare(kit["stamps"][idx], inputs, "baseline")
    rf = RandomForestClassifier(n_estimators=300, min_samples_leaf=2, n_jobs=2, random_state=seed,
                                class_weight="balanced")
    return rf.fit(stamp_features(x), kit["label"][idx])


def scores(y: np.ndarray, p_real: np.ndarray, known: np.ndarray) -> dict:
    """AUC against ``y`` (with 95% bootstrap CI), accuracy (CI) and ECE at 0.5, recall on the ``known`` rows
    (Wilson 95% interval), per-class recall and the confusion matrix."""
    p = np.stack([1 - p_real, p_real], 1)
    rep = M.classification_report(y, p, ["bogus", "real"])
    rep["auc_ci95"] = M.bootstrap_ci(M.auc, y, p, n_boot=1000)
    k = np.asarray(known, bool)
    rep["known_real_n"] = int(k.sum())
    rep["known_real_recall"] = _recall(y[k], p[k])
    rep["known_real_recall_ci95"] = wilson(int((p[k, 1] >= 0.5).sum()), int(k.sum())) if k.any() else None
    return rep


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    """Wilson score 95% interval of a proportion k/n (the bootstrap collapses to [1, 1] at 11/11)."""
    p = k / n
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (
        1 + z * z / n)
    return [float(max(centre - half, 0.0)), float(min(centre + half, 1.0))]


def measure(model, kit_dir: str | Path) -> dict:
    """The card's ``real`` section of ``model`` (a loaded ``transient_realbogus``): its scores on the kit's
    test split (drb-labelled alerts; raw stamps through ``model.predict``, as the held-out set is scored),
    ZTF's ``rb`` scored the same way, and the random-forest baseline trained on the rows the model's weights were
    fitted on (the train split, or train + val when its card's ``training.final_fit`` says so)."""
    from ...inputs.ztf import prepare

    kit = load(kit_dir)
    parts = split(kit)
    te = parts["test"][kit["has_drb"][parts["test"]]]
    y = (kit["drb"][te] >= 0.5).astype(np.int64)
    known = kit["known_real"][te]
    pred = model.predict(kit["stamps"][te], mc_samples=0)
    p_real = pred.probabilities[:, list(pred.class_names).index("real")]
    metrics = scores(y, p_real, known)
    metrics["ood_fraction"] = float(np.mean(pred.ood)) if pred.ood is not None else None
    rb = scores(y, kit["rb"][te], known)
    rows, both = fitted_rows(model, parts)
    rf = fit_baseline(kit, rows, model.card["inputs"])
    prf = rf.predict_proba(stamp_features(prepare(kit["stamps"][te], model.card["inputs"], "baseline")[0]))[:, 1]
    base = scores(y, prf, known)
    target_met = {"auc": bool(metrics["auc"] >= TARGETS["auc"]),
                  "known_real_recall": bool(metrics["known_real_recall"] >= TARGETS["known_real_recall"]),
                  "auc_above_rb": bool(metrics["auc"] > rb["auc"]),
                  "auc_above_baseline": bool(metrics["auc"] > base["auc"])}
    counts = {k: int(len(v)) for k, v in parts.items()}
    return real_section(
        KIT,
        {"rule": f"kits.split_indices stratified on label x known-real x has-drb, seed {SEED}, 60/20/20; "
                 "train: training and the baseline; val: temperature (see the card's training section)"
                 + ("; then train + val retrain the shipped weights and the baseline" if both else "")
                 + "; test: this section only. Scored: test alerts with a drb (rb-only alerts never scored)",
         **counts, "test_scored": int(len(te)), "test_bogus": int((y == 0).sum()), "test_known_real": int(known.sum())},
        metrics,
        {"method": BASELINE + ("train + val splits (the rows the model saw)" if both else "train split"),
         "n_train": int(len(rows)), "metrics": base},
        {**TARGETS, "auc_above_rb": True},
        label="real = drb >= 0.5 (ZTF's deep real/bogus score, braai); known real = drb >= 0.9 and a Fink "
              "cdsxmatch other than Unknown/Fail; recall at p(real) >= 0.5",
        ztf_rb={"method": "ZTF's own random-forest score rb on the same alerts", "metrics": rb},
        target_met=target_met,
    )
