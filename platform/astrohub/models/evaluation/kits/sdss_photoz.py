"""The ``sdss_photoz`` kit: 5,078 real SDSS DR14 objects (ugriz model magnitudes, spectroscopic class and
redshift), the development half of a SkyServer PhotoObj x SpecObj query (see the kit's PROVENANCE.md).

The file has no magnitude errors; like the held-out evaluation we assign the simulator's error model
``sqrt(0.01^2 + (0.2 * 10^(0.4 (m - m5)))^2)`` with 5-sigma depths 22.0 / 22.2 / 22.2 / 21.3 / 20.5.
``split`` cuts the kit, stratified by spectroscopic class, into train / val / test (60 / 20 / 20, seed
:data:`SPLIT_SEED`); ``photoz_mdn`` trains on train + val (:data:`FIT_SPLITS`; its options chosen by
cross-validation inside those rows, :func:`cv_folds`). ``measure`` scores a photo-z model on the test split
only, per class (galaxies, QSOs, stars, all) with 95% bootstrap intervals, next to a k-NN and a random forest
trained on the same train + val rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..metrics import bootstrap_ci
from ..series_metrics import Z_GRID, pdf_report, pit_values, point_metrics
from . import KitError, real_section, split_indices
from . import cv_folds as _cv_folds

KIT = "sdss_photoz"
FILE = "sdss_dr14_skyserver_trainhalf.csv"
BANDS = ("u", "g", "r", "i", "z")
DEPTH_5SIGMA = np.array([22.0, 22.2, 22.2, 21.3, 20.5])  # the kit's stated error model (PROVENANCE.md)
ERROR_MODEL = "sqrt(0.01^2 + (0.2*10^(0.4*(m - m5)))^2), m5 = 22.0/22.2/22.2/21.3/20.5 (u/g/r/i/z)"
CLASSES = ("star", "galaxy", "qso")  # label order = astrohub.sims.spectra.CLASS_NAMES
SPLIT_SEED = 17
FRACTIONS = (0.6, 0.2, 0.2)
OUTLIER = 0.15  # |dz| / (1 + z)
TARGETS = {"galaxy": {"sigma_nmad_max": 0.020, "sigma_nmad_below": "knn", "outlier_fraction_max": 0.01,
                      "abs_bias_max": 0.005},
           "qso": {"outlier_fraction_below": "knn"}}
N_BOOT = 300
KNN_K = 30
FIT_SPLITS = ("train", "val")  # the rows the model (and so the baselines beside it) trains on
CV_FOLDS = 5


def error_model(mags) -> np.ndarray:
    """The kit's (and the held-out evaluation's) 1-sigma magnitude errors for magnitudes [N, 5]."""
    mags = np.asarray(mags, np.float64)
    return np.sqrt(0.01 ** 2 + (0.2 * 10 ** (0.4 * (mags - DEPTH_5SIGMA))) ** 2)


def load(kit_dir: str | Path) -> dict[str, np.ndarray]:
    """The kit as served: ``mags`` [N, 5] (u g r i z), ``errors`` [N, 5] (the error model), ``labels`` [N]
    (0 star, 1 galaxy, 2 qso), ``classes`` [N] (str), ``redshift`` [N], ``ra`` / ``dec`` [N] (deg)."""
    path = Path(kit_dir) / FILE
    if not path.is_file():
        raise KitError(f"{KIT}: {path} not found (the kit folder should hold {FILE})")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    need = {"ra", "dec", "class", "redshift", *BANDS}
    if not rows or not need <= set(rows[0]):
        raise KitError(f"{KIT}: {path} lacks columns {sorted(need - set(rows[0] if rows else []))}")
    mags = np.array([[float(r[b]) for b in BANDS] for r in rows], np.float64)
    cls = np.array([r["class"].strip().lower() for r in rows])
    unknown = sorted(set(cls.tolist()) - set(CLASSES))
    if unknown:
        raise KitError(f"{KIT}: unknown spectroscopic classes {unknown} in {path}")
    return {"mags": mags, "errors": error_model(mags), "labels": np.array([CLASSES.index(c) for c in cls]),
            "classes": cls, "redshift": np.array([float(r["redshift"]) for r in rows]),
            "ra": np.array([float(r["ra"]) for r in rows]), "dec": np.array([float(r["dec"]) for r in rows])}


def split(data: dict, seed: int = SPLIT_SEED, fractions=FRACTIONS) -> dict[str, np.ndarray]:
    """Row indices of the train / val / test splits, stratified by spectroscopic class."""
    return split_indices(data["classes"], seed, fractions)


def fit_rows(parts: dict) -> np.ndarray:
    """The sorted row indices of :data:`FIT_SPLITS` (train + val): what the model and the baselines train on."""
    return np.sort(np.concatenate([parts[k] for k in FIT_SPLITS]))


def cv_folds(labels, n_folds: int = CV_FOLDS, seed: int = SPLIT_SEED) -> np.ndarray:
    """:func:`astrohub.models.evaluation.kits.cv_folds` with this kit's defaults."""
    return _cv_folds(labels, n_folds, seed)


def subset(data: dict, idx) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in data.items()}


def split_info(data: dict, parts: dict) -> dict:
    """What the card records about the split: the rule and the counts per split and class."""
    return {"rule": f"kits.split_indices(class, seed={SPLIT_SEED}, fractions={list(FRACTIONS)}) "
                    f"over the {len(data['labels'])} rows of {FILE}, in file order",
            "seed": SPLIT_SEED, "fractions": list(FRACTIONS),
            **{k: {"n": int(len(v)), **{c: int(np.sum(data["labels"][v] == i)) for i, c in enumerate(CLASSES)}}
               for k, v in parts.items()}}


def baseline_features(mags) -> np.ndarray:
    """r and the four adjacent colours (what the classical baselines see)."""
    mags = np.asarray(mags, np.float64)
    return np.concatenate([mags[:, 2:3], mags[:, :-1] - mags[:, 1:]], 1)


def report(cdf, z_point, z_true) -> dict:
    """:func:`pdf_report` plus 95% bootstrap intervals of sigma_NMAD, outlier fraction, bias and 68%
    coverage (``cdf`` None: point metrics only)."""
    z_true, z_point = np.asarray(z_true, float), np.asarray(z_point, float)
    if cdf is None:
        out = {"n": int(len(z_true)), **point_metrics(z_true, z_point)}
    else:
        out = pdf_report(Z_GRID, cdf, z_point, z_true)
    for key in ("sigma_nmad", "outlier_fraction", "bias"):
        out[f"{key}_ci95"] = bootstrap_ci(lambda a, b, key=key: point_metrics(a, b)[key], z_true, z_point, N_BOOT)
    if cdf is not None:
        pit = pit_values(Z_GRID, cdf, z_true)
        inside = ((pit > 0.16) & (pit < 0.84)).astype(float)
        out["coverage_68_ci95"] = bootstrap_ci(lambda a, b: float(np.mean(a)), inside, inside, N_BOOT)
    return out


def by_class(labels, cdf, z_point, z_true) -> dict:
    out = {}
    order = [("galaxy", labels == 1), ("qso", labels == 2), ("star", labels == 0), ("all", np.ones(len(labels), bool))]
    for name, mask in order:
        out[name] = report(None if cdf is None else cdf[mask], z_point[mask], z_true[mask])
    return out


def baselines(tr: dict, te: dict, seed: int = 0, k: int = KNN_K) -> dict:
    """k-NN (k=30 on standardised r + colours; PDF = Gaussian KDE of the neighbours' redshifts, point = their
    median) and a random forest (200 trees), both trained on ``tr`` (the model's rows: train + val), scored
    on ``te``."""
    from sklearn.ensemble import RandomForestRegressor

    cdf, point = knn_predict(tr, te, k)
    ftr, fte, z = baseline_features(tr["mags"]), baseline_features(te["mags"]), tr["redshift"]
    rf = RandomForestRegressor(n_estimators=200, min_samples_leaf=2, n_jobs=2, random_state=seed).fit(ftr, z)
    return {"method": f"trained on the kit's train + val splits, the rows the model trained on ({len(z)} rows): "
                      f"k-NN (k={k}, standardised r + 4 colours; PDF = Gaussian KDE of the neighbours' redshifts, "
                      "point = their median) and a random forest (200 trees, min 2 per leaf) on r + 4 colours",
            "knn": by_class(te["labels"], cdf, point, te["redshift"]),
            "random_forest": by_class(te["labels"], None, rf.predict(fte), te["redshift"])}


def knn_predict(tr: dict, te: dict, k: int = KNN_K) -> tuple[np.ndarray, np.ndarray]:
    """The k-NN baseline trained on ``tr``, on ``te``: (CDFs [N, len(Z_GRID)], point = median of the k
    neighbours' redshifts). Neighbours in standardised r + 4 colours; kernels of width max(0.5 std k^-0.2,
    0.005)."""
    from scipy.special import ndtr
    from sklearn.neighbors import NearestNeighbors

    from ...predictors.photoz import kde_bandwidth

    ftr, fte = baseline_features(tr["mags"]), baseline_features(te["mags"])
    mu, sd = ftr.mean(0), ftr.std(0)
    idx = NearestNeighbors(n_neighbors=k).fit((ftr - mu) / sd).kneighbors((fte - mu) / sd, return_distance=False)
    nz = tr["redshift"][idx]
    bw = kde_bandwidth(nz)
    cdf = np.stack([ndtr((Z_GRID[None] - nz[i][:, None]) / bw[i]).mean(0) for i in range(len(nz))]) if len(nz) \
        else np.zeros((0, len(Z_GRID)))
    return cdf, np.median(nz, 1)


def targets_met(metrics: dict, baseline: dict) -> dict:
    g, q, kg, kq = metrics["galaxy"], metrics["qso"], baseline["knn"]["galaxy"], baseline["knn"]["qso"]
    return {"galaxy_sigma_nmad_max": g["sigma_nmad"] <= TARGETS["galaxy"]["sigma_nmad_max"],
            "galaxy_sigma_nmad_below_knn": g["sigma_nmad"] < kg["sigma_nmad"],
            "galaxy_outlier_fraction_max": g["outlier_fraction"] <= TARGETS["galaxy"]["outlier_fraction_max"],
            "galaxy_abs_bias_max": abs(g["bias"]) <= TARGETS["galaxy"]["abs_bias_max"],
            "qso_outlier_fraction_below_knn": q["outlier_fraction"] < kq["outlier_fraction"]}


def measure(model, kit_dir: str | Path) -> dict:
    """The card's ``real`` section of photo-z ``model``, measured now on the kit's test split (never used to
    train, early-stop, calibrate or select), next to the k-NN and random forest trained on the rows the model
    trained on (train + val)."""
    data = load(kit_dir)
    parts = split(data)
    tr, te = subset(data, fit_rows(parts)), subset(data, parts["test"])
    res = model.predict(te["mags"], te["errors"])
    estimate = model.card["outputs"].get("point_estimate", "z_mode")
    metrics = {"split": "test", "point_estimate": f"PDF {estimate.split()[0].removeprefix('z_')}",
               **by_class(te["labels"], res.cdf(Z_GRID), res.point(estimate), te["redshift"]),
               "ood_fraction": float(np.mean(res.ood)) if res.ood is not None else None}
    base = baselines(tr, te)
    met = targets_met(metrics, base)
    return real_section(KIT, split_info(data, parts), metrics, base, TARGETS, target_met=met,
                        headline=headline(metrics, base),
                        errors=ERROR_MODEL)


def headline(metrics: dict, baseline: dict) -> str:
    g, q = metrics["galaxy"], metrics["qso"]
    kg, kq = baseline["knn"]["galaxy"], baseline["knn"]["qso"]
    ci = g["sigma_nmad_ci95"]
    return (f"real SDSS test split: galaxies sigma_NMAD {g['sigma_nmad']:.4f} [{ci[0]:.4f}, {ci[1]:.4f}] "
            f"(k-NN {kg['sigma_nmad']:.4f}), outliers {g['outlier_fraction']:.3f} (k-NN {kg['outlier_fraction']:.3f}), "
            f"bias {g['bias']:+.4f}; QSO outliers {q['outlier_fraction']:.3f} (k-NN {kq['outlier_fraction']:.3f})")
